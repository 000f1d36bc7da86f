//! The training loop end to end on real digits (a subset of the bundled
//! MNIST split, kept small for debug builds): it learns, it is
//! deterministic for a seed and a thread count, a checkpoint resumes to the
//! same result as an unbroken run, a diverging loss stops with the epoch and
//! batch, and the curves are written.

use nn::batch::Batching;
use nn::data::{mnist, Dataset};
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::{Adam, Optimizer, Sgd};
use nn::prelude::*;
use nn::schedule::{Constant, Cosine, ExponentialDecay, Schedule, StepDecay, Warmup};
use nn::train::{evaluate, TrainConfig, TrainError, Trainer, Watched};
use nn_runtime::testing::TempDir;

nn::network! {
    /// A small digit classifier that trains in a blink.
    struct Tiny<[1, 28, 28]> {
        conv(4, kernel = 3, stride = 2, pad = (1, 0, 1, 0)), relu,   // [4, 14, 14]
        max_pool(2),                                                  // [4, 7, 7]
        flatten, dense(32), relu, dense(10),
    }
}

/// Every `step`-th sample of a data set (the bundled files are sorted by digit).
fn every<const LEN: usize>(data: &Dataset<LEN>, step: usize) -> Dataset<LEN> {
    let picked: Vec<usize> = (0..data.len()).step_by(step).collect();
    let inputs = picked
        .iter()
        .flat_map(|&i| data.input(i).iter().copied())
        .collect();
    let labels = picked.iter().map(|&i| data.label(i)).collect();
    Dataset::new(inputs, labels, data.classes()).unwrap()
}

fn digits() -> (Dataset<784>, Dataset<784>) {
    let m = mnist::bundled().unwrap();
    (every(&m.train, 8), every(&m.test, 4))
}

fn config(epochs: usize, threads: usize) -> TrainConfig {
    TrainConfig {
        threads,
        ..TrainConfig::new(epochs, 32)
    }
}

#[test]
fn learns_digits_and_is_deterministic_per_seed_and_thread_count() {
    let (train, test) = digits();
    let mut before = Tiny::new(3);
    let start = evaluate(&mut before, &test, &SoftmaxCrossEntropy, 100);

    let run = |threads| {
        let mut net = Tiny::new(3);
        let mut trainer = Trainer::new(
            SoftmaxCrossEntropy,
            Sgd::new(0.05).momentum(0.9),
            config(3, threads),
        );
        let history = trainer.fit(&mut net, &train, &test).unwrap();
        (net.params().to_vec(), history)
    };
    let (params, history) = run(2);
    let last = history.epochs.last().unwrap();
    assert_eq!(history.epochs.len(), 3);
    assert!(
        last.val_loss.unwrap() < 0.5 * start.loss,
        "test loss {} from {}",
        last.val_loss.unwrap(),
        start.loss
    );
    assert!(
        last.val_metric.unwrap() > 0.8,
        "test accuracy {}",
        last.val_metric.unwrap()
    );
    assert!(last.train_loss < history.epochs[0].train_loss);

    let (again, _) = run(2);
    assert_eq!(params, again, "same seed and thread count, same result");
    let (one_thread, one_history) = run(1);
    assert_ne!(
        params, one_thread,
        "another thread count sums the shares in another order"
    );
    assert!(one_history.epochs.last().unwrap().val_metric.unwrap() > 0.8);
}

nn::network! {
    /// 636,010 parameters (2.5 MB): more than a trainer's replica copies,
    /// so its second thread reads the network's own.
    struct Wide<[1, 28, 28]> {
        flatten, dense(800), relu, dense(10),
    }
}

nn::network! {
    /// Batch norm: each share normalised with its own statistics, and the
    /// running statistics of the shares averaged.
    struct BatchNormed<[1, 28, 28]> {
        conv(4, kernel = 3, stride = 2, pad = (1, 0, 1, 0)), batch_norm, relu,
        max_pool(2), flatten, dense(10),
    }
}

