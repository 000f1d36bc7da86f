//! The training loop: epochs of shuffled mini-batches, per-epoch loss and
//! metrics on the training batches and on an optional validation set (in
//! evaluation mode), callbacks (the progress bar, early stopping, your
//! own), gradient clipping and an L2 penalty, a guard that stops on a NaN or
//! infinite loss, training curves as an SVG image, and checkpoints of the
//! weights and the optimizer from which training resumes to the same result
//! as an unbroken run.
//!
//! Any [`Loss`] trains: the data sets hold its kind of target (class labels
//! for a softmax cross-entropy, float vectors for a mean squared error), and
//! its [`Metrics`] score every epoch. A data set of
//! the wrong kind does not compile, nor does a loss typed by its outputs
//! ([`Loss::outputs`]), an optimizer typed by its parameters
//! ([`Optimizer::params`]) or a data set typed by its targets' width
//! ([`Dataset::typed`]) that does not fit the network.
//!
//! Mini-batches are split across `threads` threads, the first share run on
//! the network itself and each other share on a replica with its own
//! gradients, buffers, activations and scratch, which reads the network's
//! parameters (or, for parameters that fit in a core's L2, a copy of its
//! own: up to 2 MiB); the shares' gradients are summed in
//! a fixed order, so a seed and a thread count
//! always give the same result. The threads are a fixed team that hands
//! work over without allocating, so training steps allocate nothing.

mod callback;
mod plateau;

pub use callback::{
    BatchEnd, Callback, EarlyStopping, EpochEnd, Flow, Monitor, Progress, Scores, Split, TrainBegin,
};
use plateau::PlateauState;
pub use plateau::ReduceOnPlateau;

use crate::batch::Batching;
use crate::data::augment::Augmentation;
use crate::data::{Dataset, Target, TrainsOn};
use crate::loss::{Loss, Objective};
use crate::metrics::{Metric, Metrics};
use crate::network::{Network, TakesInput, Work};
use crate::optim::{Optimization, Optimizer, OptimizerState, StateError};
use crate::schedule::{Schedule, ScheduleError};
use crate::team::Team;
use crate::typed::{OutputsFit, ParamsFit, TargetsFit};
use crate::weights::{self, Values, WeightsError};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::num::ParseIntError;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// How to train.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Epochs to train (in all, counting those before a resume).
    pub epochs: usize,
    /// Batch size, shuffling seed, short last batch.
    pub batching: Batching,
    /// Threads that share each batch, each running its share on the
    /// network's parameters (or, up to 2 MiB of them, a copy made at every
    /// step) with gradients, activations and batch-norm statistics of its
    /// own, the shares' gradients summed in a fixed
    /// order. A seed gives the same weights for
    /// the same count, on any machine; another count rounds differently.
    /// Checkpoints record it. 0 means one per core, so that results then
    /// depend on the machine. [`TrainConfig::new`] sets 1.
    pub threads: usize,
    /// Show a progress bar and print a line per epoch.
    pub verbose: bool,
    /// Write a checkpoint here after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// Write the training curves here (SVG) after every epoch.
    pub curves: Option<PathBuf>,
    /// Batch size for evaluation.
    pub eval_batch: usize,
    /// Clip each batch's gradient before the step (after the L2 penalty's
    /// share is added).
    pub clip: Option<Clip>,
    /// L2 penalty `λ·Σw²` on the weight matrices and kernels (every
    /// parameter tensor of two or more dimensions: dense, conv and
    /// recurrent weights; not biases, batch norm's scales and shifts or
    /// PReLU's slopes). Its gradient `2λ·w` joins the batch's, and the
    /// reported training loss includes it, as Keras reports a
    /// regularised loss. `None` or 0 for none.
    pub l2: Option<f32>,
    /// Augments every training sample after it is gathered into its batch
    /// (random crops, flips, shifts), drawn from the augmentation's seed,
    /// the epoch and the sample's index: the same on any thread count, and
    /// the same batches after a resume. Validation is not augmented.
    pub augment: Option<Arc<Augmentation>>,
}

/// How to clip a batch's gradient before the optimizer's step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale the whole gradient down to this L2 norm when its norm is
    /// larger: PyTorch's `clip_grad_norm_(max_norm)`, which multiplies by
    /// `max_norm / (norm + 1e-6)`.
    Norm(f32),
    /// Clamp every gradient value to `[-v, v]`: PyTorch's
    /// `clip_grad_value_(v)`.
    Value(f32),
}

impl TrainConfig {
    /// `epochs` of shuffled batches of `batch_size` (seed 0), on one
    /// thread: the same seed trains the same weights on any machine (set
    /// `threads` for more; see there).
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        TrainConfig {
            epochs,
            batching: Batching::new(batch_size).shuffled(0),
            threads: 1,
            verbose: false,
            checkpoint: None,
            curves: None,
            eval_batch: 256,
            clip: None,
            l2: None,
            augment: None,
        }
    }
}

/// The figures of one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based.
    pub epoch: usize,
    /// Learning rate at the epoch's start.
    pub learning_rate: f32,
    /// Mean loss over the epoch's training batches, in training mode (with
    /// the L2 penalty, if any).
    pub train_loss: f64,
    /// The loss's headline [`metric`](EpochStats::metric) on the training
    /// batches.
    pub train_metric: f64,
    /// Mean loss on the validation set, in evaluation mode; `None` without
    /// one.
    pub val_loss: Option<f64>,
    /// The headline metric on the validation set; `None` without one.
    pub val_metric: Option<f64>,
    /// Training samples per second (evaluation not counted).
    pub images_per_second: f64,
    /// Which metric `train_metric` and `val_metric` are: accuracy for class
    /// labels, R² for regression, per-label accuracy for multi-label.
    pub metric: Metric,
}

/// Every epoch's figures so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One entry per epoch, in order.
    pub epochs: Vec<EpochStats>,
}

impl History {
    /// Figures stored per epoch in a checkpoint, in this order (the epoch's
    /// number is its row's, counted from 1; `validated` is 1 where the
    /// epoch had a validation set).
    pub const COLUMNS: [&'static str; 7] = [
        "learning_rate",
        "train_loss",
        "train_metric",
        "validated",
        "val_loss",
        "val_metric",
        "images_per_second",
    ];

    /// The history as the rows of an `[epochs, 7]` f64 tensor: stored as
    /// numbers, a NaN or infinite loss comes back as it was (JSON, where the
    /// history was before, has no such numbers and wrote `null`), and the
    /// file's header stays the same size however long the training.
    fn to_rows(&self) -> Vec<f64> {
        self.epochs
            .iter()
            .flat_map(|e| {
                [
                    f64::from(e.learning_rate),
                    e.train_loss,
                    e.train_metric,
                    f64::from(u8::from(e.val_loss.is_some())),
                    e.val_loss.unwrap_or(f64::NAN),
                    e.val_metric.unwrap_or(f64::NAN),
                    e.images_per_second,
                ]
            })
            .collect()
    }

    /// The history of `done` epochs from the tensor [`History::to_rows`]
    /// made, its metric being `metric`. Checkpoints of the version before
    /// validation sets were optional have six columns and a test set
    /// every epoch.
    fn from_tensor(
        tensor: &weights::Tensor64,
        done: usize,
        metric: Metric,
    ) -> Result<History, ResumeError> {
        let columns = tensor.shape.get(1).copied().unwrap_or(0);
        if tensor.shape.len() != 2
            || tensor.shape[0] != done
            || !(columns == Self::COLUMNS.len() || columns == 6)
            || tensor.data.len() != done * columns
        {
            return Err(ResumeError::HistoryShape {
                shape: tensor.shape.clone(),
                done,
            });
        }
        let epochs = tensor
            .data
            .chunks_exact(columns)
            .enumerate()
            .map(|(i, row)| {
                let (validated, val_loss, val_metric, speed) = match columns {
                    6 => (true, row[3], row[4], row[5]),
                    _ => (row[3] != 0.0, row[4], row[5], row[6]),
                };
                EpochStats {
                    epoch: i + 1,
                    learning_rate: row[0] as f32,
                    train_loss: row[1],
                    train_metric: row[2],
                    val_loss: validated.then_some(val_loss),
                    val_metric: validated.then_some(val_metric),
                    images_per_second: speed,
                    metric,
                }
            })
            .collect();
        Ok(History { epochs })
    }
}

