//! The training loop: epochs of shuffled mini-batches, a progress bar with
//! the running loss, per-epoch loss and accuracy on the training and test
//! sets (the test set in evaluation mode), a guard that stops on a NaN or
//! infinite loss, training curves as an SVG image, and checkpoints of the
//! weights and the optimizer from which training resumes to the same result
//! as an unbroken run.
//!
//! Mini-batches are split across `threads` threads, the first share run on
//! the network itself and each other share on a replica; the shares'
//! gradients are summed in a fixed order, so a seed and a thread count
//! always give the same result. The threads are a fixed team that hands
//! work over without allocating, so training steps allocate nothing.

use crate::batch::{gather, Batching};
use crate::data::Dataset;
use crate::loss::{self, Loss};
use crate::network::{Network, TakesInput};
use crate::optim::{Optimizer, OptimizerState};
use crate::schedule::Schedule;
use crate::team::Team;
use crate::weights::{self, WeightsError};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// How to train.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Epochs to train (in all, counting those before a resume).
    pub epochs: usize,
    /// Batch size, shuffling seed, short last batch.
    pub batching: Batching,
    /// Threads that share each batch; 0 means one per core.
    pub threads: usize,
    /// Show a progress bar and print a line per epoch.
    pub verbose: bool,
    /// Write a checkpoint here after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// Write the training curves here (SVG) after every epoch.
    pub curves: Option<PathBuf>,
    /// Batch size for evaluation.
    pub eval_batch: usize,
}

impl TrainConfig {
    /// `epochs` of shuffled batches of `batch_size` (seed 0), on every core.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        TrainConfig {
            epochs,
            batching: Batching::new(batch_size).shuffled(0),
            threads: 0,
            verbose: false,
            checkpoint: None,
            curves: None,
            eval_batch: 256,
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
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    /// Training images per second (evaluation not counted).
    pub images_per_second: f64,
}

/// Every epoch's figures so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub epochs: Vec<EpochStats>,
}

impl History {
    fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .epochs
            .iter()
            .map(|e| {
                serde_json::json!({
                    "epoch": e.epoch, "learning_rate": e.learning_rate,
                    "train_loss": e.train_loss, "train_accuracy": e.train_accuracy,
                    "test_loss": e.test_loss, "test_accuracy": e.test_accuracy,
                    "images_per_second": e.images_per_second,
                })
            })
            .collect();
        serde_json::Value::Array(rows).to_string()
    }

    fn from_json(text: &str) -> Option<History> {
        let rows: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
        let epochs = rows
            .iter()
            .map(|r| {
                Some(EpochStats {
                    epoch: r["epoch"].as_u64()? as usize,
                    learning_rate: r["learning_rate"].as_f64()? as f32,
                    train_loss: r["train_loss"].as_f64()?,
                    train_accuracy: r["train_accuracy"].as_f64()?,
                    test_loss: r["test_loss"].as_f64()?,
                    test_accuracy: r["test_accuracy"].as_f64()?,
                    images_per_second: r["images_per_second"].as_f64()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(History { epochs })
    }
}

impl fmt::Display for EpochStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {:>3}  lr {:.5}  train loss {:.4} acc {:6.2}%  test loss {:.4} acc {:6.2}%  ({:.0} images/s)",
            self.epoch,
            self.learning_rate,
            self.train_loss,
            100.0 * self.train_accuracy,
            self.test_loss,
            100.0 * self.test_accuracy,
            self.images_per_second
        )
    }
}

/// Loss, accuracy and confusion matrix of a network on a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
}

impl fmt::Display for Evaluation {
    /// The confusion matrix, true classes down, predictions across.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.confusion.len();
        let width = self
            .confusion
            .iter()
            .flatten()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        write!(f, "true\\pred")?;
        for p in 0..n {
            write!(f, " {p:>width$}")?;
        }
        for (t, row) in self.confusion.iter().enumerate() {
            write!(f, "\n{t:>9}")?;
            for c in row {
                write!(f, " {c:>width$}")?;
            }
        }
        Ok(())
    }
}

