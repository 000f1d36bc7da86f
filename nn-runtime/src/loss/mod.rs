//! Losses with their gradients, the L2 penalty, and accuracy.
//!
//! A [`Loss`] takes a batch of network outputs, `B` samples of `N` values each,
//! stored sample after sample (`[B, N]`, row-major), plus the targets, and in one
//! call returns the mean loss and writes its gradient for the outputs:
//!
//! | loss | target per sample | PyTorch counterpart |
//! |---|---|---|
//! | [`MeanSquaredError`] | `N` values (`f32`) | `nn.MSELoss()` |
//! | [`SoftmaxCrossEntropy`] | a class label (`u32`) | `nn.CrossEntropyLoss()` on logits |
//! | [`SigmoidBinaryCrossEntropy`] | `N` values in `[0, 1]` (`f32`) | `nn.BCEWithLogitsLoss()` |
//! | [`MulticlassHinge`] | a class label (`u32`) | `nn.MultiMarginLoss()` times `N` |
//!
//! Every loss uses PyTorch's default reduction, `'mean'`, and its value and
//! gradient match PyTorch's to about one f32 rounding (checked against
//! reference data written by `tools/golden/losses.py`).
//!
//! [`l2_penalty`] adds `λ·ΣW²` and its gradient; [`accuracy`] and [`argmax`]
//! score classifiers.
//!
//! # Examples
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::loss::{accuracy, Loss, SoftmaxCrossEntropy};
//!
//! // Two samples with three classes each.
//! let logits = [2.0, 0.5, -1.0, 0.0, 0.0, 3.0];
//! let labels = [0, 1];
//! let mut d_logits = [0.0; 6];
//! let loss = SoftmaxCrossEntropy.loss(&logits, &labels, &mut d_logits);
//! assert!((loss - 1.668117).abs() < 1e-6);
//! // The gradient of each sample sums to zero: (softmax − onehot) / B.
//! assert!(d_logits[..3].iter().sum::<f32>().abs() < 1e-6);
//! assert_eq!(accuracy(&logits, &labels), 1);
//! ```

mod mean_squared_error;
mod multiclass_hinge;
mod sigmoid_binary_cross_entropy;
mod softmax_cross_entropy;

pub use mean_squared_error::MeanSquaredError;
pub use multiclass_hinge::MulticlassHinge;
pub use sigmoid_binary_cross_entropy::SigmoidBinaryCrossEntropy;
pub use softmax_cross_entropy::SoftmaxCrossEntropy;

/// A loss over a batch of outputs, with its gradient.
///
/// `outputs` holds `B` samples of `N` values, sample after sample. `targets`
/// holds one class label per sample (`Target = u32`, so `B` labels, and `N`
/// is `outputs.len() / B`) or one value per output (`Target = f32`, `B·N`
/// values).
///
/// [`loss`](Loss::loss) returns the mean loss (PyTorch's default reduction,
/// `'mean'`) and *overwrites* `d_outputs` with the gradient of that mean for
/// the outputs. (Layers' backward functions accumulate into their gradients;
/// the loss is where the backward pass starts, so it writes.)
///
/// Implementations allocate nothing. They compute in f64 from the f32 inputs
/// and round once at the end, so the value and each gradient element are
/// within about one f32 rounding of the exact result.
///
/// # Panics
///
/// Invalid inputs are programming errors and panic with the lengths involved
/// (or the bad label and `N`): an empty batch, `targets` or `d_outputs` of the
/// wrong length, a label `≥ N`.
pub trait Loss: Send + Sync {
    /// One class label per sample (`u32`) or one value per output (`f32`):
    /// the kind of [`Dataset`](crate::data::Dataset) the loss trains on.
    type Target: crate::data::Target;
    /// The figures that score what this loss trains: reported per epoch,
    /// returned by [`evaluate`](crate::train::evaluate), watched by early
    /// stopping.
    type Metrics: crate::metrics::Metrics<Target = Self::Target>;

    /// Returns the mean loss over the batch and overwrites `d_outputs`
    /// (same length as `outputs`) with its gradient.
    fn loss(&self, outputs: &[f32], targets: &[Self::Target], d_outputs: &mut [f32]) -> f32;

