//! [`Dataset`]: samples with their targets, and the operations that prepare
//! one for training (shuffle, stratified split, subset, concatenation).

use super::DataError;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt;

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for f32 {}
    impl<const W: usize> Sealed for [f32; W] {}
}

/// The kind of target a [`Dataset`] holds: `u32` for class labels (one per
/// sample), `f32` for float vectors (several per sample: regression values
/// or multi-hot labels), `[f32; W]` for float vectors whose width is part of
/// the type ([`Dataset::typed`]).
///
/// A [`Loss`](crate::loss::Loss) names the kind it takes as its
/// [`Target`](crate::loss::Loss::Target), and the trainer and
/// [`evaluate`](crate::train::evaluate) only accept a data set of that kind
/// (`u32` for `u32`; `f32` or `[f32; W]` for `f32`): class labels given to
/// a mean squared error do not compile, nor do `[f32; W]` targets given to a
/// network of other than `W` outputs.
pub trait Target: Copy + Send + Sync + PartialEq + fmt::Debug + 'static + sealed::Sealed {
    /// What messages call the kind.
    const KIND: &'static str;

    /// The group a sample's target puts it in for a stratified
    /// [`Dataset::split`]: its class for labels, one group for floats.
    #[doc(hidden)]
    fn stratum(target: &[Self]) -> usize;

    /// Why targets of `width` values (labels below `classes`) do not fit a
    /// network of `outputs` outputs, if they do not.
    #[doc(hidden)]
    fn fits(width: usize, classes: usize, outputs: usize) -> Result<(), String>;

    /// The width as a type: `Count<W>` for `[f32; W]`, `Unchecked` for
    /// widths known only when the program runs.
    #[doc(hidden)]
    type Width;
}

/// The targets of the kind `T` that a loss of targets `Self` trains on:
/// `u32` labels for `u32`, `f32` or `[f32; W]` vectors for `f32`.
#[diagnostic::on_unimplemented(
    message = "this loss takes data sets of `{Self}` targets, not of `{T}`",
    label = "a data set of `{T}` targets",
    note = "`u32` targets are class labels (`Dataset<LEN>`), for `SoftmaxCrossEntropy` and `MulticlassHinge`; `f32` and `[f32; W]` targets are float vectors (`Dataset<LEN, f32>`, `Dataset<LEN, [f32; W]>`), for `MeanSquaredError` and `SigmoidBinaryCrossEntropy`"
)]
pub trait TrainsOn<T: Target>: Sized {
    /// `targets` as the loss reads them, one value after another.
    #[doc(hidden)]
    fn flat(targets: &[T]) -> &[Self];
}

impl TrainsOn<u32> for u32 {
    fn flat(targets: &[u32]) -> &[u32] {
        targets
    }
}

impl TrainsOn<f32> for f32 {
    fn flat(targets: &[f32]) -> &[f32] {
        targets
    }
}

impl<const W: usize> TrainsOn<[f32; W]> for f32 {
    fn flat(targets: &[[f32; W]]) -> &[f32] {
        targets.as_flattened()
    }
}

impl Target for u32 {
    const KIND: &'static str = "class labels";
    type Width = crate::typed::Unchecked;

    fn stratum(target: &[u32]) -> usize {
        target[0] as usize
    }

    fn fits(_: usize, classes: usize, outputs: usize) -> Result<(), String> {
        match classes <= outputs {
            true => Ok(()),
            false => Err(format!(
                "has {classes} classes but the network gives {outputs} outputs"
            )),
        }
    }
}

impl Target for f32 {
    const KIND: &'static str = "float targets";
    type Width = crate::typed::Unchecked;

    fn stratum(_: &[f32]) -> usize {
        0
    }

    fn fits(width: usize, _: usize, outputs: usize) -> Result<(), String> {
        match width == outputs {
            true => Ok(()),
            false => Err(format!(
                "has targets of {width} values but the network gives {outputs} outputs"
            )),
        }
    }
}

/// The float vectors of a [`Dataset::typed`] data set: one `[f32; W]` per
/// sample, their width checked against the network's outputs while the
/// program compiles.
impl<const W: usize> Target for [f32; W] {
    const KIND: &'static str = "float targets";
    type Width = crate::typed::Count<W>;

