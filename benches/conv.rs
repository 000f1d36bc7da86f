//! Kernels side by side in one run: our GEMM against `matrixmultiply` and a
//! naive loop at the products LeNet-5 makes, the conv kernel against im2col
//! with our GEMM and a naive direct convolution (LeNet-5's, VGG-mini's and
//! ResNet-20's geometries), and a whole LeNet-5 training step.
//!
//! `cargo bench --bench conv` (criterion reports FLOP/s for each, so the
//! ratios read directly off one run). `conv2d_training` times ResNet-20's
//! three 3×3 convs over a batch of 64 in training's three passes (forward,
//! weight gradient, input gradient), each in the same multiply-adds/s of
//! the direct convolution, so that the passes compare directly:
//! `cargo bench --bench conv -- conv2d_training`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nn::prelude::*;
use nn_runtime::kernels::conv2d::{self, Geometry};
use nn_runtime::kernels::gemm::{gemm, Mat};
use nn_runtime::testing::random_vec;

mod common;
use common::naive_conv;

fn sgemm_matrixmultiply(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    // SAFETY: a is m×k, b is k×n, c is m×n, all row-major and in bounds.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn naive_gemm(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    c.fill(0.0);
    for i in 0..m {
        for p in 0..k {
            let x = a[i * k + p];
            for j in 0..n {
                c[i * n + j] += x * b[p * n + j];
            }
        }
    }
}