    /// This loss for networks of `N` outputs only: the trainer and
    /// [`evaluate`](crate::train::evaluate) refuse, while the program
    /// compiles, a network of another number ("this loss expects 10
    /// outputs, but `Net` has 12").
    ///
    /// ```
    /// # extern crate nn_runtime as nn;
    /// use nn::loss::{Loss, SoftmaxCrossEntropy};
    ///
    /// let loss = SoftmaxCrossEntropy.outputs::<10>();
    /// // it is still the loss, through `Deref`
    /// let mut d = [0.0; 10];
    /// assert!(loss.loss(&[0.0; 10], &[3], &mut d) > 0.0);
    /// ```
    fn outputs<const N: usize>(self) -> Outputs<Self, N>
    where
        Self: Sized,
    {
        Outputs(self)
    }
}

/// The loss `L` for networks of `N` outputs: pairing it with a network of
/// another number of outputs does not compile. Made by
/// [`Loss::outputs`]; it derefs to `L`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outputs<L, const N: usize>(pub L);

impl<L, const N: usize> core::ops::Deref for Outputs<L, N> {
    type Target = L;
    fn deref(&self) -> &L {
        &self.0
    }
}

/// What the trainer minimises: a [`Loss`], whose outputs are checked when
/// the program runs, or a loss typed by its outputs ([`Outputs`]), checked
/// against the network while it compiles.
///
/// Every `Loss` is one (its own `Objective`, of [`Unchecked`] outputs); a
/// loss of your own needs nothing more.
///
/// Generic code that takes a network `N` and an objective `L` and calls
/// [`Trainer::fit`](crate::train::Trainer::fit) or
/// [`evaluate`](crate::train::evaluate) states the check as they do:
/// `L::Outputs: OutputsFit<N, N::Outputs>`, or takes `L: Loss`, for which it
/// always holds.
///
/// [`Unchecked`]: crate::typed::Unchecked
pub trait Objective: Send + Sync {
    /// The loss.
    type Loss: Loss;
    /// The outputs it was built for: `Count<N>`, or
    /// [`Unchecked`](crate::typed::Unchecked).
    type Outputs;
    /// The loss itself.
    fn as_loss(&self) -> &Self::Loss;
}

impl<L: Loss> Objective for L {
    type Loss = L;
    type Outputs = crate::typed::Unchecked;
    fn as_loss(&self) -> &L {
        self
    }
}

impl<L: Loss, const N: usize> Objective for Outputs<L, N> {
    type Loss = L;
    type Outputs = crate::typed::Count<N>;
    fn as_loss(&self) -> &L {
        &self.0
    }
}

/// Checks the lengths for a loss with one target per output.
fn check_elementwise(loss: &str, outputs: &[f32], targets: &[f32], d_outputs: &[f32]) {
    assert!(!outputs.is_empty(), "{loss}: empty batch (0 outputs)");
    assert!(
        targets.len() == outputs.len(),
        "{loss}: {} targets for {} outputs (expected one target per output)",
        targets.len(),
        outputs.len()
    );
    check_d_outputs(loss, outputs, d_outputs);
}

/// Checks the lengths and labels for a loss with one label per sample, and
/// returns the number of classes `N = outputs.len() / labels.len()`.
fn check_classification(loss: &str, outputs: &[f32], labels: &[u32], d_outputs: &[f32]) -> usize {
    assert!(!labels.is_empty(), "{loss}: empty batch (0 labels)");
    let n = classes(loss, outputs, labels);
    check_d_outputs(loss, outputs, d_outputs);
    n
}

/// `N = outputs.len() / labels.len()` for a non-empty batch, after checking
/// that the outputs divide into samples and that every label is below `N`.
fn classes(what: &str, outputs: &[f32], labels: &[u32]) -> usize {
    let b = labels.len();
    let n = outputs.len() / b;
    assert!(
        n > 0 && n * b == outputs.len(),
        "{what}: {} outputs do not split into {b} samples (one per label); expected a positive multiple of {b}",
        outputs.len()
    );
    for (i, &label) in labels.iter().enumerate() {
        assert!(
            (label as usize) < n,
            "{what}: label {label} of sample {i} is out of range for {n} classes (labels are 0..{n})"
        );
    }
    n
}

fn check_d_outputs(loss: &str, outputs: &[f32], d_outputs: &[f32]) {
    assert!(
        d_outputs.len() == outputs.len(),
        "{loss}: d_outputs has {} values for {} outputs (expected the same length)",
        d_outputs.len(),
        outputs.len()
    );
}