/// Two steps of `N` on two threads, from the network `make` gives, against
/// the same steps taken by hand, each share on a network of its own: each
/// share's gradient from the parameters and buffers as they are at that
/// step, weighted by its part of the batch, the first share's then the
/// second's summed, and the shares' running statistics averaged, bit for
/// bit.
fn step_on_two_threads<N: Network + TakesInput<784> + Send>(make: impl Fn() -> N) {
    use nn::loss::Loss;
    let (train, _) = digits();
    let data = Dataset::new(
        train.inputs()[..16 * 784].to_vec(),
        train.labels()[..16].to_vec(),
        10,
    )
    .unwrap();
    let lr = 0.1f32;
    let mut trained = make();
    let config = TrainConfig {
        threads: 2,
        batching: Batching::new(8),
        ..TrainConfig::new(1, 8)
    };
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(lr), config);
    trainer.fit(&mut trained, &data, None).unwrap();

    let mut shares = [make(), make()];
    let mut d_out = vec![0.0f32; 4 * 10];
    for step in 0..2 {
        let mut sum = vec![0.0f32; N::PARAM_COUNT];
        for (share, net) in shares.iter_mut().enumerate() {
            let samples = step * 8 + share * 4..step * 8 + (share + 1) * 4;
            net.zero_grad();
            let outputs = net.forward(&data.inputs()[samples.start * 784..samples.end * 784]);
            SoftmaxCrossEntropy.loss(outputs, &data.labels()[samples], &mut d_out);
            d_out.iter_mut().for_each(|d| *d *= 0.5);
            net.backward_params(&d_out);
            sum.iter_mut().zip(net.grads()).for_each(|(s, g)| *s += g);
        }
        assert!(sum.iter().any(|&g| g != 0.0));
        let params: Vec<f32> = shares[0]
            .params()
            .iter()
            .zip(&sum)
            .map(|(&w, &g)| g.mul_add(-lr, w))
            .collect();
        let buffers: Vec<(&str, Vec<f32>)> = shares[0]
            .named_buffers()
            .zip(shares[1].named_buffers())
            .map(|((t, a), (_, b))| {
                let averaged = a.iter().zip(b).map(|(&a, &b)| a * 0.5 + 0.5 * b);
                (
                    t.name,
                    if t.count {
                        a.to_vec()
                    } else {
                        averaged.collect()
                    },
                )
            })
            .collect();
        for net in &mut shares {
            net.params_mut().copy_from_slice(&params);
            for (name, values) in &buffers {
                net.buffer_mut(name).unwrap().copy_from_slice(values);
            }
        }
    }
    assert!(trained.params() == shares[0].params(), "{}", N::NAME);
    assert!(
        trained.named_buffers().eq(shares[0].named_buffers()),
        "{}",
        N::NAME
    );
}

/// A step on two threads sums its shares' gradients and averages their
/// running statistics, whether the second thread copies the parameters
/// (`Tiny`'s 27 KB, `BatchNormed`'s) or reads the network's (`Wide`'s 2.5 MB).
#[test]
fn a_step_on_two_threads_sums_the_gradients_of_its_shares() {
    const { assert!(Tiny::PARAM_BYTES < 1 << 20 && Wide::PARAM_BYTES > 2 << 20) };
    step_on_two_threads(|| Tiny::new(9));
    step_on_two_threads(|| Wide::new(9));
    step_on_two_threads(|| BatchNormed::new(9));
}

#[test]
fn a_typed_loss_and_optimizer_train_as_the_untyped_ones_do() {
    use nn::loss::Loss;
    let (train, test) = digits();
    let optimizer = || Adam::new(2e-3);
    let mut untyped = Tiny::new(5);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(2, 2));
    let untyped_history = trainer.fit(&mut untyped, &train, &test).unwrap();

    let mut typed = Tiny::new(5);
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let adam = optimizer().params::<{ Tiny::PARAM_COUNT }>();
    // the typed optimizer's moments are there before the first step
    let state = adam.state();
    assert_eq!(state.steps, 0);
    assert!(state
        .buffers
        .iter()
        .all(|(_, b)| b.len() == Tiny::PARAM_COUNT));
    let mut trainer = Trainer::new(loss, adam, config(2, 2));
    let typed_history = trainer.fit(&mut typed, &train, &test).unwrap();
    assert_eq!(typed.params(), untyped.params(), "bit for bit");
    let losses = |h: &nn::train::History| h.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>();
    assert_eq!(losses(&typed_history), losses(&untyped_history));
    let (a, b) = (
        evaluate(&mut typed, &test, &loss, 100),
        evaluate(&mut untyped, &test, &SoftmaxCrossEntropy, 100),
    );
    assert_eq!(a.loss.to_bits(), b.loss.to_bits());
    assert_eq!(a.metrics.accuracy(), b.metrics.accuracy());

    // a typed optimizer saves and resumes as the untyped one does
    let tmp = TempDir::new("nn-train", "typed-resume");
    let checkpoint = tmp.0.join("typed.safetensors");
    trainer.save_checkpoint(&typed, &checkpoint).unwrap();
    let mut again = Tiny::new(77);
    let adam = optimizer().params::<{ Tiny::PARAM_COUNT }>();
    let mut resumed = Trainer::new(loss, adam, config(2, 2));
    resumed.resume(&mut again, &checkpoint).unwrap();
    assert_eq!(again.params(), typed.params());
    assert_eq!(resumed.optimizer.state(), trainer.optimizer.state());
}

