//! Multiclass hinge loss (the Weston–Watkins form of the multiclass SVM),
//! over each sample's `N` scores `s`, with label `y`.
//!
//! ```text
//! L_b     = Σ_{j≠y} max(0, s_j − s_y + 1)
//! L       = (1/B) · Σ_b L_b
//! ∂L/∂s_j = [s_j − s_y + 1 > 0] / B                  for j ≠ y
//! ∂L/∂s_y = −#{j ≠ y : s_j − s_y + 1 > 0} / B
//! ```
//!
//! At the kink (`s_j − s_y + 1 = 0` exactly) the subgradient taken is 0,
//! PyTorch's choice.
//!
//! PyTorch: [`nn.MultiMarginLoss(margin=1)`](https://pytorch.org/docs/stable/generated/torch.nn.MultiMarginLoss.html)
//! divides each sample's sum by the number of classes `N` as well; this loss
//! follows the textbook formula, which does not, so it equals
//! `nn.MultiMarginLoss(margin=1)(s, y) · N`, value and gradient (that product
//! is the reference in `tools/golden/losses.py`).

use super::{check_classification, Loss};

/// Margin of the hinge (`s_j − s_y + 1`).
const MARGIN: f64 = 1.0;

/// Multiclass hinge loss `Σ_{j≠y} max(0, s_j − s_y + 1)` per sample, averaged
/// over the batch.
///
/// Targets: one class label (`u32`) per sample. Reduction: mean over the `B`
/// samples (not over classes). Gradient: `+1/B` for each class `j ≠ y` whose
/// margin term is positive, `−(number of such classes)/B` for the label,
/// 0 elsewhere and at the kink. PyTorch: `nn.MultiMarginLoss(margin=1)`
/// times `N` (PyTorch also divides each sample's sum by `N`).
///
/// A NaN score gives a NaN loss.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::{Loss, MulticlassHinge};
///
/// let mut d = [0.0; 3];
/// let loss = MulticlassHinge.loss(&[1.0, 2.0, 0.5], &[0], &mut d);
/// assert_eq!(loss, 2.5); // (2 − 1 + 1) + (0.5 − 1 + 1)
/// assert_eq!(d, [-2.0, 1.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MulticlassHinge;

impl Loss for MulticlassHinge {
    type Target = u32;
    type Metrics = crate::metrics::ClassMetrics;

