//! Augmentation: random transforms of training images, drawn anew for
//! every sample in every epoch, and reproducible.
//!
//! An [`Augment`] transforms one sample of shape `[C, H, W]` (channels
//! first) in place with draws from a random generator: [`RandomCrop`]
//! (torchvision's `RandomCrop(size, padding)`), [`HorizontalFlip`]
//! (`RandomHorizontalFlip(p)`) and [`RandomShift`]. An [`Augmentation`]
//! chains them, in order, for samples of one shape, and applies the chain
//! to a batch in place:
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::data::augment::{Augmentation, HorizontalFlip, RandomCrop};
//!
//! // CIFAR-10's usual augmentation: pad by 4, crop back to 32×32, flip half.
//! let augmentation = Augmentation::new([3, 32, 32], 7)
//!     .then(RandomCrop::new(4))
//!     .then(HorizontalFlip::new(0.5));
//!
//! // A batch of the data set's samples 12, 5 and 40, gathered in this order.
//! let indices = [12, 5, 40];
//! let mut batch = vec![0.5; 3 * 3072];
//! let mut scratch = Vec::new();
//! augmentation.apply_batch(&mut batch, 0, &indices, &mut scratch);
//!
//! // Sample 5 of epoch 0 is transformed the same way wherever it stands.
//! let mut alone = vec![0.5; 3072];
//! augmentation.apply(&mut alone, 0, 5, &mut scratch);
//! assert_eq!(alone, batch[3072..2 * 3072]);
//! ```
//!
//! **Seeding.** The draws for the sample of index `i` in epoch `e` come from
//! [`Augmentation::rng`]: ChaCha8 keyed with the seed, `e` and `i` (so they
//! depend on nothing else). The same seed gives the same transforms on any
//! machine, whatever the batch size, the sample's place in its batch, the
//! order of the batches or the number of threads a batch is split across;
//! and training resumed at epoch `e` sees the transforms an unbroken run
//! would, as it sees the same batches (the order of
//! [`Batching::order`](crate::batch::Batching::order) is a function of its
//! seed and the epoch too). Each step of a chain draws from the sample's
//! generator in turn.
//!
//! **Where a training loop calls it.** On training batches only (never on
//! evaluation):
//!
//! ```text
//! batching.order(train.len(), epoch, &mut order);          // epoch from 0
//! for indices in order.chunks(batch_size) {
//!     gather(train, indices, &mut inputs, &mut targets);    // the batch's samples
//!     augmentation.apply_batch(&mut inputs, epoch, indices, &mut scratch);
//!     let outputs = net.forward(&inputs);
//!     …
//! }
//! ```
//!
//! that is, after [`gather`](crate::batch::gather) and before `forward`,
//! with the epoch the order was drawn for (counted from 0) and the same
//! indices `gather` was given: the samples' indices in the data set, not
//! their places in the batch. A batch split across threads may be
//! augmented share by share, each share with its own indices (and its own
//! scratch buffer): the result is the same.
//!
//! **Memory.** Nothing is allocated but the scratch buffer, which
//! [`Augmentation::apply_batch`] grows to one sample the first time: after
//! that, augmenting allocates nothing. The built-in transforms work in place
//! and leave the scratch buffer unused; it is there for transforms that
//! need a copy of the sample.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The largest padding, shift or image side the built-in transforms take
/// (the networks' limit on a dimension of the input).
pub const MAX_SIDE: usize = 1 << 20;

/// A random transform of one sample.
///
/// `sample` holds the `C·H·W` floats of an image of `shape = [C, H, W]`,
/// channels first (channel `c`, row `y`, column `x` at `(c·H + y)·W + x`),
/// to change in place. `scratch` has as many floats, for transforms that
/// need room; its contents are unspecified, before and after. Every random
/// choice is drawn from `rng`, so that the same generator state gives the
/// same result.
pub trait Augment: Send + Sync + fmt::Debug {
    /// Transforms `sample` in place.
    fn apply(
        &self,
        sample: &mut [f32],
        shape: [usize; 3],
        scratch: &mut [f32],
        rng: &mut ChaCha8Rng,
    );
}

