//! Layers as zero-sized types whose const generics carry every size.
//!
//! The `network!` macro computes the sizes and names one of these types per
//! item; the generated code calls [`Layer::forward`] in order and
//! [`Layer::backward`] in reverse. Each impl forwards to a kernel in
//! [`crate::kernels`] with a geometry made of constants, so monomorphisation
//! gives code specialised to the layer's shape.

use crate::kernels::simd::vectorized;
use crate::kernels::{activation, conv2d, dense, pool};
use core::marker::PhantomData;

/// One layer of a network, over a batch laid out sample after sample.
///
/// `params` is this layer's slice of the network's flat parameter buffer
/// (PyTorch's order: weight, then bias). `backward` *accumulates* into
/// `d_input` and `d_params`.
pub trait Layer {
    /// Floats per input sample.
    const IN: usize;
    /// Floats per output sample.
    const OUT: usize;
    /// Learnable parameters.
    const PARAMS: usize;
    /// Scratch floats the layer needs (independent of the batch size).
    const SCRATCH: usize = 0;

    /// `input [batch, IN]` → `output [batch, OUT]` (overwritten).
    fn forward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    );

    /// From `d_output [batch, OUT]`, accumulates into `d_input [batch, IN]`
    /// and `d_params [PARAMS]`. `input` and `output` are what `forward` saw
    /// and wrote.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        output: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        d_params: &mut [f32],
        scratch: &mut [f32],
    );

    /// [`Layer::backward`] for a network's first layer when nothing needs
    /// the network's input gradient (training): accumulates into
    /// `d_params` and may leave `d_input` as it is. By default a layer
    /// without parameters does nothing and the others run `backward`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn backward_params(
        batch: usize,
        params: &[f32],
        input: &[f32],
        output: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        d_params: &mut [f32],
        scratch: &mut [f32],
    ) {
        if Self::PARAMS > 0 {
            Self::backward(
                batch, params, input, output, d_output, d_input, d_params, scratch,
            );
        }
    }
}

/// `conv`: input `[C, H, W]`, output `[OC, OH, OW]`, kernel `KH × KW`, stride
/// `SH × SW`, top/left padding `PT`/`PL`; parameters `weight [OC, C, KH, KW]`
/// then `bias [OC]` when `BIAS`.
pub struct Conv2d<
    const C: usize,
    const H: usize,
    const W: usize,
    const OC: usize,
    const OH: usize,
    const OW: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PT: usize,
    const PL: usize,
    const BIAS: bool,
>(PhantomData<()>);

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OC: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
        const BIAS: bool,
    > Conv2d<C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, BIAS>
{
    const GEOMETRY: conv2d::Geometry = {
        // Backstop for hand-written instances; the macro has already checked
        // this with a proper message. The last window must start inside the
        // top-padded input and the first must reach a real row.
        assert!(KH >= 1 && KW >= 1 && SH >= 1 && SW >= 1 && OH >= 1 && OW >= 1);
        assert!(
            (OH - 1) * SH < H + PT && (OW - 1) * SW < W + PL,
            "Conv2d: output larger than the input allows"
        );
        conv2d::Geometry {
            c: C,
            h: H,
            w: W,
            oc: OC,
            oh: OH,
            ow: OW,
            kh: KH,
            kw: KW,
            sh: SH,
            sw: SW,
            pt: PT,
            pl: PL,
        }
    };
    const WEIGHTS: usize = OC * C * KH * KW;

    /// The parameter gradients, and the input gradient when `d_input` is given.
    #[inline(always)]
    fn grads(
        batch: usize,
        params: &[f32],
        input: &[f32],
        d_output: &[f32],
        d_input: Option<&mut [f32]>,
        d_params: &mut [f32],
        scratch: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                let (dw, db) = d_params.split_at_mut(Self::WEIGHTS);
                conv2d::backward(
                    &Self::GEOMETRY,
                    batch,
                    &params[..Self::WEIGHTS],
                    input,
                    d_output,
                    d_input,
                    dw,
                    db,
                    scratch,
                );
            },
        )
    }
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OC: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
        const BIAS: bool,
    > Layer for Conv2d<C, H, W, OC, OH, OW, KH, KW, SH, SW, PT, PL, BIAS>
{
    const IN: usize = C * H * W;
    const OUT: usize = OC * OH * OW;
    const PARAMS: usize = Self::WEIGHTS + if BIAS { OC } else { 0 };
    const SCRATCH: usize = Self::GEOMETRY.scratch_len();

    #[inline]
    fn forward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                let (w, b) = params.split_at(Self::WEIGHTS);
                conv2d::forward(&Self::GEOMETRY, batch, w, b, input, output, scratch);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        _output: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        d_params: &mut [f32],
        scratch: &mut [f32],
    ) {
        Self::grads(
            batch,
            params,
            input,
            d_output,
            Some(d_input),
            d_params,
            scratch,
        );
    }

    #[inline]
    fn backward_params(
        batch: usize,
        params: &[f32],
        input: &[f32],
        _output: &[f32],
        d_output: &[f32],
        _d_input: &mut [f32],
        d_params: &mut [f32],
        scratch: &mut [f32],
    ) {
        Self::grads(batch, params, input, d_output, None, d_params, scratch);
    }
}

