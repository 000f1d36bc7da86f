//! Training beyond classification, and the trainer's controls: regression
//! and multi-label targets through the same data sets, trainer and
//! `evaluate`; training without a validation set; early stopping with the
//! best weights put back; gradient clipping and the L2 penalty against
//! their formulas; callbacks that stop training; monitors that training
//! cannot measure.

use nn::data::Dataset;
use nn::loss::{Loss, MeanSquaredError, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy};
use nn::metrics::{Metric, Metrics};
use nn::optim::Sgd;
use nn::prelude::*;
use nn::train::{
    evaluate, Callback, Clip, EarlyStopping, EpochEnd, Flow, Monitor, TrainConfig, TrainError,
    Trainer,
};

nn::network! {
    /// y = f(x) for one x.
    struct Curve<[1]> {
        dense(32), tanh,
        dense(1),
    }
}

nn::network! {
    /// Three labels of a point in the plane.
    struct Tagger<[2]> {
        dense(16), relu,
        dense(3),
    }
}

nn::network! {
    /// Two classes of a point in the plane.
    struct Sides<[2]> {
        dense(8), relu,
        dense(2),
    }
}

/// `n` points x in [−3, 3] (a seeded shuffle of a grid) with y = sin(x).
fn sine(n: usize, seed: u64) -> Dataset<1, f32> {
    let x: Vec<f32> = (0..n)
        .map(|i| -3.0 + 6.0 * i as f32 / (n - 1) as f32)
        .collect();
    let y = x.iter().map(|x| x.sin()).collect();
    let mut data = Dataset::regression(x, y, 1).unwrap();
    data.shuffle(seed);
    data
}

/// A deterministic cloud of `n` points in [−1, 1]².
fn points(n: usize) -> Vec<f32> {
    (0..n)
        .flat_map(|i| {
            let a = (i as f32 * 0.618_034).fract() * 2.0 - 1.0;
            let b = (i as f32 * 0.414_214 + 0.5).fract() * 2.0 - 1.0;
            [a, b]
        })
        .collect()
}

#[test]
fn a_regression_mlp_fits_a_sine_through_the_trainer() {
    let (train, val) = sine(400, 1).split(0.8, 2);
    let mut net = Curve::new(1);
    let before = evaluate(&mut net, &val, &MeanSquaredError, 64);
    let mut trainer = Trainer::new(
        MeanSquaredError,
        nn::optim::Adam::new(0.01),
        TrainConfig::new(60, 16),
    );
    let history = trainer.fit(&mut net, &train, &val).unwrap();
    let last = history.epochs.last().unwrap();
    assert_eq!(last.metric, Metric::R2);
    // as the trainer evaluates (`eval_batch` 256)
    let after = evaluate(&mut net, &val, &MeanSquaredError, 256);
    // the loss is the mean squared error, and the metric says so too
    assert!((after.loss - after.metrics.mse()).abs() < 1e-6 * after.loss.max(1e-12));
    assert_eq!(last.val_loss, Some(after.loss));
    assert!(
        after.metrics.r2() > 0.98,
        "R² {} ({after})",
        after.metrics.r2()
    );
    assert!(
        after.loss < 0.05 * before.loss,
        "MSE {} → {}",
        before.loss,
        after.loss
    );
    assert!(after.metrics.mae() < 0.1, "{after}");
    assert_eq!(after.metrics.samples(), 80);
}

#[test]
fn multi_label_targets_train_with_sigmoid_cross_entropy() {
    let x = points(300);
    let labels: Vec<f32> = x
        .chunks(2)
        .flat_map(|p| [p[0] > 0.0, p[1] > 0.0, p[0] + p[1] > 0.0].map(|b| f32::from(u8::from(b))))
        .collect();
    let data = Dataset::<2, f32>::multi_label(x, labels, 3).unwrap();
    let (train, val) = data.split(0.8, 3);
    let mut net = Tagger::new(2);
    let mut trainer = Trainer::new(
        SigmoidBinaryCrossEntropy,
        nn::optim::Adam::new(0.02),
        TrainConfig::new(40, 16),
    );
    let history = trainer.fit(&mut net, &train, &val).unwrap();
    assert_eq!(history.epochs[0].metric, Metric::Accuracy);
    let eval = evaluate(&mut net, &val, &SigmoidBinaryCrossEntropy, 64);
    assert!(eval.metrics.accuracy() > 0.93, "{eval}");
    assert!(eval.metrics.exact_match() > 0.8, "{eval}");
    assert!(eval.metrics.macro_f1() > 0.9, "{eval}");
    assert_eq!(
        history.epochs.last().unwrap().val_metric,
        Some(eval.metrics.accuracy())
    );
}

