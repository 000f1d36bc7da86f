//! Runs training steps of LeNet-5 (or VGG-mini, ResNet-20, or the row-LSTM
//! and row-GRU of the speed figures) on a fixed batch, for a profiler:
//! `cargo build --release --example profile_step && perf record
//! target/release/examples/profile_step 300 [lenet|vgg|resnet20|lstm|gru]
//! [trainer THREADS | infer | latency THREADS]`.
//! With `trainer`, the steps go through `nn::train::Trainer` (batch 64, SGD
//! with momentum, random data) on THREADS threads, as in the speed figures;
//! with `infer`, `predict` on batches of 64 in evaluation mode; with
//! `latency`, one sample at a time through `nn::parallel::Replicas` on
//! THREADS threads (the batch-1 latency of the speed figures), each sample
//! shared out among the threads or not as `Replicas` measures best, or as
//! `NN_SAMPLE_SPLIT=shared` or `alone` says.
use nn::batch::Batching;
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Sgd;
use nn::prelude::*;
use nn::train::{TrainConfig, Trainer};

nn::network! {
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    pub struct VggMini<[3, 32, 32]> {
        conv(32, kernel = 3, pad = 1), relu, conv(32, kernel = 3, pad = 1), relu, max_pool(2),
        conv(64, kernel = 3, pad = 1), relu, conv(64, kernel = 3, pad = 1), relu, max_pool(2),
        flatten, dense(256), relu, dense(10),
    }
}

nn::network! {
    pub struct LstmRows<[28, 28]> { lstm(128), dense(10) }
}

nn::network! {
    pub struct GruRows<[28, 28]> { gru(128), dense(10) }
}

#[path = "nets/resnet20.rs"]
mod resnet20;
use resnet20::ResNet20;

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);
    let net = args.next().unwrap_or_default();
    let mode = args.next();
    let trainer = match mode.as_deref() {
        Some("trainer" | "latency") => Some(args.next().and_then(|t| t.parse().ok()).unwrap_or(1)),
        _ => None,
    };
    match (net.as_str(), mode.as_deref(), trainer) {
        ("vgg", Some("latency"), Some(threads)) => latency::<VggMini>(steps, threads),
        ("resnet20", Some("latency"), Some(threads)) => latency::<ResNet20>(steps, threads),
        ("lstm", Some("latency"), Some(threads)) => latency::<LstmRows>(steps, threads),
        ("gru", Some("latency"), Some(threads)) => latency::<GruRows>(steps, threads),
        (_, Some("latency"), Some(threads)) => latency::<LeNet5>(steps, threads),
        ("vgg", Some("infer"), _) => infer::<VggMini>(steps),
        ("resnet20", Some("infer"), _) => infer::<ResNet20>(steps),
        ("lstm", Some("infer"), _) => infer::<LstmRows>(steps),
        ("gru", Some("infer"), _) => infer::<GruRows>(steps),
        (_, Some("infer"), _) => infer::<LeNet5>(steps),
        ("vgg", _, None) => run::<VggMini>(steps),
        ("resnet20", _, None) => run::<ResNet20>(steps),
        ("lstm", _, None) => run::<LstmRows>(steps),
        ("gru", _, None) => run::<GruRows>(steps),
        (_, _, None) => run::<LeNet5>(steps),
        ("vgg", _, Some(threads)) => train::<VggMini, 3072>(steps, threads),
        ("resnet20", _, Some(threads)) => train::<ResNet20, 3072>(steps, threads),
        ("lstm", _, Some(threads)) => train::<LstmRows, 784>(steps, threads),
        ("gru", _, Some(threads)) => train::<GruRows, 784>(steps, threads),
        (_, _, Some(threads)) => train::<LeNet5, 784>(steps, threads),
    }
}

fn infer<N: Network>(steps: usize) {
    let mut net = N::with_seed(1);
    net.eval();
    let x = nn_runtime::testing::random_vec(64 * N::INPUT_LEN, 5);
    let mut out = vec![0.0f32; 64 * N::OUTPUT_LEN];
    let start = std::time::Instant::now();
    for _ in 0..steps {
        net.predict(&x, &mut out);
        std::hint::black_box(&out);
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    println!(
        "{}: {ms:.3} ms per inference batch of 64 ({:.0} images/s)",
        N::NAME,
        64e3 / ms
    );
}

fn latency<N: Network + Send>(steps: usize, threads: usize) {
    let mut net = N::with_seed(1);
    net.eval();
    let mut replicas = nn::parallel::Replicas::new(&net, threads);
    match std::env::var("NN_SAMPLE_SPLIT").as_deref() {
        Ok("shared") => replicas.set_sample_split(nn::parallel::SampleSplit::Shared),
        Ok("alone") => replicas.set_sample_split(nn::parallel::SampleSplit::Alone),
        _ => {}
    }
    let x = nn_runtime::testing::random_vec(N::INPUT_LEN, 5);
    let mut out = vec![0.0f32; N::OUTPUT_LEN];
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = std::time::Instant::now();
        replicas.predict(&x, &mut out);
        std::hint::black_box(&out);
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}: one sample on {threads} thread(s): median {:.1} µs, 10th percentile {:.1} µs",
        N::NAME,
        times[steps / 2],
        times[steps / 10]
    );
}

fn train<N: Network + TakesInput<LEN> + Send, const LEN: usize>(steps: usize, threads: usize) {
    let samples = steps * 64;
    let data = Dataset::<LEN>::new(
        nn_runtime::testing::random_vec(samples * LEN, 1),
        (0..samples as u32).map(|i| i % 10).collect(),
        10,
    )
    .unwrap();
    let small = Dataset::<LEN>::new(nn_runtime::testing::random_vec(LEN, 2), vec![0], 10).unwrap();
    let config = TrainConfig {
        threads,
        batching: Batching::new(64),
        ..TrainConfig::new(1, 64)
    };
    let mut net = N::with_seed(1);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01).momentum(0.9), config);
    let history = trainer.fit(&mut net, &data, &small).unwrap();
    println!(
        "{} through the trainer, {threads} thread(s): {:.0} images/s",
        N::NAME,
        history.epochs[0].images_per_second
    );
}

fn run<N: Network>(steps: usize) {
    let mut net = N::with_seed(1);
    let x = nn_runtime::testing::random_vec(64 * N::INPUT_LEN, 5);
    let dy = nn_runtime::testing::random_vec(64 * N::OUTPUT_LEN, 6);
    let start = std::time::Instant::now();
    for _ in 0..steps {
        net.zero_grad();
        net.forward(&x);
        net.backward_params(&dy);
        let (p, g) = net.params_and_grads();
        p.iter_mut().zip(g).for_each(|(p, g)| *p -= 1e-4 * g);
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    println!(
        "{}: {ms:.3} ms per step of 64 ({:.0} images/s)",
        N::NAME,
        64e3 / ms
    );
}
