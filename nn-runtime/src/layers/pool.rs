//! `max_pool`, `avg_pool` and `global_avg_pool`.

use super::{Backward, Forward, Layer, Window};
use crate::kernels::conv2d::Geometry;
use crate::kernels::pool;
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// `max_pool`: `[C, H, W]` → `[C, OH, OW]` with the window of
/// `G::GEOMETRY` (whose `oc` is `C`); with `RELU`, a `relu` right before
/// it too, which the network then does not run (`relu` and the maximum
/// commute, and give the same gradient).
///
/// A window of at most 255 positions (`MAX_SAVED_WINDOW`) has each
/// output's maximum's position saved as a byte ([`Layer::SAVED`]), so that
/// backward does not read the input: the network keeps neither it nor,
/// with `RELU`, the values before the ReLU (in VGG-16, the largest value of
/// each stage). A larger window is found again in the input.
///
/// With `FOLDED`, a conv before that ReLU applies it in inference passes
/// ([`Pass::inference`](super::Pass::inference)), and the pool does not
/// again (a select per output cost LeNet-5's inference 6 %).
pub struct MaxPool2d<G, const RELU: bool = false, const FOLDED: bool = false>(PhantomData<G>);

/// `avg_pool`: `[C, H, W]` → `[C, OH, OW]`; the bottom and right padding of
/// `G::GEOMETRY` bound the divisor of a last partial window.
pub struct AvgPool2d<G>(PhantomData<G>);

// The geometry is an associated constant passed by reference, as in
// `Conv2d`, so that the kernels see constant sizes: copied into a local
// first, it was not propagated, and LeNet-5's max pooling became the
// largest cost of a training step (callgrind, 10 steps of batch 64: 850 M
// instructions in all, 134 M of them in pooling; 597 M in all this way).
impl<G: Window, const RELU: bool, const FOLDED: bool> MaxPool2d<G, RELU, FOLDED> {
    const G: Geometry = G::GEOMETRY.checked();
    const SAVES: bool = pool::saves_argmax(&Self::G);
    /// Bytes of saved positions per sample: [`Layer::SAVED`]'s floats'.
    const SAVED_BYTES: usize = 4 * <Self as Layer>::SAVED;
}

impl<G: Window> AvgPool2d<G> {
    const G: Geometry = G::GEOMETRY.checked();
}

impl<G: Window, const RELU: bool, const FOLDED: bool> Layer for MaxPool2d<G, RELU, FOLDED> {
    const IN: usize = Self::G.in_len();
    const OUT: usize = Self::G.out_len();
    const PARAMS: usize = 0;
    const SAVED: usize = if Self::SAVES {
        Self::G.out_len().div_ceil(4)
    } else {
        0
    };
    const READS_INPUT: bool = !Self::SAVES;
    const STORES_INPUT_GRAD: bool = Self::SAVES && pool::tiles(&Self::G);

    // `&Self::G` is named inside each closure, as the other pools do: the
    // kernels see constant sizes only so
    #[inline]
    fn forward(f: Forward<'_>) {
        let batch = f.pass.batch;
        // an inference pass has no backward to save for
        if Self::SAVES && !f.pass.inference {
            let positions: &mut [u8] = bytemuck::cast_slice_mut(f.saved);
            vectorized(
                #[inline(always)]
                || {
                    let saved = (&mut *positions, Self::SAVED_BYTES);
                    pool::max_forward_saving(&Self::G, RELU, batch, f.input, f.output, saved)
                },
            )
        } else if RELU && !(FOLDED && f.pass.inference) {
            vectorized(
                #[inline(always)]
                || pool::max_forward_relu(&Self::G, true, batch, f.input, f.output),
            )
        } else {
            vectorized(
                #[inline(always)]
                || pool::max_forward_relu(&Self::G, false, batch, f.input, f.output),
            )
        }
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let batch = b.pass.batch;
        if Self::STORES_INPUT_GRAD && b.fresh {
            let positions: &[u8] = bytemuck::cast_slice(b.saved);
            vectorized(
                #[inline(always)]
                || {
                    let saved = (positions, Self::SAVED_BYTES);
                    pool::max_backward_saved_store(&Self::G, batch, saved, b.d_output, b.d_input)
                },
            )
        } else if Self::SAVES {
            let positions: &[u8] = bytemuck::cast_slice(b.saved);
            vectorized(
                #[inline(always)]
                || {
                    let saved = (positions, Self::SAVED_BYTES);
                    pool::max_backward_saved(&Self::G, batch, saved, b.d_output, b.d_input)
                },
            )
        } else {
            let (x, dy, dx) = (b.input, b.d_output, b.d_input);
            vectorized(
                #[inline(always)]
                || pool::max_backward(&Self::G, RELU, batch, x, dy, dx),
            )
        }
    }
}

impl<G: Window> Layer for AvgPool2d<G> {
    const IN: usize = Self::G.in_len();
    const OUT: usize = Self::G.out_len();
    const PARAMS: usize = 0;
    const READS_INPUT: bool = false;

    #[inline]
    fn forward(f: Forward<'_>) {
        let g = &Self::G;
        vectorized(
            #[inline(always)]
            || pool::avg_forward(g, g.pb, g.pr, f.pass.batch, f.input, f.output),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let g = &Self::G;
        vectorized(
            #[inline(always)]
            || pool::avg_backward(g, g.pb, g.pr, b.pass.batch, b.d_output, b.d_input),
        )
    }
}

/// `global_avg_pool`: `[C, H, W]` → `[C]`, with `HW = H·W`.
pub struct GlobalAvgPool<const C: usize, const HW: usize>(PhantomData<()>);

impl<const C: usize, const HW: usize> Layer for GlobalAvgPool<C, HW> {
    const IN: usize = C * HW;
    const OUT: usize = C;
    const PARAMS: usize = 0;
    const READS_INPUT: bool = false;

    #[inline]
    fn forward(f: Forward<'_>) {
        vectorized(
            #[inline(always)]
            || pool::global_avg_forward(C, HW, f.pass.batch, f.input, f.output),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        vectorized(
            #[inline(always)]
            || pool::global_avg_backward(C, HW, b.pass.batch, b.d_output, b.d_input),
        )
    }
}