/// Pads the image with `padding` zeros on every side, then crops an `H×W`
/// window of the padded image at a random place: torchvision's
/// `RandomCrop((H, W), padding)` with zero fill.
///
/// The window's top and left are drawn uniformly from `0 ..= 2·padding`
/// (top first), so the image moves by `padding − top` rows and
/// `padding − left` columns, and what comes in from outside is 0. With
/// `padding` 0 it is the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomCrop {
    padding: usize,
}

impl RandomCrop {
    /// A crop of an image padded by `padding` on every side.
    ///
    /// # Panics
    /// If `padding` is above [`MAX_SIDE`].
    #[track_caller]
    pub fn new(padding: usize) -> Self {
        assert!(
            padding <= MAX_SIDE,
            "RandomCrop: padding {padding} is above {MAX_SIDE}"
        );
        RandomCrop { padding }
    }

    /// The padding on every side.
    pub fn padding(&self) -> usize {
        self.padding
    }
}

impl Augment for RandomCrop {
    fn apply(&self, sample: &mut [f32], shape: [usize; 3], _: &mut [f32], rng: &mut ChaCha8Rng) {
        let p = self.padding as i64;
        let top = rng.gen_range(0..=2 * p);
        let left = rng.gen_range(0..=2 * p);
        shift(sample, shape, p - top, p - left);
    }
}

/// Mirrors the image left to right with probability `p`: torchvision's
/// `RandomHorizontalFlip(p)`.
///
/// Whether to flip is one draw of [`Rng::gen_bool`] (none when `p` is 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HorizontalFlip {
    p: f64,
}

impl HorizontalFlip {
    /// Flips with probability `p`.
    ///
    /// # Panics
    /// If `p` is not between 0 and 1.
    #[track_caller]
    pub fn new(p: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&p),
            "HorizontalFlip: the probability {p} is not between 0 and 1"
        );
        HorizontalFlip { p }
    }

    /// The probability of a flip.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Augment for HorizontalFlip {
    fn apply(&self, sample: &mut [f32], shape: [usize; 3], _: &mut [f32], rng: &mut ChaCha8Rng) {
        let [_, _, w] = check(sample, shape);
        if rng.gen_bool(self.p) && w > 0 {
            sample.chunks_exact_mut(w).for_each(<[f32]>::reverse);
        }
    }
}

/// Moves the image by a random number of rows and columns, up to `max_dy`
/// and `max_dx` either way, filling with zeros what comes in from outside.
///
/// The rows are drawn uniformly from `−max_dy ..= max_dy`, then the columns
/// from `−max_dx ..= max_dx`. `RandomShift::new(k)` moves as
/// [`RandomCrop::new(k)`](RandomCrop::new) does (the same distribution, not
/// the same draws); the shift can also move along one axis only, or by
/// different amounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomShift {
    max_dy: usize,
    max_dx: usize,
}

impl RandomShift {
    /// Shifts by up to `max` rows and `max` columns either way.
    ///
    /// # Panics
    /// If `max` is above [`MAX_SIDE`].
    #[track_caller]
    pub fn new(max: usize) -> Self {
        Self::rows_columns(max, max)
    }

    /// Shifts by up to `max_dy` rows and `max_dx` columns either way.
    ///
    /// # Panics
    /// If either is above [`MAX_SIDE`].
    #[track_caller]
    pub fn rows_columns(max_dy: usize, max_dx: usize) -> Self {
        assert!(
            max_dy <= MAX_SIDE && max_dx <= MAX_SIDE,
            "RandomShift: a shift of up to {max_dy} rows and {max_dx} columns is above {MAX_SIDE}"
        );
        RandomShift { max_dy, max_dx }
    }

    /// The largest shifts, in rows and in columns.
    pub fn max(&self) -> (usize, usize) {
        (self.max_dy, self.max_dx)
    }
}

impl Augment for RandomShift {
    fn apply(&self, sample: &mut [f32], shape: [usize; 3], _: &mut [f32], rng: &mut ChaCha8Rng) {
        let (ky, kx) = (self.max_dy as i64, self.max_dx as i64);
        let dy = rng.gen_range(-ky..=ky);
        let dx = rng.gen_range(-kx..=kx);
        shift(sample, shape, dy, dx);
    }
}

