//! `dropout(P)`: PyTorch's `Dropout`.

use super::{Backward, Forward, Layer, Mode};
use crate::kernels::dropout;
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// `dropout(P)` over `N` values per sample: in training each value is
/// zeroed with probability `P` and the others are scaled by `1/(1 − P)`; in
/// evaluation it is the identity. `P` is passed as the bits of an `f32`;
/// `KEY` tells the network's dropout layers apart, so that each draws its
/// own mask. The mask is recomputed in backward from the pass's key (see
/// the kernel), so the layer keeps no state.
pub struct Dropout<const N: usize, const P_BITS: u32, const KEY: u64>(PhantomData<()>);

impl<const N: usize, const P_BITS: u32, const KEY: u64> Dropout<N, P_BITS, KEY> {
    const P: f32 = f32::from_bits(P_BITS);

    /// Applies the mask sample by sample: `out = x·mask` or `out += x·mask`.
    #[inline(always)]
    fn masked(pass: super::Pass, x: &[f32], out: &mut [f32], accumulate: bool) {
        vectorized(
            #[inline(always)]
            || {
                let rows = x.chunks_exact(N).zip(out.chunks_exact_mut(N));
                for (s, (x, y)) in rows.take(pass.batch).enumerate() {
                    let key = dropout::sample_key(pass.noise, KEY, pass.first_sample + s);
                    dropout::apply(key, Self::P, x, y, accumulate);
                }
            },
        )
    }
}

impl<const N: usize, const P_BITS: u32, const KEY: u64> Layer for Dropout<N, P_BITS, KEY> {
    const IN: usize = N;
    const OUT: usize = N;
    const PARAMS: usize = 0;
    const READS_INPUT: bool = false;

    #[inline]
    fn forward(f: Forward<'_>) {
        let n = f.pass.batch * N;
        if f.pass.mode == Mode::Eval || Self::P == 0.0 {
            f.output[..n].copy_from_slice(&f.input[..n]);
        } else {
            Self::masked(f.pass, &f.input[..n], &mut f.output[..n], false);
        }
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let n = b.pass.batch * N;
        if b.pass.mode == Mode::Eval || Self::P == 0.0 {
            let rows = b.d_input[..n].iter_mut().zip(&b.d_output[..n]);
            rows.for_each(|(d, g)| *d += g);
        } else {
            Self::masked(b.pass, &b.d_output[..n], &mut b.d_input[..n], true);
        }
    }
}
