//! ResNet-20 inference in evaluation mode, 64 samples: one `forward` pass
//! over the batch, `forward` a sample at a time, and `predict` (a sample
//! at a time, each conv applying the batch norm and ReLU after it). The
//! first against the second is what going a sample at a time gains; the
//! second against the third, what folding batch norm and ReLU into the
//! conv gains.
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

criterion_group!(benches, bench_inference);
criterion_main!(benches);
