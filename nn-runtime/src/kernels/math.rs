//! `exp`, the logistic sigmoid and `tanh` for loops that the compiler
//! vectorises: branch-free, with no call into the C library.
//!
//! Written by hand because the standard library's `f32::exp` and
//! `f32::tanh` are calls into libm, one value at a time: a row-LSTM of 128
//! trained on the digits spent 48 % of its time in `expm1f`, `tanhf` and
//! `expf`. These follow Cephes' single-precision `expf` and `tanhf`
//! (Moshier): a range reduction by `ln 2` and a degree-5 polynomial for
//! `exp`; an odd polynomial below `|x| = 0.625` and `1 − 2/(e^{2|x|} + 1)`
//! above for `tanh`. Each is within a few units in the last place of the
//! exact value (the tests hold them to 4e-7 relative, plus 1e-37 absolute
//! where `exp` and the sigmoid underflow); PyTorch's own vectorised
//! versions differ from libm's by as much.

/// `e^x`, for `x` clamped to `±88.376` (above, the largest finite result;
/// below, 0).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const HI: f32 = 88.376_26;
    const LOG2E: f32 = core::f32::consts::LOG2_E;
    // ln 2 in two parts, so that n·C1 is exact
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    let x = x.clamp(-HI, HI);
    let n = (x * LOG2E + 0.5).floor();
    let r = x - n * C1 - n * C2;
    let p = 1.987_569_2e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * (r * r) + r + 1.0;
    // 2^n from its exponent bits: n is in −127..=127, and 2^−127 (the
    // bits of 0) only where e^x is below every normal float. n's integer
    // from the low bits of n + 1.5·2²³ (exact: the floats there are the
    // integers), not `n as i32`, whose saturating conversion the compiler
    // left one lane at a time (a third of an LSTM's inference)
    const MAGIC: f32 = 12_582_912.0;
    let n = (n + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits());
    let scale = f32::from_bits(n.wrapping_add(127) << 23);
    y * scale
}

/// `1 / (1 + e^−x)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x`.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let p = -5.704_988_7e-3;
    let p = p * z + 2.063_909e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328e-1;
    let small = p * z * x + x;
    let large = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    // odd: the sign of x, also for −0
    if a < 0.625 { small } else { large }.copysign(x)
}

/// `sigmoid` of every value in place.
#[inline(always)]
pub fn sigmoid_in_place(values: &mut [f32]) {
    if wide::map(values, sigmoid) {
        return;
    }
    for v in values {
        *v = sigmoid(*v);
    }
}

/// `tanh` of every value in place.
#[inline(always)]
pub fn tanh_in_place(values: &mut [f32]) {
    if wide::map(values, tanh) {
        return;
    }
    for v in values {
        *v = tanh(*v);
    }
}

/// The in-place loops compiled for AVX-512, sixteen values a register
/// (not AVX2's eight, as `kernels::simd::vectorized` compiles the other
/// loops): a row-LSTM of 128 on batches of 64 in evaluation mode,
/// 17,600–17,900 → 18,860–19,000 samples/s. These loops are contiguous, with
/// none of the strided accesses that made AVX-512 slower elsewhere.
mod wide {
    #![allow(unsafe_code)]

    /// `f` of every value in place, compiled for AVX-512 when the CPU has
    /// it: whether it had (and the values are done).
    #[inline(always)]
    pub fn map(values: &mut [f32], f: impl Fn(f32) -> f32) -> bool {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn run(values: &mut [f32], f: impl Fn(f32) -> f32) {
                for v in values {
                    *v = f(*v);
                }
            }
            // SAFETY: the CPU has AVX-512F, checked just above.
            unsafe { run(values, f) };
            return true;
        }
        let _ = (values, f);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 97th float from −100 to 100, and the special values.
    fn grid() -> Vec<f32> {
        let mut xs: Vec<f32> = (-2_000_000..=2_000_000)
            .step_by(97)
            .map(|i| i as f32 * 5e-5)
            .collect();
        xs.extend([
            0.0, -0.0, 1e-30, -1e-30, 0.625, -0.625, 88.0, -88.0, 89.0, -89.0, 1e9, -1e9,
        ]);
        xs
    }

    fn check(name: &str, got: impl Fn(f32) -> f32, want: impl Fn(f64) -> f64, floor: f64) {
        for x in grid() {
            let (g, w) = (got(x) as f64, want(x as f64));
            let err = (g - w).abs();
            assert!(
                err <= 4e-7 * w.abs() + floor,
                "{name}({x}) = {g}, exactly {w} (error {err:e})"
            );
        }
    }

    #[test]
    fn exp_is_within_a_few_ulp() {
        // below e^−87.3 the results are subnormal or zero
        let hi = 88.376_26f32 as f64;
        check("exp", exp, |x| x.clamp(-hi, hi).exp(), 1e-37);
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(1000.0).is_finite() && exp(-1000.0) == 0.0);
        assert!(exp(f32::INFINITY).is_finite() && exp(f32::NEG_INFINITY) == 0.0);
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_and_tanh_are_within_a_few_ulp() {
        check("sigmoid", sigmoid, |x| 1.0 / (1.0 + (-x).exp()), 1e-37);
        check("tanh", tanh, f64::tanh, 1e-7 * f64::EPSILON);
        assert_eq!(
            (sigmoid(0.0), tanh(0.0), tanh(-0.0).to_bits()),
            (0.5, 0.0, (-0.0f32).to_bits())
        );
        assert_eq!((sigmoid(200.0), sigmoid(-200.0) < 1e-38), (1.0, true));
        assert_eq!((tanh(20.0), tanh(-20.0)), (1.0, -1.0));
        assert!(sigmoid(f32::NAN).is_nan() && tanh(f32::NAN).is_nan());
        // the in-place loops (sixteen lanes where the CPU has AVX-512, with
        // a tail) give each value's result, bit for bit
        let xs: Vec<f32> = grid().into_iter().step_by(331).chain([f32::NAN]).collect();
        assert!(!xs.len().is_multiple_of(16));
        for (f, in_place) in [
            (
                sigmoid as fn(f32) -> f32,
                sigmoid_in_place as fn(&mut [f32]),
            ),
            (tanh, tanh_in_place),
        ] {
            let mut ys = xs.clone();
            in_place(&mut ys);
            for (&x, &y) in xs.iter().zip(&ys) {
                let want = f(x);
                assert!(
                    y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                    "at {x}: {y} against {want}"
                );
            }
        }
    }
}