    fn stratum(_: &[[f32; W]]) -> usize {
        0
    }

    fn fits(_: usize, _: usize, outputs: usize) -> Result<(), String> {
        f32::fits(W, W, outputs)
    }
}

/// Samples of `LEN` floats each, stored one after another, with their
/// targets: one class label each (`T = u32`, the default), `width()`
/// floats each (`T = f32`), or one `[f32; W]` each (`T = [f32; W]`, made by
/// [`Dataset::typed`]).
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::data::Dataset;
///
/// // Six samples of two floats, three classes.
/// let data = Dataset::<2>::new((0..12).map(|v| v as f32).collect(), vec![0, 1, 2, 0, 1, 2], 3)?;
/// // A seeded, stratified split: each class keeps its share in both parts.
/// let (train, validation) = data.split(0.5, 7);
/// assert_eq!((train.len(), validation.len()), (3, 3));
/// let mut classes = validation.labels().to_vec();
/// classes.sort();
/// assert_eq!(classes, [0, 1, 2]);
///
/// // Regression: y = x₀ + x₁, one target per sample.
/// let sums = Dataset::<2, f32>::regression(vec![1.0, 2.0, 3.0, 4.0], vec![3.0, 7.0], 1)?;
/// assert_eq!(sums.target(1), &[7.0]);
/// # Ok::<(), nn::data::DataError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Dataset<const LEN: usize, T: Target = u32> {
    inputs: Vec<f32>,
    targets: Vec<T>,
    /// Targets per sample: 1 for class labels.
    width: usize,
    /// For class labels, the number of classes (every label is below it);
    /// for float targets, the width.
    classes: usize,
}

/// `Err(DataError::Invalid)` with `message`.
fn invalid<R>(message: String) -> Result<R, DataError> {
    Err(DataError::Invalid { message })
}

/// Checks that `inputs` holds `LEN` floats for each of `samples`.
fn check_inputs<const LEN: usize>(inputs: &[f32], samples: usize) -> Result<(), DataError> {
    match samples.checked_mul(LEN) {
        Some(expected) if expected == inputs.len() => Ok(()),
        _ => invalid(format!(
            "{samples} samples need {samples} × {LEN} input floats but {} were given",
            inputs.len()
        )),
    }
}

impl<const LEN: usize> Dataset<LEN, u32> {
    /// A data set of `labels.len()` samples: sample `i` is
    /// `inputs[i·LEN .. (i+1)·LEN]` with class `labels[i]`.
    ///
    /// Fails with [`DataError::Invalid`] unless `inputs.len() == labels.len() · LEN`,
    /// `classes ≥ 1` and every label is below `classes`.
    pub fn new(inputs: Vec<f32>, labels: Vec<u32>, classes: usize) -> Result<Self, DataError> {
        if classes == 0 {
            return invalid("0 classes (expected at least 1)".to_string());
        }
        match labels.len().checked_mul(LEN) {
            Some(expected) if expected == inputs.len() => {}
            _ => {
                return invalid(format!(
                    "{} labels need {} × {LEN} input floats but {} were given",
                    labels.len(),
                    labels.len(),
                    inputs.len()
                ))
            }
        }
        if let Some((record, &label)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &label)| label as usize >= classes)
        {
            return invalid(format!(
                "label {label} at record {record} is not below {classes} classes"
            ));
        }
        Ok(Self {
            inputs,
            targets: labels,
            width: 1,
            classes,
        })
    }

    /// A data set of typed samples, one class label each: as
    /// [`Dataset::new`] with the samples' floats one after the other (no
    /// copy), so it fails only for the labels' count or values or for 0
    /// classes.
    pub fn from_samples(
        samples: Vec<[f32; LEN]>,
        labels: Vec<u32>,
        classes: usize,
    ) -> Result<Self, DataError> {
        Self::new(samples.into_flattened(), labels, classes)
    }

    /// A data set whose sizes and labels a loader has checked against the
    /// files they came from.
    pub(super) fn checked(inputs: Vec<f32>, labels: Vec<u32>, classes: usize) -> Self {
        debug_assert!(inputs.len() == labels.len() * LEN);
        debug_assert!(labels.iter().all(|&l| (l as usize) < classes));
        Self {
            inputs,
            targets: labels,
            width: 1,
            classes,
        }
    }

    /// The number of classes; every label is below it.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// All labels, one per sample.
    pub fn labels(&self) -> &[u32] {
        &self.targets
    }

    /// The label of sample `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[track_caller]
    pub fn label(&self, i: usize) -> u32 {
        self.check_index(i);
        self.targets[i]
    }

    /// How many samples each class has, indexed by class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &label in &self.targets {
            counts[label as usize] += 1;
        }
        counts
    }
}