fn bench_gemm(cr: &mut Criterion) {
    let mut group = cr.benchmark_group("gemm");
    // conv1 and conv2 of LeNet-5 as im2col products, dense 400→120 on a
    // batch of 64, and a large square product for the machine's peak
    for &(m, k, n) in &[
        (6, 25, 784),
        (16, 150, 100),
        (64, 400, 120),
        (256, 256, 256),
    ] {
        let (a, b) = (random_vec(m * k, 1), random_vec(k * n, 2));
        let mut c = vec![0.0; m * n];
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        let id = format!("m{m}_k{k}_n{n}");
        group.bench_with_input(BenchmarkId::new("ours", &id), &(), |bch, _| {
            bch.iter(|| {
                gemm(
                    Mat::new(black_box(&a), m, k),
                    Mat::new(black_box(&b), k, n),
                    &mut c,
                    false,
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("matrixmultiply", &id), &(), |bch, _| {
            bch.iter(|| sgemm_matrixmultiply(black_box(&a), black_box(&b), &mut c, m, k, n))
        });
        if m * k * n <= 2_000_000 {
            group.bench_with_input(BenchmarkId::new("naive", &id), &(), |bch, _| {
                bch.iter(|| naive_gemm(black_box(&a), black_box(&b), &mut c, m, k, n))
            });
        }
    }
    group.finish();
}

/// A 3×3 conv padded by 1, `c` channels in and out on `hw`²: VGG-mini's
/// second, and ResNet-20's (16, 32 and 64 channels on 32², 16² and 8²).
fn same_3x3(c: usize, hw: usize) -> Geometry {
    Geometry {
        c,
        h: hw,
        w: hw,
        oc: c,
        oh: hw,
        ow: hw,
        kh: 3,
        kw: 3,
        sh: 1,
        sw: 1,
        pt: 1,
        pb: 1,
        pl: 1,
        pr: 1,
    }
}

fn bench_conv(cr: &mut Criterion) {
    let mut group = cr.benchmark_group("conv2d_forward");
    let lenet1 = Geometry {
        c: 1,
        h: 28,
        w: 28,
        oc: 6,
        oh: 28,
        ow: 28,
        kh: 5,
        kw: 5,
        sh: 1,
        sw: 1,
        pt: 2,
        pb: 2,
        pl: 2,
        pr: 2,
    };
    let lenet2 = Geometry {
        c: 6,
        h: 14,
        w: 14,
        oc: 16,
        oh: 10,
        ow: 10,
        kh: 5,
        kw: 5,
        sh: 1,
        sw: 1,
        pt: 0,
        pb: 0,
        pl: 0,
        pr: 0,
    };
    // VGG-mini's second conv, and ResNet-20's three stages
    let (vgg2, resnet) = (same_3x3(32, 32), same_3x3);
    for (name, g) in [
        ("c1_h28_w28_k5_p2", lenet1),
        ("c6_h14_w14_k5", lenet2),
        ("c32_h32_w32_k3_p1", vgg2),
        ("c16_h32_w32_k3_p1", resnet(16, 32)),
        ("c32_h16_w16_k3_p1", resnet(32, 16)),
        ("c64_h8_w8_k3_p1", resnet(64, 8)),
    ] {
        let w = random_vec(g.oc * g.patch_len(), 3);
        let x = random_vec(g.in_len(), 4);
        let mut y = vec![0.0; g.out_len()];
        let mut scratch = vec![0.0; g.scratch_len()];
        group.throughput(Throughput::Elements(
            (2 * g.out_len() * g.patch_len()) as u64,
        ));
        group.bench_with_input(BenchmarkId::new("ours", name), &(), |bch, _| {
            bch.iter(|| {
                conv2d::forward(
                    &g,
                    1,
                    black_box(&w),
                    &[],
                    black_box(&x),
                    (&mut y, g.out_len()),
                    &mut scratch,
                )
            })
        });
        // the patches copied out and our GEMM: what CPUs without the
        // in-place kernels run
        let mut col = vec![0.0; g.patch_len() * g.positions()];
        group.bench_with_input(BenchmarkId::new("im2col_gemm", name), &(), |bch, _| {
            bch.iter(|| {
                conv2d::im2col(&g, black_box(&x), &mut col);
                let (k, p) = (g.patch_len(), g.positions());
                gemm(Mat::new(&w, g.oc, k), Mat::new(&col, k, p), &mut y, false)
            })
        });
        group.bench_with_input(BenchmarkId::new("naive", name), &(), |bch, _| {
            bch.iter(|| naive_conv(&g, black_box(&w), black_box(&x), &mut y))
        });
    }
    group.finish();
}

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

/// ResNet-20's 3×3 convs (16, 32 and 64 channels on 32², 16² and 8²) over
/// a batch of 64: the forward pass, the weight gradient alone (the first
/// conv's backward, which needs no input gradient) and the whole backward
/// pass, all three by Winograd's algorithm where the CPU has the fast
/// kernels.
fn bench_conv_training(cr: &mut Criterion) {
    const BATCH: usize = 64;
    let mut group = cr.benchmark_group("conv2d_training");
    group.sample_size(20);
    for (c, hw) in [(16, 32), (32, 16), (64, 8)] {
        let g = same_3x3(c, hw);
        let name = format!("c{c}_h{hw}_w{hw}_k3_p1_batch64");
        let w = random_vec(g.oc * g.patch_len(), 7);
        let x = random_vec(BATCH * g.in_len(), 8);
        let dy = random_vec(BATCH * g.out_len(), 9);
        let mut y = vec![0.0; BATCH * g.out_len()];
        let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; c]);
        let mut scratch = vec![0.0; g.scratch_len()];
        // multiply-adds of the direct convolution, as FLOPs
        group.throughput(Throughput::Elements(
            (2 * BATCH * g.out_len() * g.patch_len()) as u64,
        ));
        group.bench_with_input(BenchmarkId::new("forward", &name), &(), |bch, _| {
            bch.iter(|| {
                let output = (&mut y[..], g.out_len());
                conv2d::forward(&g, BATCH, black_box(&w), &[], &x, output, &mut scratch)
            })
        });
        group.bench_with_input(BenchmarkId::new("weight_grad", &name), &(), |bch, _| {
            bch.iter(|| {
                let dy = (black_box(&dy[..]), g.out_len());
                conv2d::backward(
                    &g,
                    BATCH,
                    &w,
                    &x,
                    dy,
                    (None, false),
                    &mut dw,
                    &mut db,
                    &mut scratch,
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("backward", &name), &(), |bch, _| {
            bch.iter(|| {
                let dy = (black_box(&dy[..]), g.out_len());
                let dx = (Some(&mut dx[..]), true);
                conv2d::backward(&g, BATCH, &w, &x, dy, dx, &mut dw, &mut db, &mut scratch)
            })
        });
    }
    group.finish();
}

fn bench_train_step(cr: &mut Criterion) {
    let mut group = cr.benchmark_group("lenet5");
    const BATCH: usize = 64;
    let mut net = LeNet5::new(1);
    let x = random_vec(BATCH * 784, 5);
    let dy = random_vec(BATCH * 10, 6);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("train_step_batch64", |bch| {
        bch.iter(|| {
            net.zero_grad();
            net.forward(black_box(&x));
            net.backward(black_box(&dy));
            let (p, g) = net.params_and_grads();
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= 1e-4 * g);
        })
    });
    group.bench_function("inference_batch1", |bch| {
        bch.iter(|| net.forward(black_box(&x[..784]))[0])
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_gemm,
    bench_conv,
    bench_conv_training,
    bench_train_step
);
criterion_main!(benches);
