//! Compute kernels over flat slices, one op per file.
//!
//! Layouts are PyTorch's: activations `[B, C, H, W]` (batch first), conv
//! weights `[OC, C, KH, KW]`, dense weights `[O, I]`. Every `backward`
//! *accumulates* into its gradient buffers; callers zero them once per step.

pub mod activation;
pub mod conv2d;
pub mod dense;
pub mod gemm;
pub mod pool;
