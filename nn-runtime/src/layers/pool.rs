//! `max_pool`, `avg_pool` and `global_avg_pool`.

use super::{Backward, Forward, Layer, Window};
use crate::kernels::conv2d::Geometry;
use crate::kernels::pool;
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// `max_pool`: `[C, H, W]` → `[C, OH, OW]` with the window of
/// `G::GEOMETRY` (whose `oc` is `C`).
pub struct MaxPool2d<G>(PhantomData<G>);

/// `avg_pool`: `[C, H, W]` → `[C, OH, OW]`; the bottom and right padding of
/// `G::GEOMETRY` bound the divisor of a last partial window.
pub struct AvgPool2d<G>(PhantomData<G>);

// The geometry is an associated constant passed by reference, as in
// `Conv2d`, so that the kernels see constant sizes: copied into a local
// first, it was not propagated, and LeNet-5's max pooling became the
// largest cost of a training step (callgrind, 10 steps of batch 64: 850 M
// instructions in all, 134 M of them in pooling; 597 M in all this way).
impl<G: Window> MaxPool2d<G> {
    const G: Geometry = G::GEOMETRY.checked();
}

impl<G: Window> AvgPool2d<G> {
    const G: Geometry = G::GEOMETRY.checked();
}

impl<G: Window> Layer for MaxPool2d<G> {
    const IN: usize = Self::G.in_len();
    const OUT: usize = Self::G.out_len();
    const PARAMS: usize = 0;

    #[inline]
    fn forward(f: Forward<'_>) {
        vectorized(
            #[inline(always)]
            || pool::max_forward(&Self::G, f.pass.batch, f.input, f.output),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        vectorized(
            #[inline(always)]
            || pool::max_backward(&Self::G, b.pass.batch, b.input, b.d_output, b.d_input),
        )
    }
}

impl<G: Window> Layer for AvgPool2d<G> {
    const IN: usize = Self::G.in_len();
    const OUT: usize = Self::G.out_len();
    const PARAMS: usize = 0;

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
