//! What the trainer calls while it trains: [`Callback`]s, the figures they
//! see, and the ones it comes with (the progress bar, early stopping).

use super::{EpochStats, History, TrainError};
use crate::metrics::Metric;
use crate::network::Network;
use crate::optim::Optimizer;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt;
use std::path::Path;

/// Whether training goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Train the next epoch.
    Continue,
    /// Stop after this epoch (its figures are in the history).
    Stop,
}

/// The part of the data a figure is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training batches of the epoch, in training mode (as they were
    /// trained on, with dropout): Keras' `loss`, `accuracy`.
    Training,
    /// The validation set after the epoch, in evaluation mode: Keras'
    /// `val_loss`, `val_accuracy`.
    Validation,
}

/// A figure to watch: a [`Metric`] (or the loss) on a [`Split`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Monitor {
    /// Where it is measured.
    pub split: Split,
    /// What is measured.
    pub metric: Metric,
}

impl Monitor {
    /// The validation loss (Keras' `val_loss`), the usual choice.
    pub fn val_loss() -> Self {
        Monitor::validation(Metric::Loss)
    }

    /// `metric` on the validation set.
    pub fn validation(metric: Metric) -> Self {
        Monitor {
            split: Split::Validation,
            metric,
        }
    }

    /// `metric` on the epoch's training batches.
    pub fn training(metric: Metric) -> Self {
        Monitor {
            split: Split::Training,
            metric,
        }
    }

    /// Whether `new` is better than `old` by more than `min_delta`.
    pub(crate) fn improves(self, new: f64, old: f64, min_delta: f64) -> bool {
        match self.metric.higher_is_better() {
            true => new > old + min_delta,
            false => new < old - min_delta,
        }
    }

    /// Checks that training can measure this figure: the loss's metrics
    /// have it, and there is a validation set if it is measured there.
    pub(crate) fn check(self, begin: &TrainBegin, who: &'static str) -> Result<(), TrainError> {
        let known = self.metric == Metric::Loss || begin.metrics.contains(&self.metric);
        if !known {
            let names: Vec<&str> = std::iter::once("loss")
                .chain(begin.metrics.iter().map(|m| m.name()))
                .collect();
            return Err(TrainError::Monitor(format!(
                "{who} watches {self}, but this loss's metrics are {}",
                names.join(", ")
            )));
        }
        if self.split == Split::Validation && !begin.has_validation {
            return Err(TrainError::Monitor(format!(
                "{who} watches {self}, but `fit` was given no validation set"
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let split = match self.split {
            Split::Training => "training",
            Split::Validation => "validation",
        };
        write!(f, "the {split} {}", self.metric)
    }
}

/// The loss and every metric of one split after an epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// The mean loss.
    pub loss: f64,
    /// Every metric of the loss's kind, with its value.
    pub metrics: Vec<(Metric, f64)>,
}

impl Scores {
    /// The loss, or one of the metrics (`None` if the kind has no such
    /// metric).
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Loss => Some(self.loss),
            _ => self
                .metrics
                .iter()
                .find(|(m, _)| *m == metric)
                .map(|&(_, v)| v),
        }
    }
}

/// What a callback learns before the first epoch.
#[derive(Clone, Debug)]
pub struct TrainBegin {
    /// Epochs already done (after a resume), and the epochs to reach.
    pub epochs_done: usize,
    /// The configured number of epochs.
    pub epochs: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// The metrics of the loss's kind (the loss apart).
    pub metrics: &'static [Metric],
    /// Whether `fit` was given a validation set.
    pub has_validation: bool,
}

/// The figures of one training batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchEnd {
    /// 1-based epoch and batch, and the epoch's number of batches.
    pub epoch: usize,
    /// 1-based.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// The batch's mean loss (with the L2 penalty, if any).
    pub loss: f64,
    /// The mean loss over the epoch's batches so far.
    pub running_loss: f64,
    /// The learning rate the batch was trained with.
    pub learning_rate: f32,
}