/// Why training stopped.
#[derive(Debug)]
pub enum TrainError {
    /// The loss became NaN or infinite.
    NonFinite {
        epoch: usize,
        batch: usize,
        loss: f32,
    },
    /// A checkpoint could not be written or read.
    Checkpoint(WeightsError),
    /// A checkpoint does not fit this training (other optimizer, corrupt metadata).
    Resume { path: PathBuf, message: String },
    /// The curves image could not be written.
    Curves { path: PathBuf, message: String },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::NonFinite { epoch, batch, loss } => write!(
                f,
                "training stopped: the loss became {loss} at epoch {epoch}, batch {batch}; lower the learning rate or check the data"
            ),
            TrainError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            TrainError::Resume { path, message } => write!(f, "{}: cannot resume: {message}", path.display()),
            TrainError::Curves { path, message } => write!(f, "{}: cannot write the curves: {message}", path.display()),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<WeightsError> for TrainError {
    fn from(e: WeightsError) -> Self {
        TrainError::Checkpoint(e)
    }
}

/// Evaluates `net` on `data` in evaluation mode (restoring the mode after).
///
/// # Panics
/// If the data set has more classes than the network has outputs.
pub fn evaluate<N, L, const LEN: usize>(
    net: &mut N,
    data: &Dataset<LEN>,
    loss: &L,
    batch_size: usize,
) -> Evaluation
where
    N: Network + TakesInput<LEN>,
    L: Loss<Target = u32>,
{
    let was_training = net.is_training();
    net.eval();
    let classes = N::OUTPUT_LEN;
    assert!(
        data.classes() <= classes,
        "{}: the data set has {} classes but the network gives {} outputs",
        N::NAME,
        data.classes(),
        classes
    );
    let mut confusion = vec![vec![0usize; classes]; classes];
    let (mut total_loss, mut correct) = (0.0f64, 0usize);
    let mut d_out = Vec::new();
    let batch_size = batch_size.max(1);
    for start in (0..data.len()).step_by(batch_size) {
        let end = (start + batch_size).min(data.len());
        let inputs = &data.inputs()[start * LEN..end * LEN];
        let labels = &data.labels()[start..end];
        let outputs = net.forward(inputs);
        d_out.resize(outputs.len(), 0.0);
        total_loss += loss.loss(outputs, labels, &mut d_out) as f64 * labels.len() as f64;
        for (y, &label) in outputs.chunks_exact(classes).zip(labels) {
            let predicted = loss::argmax(y);
            correct += usize::from(predicted == label as usize);
            confusion[label as usize][predicted] += 1;
        }
    }
    if was_training {
        net.train();
    }
    let n = data.len().max(1) as f64;
    Evaluation {
        loss: total_loss / n,
        accuracy: correct as f64 / n,
        confusion,
    }
}

/// `into += from`, element by element, vectorised.
fn add_into(into: &mut [f32], from: &[f32]) {
    crate::kernels::simd::vectorized(
        #[inline(always)]
        || into.iter_mut().zip(from).for_each(|(a, b)| *a += b),
    );
}

/// One share of each batch: its buffers and results, and for every share
/// but the first a replica of the network (the first runs on the network
/// being trained).
struct Worker<N> {
    replica: Option<N>,
    inputs: Vec<f32>,
    labels: Vec<u32>,
    d_out: Vec<f32>,
    loss: f64,
    correct: usize,
}

impl<N: Network> Worker<N> {
    /// Forward and backward over this share of a batch of `batch_len`:
    /// gradients of the share's loss weighted by its part of the batch.
    fn run<L: Loss<Target = u32>, const LEN: usize>(
        &mut self,
        net: &mut N,
        loss_fn: &L,
        train: &Dataset<LEN>,
        part: &[usize],
        batch_len: usize,
    ) {
        self.loss = 0.0;
        self.correct = 0;
        net.zero_grad();
        if part.is_empty() {
            return;
        }
        gather(train, part, &mut self.inputs, &mut self.labels);
        let outputs = net.forward(&self.inputs);
        self.d_out.resize(outputs.len(), 0.0);
        let l = loss_fn.loss(outputs, &self.labels, &mut self.d_out);
        self.correct = loss::accuracy(outputs, &self.labels);
        // this share's mean loss counts for part.len() / batch_len of the batch's
        let weight = part.len() as f32 / batch_len as f32;
        self.d_out.iter_mut().for_each(|d| *d *= weight);
        self.loss = l as f64 * part.len() as f64;
        net.backward_params(&self.d_out);
    }
}

/// Trains networks with a loss, an optimizer and a learning-rate schedule.
pub struct Trainer<L, O> {
    pub loss: L,
    pub optimizer: O,
    pub schedule: Option<Box<dyn Schedule + Send>>,
    pub config: TrainConfig,
    /// Epochs done (after a resume, those of the checkpoint).
    pub history: History,
}

const META_EPOCH: &str = "nn.epochs_done";
const META_HISTORY: &str = "nn.history";
const META_OPTIMIZER: &str = "nn.optimizer.kind";
const META_STEPS: &str = "nn.optimizer.steps";
const OPTIMIZER_PREFIX: &str = "optimizer.";

impl<L: Loss<Target = u32>, O: Optimizer> Trainer<L, O> {
    pub fn new(loss: L, optimizer: O, config: TrainConfig) -> Self {
        Trainer {
            loss,
            optimizer,
            schedule: None,
            config,
            history: History::default(),
        }
    }