/// Shared geometry of the pooling layers (`OC = C`).
const fn pool_geometry(
    c: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    k: (usize, usize),
    s: (usize, usize),
    p: (usize, usize),
) -> conv2d::Geometry {
    assert!(k.0 >= 1 && k.1 >= 1 && s.0 >= 1 && s.1 >= 1 && oh >= 1 && ow >= 1);
    assert!(
        (oh - 1) * s.0 < h + p.0 && (ow - 1) * s.1 < w + p.1,
        "pool: output larger than the input allows"
    );
    conv2d::Geometry {
        c,
        h,
        w,
        oc: c,
        oh,
        ow,
        kh: k.0,
        kw: k.1,
        sh: s.0,
        sw: s.1,
        pt: p.0,
        pl: p.1,
    }
}

/// `max_pool`: `[C, H, W]` → `[C, OH, OW]`.
pub struct MaxPool2d<
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PT: usize,
    const PL: usize,
>(PhantomData<()>);

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
    > MaxPool2d<C, H, W, OH, OW, KH, KW, SH, SW, PT, PL>
{
    const GEOMETRY: conv2d::Geometry = pool_geometry(C, H, W, OH, OW, (KH, KW), (SH, SW), (PT, PL));
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
    > Layer for MaxPool2d<C, H, W, OH, OW, KH, KW, SH, SW, PT, PL>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * OH * OW;
    const PARAMS: usize = 0;

    #[inline]
    fn forward(batch: usize, _: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || {
                pool::max_forward(&Self::GEOMETRY, batch, input, output);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        _: &[f32],
        input: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                pool::max_backward(&Self::GEOMETRY, batch, input, d_output, d_input);
            },
        )
    }
}

/// `avg_pool`: `[C, H, W]` → `[C, OH, OW]`; `PB`, `PR` (bottom and right
/// padding) bound the divisor of a last partial window.
pub struct AvgPool2d<
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PT: usize,
    const PL: usize,
    const PB: usize,
    const PR: usize,
>(PhantomData<()>);

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
        const PB: usize,
        const PR: usize,
    > AvgPool2d<C, H, W, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR>
{
    const GEOMETRY: conv2d::Geometry = pool_geometry(C, H, W, OH, OW, (KH, KW), (SH, SW), (PT, PL));
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PT: usize,
        const PL: usize,
        const PB: usize,
        const PR: usize,
    > Layer for AvgPool2d<C, H, W, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR>
{
    const IN: usize = C * H * W;
    const OUT: usize = C * OH * OW;
    const PARAMS: usize = 0;

    #[inline]
    fn forward(batch: usize, _: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || {
                pool::avg_forward(&Self::GEOMETRY, PB, PR, batch, input, output);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        _: &[f32],
        _: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                pool::avg_backward(&Self::GEOMETRY, PB, PR, batch, d_output, d_input);
            },
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
    fn forward(batch: usize, _: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || {
                pool::global_avg_forward(C, HW, batch, input, output);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        _: &[f32],
        _: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                pool::global_avg_backward(C, HW, batch, d_output, d_input);
            },
        )
    }
}

/// `dense`: `[I]` → `[O]`; parameters `weight [O, I]` then `bias [O]` when `BIAS`.
pub struct Dense<const I: usize, const O: usize, const BIAS: bool>(PhantomData<()>);

impl<const I: usize, const O: usize, const BIAS: bool> Dense<I, O, BIAS> {
    /// The parameter gradients, and the input gradient when `d_input` is given.
    #[inline(always)]
    fn grads(
        batch: usize,
        params: &[f32],
        input: &[f32],
        d_output: &[f32],
        d_input: Option<&mut [f32]>,
        d_params: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                let (dw, db) = d_params.split_at_mut(O * I);
                let w = &params[..O * I];
                dense::backward(I, O, batch, w, input, d_output, d_input, dw, db);
            },
        )
    }
}

impl<const I: usize, const O: usize, const BIAS: bool> Layer for Dense<I, O, BIAS> {
    const IN: usize = I;
    const OUT: usize = O;
    const PARAMS: usize = O * I + if BIAS { O } else { 0 };
    const SCRATCH: usize = dense::scratch_len(I, O);