impl<const LEN: usize> Dataset<LEN, f32> {
    /// A regression data set: sample `i` is `inputs[i·LEN .. (i+1)·LEN]`
    /// and its target the `width` values `targets[i·width .. (i+1)·width]`.
    ///
    /// Fails with [`DataError::Invalid`] unless `width ≥ 1`, the lengths
    /// agree on the number of samples and every target is finite.
    pub fn regression(
        inputs: Vec<f32>,
        targets: Vec<f32>,
        width: usize,
    ) -> Result<Self, DataError> {
        Self::floats(inputs, targets, width, |record, v| match v.is_finite() {
            true => Ok(()),
            false => invalid(format!(
                "target {v} of record {record} is not a finite number"
            )),
        })
    }

    /// A multi-label data set: sample `i` has `labels` targets,
    /// `targets[i·labels .. (i+1)·labels]`, each 1 where the label applies
    /// and 0 where it does not (for
    /// [`SigmoidBinaryCrossEntropy`](crate::loss::SigmoidBinaryCrossEntropy)).
    ///
    /// Fails with [`DataError::Invalid`] unless `labels ≥ 1`, the lengths
    /// agree on the number of samples and every target is 0 or 1.
    pub fn multi_label(
        inputs: Vec<f32>,
        targets: Vec<f32>,
        labels: usize,
    ) -> Result<Self, DataError> {
        Self::floats(inputs, targets, labels, |record, v| {
            match v == 0.0 || v == 1.0 {
                true => Ok(()),
                false => invalid(format!("target {v} of record {record} is neither 0 nor 1")),
            }
        })
    }

    /// This data set with its targets' width in its type: one `[f32; W]`
    /// per sample, so that the trainer and
    /// [`evaluate`](crate::train::evaluate) refuse, while the program
    /// compiles, a network of other than `W` outputs ("this data set's
    /// targets have 3 values, but `Net`'s output has 1"). The width read
    /// from a file is checked here, once.
    ///
    /// Fails with [`DataError::Invalid`] if the targets are not `W` wide.
    ///
    /// ```
    /// # extern crate nn_runtime as nn;
    /// use nn::data::Dataset;
    ///
    /// let sums = Dataset::<2, f32>::regression(vec![1.0, 2.0, 3.0, 4.0], vec![3.0, 7.0], 1)?;
    /// let sums = sums.typed::<1>()?; // a Dataset<2, [f32; 1]>
    /// assert_eq!(sums.target(1), &[[7.0]]);
    /// # Ok::<(), nn::data::DataError>(())
    /// ```
    pub fn typed<const W: usize>(self) -> Result<Dataset<LEN, [f32; W]>, DataError> {
        if self.width != W {
            return invalid(format!(
                "float targets of {} values per sample, not {W}",
                self.width
            ));
        }
        let (targets, rest) = self.targets.as_chunks::<W>();
        debug_assert!(rest.is_empty());
        Ok(Dataset {
            inputs: self.inputs,
            targets: targets.to_vec(),
            width: 1,
            classes: W,
        })
    }

