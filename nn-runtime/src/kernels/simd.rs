//! Runs a loop compiled for the CPU's vector unit.
//!
//! The crate is built for the baseline of its target (SSE2 on x86-64), so
//! the loops around the hand-written GEMM microkernels (pooling, ReLU,
//! padding copies, bias sums, optimizer updates) would use 4-lane SSE
//! whatever the machine. `vectorized(f)` calls `f` inside a function
//! compiled with AVX2 and FMA, when the CPU has them (checked at run time),
//! so that code inlined into it is vectorised 8 lanes wide. Callers mark the
//! closure `#[inline(always)]`, and the kernels it calls `#[inline(always)]`:
//! only inlined code takes the wrapper's target features. (An optimizer's
//! update loop left as a function of its own called `fmaf` for every
//! `f32::mul_add`: LeNet-5 trained at 26,100 images/s that way, 31,900 with
//! the loop inlined.)
//!
//! Why not AVX-512 here too, as in the GEMM microkernels: compiled for it,
//! the same loops measured slower on this project's AVX-512 machine
//! (VGG-mini's training step 66 ms against 59 with AVX2; its largest conv's
//! backward pass 15.4 ms against 12.3, LeNet-5's first max pooling 137 µs
//! against 48), the compiler turning strided loops into gathers and
//! masked remainders.
//!
//! Results do not change: the compiler does not reorder floating-point
//! operations (no fast-math), and `f32::mul_add` is a fused multiply-add
//! with or without an FMA instruction.
#![allow(unsafe_code)]

/// Calls `f`, compiled with AVX2 and FMA when the CPU has them.
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU has these features, checked just above.
        return unsafe { avx2(f) };
    }
    f()
}