    #[inline]
    fn forward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                let (w, b) = params.split_at(O * I);
                dense::forward(I, O, batch, w, b, input, output, scratch);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        d_params: &mut [f32],
        _: &mut [f32],
    ) {
        Self::grads(batch, params, input, d_output, Some(d_input), d_params);
    }

    #[inline]
    fn backward_params(
        batch: usize,
        params: &[f32],
        input: &[f32],
        _: &[f32],
        d_output: &[f32],
        _: &mut [f32],
        d_params: &mut [f32],
        _: &mut [f32],
    ) {
        Self::grads(batch, params, input, d_output, None, d_params);
    }
}

macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident, |$x:ident, $y:ident| $fwd:expr, |$bx:ident, $by:ident, $dy:ident, $dx:ident| $bwd:expr) => {
        $(#[$doc])*
        pub struct $name<const N: usize>(PhantomData<()>);

        impl<const N: usize> Layer for $name<N> {
            const IN: usize = N;
            const OUT: usize = N;
            const PARAMS: usize = 0;

            #[inline]
            fn forward(batch: usize, _: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(#[inline(always)] || {
                let ($x, $y) = (&input[..batch * N], &mut output[..batch * N]);
                $fwd
            })
    }

            #[inline]
            fn backward(batch: usize, _: &[f32], input: &[f32], output: &[f32], d_output: &[f32], d_input: &mut [f32], _: &mut [f32], _: &mut [f32]) {
        vectorized(#[inline(always)] || {
                let ($bx, $by, $dy, $dx) = (&input[..batch * N], &output[..batch * N], &d_output[..batch * N], &mut d_input[..batch * N]);
                $bwd
            })
    }
        }
    };
}

elementwise!(
    /// `relu` over `N` values per sample.
    Relu, |x, y| activation::relu_forward(x, y), |x, _y, dy, dx| activation::relu_backward(x, dy, dx)
);
elementwise!(
    /// `sigmoid` over `N` values per sample.
    Sigmoid, |x, y| activation::sigmoid_forward(x, y), |_x, y, dy, dx| activation::sigmoid_backward(y, dy, dx)
);
elementwise!(
    /// `tanh` over `N` values per sample.
    Tanh, |x, y| activation::tanh_forward(x, y), |_x, y, dy, dx| activation::tanh_backward(y, dy, dx)
);
elementwise!(
    /// `softmax` over the `N` values of each sample.
    Softmax, |x, y| activation::softmax_forward(N, x, y), |_x, y, dy, dx| activation::softmax_backward(N, y, dy, dx)
);

/// `leaky_relu(A)` over `N` values per sample; the slope is passed as the
/// bits of an `f32` (`A = f32::from_bits(SLOPE_BITS)`), since const generics
/// cannot be floats.
pub struct LeakyRelu<const N: usize, const SLOPE_BITS: u32>(PhantomData<()>);

impl<const N: usize, const SLOPE_BITS: u32> Layer for LeakyRelu<N, SLOPE_BITS> {
    const IN: usize = N;
    const OUT: usize = N;
    const PARAMS: usize = 0;

    #[inline]
    fn forward(batch: usize, _: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || {
                activation::leaky_relu_forward(
                    f32::from_bits(SLOPE_BITS),
                    &input[..batch * N],
                    &mut output[..batch * N],
                );
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        _: &[f32],
        input: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        _: &mut [f32],
        _: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                activation::leaky_relu_backward(
                    f32::from_bits(SLOPE_BITS),
                    &input[..batch * N],
                    &d_output[..batch * N],
                    &mut d_input[..batch * N],
                );
            },
        )
    }
}

/// `prelu`: one learnable slope per channel of `[C, H, W]` (`PLANE = H·W`) or
/// per feature of `[N]` (`C = N`, `PLANE = 1`); parameter `weight [C]`.
pub struct Prelu<const C: usize, const PLANE: usize>(PhantomData<()>);

impl<const C: usize, const PLANE: usize> Layer for Prelu<C, PLANE> {
    const IN: usize = C * PLANE;
    const OUT: usize = C * PLANE;
    const PARAMS: usize = C;

    #[inline]
    fn forward(batch: usize, params: &[f32], input: &[f32], output: &mut [f32], _: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || {
                let n = batch * C * PLANE;
                activation::prelu_forward(C, PLANE, params, &input[..n], &mut output[..n]);
            },
        )
    }

    #[inline]
    fn backward(
        batch: usize,
        params: &[f32],
        input: &[f32],
        _: &[f32],
        d_output: &[f32],
        d_input: &mut [f32],
        d_params: &mut [f32],
        _: &mut [f32],
    ) {
        vectorized(
            #[inline(always)]
            || {
                let n = batch * C * PLANE;
                activation::prelu_backward(
                    C,
                    PLANE,
                    params,
                    &input[..n],
                    &d_output[..n],
                    &mut d_input[..n],
                    d_params,
                );
            },
        )
    }
}
