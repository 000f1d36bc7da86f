//! `conv`: a 2-D convolution (cross-correlation), PyTorch's `Conv2d`.

use super::{Backward, Forward, Layer, Pass, Strategy};
use crate::kernels::conv2d::{self, Geometry};
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// The geometry of one conv or pooling layer, as a named constant: the
/// `network!` macro declares a type per layer and implements this for it.
pub trait Window {
    /// The layer's sizes (checked with [`Geometry::checked`] where used).
    const GEOMETRY: Geometry;
}

/// The geometry of `Conv2d<G, BIAS>` as a constant that the kernels'
/// passes compile in, the passes shared out among threads included
/// ([`conv2d::Sizes`]).
pub(super) struct Fixed<G, const BIAS: bool>(PhantomData<fn() -> G>);

impl<G, const BIAS: bool> Clone for Fixed<G, BIAS> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<G, const BIAS: bool> Copy for Fixed<G, BIAS> {}

impl<G: Window, const BIAS: bool> conv2d::Sizes for Fixed<G, BIAS> {
    const COPY: bool = crate::kernels::winograd::applies(&Conv2d::<G, BIAS>::G);

    #[inline(always)]
    fn geometry(&self) -> &Geometry {
        &Conv2d::<G, BIAS>::G
    }
}

/// `conv`: input `[C, H, W]`, output `[OC, OH, OW]`, with the sizes of
/// `G::GEOMETRY`; parameters `weight [OC, C, KH, KW]`, then `bias [OC]`
/// when `BIAS`.
pub struct Conv2d<G, const BIAS: bool>(PhantomData<G>);

impl<G: Window, const BIAS: bool> Conv2d<G, BIAS> {
    pub(super) const G: Geometry = G::GEOMETRY.checked_conv();
    pub(super) const WEIGHTS: usize = Self::G.oc * Self::G.patch_len();
    /// [`Conv2d::G`] for the kernels.
    pub(super) const SIZES: Fixed<G, BIAS> = Fixed(PhantomData);

    /// The prepared weights when the pass may read them, else none (the
    /// kernel prepares them itself).
    #[inline(always)]
    pub(super) fn prepared(pass: Pass, prepared: &[f32]) -> &[f32] {
        if pass.inference {
            &prepared[..<Self as Layer>::PREPARED]
        } else {
            &[]
        }
    }

    /// The parameter gradients, and the input gradient when `input_grad`.
    #[inline(always)]
    fn grads(b: Backward<'_>, input_grad: bool) {
        vectorized(
            #[inline(always)]
            || {
                let (dw, db) = b.d_params.split_at_mut(Self::WEIGHTS);
                let w = &b.params[..Self::WEIGHTS];
                let dx = (input_grad.then_some(b.d_input), b.fresh);
                let (x, dy) = (b.input, (b.d_output, b.out_stride));
                conv2d::backward(&Self::G, b.pass.batch, w, x, dy, dx, dw, db, b.scratch);
            },
        )
    }
}

impl<G: Window, const BIAS: bool> Layer for Conv2d<G, BIAS> {
    const IN: usize = Self::G.in_len();
    const OUT: usize = Self::G.out_len();
    const PARAMS: usize = Self::WEIGHTS + if BIAS { Self::G.oc } else { 0 };
    const SCRATCH: usize = Self::G.scratch_len();
    const STRIDED: bool = true;
    const STORES_INPUT_GRAD: bool = true;
    const PREPARED: usize = conv2d::prepared_len(&Self::G);

    fn strategy() -> Strategy {
        Strategy::Conv(Self::G.plan())
    }

    #[inline(never)]
    fn prepare(params: &[f32], prepared: &mut [f32]) {
        let w = &params[..Self::WEIGHTS];
        vectorized(
            #[inline(always)]
            || conv2d::prepare(&Self::G, w, prepared),
        )
    }

    // not inlined: one copy per geometry, however many layers share it,
    // rather than one per layer in the network's passes (compile time)
    #[inline(never)]
    fn forward(f: Forward<'_>) {
        vectorized(
            #[inline(always)]
            || {
                let (w, b) = f.params.split_at(Self::WEIGHTS);
                let batch = f.pass.batch;
                let output = (f.output, f.out_stride);
                let w = (w, Self::prepared(f.pass, f.prepared));
                conv2d::forward_prepared(Self::SIZES, batch, w, b, f.input, output, f.scratch);
            },
        )
    }

    #[inline(never)]
    fn backward(b: Backward<'_>) {
        Self::grads(b, true);
    }

    #[inline(never)]
    fn backward_params(b: Backward<'_>) {
        Self::grads(b, false);
    }
}