/// What a callback sees after an epoch: the network, the epoch's figures
/// and the history, and a way to write a checkpoint.
pub struct EpochEnd<'a, N> {
    /// The network after the epoch (in training mode); a callback may
    /// change it.
    pub net: &'a mut N,
    /// The epoch's figures (also the history's last entry).
    pub stats: &'a EpochStats,
    /// Every epoch so far, this one included.
    pub history: &'a History,
    /// Loss and metrics on the epoch's training batches.
    pub train: &'a Scores,
    /// Loss and metrics on the validation set, if `fit` was given one.
    pub val: Option<&'a Scores>,
    pub(super) optimizer: &'a dyn Optimizer,
    pub(super) threads: usize,
    pub(super) plateau: Option<super::PlateauState>,
}

impl<N: Network> EpochEnd<'_, N> {
    /// The value of `monitor` after this epoch (`None` if it is not
    /// measured).
    pub fn value(&self, monitor: Monitor) -> Option<f64> {
        match monitor.split {
            Split::Training => self.train.get(monitor.metric),
            Split::Validation => self.val?.get(monitor.metric),
        }
    }

    /// Writes a checkpoint of the training as it stands (the network, the
    /// optimizer, the history) to `path`, from which
    /// [`Trainer::resume`](super::Trainer::resume) continues.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        super::write_checkpoint(
            &*self.net,
            self.optimizer,
            self.history,
            self.threads,
            self.plateau,
            path,
        )
    }
}

/// Code the trainer runs at fixed points of training: Keras' callbacks.
///
/// Every method has a default that does nothing. The trainer calls
/// [`on_train_begin`](Callback::on_train_begin) before the first epoch (an
/// error there stops `fit` before any work), then per epoch
/// [`on_epoch_begin`](Callback::on_epoch_begin),
/// [`on_batch_end`](Callback::on_batch_end) after every step and
/// [`on_epoch_end`](Callback::on_epoch_end) after the validation; and
/// [`on_train_end`](Callback::on_train_end) when training ends without an
/// error. Callbacks run in the order given, each seeing the network as the
/// one before left it.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::train::{Callback, EpochEnd, Flow, TrainError};
///
/// /// Stops once the training loss is below a threshold.
/// struct GoodEnough(f64);
///
/// impl<N: nn::Network> Callback<N> for GoodEnough {
///     fn on_epoch_end(&mut self, end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
///         Ok(match end.stats.train_loss < self.0 {
///             true => Flow::Stop,
///             false => Flow::Continue,
///         })
///     }
/// }
/// ```
pub trait Callback<N: Network> {
    /// Before the first epoch. Check settings here: an error stops `fit`
    /// before anything changes.
    fn on_train_begin(&mut self, _begin: &TrainBegin) -> Result<(), TrainError> {
        Ok(())
    }

    /// Before epoch `epoch` (1-based) of `batches` batches.
    fn on_epoch_begin(&mut self, _epoch: usize, _batches: usize) {}

    /// After every training step.
    fn on_batch_end(&mut self, _batch: &BatchEnd) {}

    /// After every epoch, once the validation set is evaluated. Returning
    /// [`Flow::Stop`] ends training after this epoch; an error ends `fit`
    /// with it.
    fn on_epoch_end(&mut self, _end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
        Ok(Flow::Continue)
    }

    /// After the last epoch (or the one a callback stopped at).
    fn on_train_end(&mut self, _net: &mut N, _history: &History) -> Result<(), TrainError> {
        Ok(())
    }
}

/// Stops training when a monitored figure has not improved for `patience`
/// epochs, and optionally puts back the weights of the best epoch (Keras'
/// `EarlyStopping`).
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::metrics::Metric;
/// use nn::train::{EarlyStopping, Monitor};
///
/// let stop = EarlyStopping::new(Monitor::validation(Metric::Accuracy))
///     .patience(3)
///     .restore_best_weights(true);
/// assert_eq!(stop.best_epoch(), None); // nothing trained yet
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    min_delta: f64,
    restore: bool,
    best: Option<(usize, f64)>,
    /// Parameters and buffers of the best epoch, kept when restoring.
    best_state: Option<(Vec<f32>, Vec<f32>)>,
    stopped: Option<usize>,
}