/// L2 penalty `λ·Σ w²` over `params`; *adds* its gradient `2λ·w` into `grads`.
///
/// Meant for weights: pass the weight tensors (dense and conv kernels), not
/// biases or batch-norm scales and shifts, which are usually left
/// unpenalised. Call it after the backward pass has written the loss
/// gradients, and add the returned value to the loss you report.
///
/// Adding `2λ·w` to the gradient is exactly what PyTorch's `SGD` (and `Adam`)
/// do with `weight_decay = 2λ`; `AdamW`'s decoupled decay is a different
/// update.
///
/// Computed in f64. Panics if `grads` and `params` differ in length.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::l2_penalty;
///
/// let w = [1.0, -2.0];
/// let mut dw = [0.5, 0.5];
/// let penalty = l2_penalty(0.1, &w, &mut dw);
/// assert!((penalty - 0.5).abs() < 1e-6); // 0.1 · (1 + 4)
/// // 0.5 + 2 · 0.1 · w
/// assert!((dw[0] - 0.7).abs() < 1e-6 && (dw[1] - 0.1).abs() < 1e-6);
/// ```
pub fn l2_penalty(lambda: f32, params: &[f32], grads: &mut [f32]) -> f32 {
    assert!(
        grads.len() == params.len(),
        "l2_penalty: grads has {} values for {} parameters (expected the same length)",
        grads.len(),
        params.len()
    );
    let lambda = lambda as f64;
    let mut sum_sq = 0.0f64;
    for (g, &w) in grads.iter_mut().zip(params) {
        let w = w as f64;
        sum_sq += w * w;
        // d(λ·w²)/dw
        *g = (*g as f64 + 2.0 * lambda * w) as f32;
    }
    (lambda * sum_sq) as f32
}

/// Index of the largest value; the first one on ties.
///
/// Like `torch.argmax`, a NaN counts as larger than every number (the first
/// NaN wins). Panics on an empty slice.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::argmax;
///
/// assert_eq!(argmax(&[0.5, 2.0, -1.0, 2.0]), 1);
/// ```
pub fn argmax(values: &[f32]) -> usize {
    assert!(!values.is_empty(), "argmax of an empty slice");
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            return i;
        }
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Number of samples whose [`argmax`] (first maximum) equals the label.
///
/// `outputs` holds `labels.len()` samples of `N` values, sample after sample.
/// An empty batch scores 0. Panics if the outputs do not split into one
/// sample per label, or if a label is `≥ N`.
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::loss::accuracy;
///
/// let outputs = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5];
/// assert_eq!(accuracy(&outputs, &[1, 1, 0]), 2); // the tie picks class 0
/// ```
pub fn accuracy(outputs: &[f32], labels: &[u32]) -> usize {
    if labels.is_empty() && outputs.is_empty() {
        return 0;
    }
    assert!(
        !labels.is_empty(),
        "accuracy: {} outputs but no labels",
        outputs.len()
    );
    let n = classes("accuracy", outputs, labels);
    outputs
        .chunks_exact(n)
        .zip(labels)
        .filter(|&(sample, &label)| argmax(sample) == label as usize)
        .count()
}

/// Gradient checks shared by the losses' tests.
#[cfg(test)]
mod gradient_check {
    /// Checks `analytic` against central differences, in f64, of `reference`:
    /// an independent f64 implementation of the loss (the textbook formula).
    /// Step 1e-4: truncation error ~1e-8·f''', rounding error ~1e-12.
    /// Also checks `value` (our f32 loss) against `reference` to 1e-6.
    pub(super) fn against_reference(
        x: &[f32],
        value: f32,
        analytic: &[f32],
        reference: impl Fn(&[f64]) -> f64,
        what: &str,
    ) {
        const STEP: f64 = 1e-4;
        let mut xp: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let want = reference(&xp);
        assert!(
            (value as f64 - want).abs() <= 1e-6 * want.abs(),
            "{what}: loss {value}, reference {want}"
        );
        for i in 0..x.len() {
            let orig = xp[i];
            xp[i] = orig + STEP;
            let up = reference(&xp);
            xp[i] = orig - STEP;
            let down = reference(&xp);
            xp[i] = orig;
            let numeric = (up - down) / (2.0 * STEP);
            let a = analytic[i] as f64;
            let tol = 1e-5 * numeric.abs().max(a.abs()) + 1e-8;
            assert!(
                (numeric - a).abs() <= tol,
                "{what}: gradient at {i} is {a}, central differences of the reference give {numeric}"
            );
        }
    }