impl fmt::Display for EpochStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let metric = self.metric;
        write!(
            f,
            "epoch {:>3}  lr {:.5}  train loss {:.4} {metric} {}",
            self.epoch,
            self.learning_rate,
            self.train_loss,
            metric.format(self.train_metric),
        )?;
        if let (Some(loss), Some(value)) = (self.val_loss, self.val_metric) {
            write!(f, "  val loss {loss:.4} {metric} {}", metric.format(value))?;
        }
        write!(f, "  ({:.0} samples/s)", self.images_per_second)
    }
}

/// The loss and metrics of a network on a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation<M> {
    /// The mean loss.
    pub loss: f64,
    /// The metrics of the loss's kind: accuracy and confusion matrix for
    /// class labels, MSE, MAE and R² for regression, ….
    pub metrics: M,
}

impl<M: Metrics> Evaluation<M> {
    /// The loss and every metric, to watch or to print.
    pub fn scores(&self) -> Scores {
        Scores {
            loss: self.loss,
            metrics: M::METRICS
                .iter()
                .map(|&m| (m, self.metrics.get(m).unwrap_or(f64::NAN)))
                .collect(),
        }
    }
}

impl<M: fmt::Display> fmt::Display for Evaluation<M> {
    /// The loss, then the metrics (for class labels: per-class precision,
    /// recall and F1, and the confusion matrix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.4}  {}", self.loss, self.metrics)
    }
}

/// Why training, or saving or restoring a checkpoint, failed.
///
/// Where the failure comes from another error, the message includes it and
/// [`Error::source`](std::error::Error::source) returns it: the
/// [`WeightsError`] of a checkpoint that cannot be written or read, the
/// [`ResumeError`] of one that does not fit, the [`PlotError`] of the curves.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A batch's loss or gradient, or the learning rate for it, is not a
    /// finite number (or the rate is negative): training stopped before
    /// that batch's step, and the network (weights, batch norm's running
    /// statistics, dropout's draws) and the optimizer are as they were
    /// after the step before.
    #[error(
        "training stopped before the step of epoch {epoch}, batch {batch}: {what} is {value}; \
         the weights are those before it; {}",
        what.advice()
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// Which figure it was.
        what: Watched,
        /// Its value.
        value: f64,
    },
    /// The learning-rate schedule's settings give no usable rate.
    #[error("{0}")]
    Schedule(#[from] ScheduleError),
    /// The data sets and the batching leave nothing to train on or to
    /// report: an empty training or test set, batches of 0 samples, or
    /// `drop_last` with batches larger than the training set.
    #[error("nothing to train: {0}")]
    Nothing(String),
    /// A checkpoint could not be written or read.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] WeightsError),
    /// A checkpoint does not fit this training (other optimizer, damaged
    /// metadata).
    #[error("{}: cannot resume: {source}", path.display())]
    Resume {
        /// The checkpoint.
        path: PathBuf,
        /// Why it does not fit.
        source: ResumeError,
    },
    /// The curves image could not be drawn or written.
    #[error("{0}")]
    Curves(#[from] PlotError),
    /// A callback watches a figure that training does not measure (a
    /// metric of another kind of target, or a validation figure without a
    /// validation set).
    #[error("{0}")]
    Monitor(String),
    /// A callback of your own failed: its error is the source.
    #[error("callback: {0}")]
    Callback(Box<dyn std::error::Error + Send + Sync>),
}

/// What the trainer checks before each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    /// The batch's mean loss.
    Loss,
    /// The L2 norm of the batch's gradient (NaN or infinite when any of its
    /// values is).
    GradientNorm,
    /// The learning rate the schedule gave for the batch.
    LearningRate,
}

impl Watched {
    fn advice(self) -> &'static str {
        match self {
            Watched::Loss | Watched::GradientNorm => "lower the learning rate or check the data",
            Watched::LearningRate => "check the learning-rate schedule",
        }
    }
}

impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Watched::Loss => "the loss",
            Watched::GradientNorm => "the gradient's norm",
            Watched::LearningRate => "the learning rate",
        })
    }
}

/// Why a checkpoint that was read does not fit: a metadata entry is missing
/// or damaged, or the optimizer's state is not this optimizer's.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// A metadata entry is missing.
    #[error("metadata `{key}` is missing")]
    MissingMetadata {
        /// The entry.
        key: &'static str,
    },
    /// A metadata entry that holds a count is not one.
    #[error("metadata `{key}`: {source}")]
    Count {
        /// The metadata entry.
        key: &'static str,
        /// The error it comes from.
        source: ParseIntError,
    },
    /// The f64 tensor of the history is missing.
    #[error("the history, an f64 tensor `{HISTORY}`, is missing")]
    MissingHistory,
    /// The history is JSON metadata: the checkpoint is from an earlier
    /// version.
    #[error(
        "the history is JSON metadata `{HISTORY}`, as an earlier version of nn wrote \
         checkpoints; this version keeps it as an f64 tensor and cannot resume the file \
         (its weights load with `weights::read` and `weights::load_tensors`, skipping the \
         names that start with `optimizer.`)"
    )]
    OldHistory,
    /// The thread count recorded is not one a run can have had.
    #[error("metadata `{META_THREADS}` is {threads}, expected 1 to {MAX_THREADS}")]
    Threads {
        /// The count recorded.
        threads: usize,
    },
    /// The history's tensor is not one row of figures per epoch done.
    #[error(
        "tensor `{HISTORY}` has shape {}, expected [{done}, {}] (epochs done × figures)",
        crate::summary::shape_string(shape),
        History::COLUMNS.len()
    )]
    HistoryShape {
        /// The tensor's shape.
        shape: Vec<usize>,
        /// Epochs done, as the metadata says.
        done: usize,
    },
    /// The optimizer's state does not fit this optimizer.
    #[error("{0}")]
    Optimizer(#[from] StateError),
    /// The reduce-on-plateau's state is damaged.
    #[error(
        "metadata `{META_PLATEAU}` is {text:?}, expected a scale in (0, 1], the best value, \
         and two counts"
    )]
    Plateau {
        /// The entry as found.
        text: String,
    },
    /// The optimizer's state is for another number of parameters than the
    /// network has.
    #[error(
        "optimizer buffer `{name}` has {len} values, \
         but `{network}` has {params} parameters"
    )]
    OptimizerParams {
        /// The buffer's name.
        name: String,
        /// Its length.
        len: usize,
        /// The network's name.
        network: &'static str,
        /// The network's parameter count.
        params: usize,
    },
}

