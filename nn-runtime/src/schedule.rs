//! Learning-rate schedules: exponential decay (smooth or
//! staircase), step decay, cosine annealing and a constant rate.
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
}

/// The same rate at every epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Constant(pub f32);

impl Schedule for Constant {
    fn learning_rate(&self, _epoch: f32) -> f32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