/// The shape's dimensions, once checked against the sample's length.
#[track_caller]
fn check(sample: &[f32], shape: [usize; 3]) -> [usize; 3] {
    let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    assert!(
        len == Some(sample.len()),
        "a sample of {} floats is not of shape {shape:?}",
        sample.len()
    );
    shape
}

/// Moves every channel of `sample` by `dy` rows and `dx` columns: the value
/// at `(y, x)` goes to `(y + dy, x + dx)`, and what comes in from outside is
/// 0. In place: rows are moved in the order that reads each before it is
/// overwritten.
#[track_caller]
fn shift(sample: &mut [f32], shape: [usize; 3], dy: i64, dx: i64) {
    let [_, h, w] = check(sample, shape);
    if (dy == 0 && dx == 0) || h == 0 || w == 0 {
        return;
    }
    let (ady, adx) = (dy.unsigned_abs() as usize, dx.unsigned_abs() as usize);
    for plane in sample.chunks_exact_mut(h * w) {
        if ady >= h || adx >= w {
            plane.fill(0.0);
            continue;
        }
        // a row keeps w − |dx| of its values, from `from` to `to`
        let kept = w - adx;
        let (from, to) = if dx >= 0 { (0, adx) } else { (adx, 0) };
        let mut move_row = |y: usize| {
            let row = y * w;
            // the source row, y − dy, if inside the image
            let source = y as i64 - dy;
            if (0..h as i64).contains(&source) {
                let source = source as usize * w;
                plane.copy_within(source + from..source + from + kept, row + to);
                if dx >= 0 {
                    plane[row..row + adx].fill(0.0);
                } else {
                    plane[row + kept..row + w].fill(0.0);
                }
            } else {
                plane[row..row + w].fill(0.0);
            }
        };
        // moving down, the rows above are still to be read: start at the bottom
        if dy > 0 {
            (0..h).rev().for_each(&mut move_row);
        } else {
            (0..h).for_each(&mut move_row);
        }
    }
}

/// A chain of transforms for samples of one shape, seeded: see the
/// [module docs](self).
#[derive(Debug)]
pub struct Augmentation {
    shape: [usize; 3],
    seed: u64,
    steps: Vec<Box<dyn Augment>>,
}

impl Augmentation {
    /// No transform yet (the identity), for samples of `shape` (`[C, H, W]`),
    /// with draws seeded by `seed`.
    ///
    /// # Panics
    /// If `C·H·W` overflows.
    #[track_caller]
    pub fn new(shape: [usize; 3], seed: u64) -> Self {
        assert!(
            shape
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .is_some(),
            "Augmentation: the shape {shape:?} has more values than this machine can address"
        );
        Augmentation {
            shape,
            seed,
            steps: Vec::new(),
        }
    }