/// Why the training curves could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The image file could not be written.
    #[error("{}: cannot write the curves: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: std::io::Error,
    },
    /// The plotting library could not lay out or draw the chart.
    #[error("{}: cannot draw the curves: {source}", path.display())]
    Draw {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl PlotError {
    /// Sorts a plotting error of the image at `path`: the I/O error of the
    /// file apart, anything else is a drawing error.
    fn new(path: &Path, error: plotters::drawing::DrawingAreaErrorKind<std::io::Error>) -> Self {
        use plotters::drawing::DrawingAreaErrorKind::BackendError;
        use plotters_backend::DrawingErrorKind::DrawingError;
        let path = path.to_path_buf();
        match error {
            BackendError(DrawingError(source)) => PlotError::Io { path, source },
            error => PlotError::Draw {
                path,
                source: Box::new(error),
            },
        }
    }
}

/// Evaluates `net` on `data` in evaluation mode (restoring the mode after):
/// the mean loss and the loss's metrics. An empty data set has no loss or
/// metrics: they are NaN.
///
/// The data set holds the loss's kind of target; another kind does not
/// compile, nor does a typed loss or a typed data set of another width
/// than the network's outputs.
///
/// # Panics
/// If the data set's targets do not fit the network's outputs: more classes
/// than outputs, or float targets of another width.
#[track_caller]
pub fn evaluate<N, L, D, const LEN: usize>(
    net: &mut N,
    data: &Dataset<LEN, D>,
    loss: &L,
    batch_size: usize,
) -> Evaluation<MetricsOf<L>>
where
    N: Network + TakesInput<LEN>,
    L: Objective,
    L::Outputs: OutputsFit<N, N::Outputs>,
    D: Target,
    TargetOf<L>: TrainsOn<D>,
    D::Width: TargetsFit<N, N::Outputs>,
{
    check_fits::<N, LEN, D>(data, "data set");
    let mut metrics = MetricsOf::<L>::new(N::OUTPUT_LEN);
    let total_loss = evaluate_into(net, data, loss.as_loss(), batch_size, &mut metrics);
    Evaluation {
        loss: total_loss,
        metrics,
    }
}

/// The kind of target of the objective `L`'s loss.
type TargetOf<L> = <<L as Objective>::Loss as Loss>::Target;
/// The metrics of the objective `L`'s loss.
type MetricsOf<L> = <<L as Objective>::Loss as Loss>::Metrics;

/// Panics unless the targets of `data` fit the outputs of `N`.
#[track_caller]
fn check_fits<N: Network, const LEN: usize, T: Target>(data: &Dataset<LEN, T>, what: &str) {
    if let Err(why) = data.fits_outputs(N::OUTPUT_LEN) {
        panic!("{}: the {what} {why}", N::NAME);
    }
}

/// The mean loss of `net` on `data` in evaluation mode, adding every batch
/// to `metrics` (cleared first).
fn evaluate_into<N, L, D, const LEN: usize>(
    net: &mut N,
    data: &Dataset<LEN, D>,
    loss: &L,
    batch_size: usize,
    metrics: &mut L::Metrics,
) -> f64
where
    N: Network + TakesInput<LEN>,
    L: Loss,
    D: Target,
    L::Target: TrainsOn<D>,
{
    let was_training = net.is_training();
    net.eval();
    metrics.clear();
    let outputs_len = N::OUTPUT_LEN;
    let width = data.width();
    let mut total_loss = 0.0f64;
    let (mut outputs, mut d_out) = (Vec::new(), Vec::new());
    let batch_size = batch_size.max(1);
    for start in (0..data.len()).step_by(batch_size) {
        let end = (start + batch_size).min(data.len());
        let inputs = &data.inputs()[start * LEN..end * LEN];
        let targets = L::Target::flat(&data.targets()[start * width..end * width]);
        // inference a few samples at a time (see `Network::predict`)
        outputs.resize((end - start) * outputs_len, 0.0);
        net.predict(inputs, &mut outputs);
        d_out.resize(outputs.len(), 0.0);
        total_loss += loss.loss(&outputs, targets, &mut d_out) as f64 * (end - start) as f64;
        metrics.add(&outputs, targets);
    }
    if was_training {
        net.train();
    }
    // 0 / 0 for an empty set: NaN, not a loss of 0
    total_loss / data.len() as f64
}

/// The L2 norm of `values`, summed in f64 (in which no f32 squared
/// overflows): NaN or infinite exactly when a value is.
fn norm(values: &[f32]) -> f64 {
    crate::kernels::simd::vectorized(
        #[inline(always)]
        || {
            let mut acc = [0.0f64; 8];
            let chunks = values.chunks_exact(8);
            let rest = chunks.remainder();
            for chunk in chunks {
                for (a, &v) in acc.iter_mut().zip(chunk) {
                    *a += f64::from(v) * f64::from(v);
                }
            }
            let rest: f64 = rest.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            (acc.iter().sum::<f64>() + rest).sqrt()
        },
    )
}

/// `into += from`, element by element, vectorised.
fn add_into(into: &mut [f32], from: &[f32]) {
    crate::kernels::simd::vectorized(
        #[inline(always)]
        || into.iter_mut().zip(from).for_each(|(a, b)| *a += b),
    );
}

/// Parameters up to this size a trainer's replica copies at every step
/// rather than reading the network's. The optimizer's step writes every
/// parameter on the calling thread's core; read on another core since,
/// each written line is first taken back from that core's cache, one at a
/// time. Copied, the writes stay in the caller's cache and the copy moves
/// them in one stream: LeNet-5 (246 KB of parameters) trained on two
/// threads at 44.4–49.3 k images/s reading the network's parameters, 7 %
/// of the time in the optimizer's step, against 50.9–52.5 k with a copy
/// (`profile_step 3000 lenet trainer 2`, alternating). Above, the copy
/// would cost as much memory as the parameters (VGG-16: 528 MiB).
const COPIED_PARAMS_MAX_BYTES: usize = 2 << 20;

/// A trainer's pass state for a share of each batch but the first.
struct Replica {
    work: Work,
    /// Its copy of the parameters, made at every step, where they fit in
    /// [`COPIED_PARAMS_MAX_BYTES`]; empty otherwise, for the network's.
    params: Box<[f32]>,
}

/// One share of each batch: its buffers and results, and for every share
/// but the first a replica, which runs on the trained network's
/// parameters or its copy of them (the first share runs on the network
/// itself).
struct Worker<N, L: Loss, D> {
    replica: Option<Replica>,
    network: PhantomData<fn() -> N>,
    targets: Vec<D>,
    d_out: Vec<f32>,
    /// The augmentation's working space.
    scratch: Vec<f32>,
    loss: f64,
    /// The epoch's training batches so far, this share's part of them.
    metrics: L::Metrics,
}

impl<N: Network, L: Loss, D: Target> Worker<N, L, D>
where
    L::Target: TrainsOn<D>,
{
    /// Forward and backward of `N` with `params` (its parameters and
    /// prepared values) over this share of a batch of `batch_len`, in
    /// `work`: gradients of the share's loss weighted by its part of the
    /// batch.
    fn run<const LEN: usize>(
        &mut self,
        (work, params): (&mut Work, (&[f32], &[f32])),
        loss_fn: &L,
        train: &Dataset<LEN, D>,
        (part, batch_len): (&[usize], usize),
        (augment, epoch): (Option<&Augmentation>, usize),
    ) {
        self.loss = 0.0;
        work.grads.fill(0.0);
        if part.is_empty() {
            return;
        }
        self.targets.clear();
        for &i in part {
            self.targets.extend_from_slice(train.target(i));
        }
        // the samples gathered (and augmented) in the input's slot of the
        // activations, not first in a batch of their own: VGG-16's batch
        // of 16 held 9.2 MiB more
        let scratch = &mut self.scratch;
        let outputs = work.forward_filled::<N>(params, part.len(), |inputs| {
            for (x, &i) in inputs.chunks_exact_mut(LEN).zip(part) {
                x.copy_from_slice(train.input(i));
            }
            if let Some(augment) = augment {
                augment.apply_batch(inputs, epoch, part, scratch);
            }
        });
        self.d_out.resize(outputs.len(), 0.0);
        let targets = L::Target::flat(&self.targets);
        let l = loss_fn.loss(outputs, targets, &mut self.d_out);
        self.metrics.add(outputs, targets);
        // this share's mean loss counts for part.len() / batch_len of the batch's
        let weight = part.len() as f32 / batch_len as f32;
        self.d_out.iter_mut().for_each(|d| *d *= weight);
        self.loss = l as f64 * part.len() as f64;
        work.backward::<N>(params.0, &self.d_out, false);
    }
}

/// Trains networks with a loss, an optimizer and a learning-rate schedule.
pub struct Trainer<L, O> {
    /// The loss minimised; its kind of target is the data sets'.
    pub loss: L,
    /// The optimizer; its learning rate is the base rate.
    pub optimizer: O,
    /// Sets the learning rate before every batch, if any.
    pub schedule: Option<Box<dyn Schedule + Send>>,
    /// The rate the schedule scales: the optimizer's when the trainer was
    /// built (set it when giving the trainer another optimizer). The
    /// schedule's rates replace the optimizer's, so the base is kept here.
    pub base_learning_rate: f32,
    /// Scales the rate down when a figure stops improving, if any.
    pub plateau: Option<ReduceOnPlateau>,
    /// How to train.
    pub config: TrainConfig,
    /// Epochs done (after a resume, those of the checkpoint).
    pub history: History,
}

const META_EPOCH: &str = "nn.epochs_done";
/// The f64 tensor of the history, `[epochs, History::COLUMNS]`.
const HISTORY: &str = "nn.history";
const META_OPTIMIZER: &str = "nn.optimizer.kind";
const META_STEPS: &str = "nn.optimizer.steps";
const META_DROPOUT_SEED: &str = "nn.dropout_seed";
/// The threads the batches were split across (results depend on it).
const META_THREADS: &str = "nn.threads";
/// The most threads a checkpoint may record: a resume with `threads: 0`
/// starts that many, so a damaged file must not ask for millions.
const MAX_THREADS: usize = 1024;
const META_DROPOUT_STEP: &str = "nn.dropout_step";
const OPTIMIZER_PREFIX: &str = "optimizer.";
/// The state of a reduce-on-plateau: scale, best value, epochs without
/// improvement, cooldown left.
const META_PLATEAU: &str = "nn.plateau";

/// `values` scaled or clamped as `clip` says, given their L2 `norm`.
fn clip_gradient(clip: Clip, values: &mut [f32], norm: f64) {
    match clip {
        Clip::Norm(max) => {
            // PyTorch's clip_grad_norm_: the coefficient, clamped to 1
            let coefficient = f64::from(max) / (norm + 1e-6);
            if coefficient < 1.0 {
                let c = coefficient as f32;
                values.iter_mut().for_each(|g| *g *= c);
            }
        }
        Clip::Value(v) => values.iter_mut().for_each(|g| *g = g.clamp(-v, v)),
    }
}

/// Adds the L2 penalty's gradient `2λ·w` of every tensor of `N` with two or
/// more dimensions into `grads`, and returns the penalty `λ·Σw²`.
fn add_l2<N: Network>(lambda: f32, params: &[f32], grads: &mut [f32]) -> f64 {
    let mut penalty = 0.0f64;
    for info in N::TENSORS.iter().filter(|t| t.shape.len() >= 2) {
        let range = info.offset..info.offset + info.len;
        penalty += f64::from(crate::loss::l2_penalty(
            lambda,
            &params[range.clone()],
            &mut grads[range],
        ));
    }
    penalty
}

impl<L: Objective, O: Optimization> Trainer<L, O> {
    /// A trainer of `loss` with `optimizer`, as `config` says, with no
    /// schedule (the optimizer's rate throughout).
    pub fn new(loss: L, optimizer: O, config: TrainConfig) -> Self {
        Trainer {
            loss,
            base_learning_rate: optimizer.as_optimizer().learning_rate(),
            plateau: None,
            optimizer,
            schedule: None,
            config,
            history: History::default(),
        }
    }

    /// Sets the learning rate from `schedule` before every batch: its rate
    /// for the optimizer's base rate at the fractional epoch reached so far.
    pub fn with_schedule(mut self, schedule: impl Schedule + Send + 'static) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// Scales the learning rate (the schedule's, or the base rate) down as
    /// `plateau` says when its figure stops improving.
    pub fn with_plateau(mut self, plateau: ReduceOnPlateau) -> Self {
        self.plateau = Some(plateau);
        self
    }

    fn threads(&self) -> usize {
        match self.config.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t => t,
        }
    }

    /// Trains `net` on `train` for the configured epochs (continuing after a
    /// resume), evaluating on `validation` after each if given (`&data` or
    /// `None`), and returns the history. The callbacks of the
    /// configuration run (the progress bar with `verbose`, checkpoints and
    /// curves where paths are set); see [`fit_with`](Trainer::fit_with) for
    /// your own.
    ///
    /// The data sets hold the loss's kind of target: class labels
    /// (`Dataset<LEN>`) for a classification loss, float targets
    /// (`Dataset<LEN, f32>`, or `Dataset<LEN, [f32; W]>` with their width in
    /// the type) for a regression or multi-label loss. Another kind does not
    /// compile, nor do a typed loss, optimizer or data set of another size
    /// than the network's.
    ///
    /// # Panics
    /// If a data set's targets do not fit the network's outputs (more
    /// classes than outputs, or float targets of another width), or the
    /// augmentation's image shape is not the network's input.
    #[track_caller]
    pub fn fit<'a, N, D, const LEN: usize>(
        &mut self,
        net: &mut N,
        train: &Dataset<LEN, D>,
        validation: impl Into<Option<&'a Dataset<LEN, D>>>,
    ) -> Result<History, TrainError>
    where
        N: Network + TakesInput<LEN> + Send,
        L::Outputs: OutputsFit<N, N::Outputs>,
        O::Params: ParamsFit<N, N::Params>,
        D: Target,
        TargetOf<L>: TrainsOn<D>,
        D::Width: TargetsFit<N, N::Outputs>,
    {
        self.fit_with(net, train, validation, &mut [])
    }

    /// [`fit`](Trainer::fit) with `callbacks` of your own, such as
    /// [`EarlyStopping`]: they run in order at every point of training,
    /// before the configuration's checkpoint and curves.
    ///
    /// ```no_run
    /// # extern crate nn_runtime as nn;
    /// # use nn::{data::Dataset, loss::SoftmaxCrossEntropy, optim::Adam, metrics::Metric};
    /// # use nn::train::{EarlyStopping, Monitor, TrainConfig, Trainer};
    /// # fn run<N: nn::Network + nn::TakesInput<784> + Send>(net: &mut N, data: Dataset<784>) -> Result<(), Box<dyn std::error::Error>> {
    /// let (train, val) = data.split(0.9, 1); // stratified, seeded
    /// let mut stop = EarlyStopping::new(Monitor::validation(Metric::Accuracy))
    ///     .patience(3)
    ///     .restore_best_weights(true);
    /// let mut trainer = Trainer::new(SoftmaxCrossEntropy, Adam::new(1e-3), TrainConfig::new(50, 64));
    /// trainer.fit_with(net, &train, &val, &mut [&mut stop])?;
    /// println!("best epoch: {:?}", stop.best_epoch());
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    /// As [`fit`](Trainer::fit).
    #[track_caller]
    pub fn fit_with<'a, N, D, const LEN: usize>(
        &mut self,
        net: &mut N,
        train: &Dataset<LEN, D>,
        validation: impl Into<Option<&'a Dataset<LEN, D>>>,
        callbacks: &mut [&mut dyn Callback<N>],
    ) -> Result<History, TrainError>
    where
        N: Network + TakesInput<LEN> + Send,
        L::Outputs: OutputsFit<N, N::Outputs>,
        O::Params: ParamsFit<N, N::Params>,
        D: Target,
        TargetOf<L>: TrainsOn<D>,
        D::Width: TargetsFit<N, N::Outputs>,
    {
        let validation = validation.into();
        check_fits::<N, LEN, D>(train, "training set");
        if let Some(val) = validation {
            check_fits::<N, LEN, D>(val, "validation set");
        }
        if let Some(augment) = &self.config.augment {
            assert!(
                augment.sample_len() == LEN,
                "{}: the augmentation takes images of shape {:?}, {} floats, but the network's \
                 samples are {LEN}",
                N::NAME,
                augment.shape(),
                augment.sample_len()
            );
        }
        self.fit_checked(net, train, validation, callbacks)
    }

    fn fit_checked<N, D, const LEN: usize>(
        &mut self,
        net: &mut N,
        train: &Dataset<LEN, D>,
        validation: Option<&Dataset<LEN, D>>,
        callbacks: &mut [&mut dyn Callback<N>],
    ) -> Result<History, TrainError>
    where
        N: Network + TakesInput<LEN> + Send,
        D: Target,
        TargetOf<L>: TrainsOn<D>,
    {
        if let Some(schedule) = &self.schedule {
            schedule.check()?;
        }
        let batching = self.config.batching;
        let nothing = |why: String| Err(TrainError::Nothing(why));
        if train.is_empty() {
            return nothing("the training set is empty".into());
        }
        if validation.is_some_and(Dataset::is_empty) {
            return nothing(
                "the validation set is empty (no validation loss to report; pass `None` for none)"
                    .into(),
            );
        }
        if batching.batch_size == 0 {
            return nothing("batches of 0 samples (the batch size must be at least 1)".into());
        }
        if batching.batches(train.len()) == 0 {
            return nothing(format!(
                "batches of {} with `drop_last` leave no batch of the {} training samples",
                batching.batch_size,
                train.len()
            ));
        }
        let batches = batching.batches(train.len());
        // the configuration's callbacks: the progress bar first, the
        // checkpoint and the curves after the caller's
        let mut progress = self.config.verbose.then(Progress::default);
        let mut files = Files {
            checkpoint: self.config.checkpoint.clone(),
            curves: self.config.curves.clone(),
        };
        let mut all: Vec<&mut dyn Callback<N>> = Vec::with_capacity(callbacks.len() + 2);
        if let Some(progress) = &mut progress {
            all.push(progress);
        }
        for c in callbacks.iter_mut() {
            all.push(&mut **c);
        }
        all.push(&mut files);
        let begin = TrainBegin {
            epochs_done: self.history.epochs.len(),
            epochs: self.config.epochs,
            batches,
            metrics: <MetricsOf<L> as Metrics>::METRICS,
            has_validation: validation.is_some(),
        };
        if let Some(p) = &self.plateau {
            p.check(&begin)?;
        }
        for c in all.iter_mut() {
            c.on_train_begin(&begin)?;
        }
        let threads = self.threads().max(1);
        let mut team = Team::new(threads);
        let mut workers: Vec<Mutex<Worker<N, L::Loss, D>>> = (0..threads)
            .map(|t| {
                Mutex::new(Worker {
                    replica: (t > 0).then(|| Replica {
                        work: net.state().work.replica(),
                        params: if N::PARAM_BYTES <= COPIED_PARAMS_MAX_BYTES {
                            net.params().into()
                        } else {
                            Box::new([])
                        },
                    }),
                    network: PhantomData,
                    targets: Vec::new(),
                    d_out: Vec::new(),
                    scratch: Vec::new(),
                    loss: 0.0,
                    metrics: MetricsOf::<L>::new(N::OUTPUT_LEN),
                })
            })
            .collect();
        let mut train_metrics = MetricsOf::<L>::new(N::OUTPUT_LEN);
        let mut val_metrics = MetricsOf::<L>::new(N::OUTPUT_LEN);
        let mut order = Vec::new();
        // the buffers as they were before the batch: a refused step puts
        // them back (batch norm's running statistics would otherwise keep
        // a batch of NaNs)
        let mut kept_buffers = net.state().buffer_values().to_vec();
        net.train();
        for epoch in self.history.epochs.len()..self.config.epochs {
            let started = Instant::now();
            batching.order(train.len(), epoch, &mut order);
            for c in all.iter_mut() {
                c.on_epoch_begin(epoch + 1, batches);
            }
            for w in &mut workers {
                w.get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .metrics
                    .clear();
            }
            let (mut loss_sum, mut seen) = (0.0f64, 0usize);
            let mut lr_at_start = self.optimizer.as_optimizer().learning_rate();
            for (b, indices) in order.chunks(batching.batch_size).enumerate() {
                // each figure is checked before the step: if one is not
                // finite, the step is not taken
                let stop = |what, value: f64| TrainError::NonFinite {
                    epoch: epoch + 1,
                    batch: b + 1,
                    what,
                    value,
                };
                let lr = self.set_learning_rate(epoch as f32 + b as f32 / batches.max(1) as f32);
                let lr = lr.map_err(|lr| stop(Watched::LearningRate, lr.into()))?;
                if b == 0 {
                    lr_at_start = lr;
                }
                kept_buffers.copy_from_slice(net.state().buffer_values());
                let kept_draws = net.dropout_state();
                let refuse = |net: &mut N, what, value| {
                    net.state_mut()
                        .buffer_values_mut()
                        .copy_from_slice(&kept_buffers);
                    net.set_dropout_state(kept_draws.0, kept_draws.1);
                    stop(what, value)
                };
                let batch_len = indices.len();
                let share = batch_len.div_ceil(threads);
                // replicas start from the network's parameters, buffers and
                // dropout draws, each at its share's first sample
                for (t, w) in workers.iter_mut().enumerate().skip(1) {
                    let w = w.get_mut().unwrap_or_else(PoisonError::into_inner);
                    if let Some(replica) = &mut w.replica {
                        let main = net.state();
                        replica.work.follow(&main.work, (t * share).min(batch_len));
                        if !replica.params.is_empty() {
                            replica.params.copy_from_slice(&main.params);
                        }
                    }
                }
                {
                    // every share reads the network's parameters; the
                    // first runs in the network's own pass state
                    let state = net.state_mut();
                    let params = (&*state.params, &*state.prepared);
                    let main = Mutex::new(&mut state.work);
                    let (workers, loss_fn) = (&workers, self.loss.as_loss());
                    let augment = (self.config.augment.as_deref(), epoch);
                    team.run(&|t| {
                        let part =
                            &indices[(t * share).min(batch_len)..((t + 1) * share).min(batch_len)];
                        let mut w = workers[t].lock().unwrap_or_else(PoisonError::into_inner);
                        let w = &mut *w;
                        match w.replica.take() {
                            Some(mut replica) => {
                                let params = match &*replica.params {
                                    [] => params,
                                    own => (own, params.1),
                                };
                                let work = (&mut replica.work, params);
                                w.run(work, loss_fn, train, (part, batch_len), augment);
                                w.replica = Some(replica);
                            }
                            None => {
                                let mut main = main.lock().unwrap_or_else(PoisonError::into_inner);
                                let work = (&mut **main, params);
                                w.run(work, loss_fn, train, (part, batch_len), augment);
                            }
                        }
                    });
                }
                let mut batch_loss = 0.0f64;
                for w in &mut workers {
                    batch_loss += w.get_mut().unwrap_or_else(PoisonError::into_inner).loss;
                }
                let mut batch_loss = batch_loss / batch_len as f64;
                if !batch_loss.is_finite() {
                    return Err(refuse(net, Watched::Loss, batch_loss));
                }
                // the batch's gradient: the first share's, then the others
                // added in a fixed order
                let grads = net.grads_mut();
                for w in &mut workers[1..] {
                    let w = w.get_mut().unwrap_or_else(PoisonError::into_inner);
                    if let Some(replica) = &w.replica {
                        add_into(grads, &replica.work.grads);
                    }
                }
                // running statistics: the shares' averaged, by share size
                if !N::BUFFERS.is_empty() {
                    let size =
                        |t: usize| ((t + 1) * share).min(batch_len) - (t * share).min(batch_len);
                    let replicas = workers.iter_mut().enumerate().skip(1).filter_map(|(t, w)| {
                        let w = w.get_mut().unwrap_or_else(PoisonError::into_inner);
                        Some((&w.replica.as_ref()?.work, size(t)))
                    });
                    net.state_mut().work.average_buffers(
                        N::BUFFERS,
                        (size(0), batch_len),
                        replicas,
                    );
                }
                if let Some(lambda) = self.config.l2.filter(|&l| l != 0.0) {
                    let state = net.state_mut();
                    batch_loss += add_l2::<N>(lambda, &state.params, &mut state.work.grads);
                }
                let norm = norm(net.grads());
                if !norm.is_finite() {
                    return Err(refuse(net, Watched::GradientNorm, norm));
                }
                if let Some(clip) = self.config.clip {
                    clip_gradient(clip, net.grads_mut(), norm);
                }
                let (params, grads) = net.params_and_grads();
                self.optimizer.as_optimizer_mut().step(params, grads);
                loss_sum += batch_loss * batch_len as f64;
                seen += batch_len;
                let end = BatchEnd {
                    epoch: epoch + 1,
                    batch: b + 1,
                    batches,
                    loss: batch_loss,
                    running_loss: loss_sum / seen as f64,
                    learning_rate: lr,
                };
                for c in all.iter_mut() {
                    c.on_batch_end(&end);
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            train_metrics.clear();
            for w in &mut workers {
                train_metrics.merge(&w.get_mut().unwrap_or_else(PoisonError::into_inner).metrics);
            }
            let train_scores = Evaluation {
                loss: loss_sum / seen.max(1) as f64,
                metrics: &train_metrics,
            };
            let val_loss = validation.map(|val| {
                evaluate_into(
                    net,
                    val,
                    self.loss.as_loss(),
                    self.config.eval_batch,
                    &mut val_metrics,
                )
            });
            let headline = <MetricsOf<L> as Metrics>::HEADLINE;
            let stats = EpochStats {
                epoch: epoch + 1,
                learning_rate: lr_at_start,
                train_loss: train_scores.loss,
                train_metric: train_metrics.get(headline).unwrap_or(f64::NAN),
                val_loss,
                val_metric: val_loss.map(|_| val_metrics.get(headline).unwrap_or(f64::NAN)),
                images_per_second: seen as f64 / seconds,
                metric: headline,
            };
            self.history.epochs.push(stats);
            let train_scores = scores(train_scores.loss, &train_metrics);
            let val_scores = val_loss.map(|loss| scores(loss, &val_metrics));
            if let Some(p) = &mut self.plateau {
                let value = match p.monitor().split {
                    Split::Training => train_scores.get(p.monitor().metric),
                    Split::Validation => {
                        val_scores.as_ref().and_then(|v| v.get(p.monitor().metric))
                    }
                };
                p.observe(value.unwrap_or(f64::NAN));
            }
            let mut flow = Flow::Continue;
            let threads = self.threads();
            for c in all.iter_mut() {
                let mut end = EpochEnd {
                    net: &mut *net,
                    stats: self.history.epochs.last().expect("pushed above"),
                    history: &self.history,
                    train: &train_scores,
                    val: val_scores.as_ref(),
                    optimizer: self.optimizer.as_optimizer(),
                    threads,
                    plateau: self.plateau.as_ref().map(ReduceOnPlateau::state),
                };
                if c.on_epoch_end(&mut end)? == Flow::Stop {
                    flow = Flow::Stop;
                }
            }
            if flow == Flow::Stop {
                break;
            }
        }
        for c in all.iter_mut() {
            c.on_train_end(net, &self.history)?;
        }
        Ok(self.history.clone())
    }

    /// Sets the schedule's learning rate for `epoch` (if there is a
    /// schedule) and returns the rate, or the schedule's rate as an error
    /// if it is negative, NaN or infinite.
    fn set_learning_rate(&mut self, epoch: f32) -> Result<f32, f32> {
        let scheduled = match (&self.schedule, &self.plateau) {
            (Some(s), _) => s.learning_rate(self.base_learning_rate, epoch),
            (None, Some(_)) => self.base_learning_rate,
            // nothing sets the rate: the optimizer's stays
            (None, None) => return Ok(self.optimizer.as_optimizer().learning_rate()),
        };
        let lr = match &self.plateau {
            Some(p) => p.rate(scheduled),
            None => scheduled,
        };
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(lr);
        }
        self.optimizer.as_optimizer_mut().set_learning_rate(lr);
        Ok(lr)
    }

    /// Writes the network's weights, the optimizer's state and the history
    /// to `path` (atomically).
    pub fn save_checkpoint<N>(&self, net: &N, path: &Path) -> Result<(), TrainError>
    where
        N: Network,
        O::Params: ParamsFit<N, N::Params>,
    {
        let plateau = self.plateau.as_ref().map(ReduceOnPlateau::state);
        write_checkpoint(
            net,
            self.optimizer.as_optimizer(),
            &self.history,
            self.threads(),
            plateau,
            path,
        )
    }

    /// Restores weights, optimizer state and history from a checkpoint, so
    /// that `fit` continues with the next epoch.
    ///
    /// Fails with [`TrainError::Checkpoint`] if the file cannot be read or its
    /// tensors do not match the network's, and with [`TrainError::Resume`] if
    /// its metadata is missing or damaged or the optimizer's state does not
    /// fit this optimizer and this network. Everything is checked before
    /// anything changes: on error the network and the trainer are as they
    /// were.
    ///
    /// The rest of the training matches an unbroken run when it runs on as
    /// many threads as the checkpoint records; with `threads` 0 ("one per
    /// core") the config takes the checkpoint's count.
    pub fn resume<N>(&mut self, net: &mut N, path: &Path) -> Result<(), TrainError>
    where
        N: Network,
        O::Params: ParamsFit<N, N::Params>,
    {
        let checkpoint = Checkpoint::read::<N>(path, <MetricsOf<L> as Metrics>::HEADLINE)?;
        let refused = |source: ResumeError| TrainError::Resume {
            path: path.to_path_buf(),
            source,
        };
        let weights = weights::check_tensors::<N>(&checkpoint.tensors, path, &[OPTIMIZER_PREFIX])?;
        // the optimizer's buffers hold one value per parameter of the
        // network (or none, before its first step)
        let params = N::PARAM_COUNT;
        if let Some((name, buffer)) = checkpoint
            .optimizer
            .buffers
            .iter()
            .find(|(_, b)| !b.is_empty() && b.len() != params)
        {
            return Err(refused(ResumeError::OptimizerParams {
                name: name.clone(),
                len: buffer.len(),
                network: N::NAME,
                params,
            }));
        }
        // all or nothing itself, and the last check that can fail
        self.optimizer
            .as_optimizer_mut()
            .load_state(&checkpoint.optimizer)
            .map_err(|e| refused(e.into()))?;
        weights.apply(net);
        self.history = checkpoint.history;
        // "one per core" continues on as many as the run before had, so
        // that it goes on as that run would have
        if let (0, Some(threads)) = (self.config.threads, checkpoint.threads) {
            self.config.threads = threads;
        }
        if let Some((seed, step)) = checkpoint.dropout {
            net.set_dropout_state(seed, step);
        }
        if let (Some(plateau), Some(state)) = (&mut self.plateau, checkpoint.plateau) {
            plateau.set_state(state);
        }
        Ok(())
    }
}

