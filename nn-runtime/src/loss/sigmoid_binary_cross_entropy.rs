//! Sigmoid binary cross-entropy from logits: sigmoid and binary cross-entropy
//! fused, for each of the `B·N` logits `x` with its target `t ∈ [0, 1]`.
//!
//! ```text
//! ℓ(x, t)  = −[t·ln σ(x) + (1 − t)·ln(1 − σ(x))]
//!          = max(x, 0) − x·t + ln(1 + e^(−|x|))      (the form computed: no overflow)
//! L        = (1 / (B·N)) · Σ_i ℓ(x_i, t_i)
//! ∂L/∂x_i  = (σ(x_i) − t_i) / (B·N)
//! ```
//!
//! `σ(x)` is computed as `1 / (1 + e^(−x))` for `x ≥ 0` and `e^x / (1 + e^x)`
//! otherwise, so neither form overflows.
//!
//! PyTorch: [`nn.BCEWithLogitsLoss()`](https://pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html)
//! (reduction `'mean'`, no weights, no `pos_weight`).

use super::{check_elementwise, Loss};

/// Sigmoid binary cross-entropy from logits, like PyTorch's
/// `nn.BCEWithLogitsLoss()`.
///
/// Per element, `ℓ = max(x, 0) − x·t + ln(1 + e^(−|x|))`, the stable form of
/// `−[t·ln σ(x) + (1 − t)·ln(1 − σ(x))]`. Targets: one `f32` per output,
/// normally in `[0, 1]` (soft labels allowed; the range is not checked, as in
/// PyTorch). Reduction: mean over all `B·N` elements. Gradient:
/// `(σ(x) − t) / (B·N)`.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::{Loss, SigmoidBinaryCrossEntropy};
///
/// let mut d = [0.0; 2];
/// let loss = SigmoidBinaryCrossEntropy.loss(&[0.0, 0.0], &[1.0, 0.25], &mut d);
/// assert!((loss - std::f32::consts::LN_2).abs() < 1e-7); // ln 2 whatever t is, at x = 0
/// assert_eq!(d, [-0.25, 0.125]); // (σ(0) − t) / 2
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigmoidBinaryCrossEntropy;

/// `σ(x) = 1 / (1 + e^−x)` without overflow for large `|x|`.
fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Loss for SigmoidBinaryCrossEntropy {
    type Target = f32;
    type Metrics = crate::metrics::MultiLabelMetrics;

    fn loss(&self, outputs: &[f32], targets: &[f32], d_outputs: &mut [f32]) -> f32 {
        check_elementwise("SigmoidBinaryCrossEntropy", outputs, targets, d_outputs);
        let inv_count = 1.0 / outputs.len() as f64;
        let mut total = 0.0f64;
        for ((d, &x), &t) in d_outputs.iter_mut().zip(outputs).zip(targets) {
            let (x, t) = (x as f64, t as f64);
            // max(x, 0) − x·t + ln(1 + e^−|x|); `x * t` keeps a NaN logit NaN
            total += x.max(0.0) - x * t + (-x.abs()).exp().ln_1p();
            *d = ((sigmoid(x) - t) * inv_count) as f32;
        }
        (total * inv_count) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradient_check;
    use super::*;
    use crate::testing::random_vec;

    /// Textbook `−[t·ln σ(x) + (1 − t)·ln(1 − σ(x))]`, averaged; for moderate
    /// logits only.
    fn reference(x: &[f64], t: &[f32]) -> f64 {
        x.iter()
            .zip(t)
            .map(|(&x, &t)| {
                let s = 1.0 / (1.0 + (-x).exp());
                let t = t as f64;
                -(t * s.ln() + (1.0 - t) * (1.0 - s).ln())
            })
            .sum::<f64>()
            / x.len() as f64
    }

    /// Targets cycling through 0, 1 and fractions.
    fn targets(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| [0.0, 1.0, 0.3, 0.85, 0.5][i % 5])
            .collect()
    }

    #[test]
    fn hand_computed_values() {
        // x = 0, t = 1: ln 2.  x = 2, t = 0: 2 + ln(1 + e^−2).
        let mut d = [f32::NAN; 2];
        let loss = SigmoidBinaryCrossEntropy.loss(&[0.0, 2.0], &[1.0, 0.0], &mut d);
        assert!((loss - 1.410_037_6).abs() < 1e-6, "{loss}");
        let want = [(0.5 - 1.0) / 2.0, 0.880_797_1 / 2.0];
        for (g, w) in d.iter().zip(want) {
            assert!((g - w).abs() < 1e-7, "{d:?}");
        }
    }

    #[test]
    fn target_equal_to_sigmoid_has_zero_gradient() {
        let mut d = [f32::NAN; 1];
        SigmoidBinaryCrossEntropy.loss(&[0.0], &[0.5], &mut d);
        assert_eq!(d, [0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (b, n, scale, seed) in [
            (5, 7, 2.0, 1),
            (5, 1, 1.0, 2),
            (1, 3, 4.0, 3),
            (3, 4, 0.5, 4),
        ] {
            let x: Vec<f32> = random_vec(b * n, seed).iter().map(|v| v * scale).collect();
            let t = targets(b * n);
            let mut d = vec![f32::NAN; b * n];
            let loss = SigmoidBinaryCrossEntropy.loss(&x, &t, &mut d);
            let what = format!("sigmoid bce b{b} n{n}");
            gradient_check::against_reference(&x, loss, &d, |x| reference(x, &t), &what);
            let mut scratch = vec![0.0; b * n];
            gradient_check::against_own_loss(
                &x,
                &d,
                |x| SigmoidBinaryCrossEntropy.loss(x, &t, &mut scratch),
                &what,
            );
        }
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for big in [80.0f32, 1000.0, 1e30] {
            let x = [big, -big, big, -big, big];
            let t = [1.0, 0.0, 0.0, 1.0, 0.5];
            let mut d = [f32::NAN; 5];
            let loss = SigmoidBinaryCrossEntropy.loss(&x, &t, &mut d);
            assert!(
                loss.is_finite() && d.iter().all(|g| g.is_finite()),
                "{big}: {loss} {d:?}"
            );
            // confident and right: 0; confident and wrong: big (twice); t = 0.5: big/2
            assert!(
                (loss - 2.5 * big / 5.0).abs() <= 1e-6 * big,
                "{big}: {loss}"
            );
            let want = [0.0, 0.0, 0.2, -0.2, 0.1];
            for (g, w) in d.iter().zip(want) {
                assert!((g - w).abs() < 1e-7, "{big}: {d:?}");
            }
        }
    }

    #[test]
    fn nan_logit_gives_nan_loss() {
        let mut d = [0.0; 2];
        for t in [0.0, 1.0] {
            let loss = SigmoidBinaryCrossEntropy.loss(&[f32::NAN, 1.0], &[t, t], &mut d);
            assert!(loss.is_nan(), "t = {t}: {loss}");
        }
    }

    #[test]
    #[should_panic(expected = "SigmoidBinaryCrossEntropy: 5 targets for 6 outputs")]
    fn target_length_mismatch_panics() {
        SigmoidBinaryCrossEntropy.loss(&[0.0; 6], &[0.0; 5], &mut [0.0; 6]);
    }

    #[test]
    #[should_panic(expected = "SigmoidBinaryCrossEntropy: d_outputs has 7 values for 6 outputs")]
    fn d_outputs_length_mismatch_panics() {
        SigmoidBinaryCrossEntropy.loss(&[0.0; 6], &[0.0; 6], &mut [0.0; 7]);
    }
}