    /// `step` after the transforms so far.
    pub fn then(mut self, step: impl Augment + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// The shape of a sample, `[C, H, W]`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Floats per sample, `C·H·W`: the data set's `LEN`.
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The seed of the draws.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The transforms, in the order they are applied.
    pub fn steps(&self) -> &[Box<dyn Augment>] {
        &self.steps
    }

    /// The generator of the draws for the sample of index `index` (in the
    /// data set) in epoch `epoch` (from 0): ChaCha8 keyed with the 32 bytes
    /// of the seed, the epoch and the index (each a little-endian u64) and
    /// `b"augment\0"`, at the start of stream 0.
    pub fn rng(&self, epoch: usize, index: usize) -> ChaCha8Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&self.seed.to_le_bytes());
        key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
        key[16..24].copy_from_slice(&(index as u64).to_le_bytes());
        key[24..].copy_from_slice(b"augment\0");
        ChaCha8Rng::from_seed(key)
    }

    /// Transforms one sample, the data set's sample `index`, for `epoch`;
    /// `scratch` is grown to a sample's length if shorter.
    ///
    /// # Panics
    /// If `sample` is not [`sample_len`](Self::sample_len) floats.
    #[track_caller]
    pub fn apply(&self, sample: &mut [f32], epoch: usize, index: usize, scratch: &mut Vec<f32>) {
        let len = self.sample_len();
        assert!(
            sample.len() == len,
            "Augmentation::apply: a sample of {} floats, expected {len} (shape {:?})",
            sample.len(),
            self.shape
        );
        if scratch.len() < len {
            scratch.resize(len, 0.0);
        }
        self.transform(sample, epoch, index, &mut scratch[..len]);
    }

    /// Transforms a batch in place: `inputs` holds `indices.len()` samples
    /// one after another, sample `k` being the data set's sample
    /// `indices[k]`, as [`gather`](crate::batch::gather) leaves them;
    /// `epoch` counts from 0. `scratch` is grown to a sample's length if
    /// shorter: reused from batch to batch, it makes augmenting allocate
    /// nothing. See the [module docs](self) for where a training loop calls
    /// this.
    ///
    /// # Panics
    /// If `inputs` is not `indices.len()` samples of
    /// [`sample_len`](Self::sample_len) floats.
    #[track_caller]
    pub fn apply_batch(
        &self,
        inputs: &mut [f32],
        epoch: usize,
        indices: &[usize],
        scratch: &mut Vec<f32>,
    ) {
        let len = self.sample_len();
        assert!(
            indices.len().checked_mul(len) == Some(inputs.len()),
            "Augmentation::apply_batch: {} inputs for {} samples of {len} floats (shape {:?})",
            inputs.len(),
            indices.len(),
            self.shape
        );
        if self.steps.is_empty() || len == 0 {
            return;
        }
        if scratch.len() < len {
            scratch.resize(len, 0.0);
        }
        for (sample, &index) in inputs.chunks_exact_mut(len).zip(indices) {
            self.transform(sample, epoch, index, &mut scratch[..len]);
        }
    }

    fn transform(&self, sample: &mut [f32], epoch: usize, index: usize, scratch: &mut [f32]) {
        let mut rng = self.rng(epoch, index);
        for step in &self.steps {
            step.apply(sample, self.shape, scratch, &mut rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct values: channel c, row y, column x holds `100c + 10y + x`.
    fn image(shape: [usize; 3]) -> Vec<f32> {
        let [c, h, w] = shape;
        (0..c * h * w)
            .map(|i| (100 * (i / (h * w)) + 10 * (i / w % h) + i % w) as f32)
            .collect()
    }

    /// `shift` the slow way: output (y, x) is input (y − dy, x − dx) or 0.
    fn shifted(input: &[f32], [c, h, w]: [usize; 3], dy: i64, dx: i64) -> Vec<f32> {
        let mut out = vec![0.0; input.len()];
        for ch in 0..c {
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    let (sy, sx) = (y - dy, x - dx);
                    if (0..h as i64).contains(&sy) && (0..w as i64).contains(&sx) {
                        out[(ch * h + y as usize) * w + x as usize] =
                            input[(ch * h + sy as usize) * w + sx as usize];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn shift_in_place_matches_the_definition() {
        for shape in [[2, 3, 4], [1, 5, 2], [3, 1, 1], [1, 4, 4]] {
            for dy in -6..=6 {
                for dx in -6..=6 {
                    let mut sample = image(shape);
                    shift(&mut sample, shape, dy, dx);
                    assert_eq!(
                        sample,
                        shifted(&image(shape), shape, dy, dx),
                        "{shape:?} by ({dy}, {dx})"
                    );
                }
            }
        }
    }

    #[test]
    fn a_shift_moves_a_known_pixel() {
        let shape = [1, 3, 4];
        let mut sample = vec![0.0; 12];
        sample[4 + 1] = 1.0; // (1, 1)
        shift(&mut sample, shape, 1, 2);
        let mut expected = vec![0.0; 12];
        expected[2 * 4 + 3] = 1.0; // (2, 3)
        assert_eq!(sample, expected);
        shift(&mut sample, shape, -2, -3);
        assert_eq!(sample[0], 1.0);
        assert_eq!(sample.iter().sum::<f32>(), 1.0);
        shift(&mut sample, shape, -1, 0);
        assert!(sample.iter().all(|&v| v == 0.0), "moved out: zeros");
    }

    /// The offset by which `augment` moved a lone pixel at the centre of a
    /// `[1, 2k+1, 2k+1]` image, if it is still there.
    fn offset(augment: &dyn Augment, k: usize, rng: &mut ChaCha8Rng) -> (i64, i64) {
        let side = 2 * k + 1;
        let mut sample = vec![0.0; side * side];
        sample[k * side + k] = 1.0;
        let mut scratch = vec![0.0; side * side];
        augment.apply(&mut sample, [1, side, side], &mut scratch, rng);
        let at = sample
            .iter()
            .position(|&v| v == 1.0)
            .expect("the pixel stays");
        assert_eq!(sample.iter().sum::<f32>(), 1.0);
        ((at / side) as i64 - k as i64, (at % side) as i64 - k as i64)
    }

    #[test]
    fn crops_and_shifts_move_by_every_offset_in_range() {
        // 4000 draws of 25 offsets: a given one is missed with probability
        // (24/25)^4000 < 1e-70
        for augment in [&RandomCrop::new(2) as &dyn Augment, &RandomShift::new(2)] {
            let mut seen = [[0usize; 5]; 5];
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            for _ in 0..4000 {
                let (dy, dx) = offset(augment, 2, &mut rng);
                assert!(dy.abs() <= 2 && dx.abs() <= 2, "{augment:?}: ({dy}, {dx})");
                seen[(dy + 2) as usize][(dx + 2) as usize] += 1;
            }
            assert!(
                seen.iter().flatten().all(|&n| n > 0),
                "{augment:?}: {seen:?}"
            );
        }
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..200 {
            let (dy, dx) = offset(&RandomShift::rows_columns(0, 3), 3, &mut rng);
            assert!(dy == 0 && dx.abs() <= 3);
        }
    }

    #[test]
    fn crop_with_padding_0_is_the_identity() {
        let shape = [3, 5, 7];
        let augmentation = Augmentation::new(shape, 3).then(RandomCrop::new(0));
        let mut batch: Vec<f32> = (0..4).flat_map(|_| image(shape)).collect();
        augmentation.apply_batch(&mut batch, 2, &[0, 1, 2, 3], &mut Vec::new());
        assert_eq!(batch, (0..4).flat_map(|_| image(shape)).collect::<Vec<_>>());
    }

    #[test]
    fn flipping_twice_is_the_identity() {
        let shape = [2, 3, 5];
        let flip = HorizontalFlip::new(1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut sample = image(shape);
        let mut scratch = vec![0.0; sample.len()];
        flip.apply(&mut sample, shape, &mut scratch, &mut rng);
        assert_eq!(&sample[..5], &[4.0, 3.0, 2.0, 1.0, 0.0], "row 0 mirrored");
        assert_eq!(&sample[15..20], &[104.0, 103.0, 102.0, 101.0, 100.0]);
        flip.apply(&mut sample, shape, &mut scratch, &mut rng);
        assert_eq!(sample, image(shape));
        // p = 0 never flips
        HorizontalFlip::new(0.0).apply(&mut sample, shape, &mut scratch, &mut rng);
        assert_eq!(sample, image(shape));
    }

    #[test]
    fn the_flip_rate_is_p() {
        // Hoeffding: over n independent flips the rate is more than t from p
        // with probability at most 2·exp(−2nt²); n = 20,000 and t = 0.03 make
        // that 2·exp(−36) < 5e-16, whatever the seed.
        let (n, t) = (20_000, 0.03);
        for p in [0.5, 0.1, 0.9] {
            let augmentation = Augmentation::new([1, 1, 2], 11).then(HorizontalFlip::new(p));
            let mut scratch = Vec::new();
            let flips = (0..n)
                .filter(|&i| {
                    let mut sample = [0.0, 1.0];
                    augmentation.apply(&mut sample, 0, i, &mut scratch);
                    sample == [1.0, 0.0]
                })
                .count();
            let rate = flips as f64 / n as f64;
            assert!((rate - p).abs() <= t, "p = {p}: rate {rate}");
        }
    }

    fn cifar_like() -> Augmentation {
        Augmentation::new([3, 8, 8], 42)
            .then(RandomCrop::new(2))
            .then(HorizontalFlip::new(0.5))
            .then(RandomShift::rows_columns(1, 0))
    }

    fn batch(samples: usize) -> Vec<f32> {
        (0..samples).flat_map(|_| image([3, 8, 8])).collect()
    }

    #[test]
    fn same_seed_epoch_and_index_same_transform() {
        let augmentation = cifar_like();
        let indices = [9, 0, 31, 4, 17, 8];
        let mut a = batch(6);
        let mut scratch = Vec::new();
        augmentation.apply_batch(&mut a, 3, &indices, &mut scratch);
        let mut b = batch(6);
        cifar_like().apply_batch(&mut b, 3, &indices, &mut Vec::new());
        assert_eq!(a, b, "same seed, epoch and indices");
        assert_ne!(a, batch(6), "something moved");
        // split in two shares, in another order: each sample as before
        let mut first = batch(2);
        let mut rest = batch(4);
        augmentation.apply_batch(&mut rest, 3, &indices[2..], &mut scratch);
        augmentation.apply_batch(&mut first, 3, &indices[..2], &mut scratch);
        assert_eq!([first, rest].concat(), a);
        // one at a time
        for (k, &i) in indices.iter().enumerate() {
            let mut one = image([3, 8, 8]);
            augmentation.apply(&mut one, 3, i, &mut scratch);
            assert_eq!(one, a[k * 192..(k + 1) * 192], "sample {i}");
        }
    }

    #[test]
    fn another_epoch_index_or_seed_draws_anew() {
        // A sample's outcome is its moves (rows: the crop's −2..=2 plus the
        // shift's −1..=1; columns: −2..=2) and the flip, each outcome a
        // different image, none of probability above 3/15 · 1/5 · 1/2 = 1/50:
        // two independent draws agree with probability at most 1/50, all 16
        // samples with at most 50^−16 < 1e-27.
        let augmentation = cifar_like();
        let indices: Vec<usize> = (0..16).collect();
        let run = |augmentation: &Augmentation, epoch, indices: &[usize]| {
            let mut b = batch(16);
            augmentation.apply_batch(&mut b, epoch, indices, &mut Vec::new());
            b
        };
        let epoch_0 = run(&augmentation, 0, &indices);
        assert_ne!(epoch_0, run(&augmentation, 1, &indices), "epoch");
        let shifted: Vec<usize> = (16..32).collect();
        assert_ne!(epoch_0, run(&augmentation, 0, &shifted), "indices");
        let other = Augmentation::new([3, 8, 8], 43)
            .then(RandomCrop::new(2))
            .then(HorizontalFlip::new(0.5))
            .then(RandomShift::rows_columns(1, 0));
        assert_ne!(epoch_0, run(&other, 0, &indices), "seed");
        assert_eq!(augmentation.rng(5, 6), augmentation.rng(5, 6));
        assert_ne!(augmentation.rng(5, 6), augmentation.rng(6, 5));
    }

    #[test]
    fn no_steps_is_the_identity_and_scratch_is_grown_once() {
        let mut b = batch(3);
        let mut scratch = Vec::new();
        Augmentation::new([3, 8, 8], 0).apply_batch(&mut b, 0, &[0, 1, 2], &mut scratch);
        assert_eq!(b, batch(3));
        cifar_like().apply_batch(&mut b, 0, &[0, 1, 2], &mut scratch);
        assert_eq!(scratch.len(), 192);
        assert_eq!(
            format!("{:?}", cifar_like()),
            "Augmentation { shape: [3, 8, 8], seed: 42, steps: [RandomCrop { padding: 2 }, \
             HorizontalFlip { p: 0.5 }, RandomShift { max_dy: 1, max_dx: 0 }] }"
        );
    }

    #[test]
    #[should_panic(
        expected = "Augmentation::apply_batch: 100 inputs for 2 samples of 192 floats \
                               (shape [3, 8, 8])"
    )]
    fn a_batch_of_the_wrong_length_panics() {
        cifar_like().apply_batch(&mut [0.0; 100], 0, &[0, 1], &mut Vec::new());
    }

    #[test]
    #[should_panic(expected = "HorizontalFlip: the probability 1.5 is not between 0 and 1")]
    fn a_probability_above_1_panics() {
        HorizontalFlip::new(1.5);
    }
}