/// The loss and every metric of `metrics`.
fn scores<M: Metrics>(loss: f64, metrics: &M) -> Scores {
    Scores {
        loss,
        metrics: M::METRICS
            .iter()
            .map(|&m| (m, metrics.get(m).unwrap_or(f64::NAN)))
            .collect(),
    }
}

/// Writes a checkpoint: the network's weights, the optimizer's state and
/// the history, with what resuming needs in the metadata.
fn write_checkpoint<N: Network>(
    net: &N,
    optimizer: &dyn Optimizer,
    history: &History,
    threads: usize,
    plateau: Option<PlateauState>,
    path: &Path,
) -> Result<(), TrainError> {
    let state = optimizer.state();
    let names: Vec<String> = state
        .buffers
        .iter()
        .map(|(n, _)| format!("{OPTIMIZER_PREFIX}{n}"))
        .collect();
    let shapes: Vec<[usize; 1]> = state.buffers.iter().map(|(_, b)| [b.len()]).collect();
    let mut tensors: Vec<(&str, &[usize], Values)> = Vec::new();
    for ((name, shape), (_, data)) in names.iter().zip(&shapes).zip(&state.buffers) {
        tensors.push((name, shape, Values::F32(data)));
    }
    let rows = history.to_rows();
    let history_shape = [history.epochs.len(), History::COLUMNS.len()];
    tensors.push((HISTORY, &history_shape, Values::F64(&rows)));
    let (dropout_seed, dropout_step) = net.dropout_state();
    let mut metadata = HashMap::from([
        (META_EPOCH.to_string(), history.epochs.len().to_string()),
        (META_OPTIMIZER.to_string(), state.kind.clone()),
        (META_STEPS.to_string(), state.steps.to_string()),
        (META_THREADS.to_string(), threads.to_string()),
        (META_DROPOUT_SEED.to_string(), dropout_seed.to_string()),
        (META_DROPOUT_STEP.to_string(), dropout_step.to_string()),
    ]);
    if let Some(plateau) = plateau {
        metadata.insert(META_PLATEAU.to_string(), plateau.to_text());
    }
    weights::write_with(net, &tensors, metadata, path)?;
    Ok(())
}

