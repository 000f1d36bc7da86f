//! [`ReduceOnPlateau`]: the learning rate scaled down when a monitored
//! figure stops improving.

use super::callback::{Monitor, TrainBegin};
use super::TrainError;

/// Multiplies the learning rate by `factor` when a monitored figure has not
/// improved for more than `patience` epochs: PyTorch's `ReduceLROnPlateau`
/// (with `threshold_mode='abs'`, Keras' `min_delta`), composed with the
/// trainer's schedule.
///
/// The trainer's rate is the schedule's (or the base rate, without one)
/// times this scale, and not below `min_lr` once the scale has dropped.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::train::{Monitor, ReduceOnPlateau};
///
/// let mut plateau = ReduceOnPlateau::new(Monitor::val_loss()).patience(1).factor(0.5);
/// for loss in [1.0, 0.5, 0.5, 0.5, 0.5] {
///     plateau.observe(loss);
/// }
/// // two epochs without improvement (more than the patience of 1): halved once
/// assert_eq!(plateau.scale(), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    monitor: Monitor,
    factor: f32,
    patience: usize,
    min_delta: f64,
    cooldown: usize,
    min_lr: f32,
    state: PlateauState,
}

/// What a plateau has seen so far: kept in checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct PlateauState {
    pub(super) scale: f32,
    pub(super) best: f64,
    pub(super) bad_epochs: usize,
    pub(super) cooldown_left: usize,
}

impl PlateauState {
    const FRESH: PlateauState = PlateauState {
        scale: 1.0,
        best: f64::NAN,
        bad_epochs: 0,
        cooldown_left: 0,
    };

    /// The state as checkpoint metadata: `scale best bad cooldown`.
    pub(super) fn to_text(self) -> String {
        format!(
            "{} {} {} {}",
            self.scale, self.best, self.bad_epochs, self.cooldown_left
        )
    }

    /// The state written by [`to_text`](PlateauState::to_text), if the text
    /// is one.
    pub(super) fn from_text(text: &str) -> Option<PlateauState> {
        let mut parts = text.split(' ');
        let state = PlateauState {
            scale: parts.next()?.parse().ok()?,
            best: parts.next()?.parse().ok()?,
            bad_epochs: parts.next()?.parse().ok()?,
            cooldown_left: parts.next()?.parse().ok()?,
        };
        let scale_ok = state.scale.is_finite() && state.scale > 0.0 && state.scale <= 1.0;
        (parts.next().is_none() && scale_ok).then_some(state)
    }
}

impl ReduceOnPlateau {
    /// Watches `monitor` with PyTorch's defaults: `factor` 0.1, `patience`
    /// 10, a least improvement of 1e-4, no cooldown, `min_lr` 0.
    pub fn new(monitor: Monitor) -> Self {
        ReduceOnPlateau {
            monitor,
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            state: PlateauState::FRESH,
        }
    }

    /// What the rate is multiplied by at each plateau (between 0 and 1).
    pub fn factor(self, factor: f32) -> Self {
        ReduceOnPlateau { factor, ..self }
    }

    /// Epochs without improvement allowed: the rate drops after one more.
    pub fn patience(self, epochs: usize) -> Self {
        ReduceOnPlateau {
            patience: epochs,
            ..self
        }
    }

    /// The least change that counts as an improvement.
    pub fn min_delta(self, delta: f64) -> Self {
        ReduceOnPlateau {
            min_delta: delta.abs(),
            ..self
        }
    }

    /// Epochs after a drop during which no epoch counts as one without
    /// improvement.
    pub fn cooldown(self, epochs: usize) -> Self {
        ReduceOnPlateau {
            cooldown: epochs,
            ..self
        }
    }

    /// The lowest rate a drop leads to.
    pub fn min_lr(self, rate: f32) -> Self {
        ReduceOnPlateau {
            min_lr: rate,
            ..self
        }
    }

    /// The figure watched.
    pub fn monitor(&self) -> Monitor {
        self.monitor
    }

