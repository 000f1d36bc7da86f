//! Softmax cross-entropy from logits: log-softmax and negative log-likelihood
//! fused, over each sample's `N` logits `x`, with label `y`.
//!
//! ```text
//! m       = max_j x_j
//! lse     = m + ln Σ_j e^(x_j − m)          (log-sum-exp, no overflow)
//! L_b     = lse − x_y = (m − x_y) + ln Σ_j e^(x_j − m)
//! L       = (1/B) · Σ_b L_b
//! ∂L/∂x_j = (softmax_j − [j = y]) / B,   softmax_j = e^(x_j − m) / Σ_k e^(x_k − m)
//! ```
//!
//! Subtracting the maximum keeps every exponent `≤ 0`, so logits of ±1000
//! (whose `e^x` overflows even f64) give finite results.
//!
//! PyTorch: [`nn.CrossEntropyLoss()`](https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html)
//! on logits with class-index targets (reduction `'mean'`, no weights, no
//! label smoothing).

use super::{check_classification, Loss};

/// Softmax cross-entropy from logits, like PyTorch's `nn.CrossEntropyLoss()`.
///
/// Per sample, `L_b = −ln softmax(x)_y = logsumexp(x) − x_y`, computed
/// stably (the maximum logit subtracted). Targets: one class label (`u32`)
/// per sample. Reduction: mean over the `B` samples. Gradient:
/// `(softmax(x) − onehot(y)) / B`.
///
/// A NaN or infinite logit gives a NaN loss, as in PyTorch.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::{Loss, SoftmaxCrossEntropy};
///
/// let mut d = [0.0; 2];
/// let loss = SoftmaxCrossEntropy.loss(&[0.0, 0.0], &[1], &mut d);
/// assert!((loss - std::f32::consts::LN_2).abs() < 1e-7); // −ln(1/2)
/// assert_eq!(d, [0.5, -0.5]); // softmax − onehot
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SoftmaxCrossEntropy;

impl Loss for SoftmaxCrossEntropy {
    type Target = u32;
    type Metrics = crate::metrics::ClassMetrics;