    /// Sets the learning rate from `schedule` before every batch (at the
    /// fractional epoch reached so far).
    pub fn with_schedule(mut self, schedule: impl Schedule + Send + 'static) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    fn threads(&self) -> usize {
        match self.config.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            t => t,
        }
    }

    /// Trains `net` on `train` for the configured epochs (continuing after a
    /// resume), evaluating on `test` after each, and returns the history.
    ///
    /// # Panics
    /// If a data set has more classes than the network has outputs.
    pub fn fit<N, const LEN: usize>(
        &mut self,
        net: &mut N,
        train: &Dataset<LEN>,
        test: &Dataset<LEN>,
    ) -> Result<History, TrainError>
    where
        N: Network + TakesInput<LEN> + Send,
    {
        for data in [train, test] {
            assert!(
                data.classes() <= N::OUTPUT_LEN,
                "{}: the data set has {} classes but the network gives {} outputs",
                N::NAME,
                data.classes(),
                N::OUTPUT_LEN
            );
        }
        let threads = self.threads().max(1);
        let mut team = Team::new(threads);
        let mut workers: Vec<Mutex<Worker<N>>> = (0..threads)
            .map(|t| {
                Mutex::new(Worker {
                    replica: (t > 0).then(|| N::from_state(net.state().clone())),
                    inputs: Vec::new(),
                    labels: Vec::new(),
                    d_out: Vec::new(),
                    loss: 0.0,
                    correct: 0,
                })
            })
            .collect();
        let batching = self.config.batching;
        let batches = batching.batches(train.len());
        let mut order = Vec::new();
        net.train();
        for epoch in self.history.epochs.len()..self.config.epochs {
            let started = Instant::now();
            batching.order(train.len(), epoch, &mut order);
            let bar = self.progress_bar(epoch, batches);
            let lr_at_start = self.set_learning_rate(epoch as f32);
            let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
            for (b, indices) in order.chunks(batching.batch_size).enumerate() {
                self.set_learning_rate(epoch as f32 + b as f32 / batches.max(1) as f32);
                let batch_len = indices.len();
                let share = batch_len.div_ceil(threads);
                // replicas start from the network's parameters
                for w in &mut workers[1..] {
                    let w = w.get_mut().unwrap_or_else(PoisonError::into_inner);
                    if let Some(replica) = &mut w.replica {
                        replica.params_mut().copy_from_slice(net.params());
                    }
                }
                {
                    let main = Mutex::new(&mut *net);
                    let (workers, loss_fn) = (&workers, &self.loss);
                    team.run(&|t| {
                        let part =
                            &indices[(t * share).min(batch_len)..((t + 1) * share).min(batch_len)];
                        let mut w = workers[t].lock().unwrap_or_else(PoisonError::into_inner);
                        let w = &mut *w;
                        match w.replica.take() {
                            Some(mut replica) => {
                                w.run(&mut replica, loss_fn, train, part, batch_len);
                                w.replica = Some(replica);
                            }
                            None => {
                                let mut net = main.lock().unwrap_or_else(PoisonError::into_inner);
                                w.run(&mut **net, loss_fn, train, part, batch_len);
                            }
                        }
                    });
                }
                let workers_now = workers
                    .iter_mut()
                    .map(|w| &*w.get_mut().unwrap_or_else(PoisonError::into_inner));
                let (mut batch_loss, mut batch_correct) = (0.0f64, 0usize);
                for w in workers_now {
                    batch_loss += w.loss;
                    batch_correct += w.correct;
                }
                let batch_loss = batch_loss / batch_len as f64;
                if !batch_loss.is_finite() {
                    bar.abandon();
                    return Err(TrainError::NonFinite {
                        epoch: epoch + 1,
                        batch: b + 1,
                        loss: batch_loss as f32,
                    });
                }
                // the batch's gradient: the first share's, then the others
                // added in a fixed order
                let grads = net.grads_mut();
                for w in &mut workers[1..] {
                    let w = w.get_mut().unwrap_or_else(PoisonError::into_inner);
                    if let Some(replica) = &w.replica {
                        add_into(grads, replica.grads());
                    }
                }
                let (params, grads) = net.params_and_grads();
                self.optimizer.step(params, grads);
                loss_sum += batch_loss * batch_len as f64;
                correct += batch_correct;
                seen += batch_len;
                if self.config.verbose {
                    bar.set_message(format!("{:.4}", loss_sum / seen as f64));
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f64();
            let eval = evaluate(net, test, &self.loss, self.config.eval_batch);
            let stats = EpochStats {
                epoch: epoch + 1,
                learning_rate: lr_at_start,
                train_loss: loss_sum / seen.max(1) as f64,
                train_accuracy: correct as f64 / seen.max(1) as f64,
                test_loss: eval.loss,
                test_accuracy: eval.accuracy,
                images_per_second: seen as f64 / seconds,
            };
            if self.config.verbose {
                println!("{stats}");
            }
            self.history.epochs.push(stats);
            if let Some(path) = &self.config.checkpoint {
                self.save_checkpoint(net, path)?;
            }
            if let Some(path) = &self.config.curves {
                plot_curves(&self.history, path).map_err(|message| TrainError::Curves {
                    path: path.clone(),
                    message,
                })?;
            }
        }
        Ok(self.history.clone())
    }

    fn set_learning_rate(&mut self, epoch: f32) -> f32 {
        if let Some(s) = &self.schedule {
            self.optimizer.set_learning_rate(s.learning_rate(epoch));
        }
        self.optimizer.learning_rate()
    }

    fn progress_bar(&self, epoch: usize, batches: usize) -> ProgressBar {
        if !self.config.verbose {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(batches as u64);
        let style = ProgressStyle::with_template(
            "epoch {prefix:>3} [{bar:30}] {pos}/{len} batches, loss {msg} ({elapsed})",
        )
        .expect("a valid template");
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(format!("{}", epoch + 1));
        bar
    }

    /// Writes the network's weights, the optimizer's state and the history
    /// to `path` (atomically).
    pub fn save_checkpoint<N: Network>(&self, net: &N, path: &Path) -> Result<(), TrainError> {
        let state = self.optimizer.state();
        let names: Vec<String> = state
            .buffers
            .iter()
            .map(|(n, _)| format!("{OPTIMIZER_PREFIX}{n}"))
            .collect();
        let shapes: Vec<[usize; 1]> = state.buffers.iter().map(|(_, b)| [b.len()]).collect();
        let mut tensors: Vec<(&str, &[usize], &[f32])> = net
            .tensors()
            .map(|(t, data)| (t.name, t.shape, data))
            .collect();
        for ((name, shape), (_, data)) in names.iter().zip(&shapes).zip(&state.buffers) {
            tensors.push((name, shape, data));
        }
        let metadata = HashMap::from([
            (
                META_EPOCH.to_string(),
                self.history.epochs.len().to_string(),
            ),
            (META_HISTORY.to_string(), self.history.to_json()),
            (META_OPTIMIZER.to_string(), state.kind.clone()),
            (META_STEPS.to_string(), state.steps.to_string()),
        ]);
        weights::write(path, &tensors, metadata)?;
        Ok(())
    }

    /// Restores weights, optimizer state and history from a checkpoint, so
    /// that `fit` continues with the next epoch.
    pub fn resume<N: Network>(&mut self, net: &mut N, path: &Path) -> Result<(), TrainError> {
        let (tensors, metadata) = weights::read(path)?;
        let bad = |message: String| TrainError::Resume {
            path: path.to_path_buf(),
            message,
        };
        let get = |key: &str| {
            metadata
                .get(key)
                .ok_or_else(|| bad(format!("metadata `{key}` is missing")))
        };
        let kind = get(META_OPTIMIZER)?.clone();
        let steps = get(META_STEPS)?
            .parse::<u64>()
            .map_err(|e| bad(format!("metadata `{META_STEPS}`: {e}")))?;
        let done = get(META_EPOCH)?
            .parse::<usize>()
            .map_err(|e| bad(format!("metadata `{META_EPOCH}`: {e}")))?;
        let history = History::from_json(get(META_HISTORY)?)
            .ok_or_else(|| bad(format!("metadata `{META_HISTORY}` is not a valid history")))?;
        if history.epochs.len() != done {
            return Err(bad(format!(
                "the history has {} epochs but {done} are done",
                history.epochs.len()
            )));
        }
        let buffers = tensors
            .iter()
            .filter_map(|t| {
                t.name
                    .strip_prefix(OPTIMIZER_PREFIX)
                    .map(|n| (n.to_string(), t.data.clone()))
            })
            .collect();
        let state = OptimizerState {
            kind,
            steps,
            buffers,
        };
        weights::load_tensors(net, &tensors, path, &[OPTIMIZER_PREFIX])?;
        self.optimizer
            .load_state(&state)
            .map_err(|e| bad(e.to_string()))?;
        self.history = history;
        Ok(())
    }
}

/// Writes the curves of `history` as an SVG image: loss on the left,
/// accuracy on the right, training and test per epoch.
pub fn plot_curves(history: &History, path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    let epochs = history.epochs.len().max(1) as f64;
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(500);
    type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);
    let draw = |area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
                title: &str,
                series: &[Series]|
     -> Result<(), String> {
        let top = series
            .iter()
            .flat_map(|(_, s, _)| s.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..epochs + 0.5, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, points, color) in series {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
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
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    let pick = |f: fn(&EpochStats) -> f64| {
        history
            .epochs
            .iter()
            .map(|e| (e.epoch as f64, f(e)))
            .collect::<Vec<_>>()
    };
    draw(
        &left,
        "loss",
        &[
            ("train", pick(|e| e.train_loss), BLUE),
            ("test", pick(|e| e.test_loss), RED),
        ],
    )?;
    draw(
        &right,
        "accuracy",
        &[
            ("train", pick(|e| e.train_accuracy), BLUE),
            ("test", pick(|e| e.test_accuracy), RED),
        ],
    )?;
    root.present().map_err(|e| e.to_string())
}