/// Points labelled by the sign of their first coordinate (`flip` swaps
/// the labels).
fn sides(n: usize, flip: bool) -> Dataset<2> {
    let x = points(n);
    let labels = x
        .chunks(2)
        .map(|p| u32::from((p[0] > 0.0) != flip))
        .collect();
    Dataset::new(x, labels, 2).unwrap()
}

#[test]
fn training_needs_no_validation_set() {
    let mut net = Sides::new(1);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(3, 16));
    let history = trainer.fit(&mut net, &sides(200, false), None).unwrap();
    assert_eq!(history.epochs.len(), 3);
    for e in &history.epochs {
        assert_eq!((e.val_loss, e.val_metric), (None, None));
        assert!(e.train_metric > 0.0 && e.train_loss.is_finite());
    }
    assert!(
        !history.epochs[2].to_string().contains("val"),
        "{}",
        history.epochs[2]
    );
}

#[test]
fn early_stopping_stops_and_puts_the_best_weights_back() {
    // the validation labels are the training labels flipped: training
    // makes the validation loss worse from the first epoch on
    let (train, val) = (sides(200, false), sides(100, true));
    let config = || TrainConfig::new(20, 16);
    let mut net = Sides::new(4);
    let mut stop = EarlyStopping::new(Monitor::val_loss())
        .patience(2)
        .restore_best_weights(true);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.2), config());
    let history = trainer
        .fit_with(&mut net, &train, &val, &mut [&mut stop])
        .unwrap();
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.val_loss.unwrap()).collect();
    assert!(losses[1] > losses[0] && losses[2] > losses[0], "{losses:?}");
    // two epochs without improvement after the best (the first)
    assert_eq!(stop.best_epoch(), Some((1, losses[0])));
    assert_eq!(stop.stopped_epoch(), Some(3));
    assert_eq!(history.epochs.len(), 3);
    // the weights are those after epoch 1: an unbroken run of one epoch
    let mut one = Sides::new(4);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.2), TrainConfig::new(1, 16));
    trainer.fit(&mut one, &train, &val).unwrap();
    assert_eq!(net.params(), one.params());
}

#[test]
fn early_stopping_on_a_metric_that_improves_runs_every_epoch() {
    let (train, val) = (sides(200, false), sides(100, false));
    let mut net = Sides::new(5);
    let mut stop = EarlyStopping::new(Monitor::training(Metric::Loss)).patience(3);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), TrainConfig::new(4, 16));
    let history = trainer
        .fit_with(&mut net, &train, &val, &mut [&mut stop])
        .unwrap();
    assert_eq!(history.epochs.len(), 4);
    assert_eq!(stop.stopped_epoch(), None);
    assert_eq!(stop.best_epoch().map(|b| b.0), Some(4));
}

#[test]
fn a_monitor_that_training_cannot_measure_is_refused_before_any_work() {
    let data = sides(50, false);
    let mut net = Sides::new(6);
    let params = net.params().to_vec();
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(2, 16));
    let mut stop = EarlyStopping::new(Monitor::validation(Metric::R2));
    let err = trainer
        .fit_with(&mut net, &data, &data, &mut [&mut stop])
        .unwrap_err();
    assert!(matches!(err, TrainError::Monitor(_)));
    assert_eq!(
        err.to_string(),
        "early stopping watches the validation R², but this loss's metrics are loss, accuracy, macro F1"
    );
    let mut stop = EarlyStopping::new(Monitor::val_loss());
    let err = trainer
        .fit_with(&mut net, &data, None, &mut [&mut stop])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "early stopping watches the validation loss, but `fit` was given no validation set"
    );
    assert_eq!(net.params(), params);
    assert!(trainer.history.epochs.is_empty());
}

