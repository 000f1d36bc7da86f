//! Mini-batches: a seeded order of sample indices per epoch, cut into
//! batches of any size (the last one short, or dropped), and gathering of a
//! batch into reused buffers.
//!
//! The order of epoch `e` depends only on the seed and `e` (ChaCha8 seeded
//! with both), so training resumed at epoch `e` sees the same batches as an
//! unbroken run.

use crate::data::{Dataset, Target};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// How a data set is cut into batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batching {
    /// Samples per batch (at least 1).
    pub batch_size: usize,
    /// Shuffle with this seed each epoch; `None` keeps the data set's order.
    pub shuffle: Option<u64>,
    /// Drop a last batch shorter than `batch_size`.
    pub drop_last: bool,
}

impl Batching {
    /// Batches of `batch_size` in the data set's order, the last one kept.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    #[track_caller]
    pub fn new(batch_size: usize) -> Self {
        assert!(batch_size >= 1, "batch size must be at least 1");
        Batching {
            batch_size,
            shuffle: None,
            drop_last: false,
        }
    }

    #[track_caller]
    fn check(&self) {
        assert!(
            self.batch_size >= 1,
            "batch size must be at least 1 (Batching {{ batch_size: 0, .. }})"
        );
    }

    /// Shuffled with `seed`, a new order every epoch.
    pub fn shuffled(self, seed: u64) -> Self {
        Batching {
            shuffle: Some(seed),
            ..self
        }
    }

    /// Drops the last batch when it is short.
    pub fn drop_last(self, drop: bool) -> Self {
        Batching {
            drop_last: drop,
            ..self
        }
    }

    /// Number of batches in an epoch over `len` samples.
    ///
    /// # Panics
    /// If `batch_size` is 0 (it is a public field).
    #[track_caller]
    pub fn batches(&self, len: usize) -> usize {
        self.check();
        if self.drop_last {
            len / self.batch_size
        } else {
            len.div_ceil(self.batch_size)
        }
    }

    /// Writes the sample order of `epoch` into `order` (reusing its memory).
    ///
    /// # Panics
    /// If `batch_size` is 0 (it is a public field).
    #[track_caller]
    pub fn order(&self, len: usize, epoch: usize, order: &mut Vec<usize>) {
        self.check();
        order.clear();
        order.extend(0..len);
        if let Some(seed) = self.shuffle {
            // one stream per (seed, epoch): epochs are independent and resumable
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(epoch as u64);
            order.shuffle(&mut rng);
        }
        if self.drop_last {
            order.truncate(len / self.batch_size * self.batch_size);
        }
    }
}

/// Copies the samples at `indices` into `inputs` (`indices.len() · LEN`
/// floats) and their targets into `targets` (`indices.len() · width`);
/// both buffers are reused.
pub fn gather<const LEN: usize, T: Target>(
    data: &Dataset<LEN, T>,
    indices: &[usize],
    inputs: &mut Vec<f32>,
    targets: &mut Vec<T>,
) {
    inputs.clear();
    targets.clear();
    for &i in indices {
        inputs.extend_from_slice(data.input(i));
        targets.extend_from_slice(data.target(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_counts_and_short_last_batch() {
        let b = Batching::new(64);
        assert_eq!(b.batches(8000), 125);
        assert_eq!(b.batches(8001), 126);
        assert_eq!(b.drop_last(true).batches(8001), 125);
        let mut order = Vec::new();
        Batching::new(3).order(7, 0, &mut order);
        let sizes: Vec<usize> = order.chunks(3).map(|c| c.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        Batching::new(3).drop_last(true).order(7, 0, &mut order);
        assert_eq!(order, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn shuffling_is_seeded_per_epoch_and_a_permutation() {
        let b = Batching::new(4).shuffled(42);
        let (mut a, mut again, mut next) = (Vec::new(), Vec::new(), Vec::new());
        b.order(100, 3, &mut a);
        b.order(100, 3, &mut again);
        b.order(100, 4, &mut next);
        assert_eq!(a, again, "same seed and epoch, same order");
        assert_ne!(a, next, "another epoch, another order");
        assert_ne!(a, (0..100).collect::<Vec<_>>(), "shuffled");
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>(), "a permutation");
        let mut other_seed = Vec::new();
        Batching::new(4).shuffled(43).order(100, 3, &mut other_seed);
        assert_ne!(a, other_seed);
    }
}
