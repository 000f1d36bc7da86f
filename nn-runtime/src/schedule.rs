//! Learning-rate schedules: exponential decay (smooth or staircase), step
//! decay, cosine annealing, one-cycle, and a linear warm-up before any of
//! them.
//!
//! The learning rate is given once, to the optimizer (`Adam::new(3e-3)`):
//! that is the base rate. A [`Schedule`] maps the base rate and the number
//! of epochs done so far to the rate for the next step, as PyTorch's
//! `torch.optim.lr_scheduler` classes scale the optimizer's `initial_lr`.
//! The epoch may be fractional: 2.5 is half-way through the third epoch, so
//! a schedule can be applied before every batch as well as before every
//! epoch. Training without a schedule keeps the base rate.
//!
//! The base is the optimizer's rate before the first step, kept apart:
//! setting the scheduled rate replaces the optimizer's, and the next rate
//! is again computed from the base, not from the rate before it.
//! [`Trainer`](crate::train::Trainer) keeps it when it is built; by hand:
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::optim::{Optimizer, Sgd};
//! use nn::schedule::{Cosine, Schedule, Warmup};
//!
//! let mut opt = Sgd::new(0.1);
//! let base = opt.learning_rate();
//! // one epoch rising from 0.1/3 to 0.1, then 9 epochs of a half cosine to 0
//! let schedule = Warmup::new(1.0, Cosine { min: 0.0, epochs: 9 });
//! let batches = 4;
//! for epoch in 0..10 {
//!     for batch in 0..batches {
//!         let at = epoch as f32 + batch as f32 / batches as f32;
//!         opt.set_learning_rate(schedule.learning_rate(base, at));
//!         // … forward, backward, opt.step(params, grads)
//!     }
//! }
//! assert!(opt.learning_rate() < 0.001);
//! ```
//!
//! Rates are computed in `f64` and rounded once to `f32` (a warm-up scales
//! the `f32` rate its schedule starts from). Negative epochs count as 0.

use std::f64::consts::PI;

/// A learning rate as a function of the base rate (the optimizer's) and
/// the epochs done so far.
pub trait Schedule {
    /// The learning rate after `epoch` epochs (fractional mid-epoch) for
    /// the base rate `base`.
    fn learning_rate(&self, base: f32, epoch: f32) -> f32;

    /// Whether the schedule's settings make learning rates at all: the
    /// trainer checks this before its first step. The schedules here refuse
    /// rates and factors that are negative, NaN or infinite and periods of
    /// zero (which would divide by zero into a NaN rate); the default
    /// accepts anything.
    fn check(&self) -> Result<(), ScheduleError> {
        Ok(())
    }
}

/// A schedule setting that gives no usable learning rate: which schedule,
/// which setting, its value and what it must be.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{schedule}`: `{setting}` is {value}, it must be {must}")]
pub struct ScheduleError {
    /// The schedule's name.
    pub schedule: &'static str,
    /// The setting's name.
    pub setting: &'static str,
    /// Its value.
    pub value: String,
    /// What it must be.
    pub must: &'static str,
}

