//! The merges of blocks, on a network's activation buffer (or its
//! gradient's): slots given as per-sample `(offset, length)` and scaled by
//! the batch, as the generated code lays them out (see `network`).
//!
//! `add` sums its branches' outputs, so each branch's output gradient is
//! the block's: backward adds it in. `concat` joins its branches on the
//! features of each sample: branch `k` fills values `at_k .. at_k + len_k`
//! of every output sample, and its gradient is that part of the block's.

use crate::network::split_slots;

/// `out = src` (the first branch) or `out += src`.
#[inline]
pub fn add_forward(
    acts: &mut [f32],
    batch: usize,
    (out, len): (usize, usize),
    (src, src_len): (usize, usize),
    first: bool,
) {
    debug_assert_eq!(len, src_len);
    let (x, y) = split_slots(acts, batch * src, batch * len, batch * out, batch * len);
    if first {
        y.copy_from_slice(x);
    } else {
        y.iter_mut().zip(x).for_each(|(o, v)| *o += v);
    }
}

/// `d_src += d_out`.
#[inline]
pub fn add_backward(
    d_acts: &mut [f32],
    batch: usize,
    (out, len): (usize, usize),
    (src, _): (usize, usize),
) {
    let (dy, dx) = split_slots(d_acts, batch * out, batch * len, batch * src, batch * len);
    dx.iter_mut().zip(dy).for_each(|(d, g)| *d += g);
}

/// Each sample's `src` values into values `at ..` of its output.
#[inline]
pub fn concat_forward(
    acts: &mut [f32],
    batch: usize,
    (out, len): (usize, usize),
    at: usize,
    (src, src_len): (usize, usize),
) {
    let (x, y) = split_slots(acts, batch * src, batch * src_len, batch * out, batch * len);
    for (o, v) in y.chunks_exact_mut(len).zip(x.chunks_exact(src_len)) {
        o[at..at + src_len].copy_from_slice(v);
    }
}

/// Each sample's `d_src += d_out[at ..]`.
#[inline]
pub fn concat_backward(
    d_acts: &mut [f32],
    batch: usize,
    (out, len): (usize, usize),
    at: usize,
    (src, src_len): (usize, usize),
) {
    let (dy, dx) = split_slots(
        d_acts,
        batch * out,
        batch * len,
        batch * src,
        batch * src_len,
    );
    for (d, g) in dx.chunks_exact_mut(src_len).zip(dy.chunks_exact(len)) {
        d.iter_mut()
            .zip(&g[at..at + src_len])
            .for_each(|(d, g)| *d += g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sums_and_sends_the_gradient_to_every_branch() {
        // slots per sample: a [0, 2), b [2, 4), out [4, 6); batch 2
        let mut acts: Vec<f32> = (0..12).map(|v| v as f32).collect();
        add_forward(&mut acts, 2, (4, 2), (0, 2), true);
        add_forward(&mut acts, 2, (4, 2), (2, 2), false);
        assert_eq!(&acts[8..12], &[4.0, 6.0, 8.0, 10.0]);
        let mut d = vec![0.0; 12];
        d[8..12].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        add_backward(&mut d, 2, (4, 2), (0, 2));
        add_backward(&mut d, 2, (4, 2), (2, 2));
        add_backward(&mut d, 2, (4, 2), (2, 2));
        assert_eq!(&d[..8], &[1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn concat_joins_each_sample_and_splits_the_gradient() {
        // a: 1 value per sample at [0, 1); b: 2 values at [1, 3); out 3 at [3, 6)
        let mut acts = vec![0.0f32; 12];
        acts[..2].copy_from_slice(&[1.0, 2.0]);
        acts[2..6].copy_from_slice(&[10.0, 11.0, 20.0, 21.0]);
        concat_forward(&mut acts, 2, (3, 3), 0, (0, 1));
        concat_forward(&mut acts, 2, (3, 3), 1, (1, 2));
        assert_eq!(&acts[6..12], &[1.0, 10.0, 11.0, 2.0, 20.0, 21.0]);
        let mut d = vec![0.0f32; 12];
        d[6..12].copy_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        concat_backward(&mut d, 2, (3, 3), 0, (0, 1));
        concat_backward(&mut d, 2, (3, 3), 1, (1, 2));
        assert_eq!(&d[..6], &[1.0, 4.0, 2.0, 3.0, 5.0, 6.0]);
    }
}
