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

/// The window of a pooling layer, checked.
const fn geometry<G: Window>() -> Geometry {
    G::GEOMETRY.checked()
}

impl<G: Window> Layer for MaxPool2d<G> {
    const IN: usize = geometry::<G>().in_len();
    const OUT: usize = geometry::<G>().out_len();
    const PARAMS: usize = 0;

    #[inline]
    fn forward(f: Forward<'_>) {
        let g = const { geometry::<G>() };
        vectorized(
            #[inline(always)]
            || pool::max_forward(&g, f.pass.batch, f.input, f.output),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let g = const { geometry::<G>() };
        vectorized(
            #[inline(always)]
            || pool::max_backward(&g, b.pass.batch, b.input, b.d_output, b.d_input),
        )
    }
}

impl<G: Window> Layer for AvgPool2d<G> {
    const IN: usize = geometry::<G>().in_len();
    const OUT: usize = geometry::<G>().out_len();
    const PARAMS: usize = 0;

    #[inline]
    fn forward(f: Forward<'_>) {
        let g = const { geometry::<G>() };
        vectorized(
            #[inline(always)]
            || pool::avg_forward(&g, g.pb, g.pr, f.pass.batch, f.input, f.output),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let g = const { geometry::<G>() };
        vectorized(
            #[inline(always)]
            || pool::avg_backward(&g, g.pb, g.pr, b.pass.batch, b.d_output, b.d_input),
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