    fn floats(
        inputs: Vec<f32>,
        targets: Vec<f32>,
        width: usize,
        check: impl Fn(usize, f32) -> Result<(), DataError>,
    ) -> Result<Self, DataError> {
        if width == 0 {
            return invalid("targets of 0 values per sample (expected at least 1)".to_string());
        }
        if !targets.len().is_multiple_of(width) {
            return invalid(format!(
                "{} target values do not split into samples of {width}",
                targets.len()
            ));
        }
        let samples = targets.len() / width;
        check_inputs::<LEN>(&inputs, samples)?;
        for (i, &v) in targets.iter().enumerate() {
            check(i / width, v)?;
        }
        Ok(Self {
            inputs,
            targets,
            width,
            classes: width,
        })
    }
}

impl<const LEN: usize, const W: usize> Dataset<LEN, [f32; W]> {
    /// This data set with its targets' width a value again, as
    /// [`Dataset::regression`] makes them.
    pub fn untyped(self) -> Dataset<LEN, f32> {
        Dataset {
            inputs: self.inputs,
            targets: self.targets.as_flattened().to_vec(),
            width: W,
            classes: W,
        }
    }
}

impl<const LEN: usize, T: Target> Dataset<LEN, T> {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.targets.len() / self.width
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Targets per sample: 1 for class labels and `[f32; W]` vectors, the
    /// vector's length for `f32` targets.
    pub fn width(&self) -> usize {
        self.width
    }

    /// All inputs, `len() · LEN` floats, sample after sample.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }

    /// All inputs, to change in place (normalise, augment); their number
    /// stays.
    pub fn inputs_mut(&mut self) -> &mut [f32] {
        &mut self.inputs
    }

    /// All targets, `len() · width()`, sample after sample.
    pub fn targets(&self) -> &[T] {
        &self.targets
    }

    /// The `LEN` floats of sample `i`, as an array: a typed sample
    /// ([`crate::typed::Sample`]), so `net.predict_sample(data.input(i))`
    /// compiles only for a network of `LEN` inputs.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[track_caller]
    pub fn input(&self, i: usize) -> &[f32; LEN] {
        self.check_index(i);
        let sample = &self.inputs[i * LEN..(i + 1) * LEN];
        sample.try_into().expect("a sample holds LEN floats")
    }

    /// Every sample as an array of `LEN` floats, in order: a typed batch
    /// for [`Network::predict_samples`](crate::Network::predict_samples)
    /// and [`Network::predict_sample_classes`](crate::Network::predict_sample_classes).
    ///
    /// # Panics
    /// If `LEN` is 0 (no network takes samples of no values).
    pub fn samples(&self) -> &[[f32; LEN]] {
        assert!(LEN > 0, "Dataset<0>: samples of no values");
        let (samples, rest) = self.inputs.as_chunks::<LEN>();
        debug_assert!(rest.is_empty());
        samples
    }

    /// The `width()` targets of sample `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[track_caller]
    pub fn target(&self, i: usize) -> &[T] {
        self.check_index(i);
        &self.targets[i * self.width..(i + 1) * self.width]
    }

    /// Why this data set's targets do not fit a network of `outputs`
    /// outputs (more classes than outputs, float targets of another
    /// width), if they do not.
    pub fn fits_outputs(&self, outputs: usize) -> Result<(), String> {
        T::fits(self.width, self.classes, outputs)
    }

    #[track_caller]
    fn check_index(&self, i: usize) {
        assert!(
            i < self.len(),
            "sample {i} of a data set of {} samples",
            self.len()
        );
    }