/// The configuration's files as a callback: a checkpoint and the curves
/// after every epoch, each path checked before the first.
struct Files {
    checkpoint: Option<PathBuf>,
    curves: Option<PathBuf>,
}

impl<N: Network> Callback<N> for Files {
    fn on_train_begin(&mut self, _: &TrainBegin) -> Result<(), TrainError> {
        // a path that cannot take the files is found now, not after the
        // first epoch's work
        if let Some(path) = &self.checkpoint {
            weights::check_writable(path)?;
        }
        if let Some(path) = &self.curves {
            weights::check_writable(path).map_err(|e| match e {
                WeightsError::Io { path, source } => PlotError::Io { path, source },
                e => PlotError::Draw {
                    path: path.clone(),
                    source: Box::new(e),
                },
            })?;
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
        if let Some(path) = &self.checkpoint {
            end.save_checkpoint(path)?;
        }
        if let Some(path) = &self.curves {
            plot_curves(end.history, path)?;
        }
        Ok(Flow::Continue)
    }
}

/// What a checkpoint holds: the network's tensors (and the optimizer's,
/// under [`OPTIMIZER_PREFIX`]), the optimizer's state and the history.
struct Checkpoint {
    tensors: Vec<weights::Tensor>,
    /// The dropout masks' seed and training passes before the checkpoint
    /// (absent from files written before dropout existed).
    dropout: Option<(u64, u64)>,
    /// The threads the batches were split across (absent from files
    /// written before it was recorded).
    threads: Option<usize>,
    optimizer: OptimizerState,
    history: History,
    /// A reduce-on-plateau's state, if the run had one.
    plateau: Option<PlateauState>,
}

impl Checkpoint {
    /// Reads a checkpoint written by [`Trainer::save_checkpoint`] for
    /// network `N`: one written from another network (input shape, layers)
    /// is refused with what differs.
    fn read<N: Network>(path: &Path, metric: Metric) -> Result<Checkpoint, TrainError> {
        Checkpoint::read_checked(path, metric, weights::check_network::<N>)
    }

