//! [`Normalization`]: inputs standardised with the mean and standard
//! deviation of a training set.

use super::{Dataset, Target};

/// Means and standard deviations to standardise inputs with,
/// `x ← (x − mean) / std`, one pair per feature, per channel or for the
/// whole sample (torchvision's `Normalize`, scikit-learn's
/// `StandardScaler`).
///
/// Compute it on the training part only, then apply it to every part, so
/// that nothing of the validation or test data leaks into training:
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::data::{Dataset, Normalization};
///
/// let mut train = Dataset::<2>::new(vec![1.0, 10.0, 3.0, 30.0], vec![0, 1], 2)?;
/// let mut test = Dataset::<2>::new(vec![2.0, 20.0], vec![0], 2)?;
/// let norm = Normalization::per_feature(&train);
/// assert_eq!((norm.mean(), norm.std()), (&[2.0, 20.0][..], &[1.0, 10.0][..]));
/// norm.apply(&mut train);
/// norm.apply(&mut test);
/// assert_eq!(train.inputs(), &[-1.0, -1.0, 1.0, 1.0]);
/// assert_eq!(test.inputs(), &[0.0, 0.0]);
/// # Ok::<(), nn::data::DataError>(())
/// ```
///
/// The standard deviation is the population's (divided by the count, as
/// scikit-learn's); a feature that never varies keeps a deviation of 1, so
/// it is only centred. Sums are in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalization {
    mean: Vec<f32>,
    std: Vec<f32>,
    /// Consecutive floats of a sample that share a statistic: 1 per
    /// feature, `H·W` per channel, `LEN` for the whole sample.
    group: usize,
}

impl Normalization {
    /// One mean and deviation per input float (tabular data).
    pub fn per_feature<const LEN: usize, T: Target>(data: &Dataset<LEN, T>) -> Self {
        Self::fit(data, 1)
    }

    /// One mean and deviation per channel of `[channels, H, W]` images (or
    /// per step's block of a sequence).
    ///
    /// # Panics
    /// If `channels` is 0 or does not divide `LEN`.
    #[track_caller]
    pub fn per_channel<const LEN: usize, T: Target>(
        data: &Dataset<LEN, T>,
        channels: usize,
    ) -> Self {
        assert!(
            channels > 0 && LEN.is_multiple_of(channels),
            "Normalization::per_channel: {channels} channels do not divide samples of {LEN} floats"
        );
        Self::fit(data, LEN / channels)
    }

    /// One mean and deviation over every input float (as MNIST's
    /// 0.1307 and 0.3081).
    pub fn global<const LEN: usize, T: Target>(data: &Dataset<LEN, T>) -> Self {
        Self::fit(data, LEN.max(1))
    }

