//! Learning-rate schedules: exponential decay (smooth or
//! staircase), step decay, cosine annealing, one-cycle and a constant rate.
//!
//! A [`Schedule`] maps the number of epochs done so far to a learning rate.
//! The epoch may be fractional: 2.5 is half-way through the third epoch, so
//! a schedule can be applied after every batch as well as after every epoch:
//!
//! ```
//! use nn_runtime::optim::{Optimizer, Sgd};
//! use nn_runtime::schedule::{Cosine, Schedule};
//!
//! let schedule = Cosine { base: 0.1, min: 0.0, epochs: 10 };
//! let mut opt = Sgd::new(schedule.learning_rate(0.0));
//! let batches = 4;
//! for epoch in 0..10 {
//!     for batch in 0..batches {
//!         opt.set_learning_rate(schedule.learning_rate(epoch as f32 + batch as f32 / batches as f32));
//!         // … forward, backward, opt.step(params, grads)
//!     }
//! }
//! assert!(opt.learning_rate() < 0.001);
//! ```
//!
//! Rates are computed in `f64` and rounded once to `f32`. Negative epochs
//! count as 0.

use std::f64::consts::PI;

/// A learning rate as a function of the epochs done so far.
pub trait Schedule {
    /// The learning rate after `epoch` epochs (fractional mid-epoch).
    fn learning_rate(&self, epoch: f32) -> f32;

    /// Whether the schedule's settings make learning rates at all: the
    /// trainer checks this before its first step. The schedules here refuse
    /// rates that are negative, NaN or infinite and periods of zero (which
    /// would divide by zero into a NaN rate); the default accepts anything.
    fn check(&self) -> Result<(), ScheduleError> {
        Ok(())
    }
}

/// A schedule setting that gives no usable learning rate: which schedule,
/// which setting, its value and what it must be.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{schedule}`: `{setting}` is {value}, it must be {must}")]
pub struct ScheduleError {
    pub schedule: &'static str,
    pub setting: &'static str,
    pub value: String,
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
/// factor `decay` at each multiple of `steps` and is constant in between.
///
/// ```
/// use nn_runtime::schedule::{ExponentialDecay, Schedule};
///
/// let s = ExponentialDecay { base: 0.1, decay: 0.5, steps: 2.0, staircase: true };
/// assert_eq!(s.learning_rate(1.9), 0.1);
/// assert_eq!(s.learning_rate(2.0), 0.05);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// Rate at epoch 0.
    pub base: f32,
    /// Factor applied per `steps` epochs.
    pub decay: f32,
    /// Epochs per factor of `decay` (positive; may be fractional).
    pub steps: f32,
    /// Decay in whole periods of `steps` epochs instead of smoothly.
    pub staircase: bool,
}