/// Checks one setting of `schedule`.
fn setting<T: std::fmt::Display>(
    schedule: &'static str,
    (setting, value): (&'static str, T),
    (ok, must): (bool, &'static str),
) -> Result<(), ScheduleError> {
    match ok {
        true => Ok(()),
        false => Err(ScheduleError {
            schedule,
            setting,
            value: value.to_string(),
            must,
        }),
    }
}

/// A rate, or a factor between rates: finite and at least 0.
fn rate(v: f32) -> (bool, &'static str) {
    (v.is_finite() && v >= 0.0, "finite and at least 0")
}

/// A period: more than 0 (and finite).
fn period(v: f64) -> (bool, &'static str) {
    (v.is_finite() && v > 0.0, "more than 0")
}

/// Exponential decay: `lr = base · decay^(epoch / steps)`, or with
/// `staircase` `lr = base · decay^⌊epoch / steps⌋`, which drops by the
/// factor `decay` at each multiple of `steps` and is constant in between
/// (with `steps: 1.0` and `staircase`, PyTorch's `ExponentialLR`).
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::schedule::{ExponentialDecay, Schedule};
///
/// let s = ExponentialDecay { decay: 0.5, steps: 2.0, staircase: true };
/// assert_eq!(s.learning_rate(0.1, 1.9), 0.1);
/// assert_eq!(s.learning_rate(0.1, 2.0), 0.05);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// Factor applied per `steps` epochs.
    pub decay: f32,
    /// Epochs per factor of `decay` (positive; may be fractional).
    pub steps: f32,
    /// Decay in whole periods of `steps` epochs instead of smoothly.
    pub staircase: bool,
}

impl Schedule for ExponentialDecay {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        let periods = epoch.max(0.0) as f64 / self.steps as f64;
        let periods = if self.staircase {
            periods.floor()
        } else {
            periods
        };
        (base as f64 * (self.decay as f64).powf(periods)) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "ExponentialDecay";
        setting(name, ("decay", self.decay), rate(self.decay))?;
        setting(name, ("steps", self.steps), period(self.steps as f64))
    }
}

/// Step decay, PyTorch's `StepLR`
/// (<https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html>):
/// `lr = base · gamma^⌊epoch / step_size⌋`, dropping by `gamma` every
/// `step_size` epochs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay {
    /// Factor applied every `step_size` epochs.
    pub gamma: f32,
    /// Epochs between drops (positive).
    pub step_size: u32,
}

impl Schedule for StepDecay {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        let drops = (epoch.max(0.0) as f64 / self.step_size as f64).floor();
        (base as f64 * (self.gamma as f64).powf(drops)) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "StepDecay";
        setting(name, ("gamma", self.gamma), rate(self.gamma))?;
        setting(
            name,
            ("step_size", self.step_size),
            period(self.step_size as f64),
        )
    }
}

/// Cosine annealing, the closed form of PyTorch's `CosineAnnealingLR`
/// (<https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CosineAnnealingLR.html>):
/// `lr = min + (base − min)·(1 + cos(π·epoch / epochs)) / 2` for
/// `epoch ≤ epochs`, and `min` after that (where PyTorch's formula would
/// rise again).
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::schedule::{Cosine, Schedule};
///
/// let s = Cosine { min: 0.001, epochs: 10 };
/// assert_eq!(s.learning_rate(0.1, 0.0), 0.1);
/// assert_eq!(s.learning_rate(0.1, 5.0), 0.0505);
/// assert_eq!(s.learning_rate(0.1, 10.0), 0.001);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cosine {
    /// Rate reached at `epochs` and kept afterwards: a rate, not a factor
    /// of the base (PyTorch's `eta_min`).
    pub min: f32,
    /// Length of the half cosine, in epochs (PyTorch's `T_max`; positive).
    pub epochs: u32,
}

impl Schedule for Cosine {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        let progress = (epoch.max(0.0) as f64 / self.epochs as f64).min(1.0);
        let (base, min) = (base as f64, self.min as f64);
        (min + (base - min) * (1.0 + (PI * progress).cos()) / 2.0) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "Cosine";
        setting(name, ("min", self.min), rate(self.min))?;
        setting(name, ("epochs", self.epochs), period(self.epochs as f64))
    }
}