#[test]
fn targets_typed_by_their_width_train_as_the_untyped_ones_do() {
    use nn::loss::MeanSquaredError;
    nn::network! {
        struct Pair<[3]> { dense(16), tanh, dense(2) }
    }
    let x: Vec<f32> = (0..3 * 64)
        .map(|i| ((i * 37) % 101) as f32 / 101.0)
        .collect();
    let y: Vec<f32> = x
        .chunks(3)
        .flat_map(|s| [s[0] + s[1], s[1] * s[2]])
        .collect();
    let untyped = Dataset::<3, f32>::regression(x, y, 2).unwrap();
    let typed = untyped.clone().typed::<2>().unwrap();
    let run = |threads| {
        let (mut a, mut b) = (Pair::new(4), Pair::new(4));
        let mut trainer = Trainer::new(MeanSquaredError, Sgd::new(0.1), config(3, threads));
        let ha = trainer.fit(&mut a, &untyped, &untyped).unwrap();
        let mut trainer = Trainer::new(MeanSquaredError, Sgd::new(0.1), config(3, threads));
        let hb = trainer.fit(&mut b, &typed, &typed).unwrap();
        assert_eq!(a.params(), b.params(), "bit for bit on {threads} threads");
        let losses = |h: &nn::train::History| {
            h.epochs
                .iter()
                .map(|e| (e.train_loss, e.val_loss.unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(losses(&ha), losses(&hb));
        assert!(ha.epochs[2].train_loss < ha.epochs[0].train_loss);
        let (ea, eb) = (
            evaluate(&mut a, &untyped, &MeanSquaredError, 10),
            evaluate(&mut b, &typed, &MeanSquaredError, 10),
        );
        assert_eq!(ea.loss.to_bits(), eb.loss.to_bits());
    };
    run(1);
    run(2);
}

#[test]
fn resuming_from_a_checkpoint_gives_the_unbroken_result() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "resume");
    let dir = tmp.0.clone();
    let optimizer = || Sgd::new(0.05).momentum(0.9);

    let mut unbroken = Tiny::new(9);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(3, 2));
    let full = trainer.fit(&mut unbroken, &train, &test).unwrap();

    let checkpoint = dir.join("checkpoint.safetensors");
    let mut first = Tiny::new(9);
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        optimizer(),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..config(1, 2)
        },
    );
    trainer.fit(&mut first, &train, &test).unwrap();
    assert!(checkpoint.exists());

    let mut resumed = Tiny::new(1234); // other weights: the checkpoint replaces them
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(3, 2));
    trainer.resume(&mut resumed, &checkpoint).unwrap();
    assert_eq!(trainer.history.epochs.len(), 1);
    let history = trainer.fit(&mut resumed, &train, &test).unwrap();

    assert_eq!(resumed.params(), unbroken.params(), "bit for bit");
    let losses = |h: &nn::train::History| {
        h.epochs
            .iter()
            .map(|e| (e.train_loss, e.val_loss.unwrap(), e.val_metric.unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(losses(&history), losses(&full));
}

#[test]
fn a_non_finite_loss_stops_training_with_epoch_and_batch() {
    let (train, test) = digits();
    // a NaN pixel in sample 70: in order, it is in batch 3 of the first epoch
    let mut inputs = train.inputs().to_vec();
    inputs[70 * 784 + 100] = f32::NAN;
    let poisoned = Dataset::<784>::new(inputs, train.labels().to_vec(), 10).unwrap();
    let mut net = Tiny::new(1);
    let config = TrainConfig {
        batching: Batching::new(32),
        ..config(2, 1)
    };
    let err = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01), config)
        .fit(&mut net, &poisoned, &test)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                epoch: 1,
                batch: 3,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("epoch 1, batch 3") && text.contains("NaN"),
        "{text}"
    );
}

#[test]
fn writes_the_curves() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "curves");
    let path = tmp.0.join("curves.svg");
    let mut net = Tiny::new(2);
    let config = TrainConfig {
        curves: Some(path.clone()),
        ..config(2, 1)
    };
    Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05).momentum(0.9), config)
        .fit(&mut net, &train, &test)
        .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("accuracy") && svg.contains("loss"),
        "{}",
        &svg[..svg.len().min(200)]
    );
}