impl Schedule for ExponentialDecay {
    fn learning_rate(&self, epoch: f32) -> f32 {
        let periods = epoch.max(0.0) as f64 / self.steps as f64;
        let periods = if self.staircase {
            periods.floor()
        } else {
            periods
        };
        (self.base as f64 * (self.decay as f64).powf(periods)) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "ExponentialDecay";
        setting(name, ("base", self.base), rate(self.base))?;
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
    /// Rate at epoch 0.
    pub base: f32,
    /// Factor applied every `step_size` epochs.
    pub gamma: f32,
    /// Epochs between drops (positive).
    pub step_size: u32,
}

impl Schedule for StepDecay {
    fn learning_rate(&self, epoch: f32) -> f32 {
        let drops = (epoch.max(0.0) as f64 / self.step_size as f64).floor();
        (self.base as f64 * (self.gamma as f64).powf(drops)) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "StepDecay";
        setting(name, ("base", self.base), rate(self.base))?;
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cosine {
    /// Rate at epoch 0.
    pub base: f32,
    /// Rate reached at `epochs` and kept afterwards.
    pub min: f32,
    /// Length of the half cosine, in epochs (PyTorch's `T_max`; positive).
    pub epochs: u32,
}

impl Schedule for Cosine {
    fn learning_rate(&self, epoch: f32) -> f32 {
        let progress = (epoch.max(0.0) as f64 / self.epochs as f64).min(1.0);
        let (base, min) = (self.base as f64, self.min as f64);
        (min + (base - min) * (1.0 + (PI * progress).cos()) / 2.0) as f32
    }

    fn check(&self) -> Result<(), ScheduleError> {
        let name = "Cosine";
        setting(name, ("base", self.base), rate(self.base))?;
        setting(name, ("min", self.min), rate(self.min))?;
        setting(name, ("epochs", self.epochs), period(self.epochs as f64))
    }
}

/// The one-cycle policy, PyTorch's `OneCycleLR`
/// (<https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html>)
/// with cosine annealing and without momentum cycling
/// (`cycle_momentum=False`): over `epochs · steps_per_epoch` steps the rate
/// rises from `max / div_factor` to `max` along a half cosine during the
/// first `pct_start` of the steps, then falls along another half cosine to
/// `max / (div_factor · final_div_factor)` at the last step, and stays there.
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
/// use nn_runtime::schedule::{OneCycle, Schedule};
///
/// // 10 epochs of 125 batches: 0.004 → 0.1 at batch 374 → 4e-7 at batch 1249
/// let s = OneCycle::new(0.1, 10, 125);
/// assert_eq!(s.learning_rate(0.0), 0.004);
/// assert_eq!(s.learning_rate(374.0 / 125.0), 0.1);
/// assert_eq!(s.learning_rate(9.0 + 124.0 / 125.0), 4e-7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycle {
    /// The peak rate (PyTorch's `max_lr`).
    pub max: f32,
    /// Epochs of the cycle (positive).
    pub epochs: u32,
    /// Steps (batches) per epoch (positive).
    pub steps_per_epoch: u32,
    /// Fraction of the steps spent rising (PyTorch's default 0.3).
    pub pct_start: f32,
    /// The first rate is `max / div_factor` (default 25).
    pub div_factor: f32,
    /// The last rate is the first divided by this (default 10⁴).
    pub final_div_factor: f32,
}

impl OneCycle {
    /// A cycle of `epochs` epochs of `steps_per_epoch` batches peaking at
    /// `max`, with PyTorch's defaults: `pct_start` 0.3, `div_factor` 25,
    /// `final_div_factor` 10⁴.
    pub fn new(max: f32, epochs: u32, steps_per_epoch: u32) -> Self {
        OneCycle {
            max,
            epochs,
            steps_per_epoch,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
        }
    }
}

impl Schedule for OneCycle {
    fn learning_rate(&self, epoch: f32) -> f32 {
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
        let max = self.max as f64;
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
        setting(name, ("max", self.max), rate(self.max))?;
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

/// The same rate at every epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constant(pub f32);

impl Schedule for Constant {
    fn learning_rate(&self, _epoch: f32) -> f32 {
        self.0
    }

    fn check(&self) -> Result<(), ScheduleError> {
        setting("Constant", ("rate", self.0), rate(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_give_no_rate_are_refused() {
        let valid: [&dyn Schedule; 5] = [
            &ExponentialDecay {
                base: 0.1,
                decay: 0.5,
                steps: 2.0,
                staircase: false,
            },
            &StepDecay {
                base: 0.1,
                gamma: 0.1,
                step_size: 3,
            },
            &Cosine {
                base: 0.1,
                min: 0.0,
                epochs: 10,
            },
            &OneCycle::new(0.1, 10, 100),
            &Constant(0.0),
        ];
        for s in valid {
            assert_eq!(s.check(), Ok(()));
        }
        let refused = |s: &dyn Schedule, message: &str| {
            assert_eq!(s.check().unwrap_err().to_string(), message);
        };
        refused(
            &Cosine {
                base: 0.1,
                min: f32::NAN,
                epochs: 10,
            },
            "`Cosine`: `min` is NaN, it must be finite and at least 0",
        );
        refused(
            &Cosine {
                base: 0.1,
                min: 0.0,
                epochs: 0,
            },
            "`Cosine`: `epochs` is 0, it must be more than 0",
        );
        refused(
            &OneCycle {
                pct_start: 1.5,
                ..OneCycle::new(0.1, 10, 100)
            },
            "`OneCycle`: `pct_start` is 1.5, it must be between 0 and 1",
        );
        refused(
            &OneCycle::new(0.1, 10, 0),
            "`OneCycle`: `steps_per_epoch` is 0, it must be more than 0",
        );
        refused(
            &ExponentialDecay {
                base: f32::INFINITY,
                decay: 0.5,
                steps: 1.0,
                staircase: true,
            },
            "`ExponentialDecay`: `base` is inf, it must be finite and at least 0",
        );
        refused(
            &Constant(-0.05),
            "`Constant`: `rate` is -0.05, it must be finite and at least 0",
        );
    }

    /// Checks `schedule` at each `(epoch, rate)` to 1e-6 relative.
    fn check(schedule: &dyn Schedule, cases: &[(f32, f64)]) {
        for &(epoch, want) in cases {
            let got = schedule.learning_rate(epoch) as f64;
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
            base: 0.1,
            decay: 0.5,
            steps: 2.0,
            staircase: false,
        };
        check(
            &s,
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
            base: 0.1,
            decay: 0.5,
            steps: 2.0,
            staircase: true,
        };
        check(
            &s,
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
            base: 1.0,
            decay: 0.9,
            steps: 0.5,
            staircase: true,
        };
        check(&s, &[(0.4, 1.0), (0.5, 0.9), (1.25, 0.81), (1.5, 0.729)]);
    }

    #[test]
    fn step_decay_like_step_lr() {
        // StepLR(step_size=3, gamma=0.1) from 1.0
        let s = StepDecay {
            base: 1.0,
            gamma: 0.1,
            step_size: 3,
        };
        check(
            &s,
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
            base: 0.1,
            min: 0.001,
            epochs: 10,
        };
        check(
            &s,
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
            base: 0.2,
            min: 0.0,
            epochs: 4,
        };
        // 0.2 · (1 + cos(π/4)) / 2, and 0 at the end
        check(&s, &[(1.0, 0.170_710_678_118_654_76), (2.0, 0.1)]);
        assert_eq!(s.learning_rate(4.0), 0.0);
        check(&Constant(0.3), &[(0.0, 0.3), (2.5, 0.3), (1e6, 0.3)]);
    }

    /// Rates of PyTorch 2.15's `OneCycleLR(opt, max_lr, epochs,
    /// steps_per_epoch, cycle_momentum=False, ...)` before each step `s`
    /// (`opt.param_groups[0]["lr"]`, then `opt.step(); sched.step()`),
    /// checked at the fractional epoch `s / steps_per_epoch`.
    fn check_steps(s: &OneCycle, steps: &[(u32, f64)]) {
        let cases: Vec<(f32, f64)> = steps
            .iter()
            .map(|&(step, lr)| (step as f32 / s.steps_per_epoch as f32, lr))
            .collect();
        check(s, &cases);
    }

    #[test]
    fn one_cycle_like_one_cycle_lr() {
        // max_lr=0.1, epochs=10, steps_per_epoch=125, the other defaults
        check_steps(
            &OneCycle::new(0.1, 10, 125),
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
            &OneCycle::new(1.0, 4, 5),
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
            ..OneCycle::new(0.5, 3, 4)
        };
        check_steps(
            &s,
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
        check(&s, &[(3.0, 0.0005), (50.0, 0.0005), (-1.0, 0.05)]);
    }

    #[test]
    fn negative_epochs_count_as_zero() {
        let s = ExponentialDecay {
            base: 0.1,
            decay: 0.5,
            steps: 1.0,
            staircase: false,
        };
        assert_eq!(s.learning_rate(-1.0), 0.1);
    }
}