    /// The samples at `indices`, in that order (an index may repeat).
    ///
    /// # Panics
    /// If an index is `≥ len()`.
    #[track_caller]
    pub fn subset(&self, indices: &[usize]) -> Self {
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            panic!(
                "subset: index {i} is out of range for a data set of {} samples",
                self.len()
            );
        }
        let mut inputs = Vec::with_capacity(indices.len() * LEN);
        let mut targets = Vec::with_capacity(indices.len() * self.width);
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * LEN..(i + 1) * LEN]);
            targets.extend_from_slice(&self.targets[i * self.width..(i + 1) * self.width]);
        }
        Self {
            inputs,
            targets,
            width: self.width,
            classes: self.classes,
        }
    }

    /// Puts the samples in a random order drawn from `seed` (the same seed
    /// gives the same order on any machine).
    pub fn shuffle(&mut self, seed: u64) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        *self = self.subset(&order);
    }

    /// Splits the samples in two at random (drawn from `seed`): the first
    /// part gets `fraction` of them (rounded to the nearest sample), the
    /// second the rest. Each part keeps the data set's order.
    ///
    /// Class labels are split *stratified*: every class is cut in the same
    /// proportion, its share rounded so that the first part's size is the
    /// whole set's share (largest remainders first), so a validation part
    /// of a set sorted by class still has every class. Float targets are
    /// split uniformly.
    ///
    /// # Panics
    /// If `fraction` is not between 0 and 1.
    #[track_caller]
    pub fn split(&self, fraction: f64, seed: u64) -> (Self, Self) {
        assert!(
            (0.0..=1.0).contains(&fraction),
            "split: the fraction {fraction} is not between 0 and 1"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // the samples of each stratum, in a random order
        let mut strata: Vec<Vec<usize>> = Vec::new();
        for i in 0..self.len() {
            let s = T::stratum(&self.targets[i * self.width..(i + 1) * self.width]);
            if s >= strata.len() {
                strata.resize_with(s + 1, Vec::new);
            }
            strata[s].push(i);
        }
        for stratum in &mut strata {
            stratum.shuffle(&mut rng);
        }
        // largest-remainder rounding: the first part holds round(fraction·n)
        let total = (fraction * self.len() as f64).round() as usize;
        let exact: Vec<f64> = strata.iter().map(|s| fraction * s.len() as f64).collect();
        let mut take: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
        let mut by_remainder: Vec<usize> = (0..strata.len()).collect();
        by_remainder.sort_by(|&a, &b| {
            let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let mut missing = total.saturating_sub(take.iter().sum());
        for s in by_remainder {
            if missing == 0 {
                break;
            }
            if take[s] < strata[s].len() {
                take[s] += 1;
                missing -= 1;
            }
        }
        let mut first = Vec::with_capacity(total);
        let mut second = Vec::with_capacity(self.len() - total);
        for (stratum, &k) in strata.iter().zip(&take) {
            first.extend_from_slice(&stratum[..k]);
            second.extend_from_slice(&stratum[k..]);
        }
        first.sort_unstable();
        second.sort_unstable();
        (self.subset(&first), self.subset(&second))
    }

    /// The samples of `self` followed by those of `other`. Class labels
    /// take the larger number of classes.
    ///
    /// Fails with [`DataError::Invalid`] if float targets differ in width.
    pub fn concat(&self, other: &Self) -> Result<Self, DataError> {
        if self.width != other.width {
            return invalid(format!(
                "cannot concatenate {} of {} values per sample with {} of {}",
                T::KIND,
                self.width,
                T::KIND,
                other.width
            ));
        }
        let mut joined = self.clone();
        joined.inputs.extend_from_slice(&other.inputs);
        joined.targets.extend_from_slice(&other.targets);
        joined.classes = self.classes.max(other.classes);
        Ok(joined)
    }
}

impl<const LEN: usize, T: Target> fmt::Debug for Dataset<LEN, T> {
    /// Sizes only: the samples themselves would fill the screen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct(&format!("Dataset<{LEN}, {}>", T::KIND));
        s.field("len", &self.len());
        match T::KIND {
            "class labels" => s.field("classes", &self.classes),
            // `classes` is the vectors' width, `[f32; W]` or not
            _ => s.field("width", &self.classes),
        };
        s.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keeps_samples_in_order() {
        let data = Dataset::<2>::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 0, 1], 3).unwrap();
        assert_eq!(data.len(), 3);
        assert!(!data.is_empty());
        assert_eq!(data.classes(), 3);
        assert_eq!(data.width(), 1);
        assert_eq!(data.input(1), &[3.0, 4.0]);
        assert_eq!(data.label(0), 2);
        assert_eq!(data.target(2), &[1]);
        assert_eq!(data.labels(), &[2, 0, 1]);
        assert_eq!(data.inputs().len(), 6);
        assert_eq!(
            format!("{data:?}"),
            "Dataset<2, class labels> { len: 3, classes: 3, .. }"
        );
    }

    #[test]
    fn new_accepts_an_empty_set() {
        let data = Dataset::<4>::new(Vec::new(), Vec::new(), 10).unwrap();
        assert!(data.is_empty());
        assert_eq!(data.len(), 0);
    }

    fn message<T: fmt::Debug>(result: Result<T, DataError>) -> String {
        match result {
            Err(DataError::Invalid { message }) => message,
            other => panic!("expected DataError::Invalid, got {other:?}"),
        }
    }

    #[test]
    fn new_rejects_inputs_of_the_wrong_length() {
        assert_eq!(
            message(Dataset::<2>::new(vec![0.0; 5], vec![0, 1, 1], 2)),
            "3 labels need 3 × 2 input floats but 5 were given"
        );
    }

    #[test]
    fn new_rejects_a_label_out_of_range() {
        assert_eq!(
            message(Dataset::<1>::new(vec![0.0; 3], vec![0, 3, 1], 3)),
            "label 3 at record 1 is not below 3 classes"
        );
    }

    #[test]
    fn new_rejects_zero_classes() {
        assert_eq!(
            message(Dataset::<1>::new(Vec::new(), Vec::new(), 0)),
            "0 classes (expected at least 1)"
        );
    }

    #[test]
    fn typed_targets_keep_every_value_and_their_width_is_checked() {
        let data =
            Dataset::<1, f32>::regression(vec![1.0, 2.0], vec![0.5, 1.5, 2.5, 3.5], 2).unwrap();
        assert_eq!(
            message(data.clone().typed::<3>()),
            "float targets of 2 values per sample, not 3"
        );
        let typed = data.clone().typed::<2>().unwrap();
        assert_eq!((typed.len(), typed.width()), (2, 1));
        assert_eq!(typed.target(1), &[[2.5, 3.5]]);
        assert_eq!(typed.input(1), &[2.0]);
        assert!(typed.fits_outputs(2).is_ok());
        assert_eq!(
            typed.fits_outputs(3).unwrap_err(),
            "has targets of 2 values but the network gives 3 outputs"
        );
        assert_eq!(format!("{typed:?}"), format!("{data:?}"));
        // split, shuffle and concatenation work on the arrays as on floats
        let (a, b) = typed.split(0.5, 3);
        assert_eq!(a.concat(&b).unwrap().len(), 2);
        assert_eq!(typed.untyped(), data);
    }

    #[test]
    fn float_targets_are_checked() {
        let data =
            Dataset::<1, f32>::regression(vec![1.0, 2.0], vec![0.5, 1.5, 2.5, 3.5], 2).unwrap();
        assert_eq!((data.len(), data.width()), (2, 2));
        assert_eq!(data.target(1), &[2.5, 3.5]);
        assert_eq!(
            format!("{data:?}"),
            "Dataset<1, float targets> { len: 2, width: 2, .. }"
        );
        assert_eq!(
            message(Dataset::<1, f32>::regression(vec![1.0], vec![f32::NAN], 1)),
            "target NaN of record 0 is not a finite number"
        );
        assert_eq!(
            message(Dataset::<2, f32>::regression(
                vec![1.0; 3],
                vec![1.0, 2.0],
                1
            )),
            "2 samples need 2 × 2 input floats but 3 were given"
        );
        assert_eq!(
            message(Dataset::<1, f32>::regression(vec![1.0], vec![1.0; 3], 2)),
            "3 target values do not split into samples of 2"
        );
        assert_eq!(
            message(Dataset::<1, f32>::regression(vec![], vec![], 0)),
            "targets of 0 values per sample (expected at least 1)"
        );
        assert!(
            Dataset::<1, f32>::multi_label(vec![1.0, 2.0], vec![0.0, 1.0, 1.0, 1.0], 2).is_ok()
        );
        assert_eq!(
            message(Dataset::<1, f32>::multi_label(
                vec![1.0, 2.0],
                vec![0.0, 1.0, 0.5, 1.0],
                2
            )),
            "target 0.5 of record 1 is neither 0 nor 1"
        );
    }

    /// 100 samples, sorted by class: 50 of class 0, 30 of 1, 20 of 2; the
    /// input is the sample's index.
    fn sorted() -> Dataset<1> {
        let labels: Vec<u32> = [(0, 50), (1, 30), (2, 20)]
            .iter()
            .flat_map(|&(c, n)| std::iter::repeat_n(c, n))
            .collect();
        Dataset::new((0..100).map(|i| i as f32).collect(), labels, 3).unwrap()
    }

    #[test]
    fn a_split_is_stratified_seeded_and_a_partition() {
        let data = sorted();
        let (train, val) = data.split(0.9, 1);
        assert_eq!((train.len(), val.len()), (90, 10));
        assert_eq!(train.class_counts(), [45, 27, 18]);
        assert_eq!(val.class_counts(), [5, 3, 2]);
        // every sample in exactly one part, each with its own label
        let mut seen: Vec<usize> = train
            .inputs()
            .iter()
            .chain(val.inputs())
            .map(|&v| v as usize)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        for part in [&train, &val] {
            for i in 0..part.len() {
                assert_eq!(part.label(i), data.label(part.input(i)[0] as usize));
            }
        }
        assert_eq!(
            data.split(0.9, 1),
            (train.clone(), val.clone()),
            "same seed, same split"
        );
        assert_ne!(data.split(0.9, 2).1, val, "another seed, another split");
    }

    #[test]
    fn a_split_rounds_to_the_whole_share() {
        // 0.25 of 50/30/20 is 12.5/7.5/5: the total 25 is reached by the
        // largest remainders (classes 0 and 1 tie; the first one wins)
        let (first, second) = sorted().split(0.25, 3);
        assert_eq!(first.len(), 25);
        assert_eq!(first.class_counts(), [13, 7, 5]);
        assert_eq!(second.class_counts(), [37, 23, 15]);
        let (all, none) = sorted().split(1.0, 3);
        assert_eq!((all.len(), none.len()), (100, 0));
    }

    #[test]
    fn float_targets_split_uniformly() {
        let data = Dataset::<1, f32>::regression(
            (0..10).map(|i| i as f32).collect(),
            (0..10).map(|i| i as f32 * 2.0).collect(),
            1,
        )
        .unwrap();
        let (a, b) = data.split(0.7, 5);
        assert_eq!((a.len(), b.len()), (7, 3));
        for part in [&a, &b] {
            for i in 0..part.len() {
                assert_eq!(part.target(i)[0], part.input(i)[0] * 2.0);
            }
        }
    }

    #[test]
    #[should_panic(expected = "split: the fraction 1.5 is not between 0 and 1")]
    fn a_split_fraction_outside_0_1_panics() {
        sorted().split(1.5, 0);
    }

    #[test]
    fn shuffle_permutes_samples_with_their_targets() {
        let mut data = sorted();
        data.shuffle(9);
        assert_ne!(data, sorted());
        assert_eq!(data.class_counts(), [50, 30, 20]);
        for i in 0..data.len() {
            assert_eq!(data.label(i), sorted().label(data.input(i)[0] as usize));
        }
        let mut again = sorted();
        again.shuffle(9);
        assert_eq!(data, again);
    }

    #[test]
    fn subset_and_concat() {
        let data = sorted();
        let picked = data.subset(&[99, 0, 0]);
        assert_eq!(picked.inputs(), &[99.0, 0.0, 0.0]);
        assert_eq!(picked.labels(), &[2, 0, 0]);
        let few = Dataset::<1>::new(vec![7.0], vec![4], 5).unwrap();
        let joined = picked.concat(&few).unwrap();
        assert_eq!(joined.labels(), &[2, 0, 0, 4]);
        assert_eq!(joined.classes(), 5);
        let a = Dataset::<1, f32>::regression(vec![1.0], vec![1.0, 2.0], 2).unwrap();
        let b = Dataset::<1, f32>::regression(vec![1.0], vec![1.0], 1).unwrap();
        assert_eq!(
            message(a.concat(&b)),
            "cannot concatenate float targets of 2 values per sample with float targets of 1"
        );
    }

    #[test]
    #[should_panic(expected = "subset: index 100 is out of range for a data set of 100 samples")]
    fn a_subset_index_out_of_range_panics() {
        sorted().subset(&[3, 100]);
    }
}