nn::network! {
    /// `Tiny` with batch norm and dropout, which train and evaluate
    /// differently.
    struct Normed<[1, 28, 28]> {
        conv(4, kernel = 3, stride = 2, pad = (1, 0, 1, 0), bias = false), batch_norm, relu,
        max_pool(2),
        flatten, dropout(0.2), dense(32), relu, dropout(0.2), dense(10),
    }
}

#[test]
fn batch_norm_and_dropout_train_and_resume_to_the_unbroken_result() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "resume-normed");
    let optimizer = || Sgd::new(0.05).momentum(0.9);

    let mut unbroken = Normed::new(9);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(3, 2));
    let full = trainer.fit(&mut unbroken, &train, &test).unwrap();
    let last = full.epochs.last().unwrap();
    assert!(
        last.val_metric.unwrap() > 0.7,
        "{}",
        last.val_metric.unwrap()
    );
    assert!(last.train_loss < full.epochs[0].train_loss);
    // the trainer trains in training mode: the running statistics moved
    // once per mini-batch
    let batches = train.len().div_ceil(32) * 3;
    assert_eq!(
        unbroken.buffer("1.num_batches_tracked"),
        Some(&[batches as f32][..])
    );
    assert!(unbroken.is_training());

    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let mut first = Normed::new(9);
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        optimizer(),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..config(1, 2)
        },
    );
    trainer.fit(&mut first, &train, &test).unwrap();
    // other weights and another dropout seed: the checkpoint replaces them
    let mut resumed = Normed::new(1234);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(3, 2));
    trainer.resume(&mut resumed, &checkpoint).unwrap();
    let history = trainer.fit(&mut resumed, &train, &test).unwrap();
    assert_eq!(resumed.params(), unbroken.params(), "bit for bit");
    for t in Normed::BUFFERS {
        assert_eq!(
            resumed.buffer(t.name),
            unbroken.buffer(t.name),
            "{}",
            t.name
        );
    }
    assert_eq!(
        history.epochs.last().unwrap().val_loss.unwrap(),
        full.epochs.last().unwrap().val_loss.unwrap()
    );
}

/// A dropout mask depends on the sample's place in the mini-batch, not on
/// how the mini-batch is split across threads: one step on one thread and
/// on two gives the same parameters up to the order of the shares' sums.
#[test]
fn dropout_draws_the_same_masks_on_any_number_of_threads() {
    nn::network! {
        struct Dropped<[1, 28, 28]> { flatten, dense(32), relu, dropout(0.5), dense(10) }
    }
    let (train, _) = digits();
    let small = every(&train, 40);
    let step = |threads: usize, seed: u64| {
        let mut net = Dropped::new(5);
        net.set_dropout_state(seed, 0);
        let mut trainer = Trainer::new(
            SoftmaxCrossEntropy,
            Sgd::new(0.5),
            TrainConfig {
                batching: Batching::new(small.len()),
                ..config(1, threads)
            },
        );
        trainer.fit(&mut net, &small, &small).unwrap();
        net.params().to_vec()
    };
    let (one, two) = (step(1, 7), step(2, 7));
    let start = Dropped::new(5).params().to_vec();
    let moved: f32 = one.iter().zip(&start).map(|(a, b)| (a - b).abs()).sum();
    let differ: f32 = one.iter().zip(&two).map(|(a, b)| (a - b).abs()).sum();
    assert!(differ < 1e-4 * moved, "{differ} of {moved}");
    // another seed draws other masks, and the step differs
    let other: f32 = one
        .iter()
        .zip(&step(1, 8))
        .map(|(a, b)| (a - b).abs())
        .sum();
    assert!(other > 0.05 * moved, "{other} of {moved}");
}

#[test]
fn a_checkpoint_of_another_optimizer_is_refused_and_changes_nothing() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "other-optimizer");
    let checkpoint = tmp.0.join("adam.safetensors");
    let mut net = Tiny::new(5);
    Trainer::new(
        SoftmaxCrossEntropy,
        Adam::new(1e-3),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..config(1, 1)
        },
    )
    .fit(&mut net, &every(&train, 4), &test)
    .unwrap();

    // resumed with SGD: the weights fit, the optimizer's state does not
    let mut other = Tiny::new(6);
    let before = other.params().to_vec();
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        Sgd::new(0.1).momentum(0.9),
        config(2, 1),
    );
    let err = trainer.resume(&mut other, &checkpoint).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TrainError::Resume { .. }), "{text}");
    assert!(text.contains("`adam` optimizer"), "{text}");
    assert_eq!(other.params(), &before[..], "the weights are untouched");
    assert!(trainer.history.epochs.is_empty());
}