    /// Given statistics, one pair per group of `LEN / mean.len()`
    /// consecutive floats of a sample (for example the published per-channel
    /// statistics of a data set).
    ///
    /// # Panics
    /// If `mean` and `std` differ in length or are empty, or a deviation is
    /// not a positive finite number.
    #[track_caller]
    pub fn from_stats(mean: Vec<f32>, std: Vec<f32>) -> Self {
        assert!(
            !mean.is_empty() && mean.len() == std.len(),
            "Normalization::from_stats: {} means and {} deviations (expected as many, at least one)",
            mean.len(),
            std.len()
        );
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            panic!("Normalization::from_stats: a deviation of {s} (expected a positive number)");
        }
        Normalization {
            mean,
            std,
            group: 0,
        }
    }

    fn fit<const LEN: usize, T: Target>(data: &Dataset<LEN, T>, group: usize) -> Self {
        let stats = LEN / group;
        let (mut sum, mut sum_sq) = (vec![0.0f64; stats], vec![0.0f64; stats]);
        for sample in data.inputs().chunks_exact(LEN) {
            for (j, values) in sample.chunks_exact(group).enumerate() {
                for &v in values {
                    sum[j] += v as f64;
                    sum_sq[j] += v as f64 * v as f64;
                }
            }
        }
        let count = (data.len() * group) as f64;
        let mut mean = Vec::with_capacity(stats);
        let mut std = Vec::with_capacity(stats);
        for (s, sq) in sum.iter().zip(&sum_sq) {
            let m = if count > 0.0 { s / count } else { 0.0 };
            let var = if count > 0.0 {
                (sq / count - m * m).max(0.0)
            } else {
                0.0
            };
            let sd = var.sqrt() as f32;
            mean.push(m as f32);
            std.push(if sd > 0.0 && sd.is_finite() { sd } else { 1.0 });
        }
        Normalization { mean, std, group }
    }

    /// The means, one per feature, channel or sample.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The standard deviations, as many as the means.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Standardises every input of `data` in place.
    ///
    /// # Panics
    /// If the statistics do not divide samples of `LEN` floats.
    #[track_caller]
    pub fn apply<const LEN: usize, T: Target>(&self, data: &mut Dataset<LEN, T>) {
        let group = self.group_for(LEN);
        for sample in data.inputs_mut().chunks_exact_mut(LEN) {
            self.standardise(sample, group);
        }
    }

    /// Standardises one sample in place (for inputs met after training).
    ///
    /// # Panics
    /// If the statistics do not divide the sample's length.
    #[track_caller]
    pub fn apply_sample(&self, sample: &mut [f32]) {
        let group = self.group_for(sample.len());
        self.standardise(sample, group);
    }

    fn standardise(&self, sample: &mut [f32], group: usize) {
        for ((values, &m), &s) in sample
            .chunks_exact_mut(group)
            .zip(&self.mean)
            .zip(&self.std)
        {
            for v in values {
                *v = (*v - m) / s;
            }
        }
    }

    #[track_caller]
    fn group_for(&self, len: usize) -> usize {
        let stats = self.mean.len();
        assert!(
            len > 0 && len.is_multiple_of(stats) && (self.group == 0 || self.group * stats == len),
            "Normalization: {stats} statistics do not fit samples of {len} floats"
        );
        len / stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two samples of 2 channels × 2 pixels.
    fn images() -> Dataset<4> {
        Dataset::new(
            vec![0.0, 2.0, 10.0, 10.0, 4.0, 6.0, 30.0, 30.0],
            vec![0, 1],
            2,
        )
        .unwrap()
    }

    #[test]
    fn per_channel_statistics() {
        let norm = Normalization::per_channel(&images(), 2);
        assert_eq!(norm.mean(), &[3.0, 20.0]);
        // channel 0: 0, 2, 4, 6 → population variance 5
        assert!((norm.std()[0] - 5f32.sqrt()).abs() < 1e-6);
        assert_eq!(norm.std()[1], 10.0);
        let mut data = images();
        norm.apply(&mut data);
        let per_channel = Normalization::per_channel(&data, 2);
        for (m, s) in per_channel.mean().iter().zip(per_channel.std()) {
            assert!(
                m.abs() < 1e-6 && (s - 1.0).abs() < 1e-6,
                "mean {m}, std {s}"
            );
        }
    }

    #[test]
    fn a_constant_feature_is_only_centred() {
        let mut data = Dataset::<2>::new(vec![5.0, 1.0, 5.0, 3.0], vec![0, 0], 1).unwrap();
        let norm = Normalization::per_feature(&data);
        assert_eq!(norm.std(), &[1.0, 1.0]);
        norm.apply(&mut data);
        assert_eq!(data.inputs(), &[0.0, -1.0, 0.0, 1.0]);
    }

    #[test]
    fn global_and_given_statistics() {
        let norm = Normalization::global(&images());
        assert_eq!(norm.mean(), &[11.5]);
        let given = Normalization::from_stats(vec![0.5], vec![0.25]);
        let mut sample = [0.5, 1.0, 0.0];
        given.apply_sample(&mut sample);
        assert_eq!(sample, [0.0, 2.0, -2.0]);
        let mut data = images();
        Normalization::from_stats(vec![1.0, 2.0], vec![1.0, 2.0]).apply(&mut data);
        assert_eq!(&data.inputs()[..4], &[-1.0, 1.0, 4.0, 4.0]);
    }

    #[test]
    #[should_panic(expected = "Normalization: 2 statistics do not fit samples of 3 floats")]
    fn statistics_of_another_sample_size_panic() {
        Normalization::per_channel(&images(), 2).apply_sample(&mut [0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "a deviation of 0 (expected a positive number)")]
    fn a_zero_deviation_is_refused() {
        Normalization::from_stats(vec![0.0], vec![0.0]);
    }
}
