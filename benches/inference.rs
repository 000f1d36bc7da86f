//! ResNet-20 inference in evaluation mode, 64 samples: one `forward` pass
//! over the batch, `forward` a sample at a time, and `predict` (a sample
//! at a time, each conv applying the batch norm and ReLU after it). The
//! first against the second is what going a sample at a time gains; the
//! second against the third, what folding batch norm and ReLU into the
//! conv gains.
//!
//! LeNet-5 in evaluation mode, one sample's class and a batch of 64
//! outputs, through the slice entry points and the typed ones: the same
//! work, so the same time.
//!
//! `cargo bench --bench inference` (throughput in images).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use nn::prelude::*;
use nn_runtime::testing::random_vec;

#[path = "../examples/nets/resnet20.rs"]
mod resnet20;
use resnet20::ResNet20;

const BATCH: usize = 64;

fn bench_inference(c: &mut Criterion) {
    let mut g = c.benchmark_group("resnet20_eval_batch64");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut net = ResNet20::with_seed(1);
    // running statistics of its own
    net.forward(&random_vec(BATCH * ResNet20::INPUT_LEN, 1));
    net.eval();
    let x = random_vec(BATCH * ResNet20::INPUT_LEN, 2);
    let mut out = vec![0.0f32; BATCH * ResNet20::OUTPUT_LEN];
    g.bench_function("forward_whole_batch", |b| {
        b.iter(|| black_box(net.forward(black_box(&x))[0]))
    });
    g.bench_function("forward_a_sample_at_a_time", |b| {
        b.iter(|| {
            for sample in x.chunks_exact(ResNet20::INPUT_LEN) {
                black_box(net.forward(black_box(sample))[0]);
            }
        })
    });
    g.bench_function("predict", |b| {
        b.iter(|| {
            net.predict(black_box(&x), &mut out);
            black_box(out[0])
        })
    });
    g.finish();
}

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

fn bench_typed(c: &mut Criterion) {
    let mut net = LeNet5::with_seed(1);
    net.eval();
    let flat = random_vec(BATCH * LeNet5::INPUT_LEN, 3);
    let samples: Vec<[f32; 784]> = flat
        .chunks_exact(784)
        .map(|s| s.try_into().unwrap())
        .collect();
    let mut g = c.benchmark_group("lenet5_eval_one_class");
    g.throughput(Throughput::Elements(1));
    g.bench_function("slice", |b| {
        b.iter(|| black_box(net.predict_class(black_box(&flat[..784]))))
    });
    g.bench_function("typed", |b| {
        b.iter(|| black_box(net.predict_sample_class(black_box(&samples[0]))))
    });
    g.finish();
    let mut g = c.benchmark_group("lenet5_eval_batch64");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut out = vec![0.0f32; BATCH * 10];
    g.bench_function("slice", |b| {
        b.iter(|| {
            net.predict(black_box(&flat), &mut out);
            black_box(out[0])
        })
    });
    let mut typed = vec![[0.0f32; 10]; BATCH];
    g.bench_function("typed", |b| {
        b.iter(|| {
            net.predict_samples(black_box(&samples), &mut typed);
            black_box(typed[0][0])
        })
    });
    g.finish();
}

criterion_group!(benches, bench_inference, bench_typed);
criterion_main!(benches);