#[test]
fn optimizer_buffers_for_another_parameter_count_are_refused() {
    let tmp = TempDir::new("nn-train", "buffer-length");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    // momentum for 3 parameters, saved beside Tiny's weights
    let mut optimizer = Sgd::new(0.1).momentum(0.9);
    optimizer.step(&mut [1.0, 2.0, 3.0], &[0.5; 3]);
    Trainer::new(SoftmaxCrossEntropy, optimizer, config(1, 1))
        .save_checkpoint(&Tiny::new(5), &checkpoint)
        .unwrap();

    let mut other = Tiny::new(6);
    let before = other.params().to_vec();
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        Sgd::new(0.1).momentum(0.9),
        config(1, 1),
    );
    let err = trainer.resume(&mut other, &checkpoint).unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with(&format!(
            "cannot resume: optimizer buffer `momentum_buffer` has 3 values, \
             but `Tiny` has {} parameters",
            Tiny::PARAM_COUNT
        )),
        "{text}"
    );
    assert_eq!(other.params(), &before[..]);
}

#[test]
fn a_checkpoint_with_a_nan_in_its_history_resumes() {
    // one NaN pixel in the test set: every epoch's test loss is NaN, which
    // the checkpoint once wrote as `null` and could not read back
    let (train, test) = digits();
    let mut inputs = test.inputs().to_vec();
    inputs[5 * 784 + 300] = f32::NAN;
    let test = Dataset::<784>::new(inputs, test.labels().to_vec(), 10).unwrap();
    let train = every(&train, 4);
    let tmp = TempDir::new("nn-train", "nan-history");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let mut net = Tiny::new(2);
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        Sgd::new(0.05),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..config(1, 1)
        },
    );
    let history = trainer.fit(&mut net, &train, &test).unwrap();
    assert!(history.epochs[0].val_loss.unwrap().is_nan());

    let mut resumed = Tiny::new(3);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(2, 1));
    trainer.resume(&mut resumed, &checkpoint).unwrap();
    assert_eq!(resumed.params(), net.params());
    let back = &trainer.history.epochs[0];
    assert!(back.val_loss.unwrap().is_nan());
    assert_eq!(back.train_loss, history.epochs[0].train_loss);
    trainer.fit(&mut resumed, &train, &test).unwrap();
    assert_eq!(trainer.history.epochs.len(), 2);
}

#[test]
fn a_checkpoint_after_half_a_million_epochs_resumes() {
    // as JSON in the file's header, the history outgrew the header's
    // 100 MB limit after about 470,000 epochs
    let tmp = TempDir::new("nn-train", "long-history");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let net = Tiny::new(4);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(1, 1));
    let stats = |epoch| nn::train::EpochStats {
        epoch,
        learning_rate: 0.05,
        train_loss: 1.0 / epoch as f64,
        train_metric: 0.123456789,
        val_loss: Some(2.0 / epoch as f64),
        val_metric: Some(0.987654321),
        images_per_second: 12345.678,
        metric: nn::metrics::Metric::Accuracy,
    };
    trainer.history.epochs = (1..=500_000).map(stats).collect();
    trainer.save_checkpoint(&net, &checkpoint).unwrap();

    let mut resumed = Tiny::new(5);
    let mut other = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(1, 1));
    other.resume(&mut resumed, &checkpoint).unwrap();
    assert_eq!(other.history, trainer.history);
}

/// Softmax cross-entropy whose gradient is infinite at the `poisoned`-th
/// training batch (counting the calls with `batch` labels; evaluation
/// calls, with other counts, pass through).
struct InfiniteGradientAt {
    poisoned: usize,
    batch: usize,
    calls: std::sync::atomic::AtomicUsize,
}

impl nn::loss::Loss for InfiniteGradientAt {
    type Target = u32;
    type Metrics = nn::metrics::ClassMetrics;

    fn loss(&self, outputs: &[f32], targets: &[u32], d_outputs: &mut [f32]) -> f32 {
        let loss = SoftmaxCrossEntropy.loss(outputs, targets, d_outputs);
        if targets.len() == self.batch {
            let call = self
                .calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if call == self.poisoned {
                d_outputs[0] = f32::INFINITY;
            }
        }
        loss
    }
}