/// Counts what the trainer calls and stops after `stop_after` epochs.
struct Recorder {
    stop_after: usize,
    calls: Vec<String>,
}

impl<N: Network> Callback<N> for Recorder {
    fn on_train_begin(&mut self, begin: &nn::train::TrainBegin) -> Result<(), TrainError> {
        self.calls.push(format!("begin {} batches", begin.batches));
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, _: usize) {
        self.calls.push(format!("epoch {epoch}"));
    }

    fn on_batch_end(&mut self, batch: &nn::train::BatchEnd) {
        assert!(batch.loss.is_finite() && batch.running_loss.is_finite());
        self.calls
            .push(format!("batch {}/{}", batch.batch, batch.batches));
    }

    fn on_epoch_end(&mut self, end: &mut EpochEnd<'_, N>) -> Result<Flow, TrainError> {
        let accuracy = end.value(Monitor::validation(Metric::Accuracy)).unwrap();
        assert_eq!(Some(accuracy), end.stats.val_metric);
        assert_eq!(end.history.epochs.len(), end.stats.epoch);
        self.calls.push(format!("end {}", end.stats.epoch));
        Ok(match end.stats.epoch >= self.stop_after {
            true => Flow::Stop,
            false => Flow::Continue,
        })
    }

    fn on_train_end(&mut self, _: &mut N, history: &nn::train::History) -> Result<(), TrainError> {
        self.calls
            .push(format!("done after {}", history.epochs.len()));
        Ok(())
    }
}

#[test]
fn callbacks_see_every_point_of_training_and_can_stop_it() {
    let data = sides(40, false);
    let mut net = Sides::new(7);
    let mut recorder = Recorder {
        stop_after: 2,
        calls: Vec::new(),
    };
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(5, 16));
    let history = trainer
        .fit_with(&mut net, &data, &data, &mut [&mut recorder])
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(
        recorder.calls,
        [
            "begin 3 batches",
            "epoch 1",
            "batch 1/3",
            "batch 2/3",
            "batch 3/3",
            "end 1",
            "epoch 2",
            "batch 1/3",
            "batch 2/3",
            "batch 3/3",
            "end 2",
            "done after 2",
        ]
    );
}

/// The gradient of a new `Sides::new(8)` on the whole of `data` (one
/// batch).
fn gradient(data: &Dataset<2>) -> Vec<f32> {
    let mut net = Sides::new(8);
    net.train();
    let out = net.forward(data.inputs()).to_vec();
    let mut d = vec![0.0; out.len()];
    SoftmaxCrossEntropy.loss(&out, data.labels(), &mut d);
    net.zero_grad();
    net.backward(&d);
    net.grads().to_vec()
}

/// One step of plain SGD with rate 1 over `data` as one batch, with
/// `clip` and `l2`: the parameters' change.
fn one_step(data: &Dataset<2>, clip: Option<Clip>, l2: Option<f32>) -> (Sides, Vec<f32>) {
    let mut net = Sides::new(8);
    let before = Sides::new(8);
    let config = TrainConfig {
        clip,
        l2,
        batching: nn::batch::Batching::new(data.len()),
        ..TrainConfig::new(1, data.len())
    };
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(1.0), config);
    trainer.fit(&mut net, data, None).unwrap();
    let change = before
        .params()
        .iter()
        .zip(net.params())
        .map(|(b, a)| b - a)
        .collect();
    (before, change)
}

