//! Mean squared error over all `B·N` outputs.
//!
//! ```text
//! L      = (1 / (B·N)) · Σ_i (y_i − t_i)²
//! ∂L/∂y_i = 2 · (y_i − t_i) / (B·N)
//! ```
//!
//! PyTorch: [`nn.MSELoss()`](https://pytorch.org/docs/stable/generated/torch.nn.MSELoss.html)
//! (reduction `'mean'`, which averages over every element, not over samples).

use super::{check_elementwise, Loss};

/// Mean squared error `(1/(B·N)) · Σ (y − t)²`, like PyTorch's `nn.MSELoss()`.
///
/// Targets: one `f32` per output (`B·N` values). Reduction: mean over all
/// `B·N` elements. Gradient: `2·(y − t) / (B·N)`.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::{Loss, MeanSquaredError};
///
/// let mut d = [0.0; 4];
/// let loss = MeanSquaredError.loss(&[1.0, 2.0, 3.0, 4.0], &[0.0, 2.0, 5.0, 4.0], &mut d);
/// assert_eq!(loss, 1.25); // (1 + 0 + 4 + 0) / 4
/// assert_eq!(d, [0.5, 0.0, -1.0, 0.0]); // 2·(y − t) / 4
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

impl Loss for MeanSquaredError {
    type Target = f32;
    type Metrics = crate::metrics::RegressionMetrics;

    fn loss(&self, outputs: &[f32], targets: &[f32], d_outputs: &mut [f32]) -> f32 {
        check_elementwise("MeanSquaredError", outputs, targets, d_outputs);
        let inv_count = 1.0 / outputs.len() as f64;
        let mut sum = 0.0f64;
        for ((d, &y), &t) in d_outputs.iter_mut().zip(outputs).zip(targets) {
            let diff = y as f64 - t as f64;
            sum += diff * diff;
            // d/dy of diff² / (B·N)
            *d = (2.0 * diff * inv_count) as f32;
        }
        (sum * inv_count) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::super::gradient_check;
    use super::*;
    use crate::testing::random_vec;

    fn reference(y: &[f64], t: &[f32]) -> f64 {
        y.iter()
            .zip(t)
            .map(|(&y, &t)| (y - t as f64).powi(2))
            .sum::<f64>()
            / y.len() as f64
    }

    #[test]
    fn hand_computed_batch_of_two() {
        // B = 2, N = 3: differences 1, −1, 0.5, 0, 2, −3
        let y = [1.0, 0.0, 2.5, 4.0, 1.0, -1.0];
        let t = [0.0, 1.0, 2.0, 4.0, -1.0, 2.0];
        let mut d = [f32::NAN; 6];
        let loss = MeanSquaredError.loss(&y, &t, &mut d);
        // (1 + 1 + 0.25 + 0 + 4 + 9) / 6
        assert!((loss - 15.25 / 6.0).abs() < 1e-6, "{loss}");
        let want = [2.0 / 6.0, -2.0 / 6.0, 1.0 / 6.0, 0.0, 4.0 / 6.0, -6.0 / 6.0];
        for (g, w) in d.iter().zip(want) {
            assert!((g - w).abs() < 1e-7, "{d:?}");
        }
    }

    #[test]
    fn overwrites_d_outputs() {
        let mut d = [123.0, f32::NAN];
        MeanSquaredError.loss(&[1.0, 1.0], &[1.0, 1.0], &mut d);
        assert_eq!(d, [0.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (b, n, seed) in [(5, 7, 1), (1, 1, 2), (3, 1, 3), (2, 10, 4)] {
            let y = random_vec(b * n, seed);
            let t = random_vec(b * n, seed + 100);
            let mut d = vec![f32::NAN; b * n];
            let loss = MeanSquaredError.loss(&y, &t, &mut d);
            let what = format!("mse b{b} n{n}");
            gradient_check::against_reference(&y, loss, &d, |y| reference(y, &t), &what);
            let mut scratch = vec![0.0; b * n];
            gradient_check::against_own_loss(
                &y,
                &d,
                |y| MeanSquaredError.loss(y, &t, &mut scratch),
                &what,
            );
        }
    }

    #[test]
    fn large_values_stay_finite() {
        let y = [1e15, -1e15, 0.0];
        let t = [-1e15, 1e15, 0.0];
        let mut d = [0.0; 3];
        let loss = MeanSquaredError.loss(&y, &t, &mut d);
        assert!((loss - 8e30 / 3.0).abs() <= 1e-6 * loss, "{loss}");
        assert!(d.iter().all(|g| g.is_finite()), "{d:?}");
    }

    #[test]
    #[should_panic(expected = "MeanSquaredError: 3 targets for 4 outputs")]
    fn target_length_mismatch_panics() {
        MeanSquaredError.loss(&[0.0; 4], &[0.0; 3], &mut [0.0; 4]);
    }

    #[test]
    #[should_panic(expected = "MeanSquaredError: d_outputs has 2 values for 4 outputs")]
    fn d_outputs_length_mismatch_panics() {
        MeanSquaredError.loss(&[0.0; 4], &[0.0; 4], &mut [0.0; 2]);
    }

    #[test]
    #[should_panic(expected = "MeanSquaredError: empty batch")]
    fn empty_batch_panics() {
        MeanSquaredError.loss(&[], &[], &mut []);
    }
}
