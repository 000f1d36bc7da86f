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

/// Sum of `values` with 16 independent partial sums, so the loop vectorises
/// (a plain `.sum()` is one dependency chain, four cycles an element).
#[inline(always)]
pub fn sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = values.chunks_exact(16);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}