/// Whether the change `got` is `want` up to the rounding of a parameter
/// `w` minus `want` and of `want` itself.
fn close(got: f32, want: f32, w: f32) -> bool {
    (got - want).abs() <= 1e-6 * want.abs() + 5e-7 * w.abs().max(want.abs())
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn clipping_by_norm_and_by_value_follows_pytorch() {
    let data = sides(64, false);
    let (net, plain) = one_step(&data, None, None);
    let w = net.params();
    let g = gradient(&data);
    for ((a, b), &w) in plain.iter().zip(&g).zip(w) {
        assert!(close(*a, *b, w), "{a} vs {b}");
    }
    let n = norm(&g);
    // clip_grad_norm_: g · max / (‖g‖ + 1e-6)
    let max = (n / 4.0) as f32;
    let (_, clipped) = one_step(&data, Some(Clip::Norm(max)), None);
    let scale = f64::from(max) / (n + 1e-6);
    for ((c, b), &w) in clipped.iter().zip(&g).zip(w) {
        let want = (f64::from(*b) * scale) as f32;
        assert!(close(*c, want, w), "{c} vs {want}");
    }
    // a norm already below the limit is left alone
    let (_, loose) = one_step(&data, Some(Clip::Norm((n * 2.0) as f32)), None);
    assert_eq!(loose, plain);
    // clip_grad_value_: each value clamped
    let v = g.iter().map(|x| x.abs()).fold(0.0, f32::max) / 3.0;
    let (_, clamped) = one_step(&data, Some(Clip::Value(v)), None);
    for ((c, b), &w) in clamped.iter().zip(&g).zip(w) {
        let want = b.clamp(-v, v);
        assert!(close(*c, want, w), "{c} vs {want}");
    }
    assert!(
        g.iter().filter(|b| b.abs() > v).count() >= 1,
        "some values are clamped"
    );
}

#[test]
fn the_l2_penalty_decays_weight_matrices_but_not_biases() {
    let data = sides(64, false);
    let lambda = 0.05;
    let (net, change) = one_step(&data, None, Some(lambda));
    let g = gradient(&data);
    for info in Sides::TENSORS {
        let range = info.offset..info.offset + info.len;
        for i in range {
            let decay = match info.shape.len() {
                2 => 2.0 * lambda * net.params()[i],
                _ => 0.0,
            };
            let want = g[i] + decay;
            assert!(
                close(change[i], want, net.params()[i]),
                "{} [{i}]: {} vs {want}",
                info.name,
                change[i]
            );
        }
    }
}

#[test]
fn reduce_on_plateau_scales_the_rate_and_resumes_where_it_was() {
    // a rate so small that the loss does not move by the least improvement
    // (1e-4): every epoch after the first is one without improvement
    let data = sides(64, false);
    let plateau = || {
        nn::train::ReduceOnPlateau::new(Monitor::training(Metric::Loss))
            .patience(1)
            .factor(0.5)
    };
    let trainer = |epochs, checkpoint: Option<std::path::PathBuf>| {
        let config = TrainConfig {
            checkpoint,
            ..TrainConfig::new(epochs, 16)
        };
        Trainer::new(SoftmaxCrossEntropy, Sgd::new(1e-7), config).with_plateau(plateau())
    };
    let mut unbroken = trainer(6, None);
    let history = unbroken.fit(&mut Sides::new(9), &data, None).unwrap();
    let rates: Vec<f32> = history.epochs.iter().map(|e| e.learning_rate).collect();
    // PyTorch's ReduceLROnPlateau(patience=1, factor=0.5): halved after
    // the 3rd and the 5th epoch
    assert_eq!(rates, [1e-7, 1e-7, 1e-7, 5e-8, 5e-8, 2.5e-8]);
    assert_eq!(unbroken.plateau.as_ref().unwrap().scale(), 0.25);

    let dir = nn_runtime::testing::TempDir::new("nn-targets", "plateau");
    let path = dir.0.join("checkpoint.safetensors");
    let mut net = Sides::new(9);
    trainer(4, Some(path.clone()))
        .fit(&mut net, &data, None)
        .unwrap();
    let mut resumed = trainer(6, None);
    resumed.resume(&mut net, &path).unwrap();
    let history = resumed.fit(&mut net, &data, None).unwrap();
    let again: Vec<f32> = history.epochs.iter().map(|e| e.learning_rate).collect();
    assert_eq!(again, rates);
}

#[test]
fn a_plateau_watching_a_missing_figure_is_refused() {
    let data = sides(32, false);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(1, 16))
        .with_plateau(nn::train::ReduceOnPlateau::new(Monitor::val_loss()));
    let err = trainer.fit(&mut Sides::new(1), &data, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "reduce-on-plateau watches the validation loss, but `fit` was given no validation set"
    );
}