#[test]
fn an_infinite_gradient_stops_before_the_step_and_leaves_the_network() {
    // batch norm and dropout: the refused batch's forward pass has run
    // one batch per epoch, so a step taken would be evaluated and
    // checkpointed as the epoch's result; the infinite output gradient
    // meets zeros on its way back, so the norm is NaN
    let (train, test) = digits();
    let train = Dataset::<784>::new(
        train.inputs()[..32 * 784].to_vec(),
        train.labels()[..32].to_vec(),
        10,
    )
    .unwrap();
    let test = every(&test, 20);
    assert_ne!(test.len(), 32);
    let tmp = TempDir::new("nn-train", "infinite-gradient");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let config = |epochs| TrainConfig {
        checkpoint: Some(checkpoint.clone()),
        ..config(epochs, 1)
    };

    let mut one_epoch = Normed::new(7);
    Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(1))
        .fit(&mut one_epoch, &train, &test)
        .unwrap();

    let mut net = Normed::new(7);
    let loss = InfiniteGradientAt {
        poisoned: 2,
        batch: 32,
        calls: Default::default(),
    };
    let mut trainer = Trainer::new(loss, Sgd::new(0.05), config(3));
    let err = trainer.fit(&mut net, &train, &test).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                epoch: 2,
                batch: 1,
                what: Watched::GradientNorm,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "training stopped before the step of epoch 2, batch 1: the gradient's norm is NaN; \
         the weights are those before it; lower the learning rate or check the data"
    );
    assert_eq!(net.params(), one_epoch.params(), "the step was not taken");
    // nor the refused batch's running statistics and dropout draws kept
    for b in Normed::BUFFERS {
        assert_eq!(net.buffer(b.name), one_epoch.buffer(b.name), "{}", b.name);
    }
    assert_eq!(net.dropout_state(), one_epoch.dropout_state());
    assert_eq!(trainer.history.epochs.len(), 1);
    let mut resumed = Normed::new(8);
    Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(3))
        .resume(&mut resumed, &checkpoint)
        .unwrap();
    assert_eq!(
        resumed.params(),
        one_epoch.params(),
        "checkpoint of epoch 1"
    );
}

/// A schedule that gives NaN from epoch `from` on, and the base before.
struct NanFrom(f32);

impl Schedule for NanFrom {
    fn learning_rate(&self, base: f32, epoch: f32) -> f32 {
        if epoch >= self.0 {
            f32::NAN
        } else {
            base
        }
    }
}

#[test]
fn a_nan_learning_rate_stops_before_the_step() {
    let (train, test) = digits();
    let train = every(&train, 4);
    let mut one_epoch = Tiny::new(7);
    Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(1, 1))
        .fit(&mut one_epoch, &train, &test)
        .unwrap();

    let mut net = Tiny::new(7);
    let mut trainer =
        Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(3, 1)).with_schedule(NanFrom(1.0));
    let err = trainer.fit(&mut net, &train, &test).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::NonFinite {
                epoch: 2,
                batch: 1,
                what: Watched::LearningRate,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("the learning rate is NaN; the weights are those before it; check the learning-rate schedule"),
        "{err}"
    );
    assert_eq!(net.params(), one_epoch.params());
}

#[test]
fn a_schedule_that_gives_no_rate_is_refused_before_training() {
    let (train, test) = digits();
    let refused = |schedule: Box<dyn Schedule + Send>, message: &str| {
        let mut net = Tiny::new(7);
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(1, 1));
        trainer.schedule = Some(schedule);
        let err = trainer.fit(&mut net, &train, &test).unwrap_err();
        assert!(matches!(err, TrainError::Schedule(_)), "{err:?}");
        assert_eq!(err.to_string(), message);
        assert_eq!(net.params(), &before[..]);
    };
    refused(
        Box::new(Cosine {
            min: -0.05,
            epochs: 3,
        }),
        "`Cosine`: `min` is -0.05, it must be finite and at least 0",
    );
    refused(
        Box::new(Warmup {
            start_factor: 1.5,
            ..Warmup::new(1.0, Constant)
        }),
        "`Warmup`: `start_factor` is 1.5, it must be between 0 and 1",
    );
    refused(
        Box::new(ExponentialDecay {
            decay: 0.5,
            steps: 0.0,
            staircase: false,
        }),
        "`ExponentialDecay`: `steps` is 0, it must be more than 0",
    );
    refused(
        Box::new(StepDecay {
            gamma: 0.5,
            step_size: 0,
        }),
        "`StepDecay`: `step_size` is 0, it must be more than 0",
    );
}