    /// Reads a checkpoint, checking its metadata with `check` first.
    fn read_checked(
        path: &Path,
        metric: Metric,
        check: impl Fn(&HashMap<String, String>, &Path) -> Result<(), WeightsError>,
    ) -> Result<Checkpoint, TrainError> {
        let file = weights::read_file(path)?;
        check(&file.metadata, path)?;
        Checkpoint::from_parts(file.tensors, &file.f64, &file.metadata, metric).map_err(|source| {
            TrainError::Resume {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// The checkpoint made of a file's tensors (f32 and f64) and metadata,
    /// checked.
    fn from_parts(
        tensors: Vec<weights::Tensor>,
        f64: &[weights::Tensor64],
        metadata: &HashMap<String, String>,
        metric: Metric,
    ) -> Result<Checkpoint, ResumeError> {
        let kind = entry(metadata, META_OPTIMIZER)?.to_string();
        let steps = count(metadata, META_STEPS)?;
        let done: usize = count(metadata, META_EPOCH)?;
        let dropout = match metadata.contains_key(META_DROPOUT_SEED) {
            true => Some((
                count(metadata, META_DROPOUT_SEED)?,
                count(metadata, META_DROPOUT_STEP)?,
            )),
            false => None,
        };
        let plateau = match metadata.get(META_PLATEAU) {
            Some(text) => Some(
                PlateauState::from_text(text)
                    .ok_or_else(|| ResumeError::Plateau { text: text.clone() })?,
            ),
            None => None,
        };
        let threads = match metadata.contains_key(META_THREADS) {
            true => Some(count(metadata, META_THREADS)?),
            false => None,
        };
        if let Some(threads) = threads.filter(|t| !(1..=MAX_THREADS).contains(t)) {
            return Err(ResumeError::Threads { threads });
        }
        let history =
            f64.iter()
                .find(|t| t.name == HISTORY)
                .ok_or(match metadata.contains_key(HISTORY) {
                    true => ResumeError::OldHistory,
                    false => ResumeError::MissingHistory,
                })?;
        let history = History::from_tensor(history, done, metric)?;
        let buffers = tensors
            .iter()
            .filter_map(|t| {
                t.name
                    .strip_prefix(OPTIMIZER_PREFIX)
                    .map(|n| (n.to_string(), t.data.clone()))
            })
            .collect();
        let optimizer = OptimizerState {
            kind,
            steps,
            buffers,
        };
        Ok(Checkpoint {
            tensors,
            dropout,
            threads,
            optimizer,
            history,
            plateau,
        })
    }
}

/// The metadata entry `key`.
fn entry<'a>(
    metadata: &'a HashMap<String, String>,
    key: &'static str,
) -> Result<&'a str, ResumeError> {
    metadata
        .get(key)
        .map(String::as_str)
        .ok_or(ResumeError::MissingMetadata { key })
}

/// The metadata entry `key`, a count.
fn count<T: FromStr<Err = ParseIntError>>(
    metadata: &HashMap<String, String>,
    key: &'static str,
) -> Result<T, ResumeError> {
    entry(metadata, key)?
        .parse()
        .map_err(|source| ResumeError::Count { key, source })
}

/// Writes the curves of `history` as an SVG image: loss on the left, the
/// headline metric (accuracy, R², …) on the right, training and validation
/// per epoch.
///
/// Fails with [`PlotError::Io`] if the file cannot be written.
pub fn plot_curves(history: &History, path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::*;
    let failed = |e| PlotError::new(path, e);
    let epochs = history.epochs.len().max(1) as f64;
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(failed)?;
    let (left, right) = root.split_horizontally(500);
    type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);
    let draw = |area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
                title: &str,
                series: &[Series]|
     -> Result<(), PlotError> {
        let top = series
            .iter()
            .flat_map(|(_, s, _)| s.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.05;
        // R² can be negative
        let bottom = series
            .iter()
            .flat_map(|(_, s, _)| s.iter().map(|p| p.1))
            .fold(0.0f64, f64::min)
            * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..epochs + 0.5, bottom..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .draw()
            .map_err(failed)?;
        for (name, points, color) in series {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(failed)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(failed)?;
        Ok(())
    };
    // points of the epochs that have the figure (finite: a NaN would
    // break the chart's range)
    let pick = |f: fn(&EpochStats) -> Option<f64>| {
        history
            .epochs
            .iter()
            .filter_map(|e| Some((e.epoch as f64, f(e).filter(|v| v.is_finite())?)))
            .collect::<Vec<_>>()
    };
    let metric = history
        .epochs
        .first()
        .map_or(Metric::Accuracy, |e| e.metric);
    draw(
        &left,
        "loss",
        &[
            ("train", pick(|e| Some(e.train_loss)), BLUE),
            ("validation", pick(|e| e.val_loss), RED),
        ],
    )?;
    draw(
        &right,
        metric.name(),
        &[
            ("train", pick(|e| Some(e.train_metric)), BLUE),
            ("validation", pick(|e| e.val_metric), RED),
        ],
    )?;
    root.present().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Sgd;
    use crate::testing::TempDir;
    use std::error::Error;

    /// The source of `err`, which must be an `E`.
    fn source_of<'a, E: Error + 'static>(err: &'a (dyn Error + 'static)) -> &'a E {
        let source = err.source().and_then(|s| s.downcast_ref());
        source
            .unwrap_or_else(|| panic!("{err:?}: no source of type {}", std::any::type_name::<E>()))
    }

    fn history(epochs: usize) -> History {
        let stats = |epoch| EpochStats {
            epoch,
            learning_rate: 0.1,
            train_loss: 0.5,
            train_metric: 0.75,
            val_loss: Some(0.625),
            val_metric: Some(0.5),
            images_per_second: 1000.0,
            metric: Metric::Accuracy,
        };
        History {
            epochs: (1..=epochs).map(stats).collect(),
        }
    }

    /// The metadata of a checkpoint after `epochs` epochs of plain SGD.
    fn metadata(epochs: usize) -> HashMap<String, String> {
        HashMap::from([
            (META_EPOCH.to_string(), epochs.to_string()),
            (META_OPTIMIZER.to_string(), "sgd".to_string()),
            (META_STEPS.to_string(), "40".to_string()),
        ])
    }

    /// The history's tensor, as a checkpoint stores it.
    fn stored(history: &History) -> Vec<weights::Tensor64> {
        vec![weights::Tensor64 {
            name: HISTORY.to_string(),
            shape: vec![history.epochs.len(), History::COLUMNS.len()],
            data: history.to_rows(),
        }]
    }

    /// The error `from_parts` gives for `metadata` and the history's tensor
    /// `f64`.
    fn refused(metadata: &HashMap<String, String>, f64: &[weights::Tensor64]) -> ResumeError {
        match Checkpoint::from_parts(Vec::new(), f64, metadata, Metric::Accuracy) {
            Err(e) => e,
            Ok(_) => panic!("the checkpoint was accepted"),
        }
    }

    #[test]
    fn history_and_state_come_back_from_the_file() {
        // non-finite figures too (a NaN in the test set makes a NaN test
        // loss): as JSON, the history was written with `null` there
        let mut h = history(3);
        h.epochs[1].val_loss = Some(f64::NAN);
        h.epochs[0].val_loss = None;
        h.epochs[0].val_metric = None;
        h.epochs[2].train_loss = f64::INFINITY;
        h.epochs[2].learning_rate = f32::NEG_INFINITY;
        let checkpoint =
            Checkpoint::from_parts(Vec::new(), &stored(&h), &metadata(3), Metric::Accuracy)
                .unwrap();
        let back = &checkpoint.history.epochs;
        assert!(back[1].val_loss.is_some_and(f64::is_nan));
        assert_eq!(back[2].train_loss, f64::INFINITY);
        assert_eq!(back[2].learning_rate, f32::NEG_INFINITY);
        assert_eq!(back[0], h.epochs[0]);
        assert_eq!(back.iter().map(|e| e.epoch).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(checkpoint.optimizer.kind, "sgd");
        assert_eq!(checkpoint.optimizer.steps, 40);
        // files from before the thread count was recorded have none
        assert_eq!(checkpoint.threads, None);
        let mut m = metadata(3);
        m.insert(META_THREADS.to_string(), "2".to_string());
        let checkpoint =
            Checkpoint::from_parts(Vec::new(), &stored(&h), &m, Metric::Accuracy).unwrap();
        assert_eq!(checkpoint.threads, Some(2));
        m.insert(META_THREADS.to_string(), "two".to_string());
        let err = refused(&m, &stored(&h));
        assert!(
            matches!(
                err,
                ResumeError::Count {
                    key: META_THREADS,
                    ..
                }
            ),
            "{err:?}"
        );
        // a count no run had: a resume with "one per core" would start them
        m.insert(META_THREADS.to_string(), "1000000000".to_string());
        let err = refused(&m, &stored(&h));
        assert!(
            matches!(
                err,
                ResumeError::Threads {
                    threads: 1000000000
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "metadata `nn.threads` is 1000000000, expected 1 to 1024"
        );
    }

    #[test]
    fn a_history_of_six_columns_is_one_with_a_test_set_every_epoch() {
        // the rows as the version before optional validation sets wrote
        // them: learning rate, train loss and accuracy, test loss and
        // accuracy, images per second
        let rows = vec![0.1, 0.5, 0.75, 0.625, 0.5, 1000.0];
        let old = vec![weights::Tensor64 {
            name: HISTORY.to_string(),
            shape: vec![1, 6],
            data: rows,
        }];
        let checkpoint =
            Checkpoint::from_parts(Vec::new(), &old, &metadata(1), Metric::Accuracy).unwrap();
        assert_eq!(checkpoint.history, history(1));
    }

    #[test]
    fn a_missing_entry_is_named() {
        let mut m = metadata(1);
        m.remove(META_STEPS);
        let err = refused(&m, &stored(&history(1)));
        assert!(
            matches!(err, ResumeError::MissingMetadata { key: META_STEPS }),
            "{err:?}"
        );
        assert!(err.source().is_none());
        assert_eq!(err.to_string(), "metadata `nn.optimizer.steps` is missing");
    }

    #[test]
    fn a_count_that_is_not_one_has_the_parse_error_as_source() {
        let mut m = metadata(1);
        m.insert(META_EPOCH.to_string(), "one".to_string());
        let err = refused(&m, &stored(&history(1)));
        assert!(
            matches!(
                err,
                ResumeError::Count {
                    key: META_EPOCH,
                    ..
                }
            ),
            "{err:?}"
        );
        let source = source_of::<ParseIntError>(&err);
        assert_eq!(
            err.to_string(),
            format!("metadata `nn.epochs_done`: {source}")
        );
    }

    #[test]
    fn a_missing_history_is_named() {
        let err = refused(&metadata(1), &[]);
        assert!(matches!(err, ResumeError::MissingHistory), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the history, an f64 tensor `nn.history`, is missing"
        );
    }

    #[test]
    fn a_checkpoint_of_an_earlier_version_is_named_as_such() {
        // the history as JSON metadata, no tensor
        let mut m = metadata(1);
        m.insert(HISTORY.to_string(), "[]".to_string());
        let err = refused(&m, &[]);
        assert!(matches!(err, ResumeError::OldHistory), "{err:?}");
        assert!(err.to_string().contains("an earlier version"), "{err}");
    }

    #[test]
    fn a_history_of_another_shape_than_the_epochs_done_is_refused() {
        // three epochs' rows where two are done
        let err = refused(&metadata(2), &stored(&history(3)));
        assert!(
            matches!(&err, ResumeError::HistoryShape { shape, done: 2 } if shape == &[3, 7]),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "tensor `nn.history` has shape [3, 7], expected [2, 7] (epochs done × figures)"
        );
        // rows of five figures
        let mut short = stored(&history(2));
        short[0].shape = vec![2, 5];
        short[0].data.truncate(10);
        let err = refused(&metadata(2), &short);
        assert!(matches!(err, ResumeError::HistoryShape { .. }), "{err:?}");
        // a shape its data does not fill
        let mut hollow = stored(&history(2));
        hollow[0].data.truncate(11);
        let err = refused(&metadata(2), &hollow);
        assert!(matches!(err, ResumeError::HistoryShape { .. }), "{err:?}");
    }

    #[test]
    fn an_optimizer_state_that_does_not_fit_is_the_source() {
        let adam = crate::optim::Adam::new(0.1).state();
        let err = ResumeError::from(Sgd::new(0.1).load_state(&adam).unwrap_err());
        let source = source_of::<StateError>(&err);
        assert!(
            matches!(source, StateError::Kind { expected: "sgd", found } if found == "adam"),
            "{source:?}"
        );
        assert_eq!(err.to_string(), source.to_string());
    }

    #[test]
    fn a_missing_checkpoint_chains_down_to_the_io_error() {
        let tmp = TempDir::new("nn-train-unit", "missing");
        let path = tmp.0.join("absent.safetensors");
        let err = match Checkpoint::read_checked(&path, Metric::Accuracy, |_, _| Ok(())) {
            Err(e) => e,
            Ok(_) => panic!("read a missing file"),
        };
        assert!(
            matches!(err, TrainError::Checkpoint(WeightsError::Io { .. })),
            "{err:?}"
        );
        let weights = source_of::<WeightsError>(&err);
        let io = source_of::<std::io::Error>(weights);
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(err.to_string(), format!("checkpoint: {weights}"));
    }

    #[test]
    fn a_checkpoint_with_damaged_metadata_chains_down_to_the_parse_error() {
        let tmp = TempDir::new("nn-train-unit", "damaged");
        let path = tmp.0.join("checkpoint.safetensors");
        let mut m = metadata(1);
        m.insert(META_STEPS.to_string(), "-3".to_string());
        weights::write(&path, &[], m).unwrap();
        let err = match Checkpoint::read_checked(&path, Metric::Accuracy, |_, _| Ok(())) {
            Err(e) => e,
            Ok(_) => panic!("accepted damaged metadata"),
        };
        let resume = source_of::<ResumeError>(&err);
        assert!(
            matches!(
                resume,
                ResumeError::Count {
                    key: META_STEPS,
                    ..
                }
            ),
            "{resume:?}"
        );
        source_of::<ParseIntError>(resume);
        assert_eq!(
            err.to_string(),
            format!("{}: cannot resume: {resume}", path.display())
        );
    }
}