    /// Checks `analytic` against central differences, in f64, of our own f32
    /// loss: step 1e-3, tolerance `1e-2·max(|numeric|, |analytic|) + 1e-4`.
    /// The step actually taken is measured in f32 (`x ± h` rounds).
    pub(super) fn against_own_loss(
        x: &[f32],
        analytic: &[f32],
        mut loss: impl FnMut(&[f32]) -> f32,
        what: &str,
    ) {
        const STEP: f32 = 1e-3;
        let mut xp = x.to_vec();
        for i in 0..x.len() {
            let orig = xp[i];
            xp[i] = orig + STEP;
            let h_up = (xp[i] - orig) as f64;
            let up = loss(&xp) as f64;
            xp[i] = orig - STEP;
            let h_down = (orig - xp[i]) as f64;
            let down = loss(&xp) as f64;
            xp[i] = orig;
            let numeric = (up - down) / (h_up + h_down);
            let a = analytic[i] as f64;
            let tol = 1e-2 * numeric.abs().max(a.abs()) + 1e-4;
            assert!(
                (numeric - a).abs() <= tol,
                "{what}: gradient at {i} is {a}, finite differences give {numeric}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_penalty_value_and_added_gradient() {
        let w = [0.5, -1.5, 2.0, 0.0];
        let mut g = [1.0, 1.0, -1.0, 0.25];
        let p = l2_penalty(0.01, &w, &mut g);
        // 0.01 · (0.25 + 2.25 + 4 + 0) = 0.065
        assert!((p - 0.065).abs() < 1e-7, "{p}");
        let want = [1.01, 0.97, -0.96, 0.25];
        for (got, want) in g.iter().zip(want) {
            assert!((got - want).abs() < 1e-7, "{g:?}");
        }
    }

    #[test]
    fn l2_penalty_gradient_matches_finite_differences() {
        let w = crate::testing::random_vec(11, 5);
        let mut g = vec![0.0; 11];
        let p = l2_penalty(0.3, &w, &mut g);
        gradient_check::against_reference(
            &w,
            p,
            &g,
            |w| 0.3 * w.iter().map(|v| v * v).sum::<f64>(),
            "l2_penalty",
        );
    }

    #[test]
    fn l2_penalty_with_zero_lambda_changes_nothing() {
        let w = [3.0, -4.0];
        let mut g = [0.5, -0.5];
        assert_eq!(l2_penalty(0.0, &w, &mut g), 0.0);
        assert_eq!(g, [0.5, -0.5]);
    }

    #[test]
    #[should_panic(expected = "l2_penalty: grads has 2 values for 3 parameters")]
    fn l2_penalty_length_mismatch_panics() {
        l2_penalty(0.1, &[1.0, 2.0, 3.0], &mut [0.0; 2]);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0]), 0);
        assert_eq!(argmax(&[3.0, 1.0, 3.0]), 0);
        assert_eq!(argmax(&[-5.0, -2.0, -2.0, -9.0]), 1);
        assert_eq!(argmax(&[0.0, -0.0]), 0);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
        assert_eq!(argmax(&[1.0, f32::INFINITY, 2.0]), 1);
    }

    #[test]
    fn argmax_treats_nan_as_largest_like_torch() {
        assert_eq!(argmax(&[1.0, f32::NAN, 5.0, f32::NAN]), 1);
        assert_eq!(argmax(&[f32::NAN, 5.0]), 0);
    }

    #[test]
    #[should_panic(expected = "argmax of an empty slice")]
    fn argmax_of_empty_panics() {
        argmax(&[]);
    }

    #[test]
    fn accuracy_counts_first_maximum_matches() {
        // B = 4, N = 3
        let outputs = [
            0.1, 0.7, 0.2, // argmax 1
            0.5, 0.5, 0.0, // tie: argmax 0
            0.0, 0.0, 0.0, // all equal: argmax 0
            -1.0, -3.0, -0.5, // argmax 2
        ];
        assert_eq!(accuracy(&outputs, &[1, 0, 0, 2]), 4);
        assert_eq!(accuracy(&outputs, &[1, 1, 0, 2]), 3);
        assert_eq!(accuracy(&outputs, &[0, 1, 2, 0]), 0);
        assert_eq!(accuracy(&[], &[]), 0);
        assert_eq!(accuracy(&[4.0, 2.0], &[0, 0]), 2); // N = 1
    }

    #[test]
    #[should_panic(expected = "accuracy: label 3 of sample 1 is out of range for 3 classes")]
    fn accuracy_label_out_of_range_panics() {
        accuracy(&[0.0; 6], &[0, 3]);
    }

    #[test]
    #[should_panic(expected = "accuracy: 7 outputs do not split into 2 samples")]
    fn accuracy_ragged_outputs_panic() {
        accuracy(&[0.0; 7], &[0, 1]);
    }
}