    fn loss(&self, outputs: &[f32], labels: &[u32], d_outputs: &mut [f32]) -> f32 {
        let n = check_classification("SoftmaxCrossEntropy", outputs, labels, d_outputs);
        let inv_b = 1.0 / labels.len() as f64;
        let mut total = 0.0f64;
        // loop over samples: logits x [N], gradient d [N]
        for ((x, d), &label) in outputs
            .chunks_exact(n)
            .zip(d_outputs.chunks_exact_mut(n))
            .zip(labels)
        {
            let y = label as usize;
            let max = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let sum_exp: f64 = x.iter().map(|&v| (v as f64 - max).exp()).sum();
            // −ln softmax_y = lse − x_y, with the large terms cancelled first
            total += (max - x[y] as f64) + sum_exp.ln();
            for (j, (dj, &xj)) in d.iter_mut().zip(x).enumerate() {
                let softmax = (xj as f64 - max).exp() / sum_exp;
                let onehot = if j == y { 1.0 } else { 0.0 };
                *dj = ((softmax - onehot) * inv_b) as f32;
            }
        }
        (total * inv_b) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradient_check;
    use super::*;
    use crate::testing::random_vec;

    /// Textbook `−ln(e^x_y / Σ e^x_j)`, averaged; for moderate logits only.
    fn reference(x: &[f64], labels: &[u32]) -> f64 {
        let n = x.len() / labels.len();
        let total: f64 = x
            .chunks(n)
            .zip(labels)
            .map(|(x, &y)| {
                let sum: f64 = x.iter().map(|v| v.exp()).sum();
                -(x[y as usize].exp() / sum).ln()
            })
            .sum();
        total / labels.len() as f64
    }

    fn labels(b: usize, n: usize) -> Vec<u32> {
        (0..b).map(|i| ((i * 5 + 3) % n) as u32).collect()
    }

    #[test]
    fn hand_computed_three_classes() {
        let mut d = [f32::NAN; 3];
        let loss = SoftmaxCrossEntropy.loss(&[1.0, 2.0, 3.0], &[2], &mut d);
        // ln(e + e² + e³) − 3
        assert!((loss - 0.407_605_96).abs() < 1e-7, "{loss}");
        let want = [0.090_030_57, 0.244_728_47, 0.665_240_96 - 1.0];
        for (g, w) in d.iter().zip(want) {
            assert!((g - w).abs() < 1e-7, "{d:?}");
        }
    }

    #[test]
    fn hand_computed_batch_mean() {
        // Sample 0: uniform over 2 classes, loss ln 2. Sample 1: loss ln(1 + e^−2).
        let mut d = [f32::NAN; 4];
        let loss = SoftmaxCrossEntropy.loss(&[0.0, 0.0, 3.0, 1.0], &[0, 0], &mut d);
        let l1 = (1.0f64 + (-2.0f64).exp()).ln();
        let want = (std::f64::consts::LN_2 + l1) / 2.0;
        assert!((loss as f64 - want).abs() < 1e-7, "{loss}");
        let p = 1.0 / (1.0 + 2.0f64.exp()); // softmax of the smaller logit
        let want_d = [-0.25, 0.25, (-p / 2.0) as f32, (p / 2.0) as f32];
        for (g, w) in d.iter().zip(want_d) {
            assert!((g - w).abs() < 1e-7, "{d:?}");
        }
    }

    #[test]
    fn one_class_has_zero_loss_and_gradient() {
        let mut d = [f32::NAN; 3];
        let loss = SoftmaxCrossEntropy.loss(&[5.0, -1000.0, 0.0], &[0, 0, 0], &mut d);
        assert_eq!(loss, 0.0);
        assert_eq!(d, [0.0; 3]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (b, n, scale, seed) in [
            (5, 7, 2.0, 1),
            (5, 3, 1.0, 2),
            (1, 2, 4.0, 3),
            (4, 10, 0.5, 4),
        ] {
            let x: Vec<f32> = random_vec(b * n, seed).iter().map(|v| v * scale).collect();
            let y = labels(b, n);
            let mut d = vec![f32::NAN; b * n];
            let loss = SoftmaxCrossEntropy.loss(&x, &y, &mut d);
            let what = format!("softmax cross-entropy b{b} n{n}");
            gradient_check::against_reference(&x, loss, &d, |x| reference(x, &y), &what);
            let mut scratch = vec![0.0; b * n];
            gradient_check::against_own_loss(
                &x,
                &d,
                |x| SoftmaxCrossEntropy.loss(x, &y, &mut scratch),
                &what,
            );
        }
    }

    #[test]
    fn each_sample_gradient_sums_to_zero() {
        let x = random_vec(6 * 9, 7);
        let mut d = vec![0.0; 6 * 9];
        SoftmaxCrossEntropy.loss(&x, &labels(6, 9), &mut d);
        for sample in d.chunks(9) {
            assert!(sample.iter().sum::<f32>().abs() < 1e-7, "{sample:?}");
        }
    }

    #[test]
    fn extreme_logits_stay_finite() {
        for big in [80.0f32, 1000.0, 1e30] {
            // B = 2, N = 3: label on the largest, then on the smallest logit
            let x = [big, -big, 0.0, big, -big, 0.0];
            let mut d = [f32::NAN; 6];
            let loss = SoftmaxCrossEntropy.loss(&x, &[0, 1], &mut d);
            assert!(
                loss.is_finite() && d.iter().all(|g| g.is_finite()),
                "{big}: {loss} {d:?}"
            );
            // sample 0 costs ≈ 0, sample 1 costs ≈ 2·big
            assert!((loss - big).abs() <= 1e-6 * big, "{big}: {loss}");
            let want = [0.0, 0.0, 0.0, 0.5, -0.5, 0.0];
            for (g, w) in d.iter().zip(want) {
                assert!((g - w).abs() < 1e-7, "{big}: {d:?}");
            }
        }
    }

    #[test]
    fn equal_huge_logits_give_uniform_softmax() {
        let mut d = [f32::NAN; 4];
        let loss = SoftmaxCrossEntropy.loss(&[1e4; 4], &[2], &mut d);
        assert!((loss - 4.0f32.ln()).abs() < 1e-6, "{loss}");
        assert_eq!(d, [0.25, 0.25, -0.75, 0.25]);
    }

    #[test]
    fn nan_logit_gives_nan_loss() {
        let mut d = [0.0; 3];
        assert!(SoftmaxCrossEntropy
            .loss(&[0.0, f32::NAN, 1.0], &[0], &mut d)
            .is_nan());
    }

    #[test]
    #[should_panic(
        expected = "SoftmaxCrossEntropy: label 7 of sample 1 is out of range for 7 classes"
    )]
    fn label_out_of_range_panics() {
        SoftmaxCrossEntropy.loss(&[0.0; 14], &[0, 7], &mut [0.0; 14]);
    }

    #[test]
    #[should_panic(expected = "SoftmaxCrossEntropy: 10 outputs do not split into 3 samples")]
    fn ragged_outputs_panic() {
        SoftmaxCrossEntropy.loss(&[0.0; 10], &[0, 0, 0], &mut [0.0; 10]);
    }

    #[test]
    #[should_panic(expected = "SoftmaxCrossEntropy: d_outputs has 9 values for 10 outputs")]
    fn d_outputs_length_mismatch_panics() {
        SoftmaxCrossEntropy.loss(&[0.0; 10], &[0, 0], &mut [0.0; 9]);
    }

    #[test]
    #[should_panic(expected = "SoftmaxCrossEntropy: empty batch")]
    fn empty_batch_panics() {
        SoftmaxCrossEntropy.loss(&[], &[], &mut []);
    }
}