impl EarlyStopping {
    /// Watches `monitor` with a patience of 0 epochs: the first epoch that
    /// does not improve on the best stops training (as with a patience of
    /// 1, as in Keras).
    pub fn new(monitor: Monitor) -> Self {
        EarlyStopping {
            monitor,
            patience: 0,
            min_delta: 0.0,
            restore: false,
            best: None,
            best_state: None,
            stopped: None,
        }
    }

    /// Epochs without improvement after which training stops: with 3, the
    /// third epoch in a row that does not improve on the best is the last.
    pub fn patience(self, epochs: usize) -> Self {
        EarlyStopping {
            patience: epochs,
            ..self
        }
    }

    /// The least change that counts as an improvement.
    pub fn min_delta(self, delta: f64) -> Self {
        EarlyStopping {
            min_delta: delta.abs(),
            ..self
        }
    }

    /// Whether to put back the best epoch's weights (and batch norm's
    /// running statistics) when training ends, stopped or not.
    pub fn restore_best_weights(self, restore: bool) -> Self {
        EarlyStopping { restore, ..self }
    }

    /// The best epoch so far (1-based) and its value.
    pub fn best_epoch(&self) -> Option<(usize, f64)> {
        self.best
    }

    /// The epoch after which it stopped training, if it did.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped
    }
}

impl<N: Network> Callback<N> for EarlyStopping {
    fn on_train_begin(&mut self, begin: &TrainBegin) -> Result<(), TrainError> {
        self.monitor.check(begin, "early stopping")?;
        self.best = None;
        self.best_state = None;
        self.stopped = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
        let epoch = end.stats.epoch;
        let value = end.value(self.monitor).unwrap_or(f64::NAN);
        let better = match self.best {
            None => !value.is_nan(),
            Some((_, best)) => self.monitor.improves(value, best, self.min_delta),
        };
        if better {
            self.best = Some((epoch, value));
            if self.restore {
                let state = end.net.state();
                let (params, buffers) = self.best_state.get_or_insert_default();
                params.clear();
                params.extend_from_slice(end.net.params());
                buffers.clear();
                buffers.extend_from_slice(state.buffer_values());
            }
        }
        // Keras' count: an epoch without improvement stops training once
        // `patience` of them (at least one) have passed since the best
        let since_best = epoch - self.best.map_or(0, |(e, _)| e);
        if !better && since_best >= self.patience.max(1) {
            self.stopped = Some(epoch);
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }

    fn on_train_end(&mut self, net: &mut N, _history: &History) -> Result<(), TrainError> {
        if let Some((params, buffers)) = self.best_state.as_ref().filter(|_| self.restore) {
            net.params_mut().copy_from_slice(params);
            net.state_mut().buffer_values_mut().copy_from_slice(buffers);
        }
        Ok(())
    }
}

/// The progress bar with the running loss, and a line per epoch: what
/// [`TrainConfig::verbose`](super::TrainConfig::verbose) turns on.
#[derive(Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl<N: Network> Callback<N> for Progress {
    fn on_epoch_begin(&mut self, epoch: usize, batches: usize) {
        let bar = ProgressBar::new(batches as u64);
        let style = ProgressStyle::with_template(
            "epoch {prefix:>3} [{bar:30}] {pos}/{len} batches, loss {msg} ({elapsed})",
        )
        .expect("a valid template");
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(epoch.to_string());
        self.bar = Some(bar);
    }

    fn on_batch_end(&mut self, batch: &BatchEnd) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{:.4}", batch.running_loss));
            bar.inc(1);
        }
    }

    fn on_epoch_end(&mut self, end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        println!("{}", end.stats);
        Ok(Flow::Continue)
    }
}

impl Drop for Progress {
    /// A bar still running when training fails stays on screen as it was.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}