#[test]
fn a_schedule_scales_the_rate_the_optimizer_was_built_with() {
    let (train, test) = digits();
    let train = every(&train, 4);
    let mut net = Tiny::new(7);
    let halving = StepDecay {
        gamma: 0.5,
        step_size: 1,
    };
    let mut trainer =
        Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.08), config(3, 1)).with_schedule(halving);
    assert_eq!(trainer.base_learning_rate, 0.08);
    let rates = |history: &nn::train::History| -> Vec<f32> {
        history.epochs.iter().map(|e| e.learning_rate).collect()
    };
    // every batch's rate comes from the base, not from the rate before it
    // (which would halve it batch after batch)
    let history = trainer.fit(&mut net, &train, &test).unwrap();
    assert_eq!(rates(&history), [0.08, 0.04, 0.02]);
    assert_eq!(trainer.optimizer.learning_rate(), 0.02);
    // training on keeps the base of the trainer's start
    trainer.config.epochs = 4;
    let history = trainer.fit(&mut net, &train, &test).unwrap();
    assert_eq!(rates(&history), [0.08, 0.04, 0.02, 0.01]);
}

#[test]
#[should_panic(expected = "sgd: invalid learning rate -1 (it must be finite and at least 0)")]
fn a_negative_learning_rate_is_refused_by_the_setter() {
    Sgd::new(0.1).set_learning_rate(-1.0);
}

#[test]
fn training_that_would_do_nothing_is_refused() {
    let (train, test) = digits();
    let empty = Dataset::<784>::new(Vec::new(), Vec::new(), 10).unwrap();
    let refused = |config: TrainConfig, train: &Dataset<784>, test: &Dataset<784>, why: &str| {
        let mut net = Tiny::new(1);
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config);
        let err = trainer.fit(&mut net, train, test).unwrap_err();
        assert!(matches!(err, TrainError::Nothing(_)), "{err:?}");
        assert_eq!(err.to_string(), format!("nothing to train: {why}"));
        assert_eq!(net.params(), &before[..]);
        assert!(trainer.history.epochs.is_empty());
    };
    refused(config(1, 1), &empty, &test, "the training set is empty");
    refused(
        config(1, 1),
        &train,
        &empty,
        "the validation set is empty (no validation loss to report; pass `None` for none)",
    );
    let too_big = TrainConfig {
        batching: Batching::new(train.len() + 1).drop_last(true),
        ..config(1, 1)
    };
    refused(
        too_big,
        &train,
        &test,
        &format!(
            "batches of {} with `drop_last` leave no batch of the {} training samples",
            train.len() + 1,
            train.len()
        ),
    );
    // the field is public, so a batch size of 0 can get past `Batching::new`
    let mut zero = config(1, 1);
    zero.batching.batch_size = 0;
    refused(
        zero,
        &train,
        &test,
        "batches of 0 samples (the batch size must be at least 1)",
    );
}

#[test]
fn an_empty_set_evaluates_to_nan_not_zero() {
    let empty = Dataset::<784>::new(Vec::new(), Vec::new(), 10).unwrap();
    let eval = evaluate(&mut Tiny::new(1), &empty, &SoftmaxCrossEntropy, 16);
    assert!(
        eval.loss.is_nan() && eval.metrics.accuracy().is_nan(),
        "{eval:?}"
    );
}

#[test]
fn a_checkpoint_path_that_cannot_be_written_is_found_before_training() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "bad-path");
    for (checkpoint, curves) in [
        (Some(tmp.0.join("missing/checkpoint.safetensors")), None),
        (None, Some(tmp.0.join("missing/curves.svg"))),
    ] {
        let mut net = Tiny::new(1);
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(
            SoftmaxCrossEntropy,
            Sgd::new(0.05),
            TrainConfig {
                checkpoint,
                curves,
                ..config(1, 1)
            },
        );
        let err = trainer.fit(&mut net, &train, &test).unwrap_err();
        // the directory is not there: the I/O error of creating a file in it
        let not_found = match &err {
            TrainError::Checkpoint(nn::weights::WeightsError::Io { source, .. })
            | TrainError::Curves(nn::train::PlotError::Io { source, .. }) => {
                source.kind() == std::io::ErrorKind::NotFound
            }
            _ => false,
        };
        assert!(not_found, "{err:?}");
        assert_eq!(net.params(), &before[..], "no epoch was trained");
        assert!(trainer.history.epochs.is_empty());
    }
}

#[test]
fn the_default_thread_count_is_the_same_on_every_machine() {
    // one per core would make a seed's weights depend on the machine
    assert_eq!(TrainConfig::new(3, 32).threads, 1);
}

