//! Compute kernels over flat slices, one op per file.
//!
//! Layouts are PyTorch's: activations `[B, C, H, W]` (batch first), conv
//! weights `[OC, C, KH, KW]`, dense weights `[O, I]`. Every `backward`
//! *accumulates* into its gradient buffers; callers zero them once per step.

pub mod activation;
pub mod conv2d;
pub mod dense;
pub mod dropout;
pub mod gemm;
pub mod math;
pub mod norm;
pub mod pool;
pub mod recurrent;
pub mod simd;
pub mod transpose;
pub mod winograd;

/// How many partial sums [`sum`] and batch norm's sums keep: four 8-float
/// registers, so that four additions are in flight rather than waiting on
/// one another (a plain `.sum()` is one dependency chain, four cycles an
/// element).
pub const SUM_LANES: usize = 32;

/// `s` as a whole chunk of [`SUM_LANES`] values. Written this way (rather
/// than indexing the chunk's slice), summing loops compile to
/// whole-register loads and adds; indexing two zipped chunk slices, batch
/// norm's backward sums compiled to single-float loads and shuffles, the
/// hottest line of batch norm under `perf`.
#[inline(always)]
pub fn lanes(s: &[f32]) -> &[f32; SUM_LANES] {
    s.try_into().expect("chunks of SUM_LANES values")
}

/// Sum of `values` in [`SUM_LANES`] partial sums.
#[inline(always)]
pub fn sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; SUM_LANES];
    let chunks = values.chunks_exact(SUM_LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        let chunk = lanes(chunk);
        for i in 0..SUM_LANES {
            acc[i] += chunk[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}