    /// The factor the rate is multiplied by now: 1 before the first drop.
    pub fn scale(&self) -> f32 {
        self.state.scale
    }

    /// The rate to train with when the schedule gives `scheduled`.
    pub(super) fn rate(&self, scheduled: f32) -> f32 {
        match self.state.scale < 1.0 {
            true => (scheduled * self.state.scale).max(self.min_lr),
            false => scheduled,
        }
    }

    /// Takes an epoch's value of the monitored figure; returns whether the
    /// rate dropped. (The trainer calls it after every epoch.)
    pub fn observe(&mut self, value: f64) -> bool {
        let s = &mut self.state;
        let better = match s.best.is_nan() {
            true => !value.is_nan(),
            false => self.monitor.improves(value, s.best, self.min_delta),
        };
        if better {
            s.best = value;
            s.bad_epochs = 0;
        } else {
            s.bad_epochs += 1;
        }
        if s.cooldown_left > 0 {
            s.cooldown_left -= 1;
            s.bad_epochs = 0;
        }
        if s.bad_epochs > self.patience {
            s.scale *= self.factor;
            s.cooldown_left = self.cooldown;
            s.bad_epochs = 0;
            return true;
        }
        false
    }

    pub(super) fn check(&self, begin: &TrainBegin) -> Result<(), TrainError> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(TrainError::Monitor(format!(
                "reduce-on-plateau: the factor {} is not between 0 and 1",
                self.factor
            )));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return Err(TrainError::Monitor(format!(
                "reduce-on-plateau: min_lr {} is not a rate of at least 0",
                self.min_lr
            )));
        }
        self.monitor.check(begin, "reduce-on-plateau")
    }

    pub(super) fn state(&self) -> PlateauState {
        self.state
    }

    pub(super) fn set_state(&mut self, state: PlateauState) {
        self.state = state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metric;

    #[test]
    fn drops_after_patience_with_cooldown_like_pytorch() {
        // PyTorch 2.15's ReduceLROnPlateau(mode='min', factor=0.5,
        // patience=1, threshold=1e-4, threshold_mode='abs', cooldown=1) on
        // these losses halves the rate after epochs 4 and 7: two epochs
        // without improvement each time, the cooldown resetting the count
        // after each drop
        let mut p = ReduceOnPlateau::new(Monitor::val_loss())
            .factor(0.5)
            .patience(1)
            .cooldown(1);
        let losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5];
        let drops: Vec<usize> = losses
            .iter()
            .enumerate()
            .filter_map(|(i, &l)| p.observe(l).then_some(i + 1))
            .collect();
        assert_eq!(drops, [4, 7]);
        assert_eq!(p.scale(), 0.25);
        assert_eq!(p.rate(0.1), 0.025);
        let floor = p.clone().min_lr(0.05);
        assert_eq!(floor.rate(0.1), 0.05);
    }

    #[test]
    fn a_metric_that_grows_is_an_improvement() {
        let mut p = ReduceOnPlateau::new(Monitor::validation(Metric::Accuracy)).patience(0);
        assert!(!p.observe(0.5));
        assert!(!p.observe(0.6));
        assert!(p.observe(0.6));
        assert!((p.scale() - 0.1).abs() < 1e-7);
    }

    #[test]
    fn state_round_trips_as_text_and_damage_is_refused() {
        let state = PlateauState {
            scale: 0.25,
            best: 0.123,
            bad_epochs: 2,
            cooldown_left: 1,
        };
        assert_eq!(PlateauState::from_text(&state.to_text()), Some(state));
        let fresh = PlateauState::from_text(&PlateauState::FRESH.to_text()).unwrap();
        assert!(fresh.best.is_nan() && fresh.scale == 1.0);
        for bad in [
            "",
            "1 2 3",
            "0.5 x 1 0",
            "2 0 0 0",
            "0.5 0 0 0 9",
            "NaN 0 0 0",
        ] {
            assert_eq!(PlateauState::from_text(bad), None, "{bad:?}");
        }
    }
}