/// The one-cycle policy, PyTorch's `OneCycleLR`
/// (<https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html>)
/// with the base rate as its peak (`max_lr`), cosine annealing and no
/// momentum cycling (`cycle_momentum=False`): over
/// `epochs · steps_per_epoch` steps the rate rises from
/// `base / div_factor` to `base` along a half cosine during the first
/// `pct_start` of the steps, then falls along another half cosine to
/// `base / (div_factor · final_div_factor)` at the last step, and stays
/// there.
///
/// Step `s` is `epoch · steps_per_epoch` (the trainer's fractional epoch
/// after `s` batches); as in PyTorch, the rise ends at step
/// `pct_start · steps − 1` and the fall at step `steps − 1`, so a schedule
/// applied before every batch gives PyTorch's rates batch for batch (a
/// step within 1/1000 of a whole one counts as that one, so that the
/// rounding of an `f32` epoch does not move it). Between steps the rate
/// follows the same cosines.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::schedule::{OneCycle, Schedule};
///
/// // 10 epochs of 125 batches peaking at the base 0.1:
/// // 0.004 → 0.1 at batch 374 → 4e-7 at batch 1249
/// let s = OneCycle::new(10, 125);
/// assert_eq!(s.learning_rate(0.1, 0.0), 0.004);
/// assert_eq!(s.learning_rate(0.1, 374.0 / 125.0), 0.1);
/// assert_eq!(s.learning_rate(0.1, 9.0 + 124.0 / 125.0), 4e-7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycle {
    /// Epochs of the cycle (positive).
    pub epochs: u32,
    /// Steps (batches) per epoch (positive).
    pub steps_per_epoch: u32,
    /// Fraction of the steps spent rising (PyTorch's default 0.3).
    pub pct_start: f32,
    /// The first rate is `base / div_factor` (default 25).
    pub div_factor: f32,
    /// The last rate is the first divided by this (default 10⁴).
    pub final_div_factor: f32,
}

impl OneCycle {
    /// A cycle of `epochs` epochs of `steps_per_epoch` batches peaking at
    /// the base rate, with PyTorch's defaults: `pct_start` 0.3,
    /// `div_factor` 25, `final_div_factor` 10⁴.
    pub fn new(epochs: u32, steps_per_epoch: u32) -> Self {
        OneCycle {
            epochs,
            steps_per_epoch,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
        }
    }
}

impl Schedule for OneCycle {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        let per_epoch = self.steps_per_epoch as f64;
        let last = (self.epochs as f64 * per_epoch - 1.0).max(0.0);
        let step = epoch.max(0.0) as f64 * per_epoch;
        // an f32 epoch lands a little off the batch it counts
        let nearest = step.round();
        let step = if (step - nearest).abs() < 1e-3 {
            nearest
        } else {
            step
        };
        let step = step.min(last);
        let max = base as f64;
        let initial = max / self.div_factor as f64;
        let min = initial / self.final_div_factor as f64;
        let peak = self.pct_start as f64 * (last + 1.0) - 1.0;
        // PyTorch's `_annealing_cos`: from `start` at 0 to `end` at 1
        let cosine = |start: f64, end: f64, from: f64, to: f64| {
            let pct = if to > from {
                (step - from) / (to - from)
            } else {
                1.0
            };
            end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
        };
        let lr = if step <= peak {
            cosine(initial, max, 0.0, peak)
        } else {
            cosine(max, min, peak, last)
        };
        lr as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "OneCycle";
        setting(name, ("epochs", self.epochs), period(self.epochs as f64))?;
        let steps = self.steps_per_epoch;
        setting(name, ("steps_per_epoch", steps), period(steps as f64))?;
        let pct = self.pct_start;
        let fraction = ((0.0..=1.0).contains(&pct), "between 0 and 1");
        setting(name, ("pct_start", pct), fraction)?;
        let div = self.div_factor;
        setting(name, ("div_factor", div), period(div as f64))?;
        let final_div = self.final_div_factor;
        setting(
            name,
            ("final_div_factor", final_div),
            period(final_div as f64),
        )
    }
}

/// The base rate at every epoch: what training without a schedule does,
/// and what a [`Warmup`] continues with when no other schedule follows it
/// (`Warmup::new(2.0, Constant)`: two epochs of warm-up, then the base).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Constant;

impl Schedule for Constant {
    fn learning_rate(&self, base: f32, _epoch: f32) -> f32 {
        base
    }
}