    fn loss(&self, outputs: &[f32], labels: &[u32], d_outputs: &mut [f32]) -> f32 {
        let n = check_classification("MulticlassHinge", outputs, labels, d_outputs);
        let inv_b = 1.0 / labels.len() as f64;
        let mut total = 0.0f64;
        // loop over samples: scores s [N], gradient d [N]
        for ((s, d), &label) in outputs
            .chunks_exact(n)
            .zip(d_outputs.chunks_exact_mut(n))
            .zip(labels)
        {
            let y = label as usize;
            let s_y = s[y] as f64;
            let mut active = 0usize;
            for (j, (dj, &sj)) in d.iter_mut().zip(s).enumerate() {
                // PyTorch's order of operations: margin − s_y + s_j
                let term = MARGIN - s_y + sj as f64;
                if j != y && term > 0.0 {
                    total += term;
                    active += 1;
                    *dj = inv_b as f32;
                } else {
                    if term.is_nan() {
                        total = f64::NAN;
                    }
                    *dj = 0.0;
                }
            }
            // s_y appears with a minus sign in every active term
            d[y] = (-(active as f64) * inv_b) as f32;
        }
        (total * inv_b) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradient_check;
    use super::*;
    use crate::testing::random_vec;

    fn reference(s: &[f64], labels: &[u32]) -> f64 {
        let n = s.len() / labels.len();
        let total: f64 = s
            .chunks(n)
            .zip(labels)
            .map(|(s, &y)| {
                let y = y as usize;
                (0..n)
                    .filter(|&j| j != y)
                    .map(|j| (s[j] - s[y] + 1.0).max(0.0))
                    .sum::<f64>()
            })
            .sum();
        total / labels.len() as f64
    }

    fn labels(b: usize, n: usize) -> Vec<u32> {
        (0..b).map(|i| ((i * 3 + 1) % n) as u32).collect()
    }

    #[test]
    fn hand_computed_batch_of_two() {
        // Sample 0 (y = 0): terms 2 and 0.5. Sample 1 (y = 1): every term ≤ 0.
        let s = [1.0, 2.0, 0.5, 0.0, 3.0, 1.0];
        let mut d = [f32::NAN; 6];
        let loss = MulticlassHinge.loss(&s, &[0, 1], &mut d);
        assert_eq!(loss, 1.25);
        assert_eq!(d, [-1.0, 0.5, 0.5, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn subgradient_at_the_kink_is_zero() {
        // s_1 − s_0 + 1 = 0 exactly; s_2's term is 0.25.
        let mut d = [f32::NAN; 3];
        let loss = MulticlassHinge.loss(&[1.5, 0.5, 0.75], &[0], &mut d);
        assert_eq!(loss, 0.25);
        assert_eq!(d, [-1.0, 0.0, 1.0]);
    }

    #[test]
    fn one_class_has_zero_loss_and_gradient() {
        let mut d = [f32::NAN; 2];
        assert_eq!(MulticlassHinge.loss(&[3.0, -7.0], &[0, 0], &mut d), 0.0);
        assert_eq!(d, [0.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (b, n, seed) in [(5, 7, 2), (5, 3, 3), (1, 2, 4), (4, 10, 5)] {
            let s = random_vec(b * n, seed);
            let y = labels(b, n);
            // Finite differences are meaningless within a step (1e-3) of a
            // kink; the seeds are chosen so that no term is within 1e-2 of one.
            for (sample, &label) in s.chunks(n).zip(&y) {
                for &sj in sample {
                    let term = sj as f64 - sample[label as usize] as f64 + 1.0;
                    assert!(
                        term.abs() > 1e-2,
                        "seed {seed}: a term is too close to its kink"
                    );
                }
            }
            let mut d = vec![f32::NAN; b * n];
            let loss = MulticlassHinge.loss(&s, &y, &mut d);
            let what = format!("multiclass hinge b{b} n{n}");
            gradient_check::against_reference(&s, loss, &d, |s| reference(s, &y), &what);
            let mut scratch = vec![0.0; b * n];
            gradient_check::against_own_loss(
                &s,
                &d,
                |s| MulticlassHinge.loss(s, &y, &mut scratch),
                &what,
            );
        }
    }

    #[test]
    fn extreme_scores_stay_finite() {
        for big in [80.0f32, 1000.0, 1e30] {
            // Sample 0: label on the largest score. Sample 1: on the smallest.
            let s = [big, -big, 0.0, big, -big, 0.0];
            let mut d = [f32::NAN; 6];
            let loss = MulticlassHinge.loss(&s, &[0, 1], &mut d);
            assert!(
                loss.is_finite() && d.iter().all(|g| g.is_finite()),
                "{big}: {loss} {d:?}"
            );
            // sample 1: (2·big + 1) + (big + 1)
            let want = (3.0 * big as f64 + 2.0) / 2.0;
            assert!((loss as f64 - want).abs() <= 1e-6 * want, "{big}: {loss}");
            assert_eq!(d, [0.0, 0.0, 0.0, 0.5, -1.0, 0.5]);
        }
    }

    #[test]
    fn nan_score_gives_nan_loss() {
        let mut d = [0.0; 3];
        assert!(MulticlassHinge
            .loss(&[0.0, f32::NAN, -5.0], &[0], &mut d)
            .is_nan());
        assert!(MulticlassHinge
            .loss(&[f32::NAN, 0.0, -5.0], &[0], &mut d)
            .is_nan());
    }

    #[test]
    #[should_panic(expected = "MulticlassHinge: label 3 of sample 0 is out of range for 3 classes")]
    fn label_out_of_range_panics() {
        MulticlassHinge.loss(&[0.0; 6], &[3, 0], &mut [0.0; 6]);
    }

    #[test]
    #[should_panic(expected = "MulticlassHinge: 5 outputs do not split into 2 samples")]
    fn ragged_outputs_panic() {
        MulticlassHinge.loss(&[0.0; 5], &[0, 0], &mut [0.0; 5]);
    }
}