#[test]
fn one_thread_per_core_resumes_on_the_checkpoints_count() {
    let (train, test) = digits();
    let tmp = TempDir::new("nn-train", "resume-threads");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let optimizer = || Sgd::new(0.05).momentum(0.9);

    let mut unbroken = Tiny::new(9);
    Trainer::new(SoftmaxCrossEntropy, optimizer(), config(2, 2))
        .fit(&mut unbroken, &train, &test)
        .unwrap();

    let mut first = Tiny::new(9);
    Trainer::new(
        SoftmaxCrossEntropy,
        optimizer(),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..config(1, 2)
        },
    )
    .fit(&mut first, &train, &test)
    .unwrap();

    // resumed with "one per core": the 2 threads the checkpoint records
    let mut resumed = Tiny::new(1234);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), config(2, 0));
    trainer.resume(&mut resumed, &checkpoint).unwrap();
    assert_eq!(trainer.config.threads, 2);
    trainer.fit(&mut resumed, &train, &test).unwrap();
    assert_eq!(resumed.params(), unbroken.params(), "bit for bit");
}

/// Random crops and flips of the digits, seeded.
fn augmentation() -> std::sync::Arc<nn::data::augment::Augmentation> {
    use nn::data::augment::{Augmentation, HorizontalFlip, RandomCrop};
    std::sync::Arc::new(
        Augmentation::new([1, 28, 28], 5)
            .then(RandomCrop::new(2))
            .then(HorizontalFlip::new(0.5)),
    )
}

#[test]
fn augmented_training_resumes_to_the_unbroken_result() {
    let (train, test) = digits();
    let train = every(&train, 4);
    let augmented = |epochs, checkpoint| TrainConfig {
        augment: Some(augmentation()),
        checkpoint,
        ..config(epochs, 2)
    };
    let optimizer = || Sgd::new(0.05).momentum(0.9);
    let mut unbroken = Tiny::new(9);
    Trainer::new(SoftmaxCrossEntropy, optimizer(), augmented(2, None))
        .fit(&mut unbroken, &train, &test)
        .unwrap();
    // the augmentation changes what is trained on
    let mut plain = Tiny::new(9);
    Trainer::new(SoftmaxCrossEntropy, optimizer(), config(2, 2))
        .fit(&mut plain, &train, &test)
        .unwrap();
    assert_ne!(plain.params(), unbroken.params());

    let tmp = TempDir::new("nn-train", "augmented-resume");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let mut first = Tiny::new(9);
    Trainer::new(
        SoftmaxCrossEntropy,
        optimizer(),
        augmented(1, Some(checkpoint.clone())),
    )
    .fit(&mut first, &train, &test)
    .unwrap();
    let mut resumed = Tiny::new(1);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer(), augmented(2, None));
    trainer.resume(&mut resumed, &checkpoint).unwrap();
    trainer.fit(&mut resumed, &train, &test).unwrap();
    assert_eq!(resumed.params(), unbroken.params(), "bit for bit");
}

#[test]
#[should_panic(
    expected = "the augmentation takes images of shape [3, 28, 28], 2352 floats, but the network's samples are 784"
)]
fn an_augmentation_of_another_shape_panics() {
    let (train, test) = digits();
    let config = TrainConfig {
        augment: Some(std::sync::Arc::new(nn::data::augment::Augmentation::new(
            [3, 28, 28],
            0,
        ))),
        ..config(1, 1)
    };
    let _ = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), config).fit(
        &mut Tiny::new(1),
        &train,
        &test,
    );
}

nn::network! {
    /// Tiny with a wider hidden layer.
    struct Wider<[1, 28, 28]> {
        conv(4, kernel = 3, stride = 2, pad = (1, 0, 1, 0)), relu,
        max_pool(2),
        flatten, dense(48), relu, dense(10),
    }
}

#[test]
fn a_checkpoint_of_another_network_is_refused_with_what_differs() {
    let (train, test) = digits();
    let train = every(&train, 8);
    let tmp = TempDir::new("nn-train", "other-network");
    let checkpoint = tmp.0.join("checkpoint.safetensors");
    let first = TrainConfig {
        checkpoint: Some(checkpoint.clone()),
        ..config(1, 1)
    };
    Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), first)
        .fit(&mut Tiny::new(1), &train, &test)
        .unwrap();
    let mut other = Wider::new(2);
    let before = other.params().to_vec();
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.05), config(2, 1));
    let err = trainer.resume(&mut other, &checkpoint).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            TrainError::Checkpoint(nn::weights::WeightsError::OtherNetwork { .. })
        ),
        "{err:?}"
    );
    assert!(
        message.contains("written from `Tiny`, which differs from `Wider`"),
        "{message}"
    );
    assert!(message.contains("dense"), "{message}");
    assert_eq!(other.params(), before);
    assert!(trainer.history.epochs.is_empty());
}