/// A linear warm-up, then another schedule: PyTorch's
/// `SequentialLR(opt, [LinearLR(opt, start_factor, total_iters=epochs),
/// inner], milestones=[epochs])`
/// (<https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LinearLR.html>,
/// <https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.SequentialLR.html>).
///
/// For `epoch < epochs` the rate rises linearly from
/// `start_factor · r₀` to `r₀`, where `r₀` is the rate the inner schedule
/// starts from, `inner.learning_rate(base, 0)`:
/// `lr = r₀ · (start_factor + (1 − start_factor) · epoch / epochs)`. From
/// `epochs` on it is the inner schedule's, on a clock that starts when the
/// warm-up ends: `inner.learning_rate(base, epoch − epochs)`, as
/// `SequentialLR` restarts the next schedule at its milestone. So
/// `Warmup::new(5.0, Cosine { min: 0.0, epochs: 45 })` is 50 epochs, the
/// cosine's 45 after the warm-up's 5.
///
/// `r₀` is the base for [`Constant`], [`ExponentialDecay`],
/// [`StepDecay`] and [`Cosine`], so their warm-ups are `SequentialLR`'s
/// rate for rate; [`OneCycle`] starts from `base / div_factor`, and a
/// warm-up before it rises to that rather than to the base (where
/// `SequentialLR` would drop from the base to it). `epochs` may be
/// fractional: `0.5` warms up over the first half of the first epoch, batch
/// by batch when the schedule is applied before every batch.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::schedule::{Constant, Cosine, Schedule, Warmup};
///
/// // 3 epochs from 0.1/3 to the base 0.1, then the base
/// let s = Warmup::new(3.0, Constant);
/// assert_eq!(s.learning_rate(0.1, 0.0), 0.1 / 3.0);
/// assert_eq!(s.learning_rate(0.1, 1.5), 0.1 * 2.0 / 3.0);
/// assert_eq!(s.learning_rate(0.1, 3.0), 0.1);
///
/// // from 0 over half an epoch, then a cosine over 10 epochs
/// let s = Warmup { start_factor: 0.0, ..Warmup::new(0.5, Cosine { min: 0.0, epochs: 10 }) };
/// assert_eq!(s.learning_rate(0.1, 0.25), 0.05);
/// assert_eq!(s.learning_rate(0.1, 5.5), 0.05);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Warmup<S> {
    /// Length of the warm-up, in epochs (positive; may be fractional).
    /// PyTorch's `total_iters` of `LinearLR` and the milestone of
    /// `SequentialLR`, counted in epochs.
    pub epochs: f32,
    /// The first rate as a fraction of the inner schedule's first, from 0
    /// to 1 (PyTorch's `LinearLR` default, 1/3; 0 starts from a rate of 0,
    /// which makes the first step a step of nothing).
    pub start_factor: f32,
    /// The schedule after the warm-up, its epochs counted from the end of
    /// the warm-up ([`Constant`] for none).
    pub inner: S,
}

impl<S: Schedule> Warmup<S> {
    /// A warm-up of `epochs` epochs into `inner`, starting at PyTorch's
    /// `LinearLR` default of a third of `inner`'s first rate.
    pub fn new(epochs: f32, inner: S) -> Self {
        Warmup {
            epochs,
            start_factor: 1.0 / 3.0,
            inner,
        }
    }
}

impl<S: Schedule> Schedule for Warmup<S> {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        let epoch = epoch.max(0.0);
        if epoch >= self.epochs {
            return self.inner.learning_rate(base, epoch - self.epochs);
        }
        let first = self.inner.learning_rate(base, 0.0) as f64;
        let start = self.start_factor as f64;
        let done = epoch as f64 / self.epochs as f64;
        (first * (start + (1.0 - start) * done)) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "Warmup";
        setting(name, ("epochs", self.epochs), period(self.epochs as f64))?;
        let start = self.start_factor;
        let fraction = ((0.0..=1.0).contains(&start), "between 0 and 1");
        setting(name, ("start_factor", start), fraction)?;
        self.inner.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_give_no_rate_are_refused() {
        let cosine = Cosine {
            min: 0.0,
            epochs: 10,
        };
        let valid: [&dyn Schedule; 7] = [
            &ExponentialDecay {
                decay: 0.5,
                steps: 2.0,
                staircase: false,
            },
            &StepDecay {
                gamma: 0.1,
                step_size: 3,
            },
            &cosine,
            &OneCycle::new(10, 100),
            &Constant,
            &Warmup::new(0.25, cosine),
            &Warmup {
                start_factor: 0.0,
                ..Warmup::new(2.0, Constant)
            },
        ];
        for s in valid {
            assert_eq!(s.check(), Ok(()));
        }
        let refused = |s: &dyn Schedule, message: &str| {
            assert_eq!(s.check().unwrap_err().to_string(), message);
        };
        refused(
            &Cosine {
                min: f32::NAN,
                epochs: 10,
            },
            "`Cosine`: `min` is NaN, it must be finite and at least 0",
        );
        refused(
            &Cosine {
                min: 0.0,
                epochs: 0,
            },
            "`Cosine`: `epochs` is 0, it must be more than 0",
        );
        refused(
            &OneCycle {
                pct_start: 1.5,
                ..OneCycle::new(10, 100)
            },
            "`OneCycle`: `pct_start` is 1.5, it must be between 0 and 1",
        );
        refused(
            &OneCycle::new(10, 0),
            "`OneCycle`: `steps_per_epoch` is 0, it must be more than 0",
        );
        refused(
            &ExponentialDecay {
                decay: f32::INFINITY,
                steps: 1.0,
                staircase: true,
            },
            "`ExponentialDecay`: `decay` is inf, it must be finite and at least 0",
        );
        refused(
            &StepDecay {
                gamma: -0.5,
                step_size: 1,
            },
            "`StepDecay`: `gamma` is -0.5, it must be finite and at least 0",
        );
    }

    #[test]
    fn warmup_settings_that_give_no_rate_are_refused() {
        let refused = |s: &dyn Schedule, message: &str| {
            assert_eq!(s.check().unwrap_err().to_string(), message);
        };
        refused(
            &Warmup::new(0.0, Constant),
            "`Warmup`: `epochs` is 0, it must be more than 0",
        );
        refused(
            &Warmup::new(f32::INFINITY, Constant),
            "`Warmup`: `epochs` is inf, it must be more than 0",
        );
        refused(
            &Warmup {
                start_factor: 1.5,
                ..Warmup::new(1.0, Constant)
            },
            "`Warmup`: `start_factor` is 1.5, it must be between 0 and 1",
        );
        refused(
            &Warmup {
                start_factor: f32::NAN,
                ..Warmup::new(1.0, Constant)
            },
            "`Warmup`: `start_factor` is NaN, it must be between 0 and 1",
        );
        // the inner schedule's own settings are checked too
        refused(
            &Warmup::new(
                1.0,
                Cosine {
                    min: 0.0,
                    epochs: 0,
                },
            ),
            "`Cosine`: `epochs` is 0, it must be more than 0",
        );
    }

    /// Checks `schedule` for the base rate `base` at each `(epoch, rate)` to
    /// 1e-6 relative.
    fn check(schedule: &dyn Schedule, base: f32, cases: &[(f32, f64)]) {
        for &(epoch, want) in cases {
            let got = schedule.learning_rate(base, epoch) as f64;
            assert!(
                (got - want).abs() <= 1e-6 * want.abs(),
                "epoch {epoch}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn exponential_decay_smooth() {
        // 0.1 · 0.5^(epoch / 2)
        let s = ExponentialDecay {
            decay: 0.5,
            steps: 2.0,
            staircase: false,
        };
        check(
            &s,
            0.1,
            &[
                (0.0, 0.1),
                (1.0, 0.070_710_678_118_654_76), // 0.1 · 2^−½
                (2.0, 0.05),
                (2.5, 0.042_044_820_762_685_73), // 0.1 · 2^−1.25
                (4.0, 0.025),
                (7.0, 0.008_838_834_764_831_844), // 0.1 · 2^−3.5
            ],
        );
    }

    #[test]
    fn exponential_decay_staircase_edges() {
        // 0.1 · 0.5^⌊epoch / 2⌋: constant inside each period, drops at 2, 4
        let s = ExponentialDecay {
            decay: 0.5,
            steps: 2.0,
            staircase: true,
        };
        check(
            &s,
            0.1,
            &[
                (0.0, 0.1),
                (1.0, 0.1),
                (1.999, 0.1),
                (2.0, 0.05),
                (2.5, 0.05),
                (3.999, 0.05),
                (4.0, 0.025),
                (5.5, 0.025),
            ],
        );
    }

    #[test]
    fn exponential_decay_fractional_steps() {
        // a period of half an epoch: 1 · 0.9^⌊epoch / 0.5⌋
        let s = ExponentialDecay {
            decay: 0.9,
            steps: 0.5,
            staircase: true,
        };
        check(
            &s,
            1.0,
            &[(0.4, 1.0), (0.5, 0.9), (1.25, 0.81), (1.5, 0.729)],
        );
    }

    #[test]
    fn step_decay_like_step_lr() {
        // StepLR(step_size=3, gamma=0.1) from 1.0
        let s = StepDecay {
            gamma: 0.1,
            step_size: 3,
        };
        check(
            &s,
            1.0,
            &[
                (0.0, 1.0),
                (2.0, 1.0),
                (2.9, 1.0),
                (3.0, 0.1),
                (5.5, 0.1),
                (6.0, 0.01),
                (9.0, 0.001),
            ],
        );
    }

    #[test]
    fn cosine_closed_form() {
        // 0.001 + 0.099 · (1 + cos(π·epoch/10)) / 2
        let s = Cosine {
            min: 0.001,
            epochs: 10,
        };
        check(
            &s,
            0.1,
            &[
                (0.0, 0.1),
                (2.5, 0.085_501_785_668_734_1), // cos(π/4) = √½
                (5.0, 0.0505),                  // cos(π/2) = 0
                (7.5, 0.015_498_214_331_265_9), // cos(3π/4) = −√½
                (10.0, 0.001),
                (12.5, 0.001), // constant after `epochs`
                (100.0, 0.001),
            ],
        );
    }

    #[test]
    fn cosine_to_zero_and_constant() {
        let s = Cosine {
            min: 0.0,
            epochs: 4,
        };
        // 0.2 · (1 + cos(π/4)) / 2, and 0 at the end
        check(&s, 0.2, &[(1.0, 0.170_710_678_118_654_76), (2.0, 0.1)]);
        assert_eq!(s.learning_rate(0.2, 4.0), 0.0);
        check(&Constant, 0.3, &[(0.0, 0.3), (2.5, 0.3), (1e6, 0.3)]);
    }

    /// Rates of PyTorch 2.15's `OneCycleLR(opt, max_lr, epochs,
    /// steps_per_epoch, cycle_momentum=False, ...)` before each step `s`
    /// (`opt.param_groups[0]["lr"]`, then `opt.step(); sched.step()`),
    /// checked at the fractional epoch `s / steps_per_epoch` with `max_lr`
    /// as the base rate.
    fn check_steps(s: &OneCycle, max_lr: f32, steps: &[(u32, f64)]) {
        let cases: Vec<(f32, f64)> = steps
            .iter()
            .map(|&(step, lr)| (step as f32 / s.steps_per_epoch as f32, lr))
            .collect();
        check(s, max_lr, &cases);
    }

    #[test]
    fn one_cycle_like_one_cycle_lr() {
        // max_lr=0.1, epochs=10, steps_per_epoch=125, the other defaults
        check_steps(
            &OneCycle::new(10, 125),
            0.1,
            &[
                (0, 0.004_000_000_000_000_003_6),
                (1, 0.004_001_693_422_122_726),
                (62, 0.010_363_743_813_768_173),
                (124, 0.027_767_590_449_769_66),
                (125, 0.028_116_487_469_501_64),
                (250, 0.076_232_409_550_230_33),
                (373, 0.099_998_306_577_877_28),
                (374, 0.1),
                (375, 0.099_999_677_728_838_53),
                (500, 0.094_970_282_697_268_25),
                (625, 0.081_034_011_265_633_35),
                (812, 0.049_910_440_617_148_305),
                (1000, 0.018_685_682_341_245_98),
                (1125, 0.004_874_337_007_140_519),
                (1248, 7.222_711_614_804_578e-7),
                (1249, 4e-7),
            ],
        );
    }

    #[test]
    fn one_cycle_every_step_of_a_short_cycle() {
        // max_lr=1, epochs=4, steps_per_epoch=5: the peak at step 0.3·20 − 1 = 5
        check_steps(
            &OneCycle::new(4, 5),
            1.0,
            &[
                (0, 0.040_000_000_000_000_036),
                (1, 0.131_671_842_700_025_3),
                (2, 0.371_671_842_700_025_3),
                (3, 0.668_328_157_299_974_7),
                (4, 0.908_328_157_299_974_7),
                (5, 1.0),
                (6, 0.987_464_006_235_087_3),
                (7, 0.950_484_632_013_473_7),
                (8, 0.890_916_177_571_05),
                (9, 0.811_745_653_949_763_1),
                (10, 0.716_943_001_791_300_8),
                (11, 0.611_262_021_936_289_3),
                (12, 0.500_002),
                (13, 0.388_741_978_063_710_75),
                (14, 0.283_060_998_208_699_23),
                (15, 0.188_258_346_050_236_97),
                (16, 0.109_087_822_428_950_04),
                (17, 0.049_519_367_986_526_286),
                (18, 0.012_539_993_764_912_554),
                (19, 4e-6),
            ],
        );
    }

    #[test]
    fn one_cycle_options_and_the_end() {
        // max_lr=0.5, epochs=3, steps_per_epoch=4, pct_start=0.25,
        // div_factor=10, final_div_factor=100
        let s = OneCycle {
            pct_start: 0.25,
            div_factor: 10.0,
            final_div_factor: 100.0,
            ..OneCycle::new(3, 4)
        };
        check_steps(
            &s,
            0.5,
            &[
                (0, 0.049_999_999_999_999_99),
                (1, 0.275),
                (2, 0.5),
                (3, 0.484_938_232_041_280_6),
                (4, 0.441_569_599_668_964_75),
                (5, 0.375_125),
                (6, 0.293_618_632_372_315_9),
                (7, 0.206_881_367_627_684_17),
                (8, 0.125_375_000_000_000_04),
                (9, 0.058_930_400_331_035_27),
                (10, 0.015_561_767_958_719_398),
                (11, 0.0005),
            ],
        );
        // after the last step (where PyTorch raises an error) and before
        // the first: the end rates
        check(&s, 0.5, &[(3.0, 0.0005), (50.0, 0.0005), (-1.0, 0.05)]);
    }

    #[test]
    fn warmup_alone_rises_to_the_base_and_stays() {
        // base 0.2, 4 epochs from 0.2/3: 0.2 · (1/3 + 2/3 · epoch/4)
        let s = Warmup::new(4.0, Constant);
        check(
            &s,
            0.2,
            &[
                (-1.0, 0.2 / 3.0),
                (0.0, 0.2 / 3.0),
                (1.0, 0.1),
                (2.0, 0.4 / 3.0),
                (3.0, 0.5 / 3.0),
                (3.999, 0.2 * (1.0 + 2.0 * 3.999 / 4.0) / 3.0),
                (4.0, 0.2),
                (4.5, 0.2),
                (1e6, 0.2),
            ],
        );
        // from 0, over a quarter of an epoch: the first batch's rate is 0
        let s = Warmup {
            start_factor: 0.0,
            ..Warmup::new(0.25, Constant)
        };
        assert_eq!(s.learning_rate(0.2, 0.0), 0.0);
        check(&s, 0.2, &[(0.125, 0.1), (0.25, 0.2), (3.0, 0.2)]);
    }

    /// Rates of PyTorch 2.15's `SequentialLR(opt, [LinearLR(opt,
    /// start_factor, total_iters=w), CosineAnnealingLR(opt, T_max, eta_min)],
    /// milestones=[w])` before each step (`opt.param_groups[0]["lr"]`, then
    /// `opt.step(); sched.step()`):
    ///
    /// ```python
    /// opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    /// lin = torch.optim.lr_scheduler.LinearLR(opt, start_factor=start, total_iters=w)
    /// cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)
    /// sched = torch.optim.lr_scheduler.SequentialLR(opt, [lin, cos], milestones=[w])
    /// ```
    #[test]
    fn warmup_then_cosine_like_sequential_lr() {
        // base 0.1, start_factor 1/3, w 5, T_max 10, eta_min 0.001, a step
        // per epoch
        let s = Warmup::new(
            5.0,
            Cosine {
                min: 0.001,
                epochs: 10,
            },
        );
        check(
            &s,
            0.1,
            &[
                (0.0, 0.033_333_333_333_333_33),
                (1.0, 0.046_666_666_666_666_67),
                (2.0, 0.060_000_000_000_000_005),
                (3.0, 0.073_333_333_333_333_35),
                (4.0, 0.086_666_666_666_666_68),
                (5.0, 0.1),
                (6.0, 0.097_577_297_556_610_11),
                (7.0, 0.090_546_341_221_559_9),
                (8.0, 0.079_595_369_988_477_42),
                (9.0, 0.065_796_341_221_559_9),
                (10.0, 0.0505),
                (11.0, 0.035_203_658_778_440_11),
                (12.0, 0.021_404_630_011_522_59),
                (13.0, 0.010_453_658_778_440_109),
                (14.0, 0.003_422_702_443_389_900_4),
                (15.0, 0.001),
                // PyTorch's cosine rises again (0.00342 at step 16); this
                // one stays at `min`
                (16.0, 0.001),
            ],
        );
    }

    #[test]
    fn warmup_of_half_an_epoch_then_cosine_like_sequential_lr_per_batch() {
        // 4 batches an epoch, a step per batch: base 0.2, start_factor
        // 0.25, w 2 steps (half an epoch), T_max 12 steps (3 epochs),
        // eta_min 0
        let s = Warmup {
            start_factor: 0.25,
            ..Warmup::new(
                0.5,
                Cosine {
                    min: 0.0,
                    epochs: 3,
                },
            )
        };
        let pytorch = [
            0.05,
            0.125,
            0.2,
            0.196_592_582_628_906_83,
            0.186_602_540_378_443_9,
            0.170_710_678_118_654_76,
            0.150_000_000_000_000_02,
            0.125_881_904_510_252_1,
            0.100_000_000_000_000_02,
            0.074_118_095_489_747_95,
            0.050_000_000_000_000_03,
            0.029_289_321_881_345_26,
            0.013_397_459_621_556_132,
            0.003_407_417_371_093_180_7,
        ];
        let cases: Vec<(f32, f64)> = pytorch
            .iter()
            .enumerate()
            .map(|(b, &lr)| (b as f32 / 4.0, lr))
            .collect();
        check(&s, 0.2, &cases);
        // the 15th step, the cosine's end
        assert_eq!(s.learning_rate(0.2, 3.5), 0.0);
    }

    #[test]
    fn the_inner_clock_starts_when_the_warmup_ends() {
        // StepLR(step_size=3, gamma=0.1) after 2 epochs of warm-up: its
        // first drop is at epoch 2 + 3
        let s = Warmup::new(
            2.0,
            StepDecay {
                gamma: 0.1,
                step_size: 3,
            },
        );
        check(
            &s,
            1.0,
            &[(2.0, 1.0), (4.9, 1.0), (5.0, 0.1), (7.9, 0.1), (8.0, 0.01)],
        );
    }

    #[test]
    fn a_warmup_rises_to_the_first_rate_of_its_schedule() {
        // one-cycle starts at base / div_factor = 0.04: the warm-up goes
        // from half of that to it, and the cycle follows without a jump
        let cycle = OneCycle::new(2, 5);
        let s = Warmup {
            start_factor: 0.5,
            ..Warmup::new(1.0, cycle)
        };
        check(
            &s,
            1.0,
            &[(0.0, 0.02), (0.5, 0.03), (0.8, 0.036), (1.0, 0.04)],
        );
        for epoch in [1.2, 1.6, 2.0, 3.0] {
            let late = cycle.learning_rate(1.0, epoch - 1.0);
            assert_eq!(s.learning_rate(1.0, epoch), late, "epoch {epoch}");
        }
    }

    #[test]
    fn negative_epochs_count_as_zero() {
        let s = ExponentialDecay {
            decay: 0.5,
            steps: 1.0,
            staircase: false,
        };
        assert_eq!(s.learning_rate(0.1, -1.0), 0.1);
    }
}
