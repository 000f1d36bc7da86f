//! Activations: `relu`, `sigmoid`, `tanh`, `softmax`, `leaky_relu`, `prelu`.

use super::{Backward, Forward, Layer, Pass};
use crate::kernels::activation;
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// The runs of values an elementwise layer goes over and their length:
/// the whole batch at once, or a sample at a time when its output is part
/// of wider samples (`stride > n`).
#[inline(always)]
fn runs(batch: usize, n: usize, stride: usize) -> (usize, usize) {
    if stride == n {
        (1, batch * n)
    } else {
        (batch, n)
    }
}

/// An activation without parameters over `N` values per sample: its
/// forward from `(x, y)` and in place on `v`, its backward from
/// `(x, y, dy, dx)`, where each is the batch's part of the slice.
macro_rules! elementwise {
    ($(#[$doc:meta])* $name:ident $(<$slope:ident>)?, reads_output: $reads:literal, stores: $stores:literal, in_place: $in_place:literal, |$x:ident, $y:ident| $fwd:expr, |$v:ident| $fwd_in_place:expr, |$bx:ident, $by:ident, $dy:ident, $dx:ident, $fresh:ident| $bwd:expr) => {
        $(#[$doc])*
        pub struct $name<const N: usize $(, const $slope: u32)?>(PhantomData<()>);

        impl<const N: usize $(, const $slope: u32)?> Layer for $name<N $(, $slope)?> {
            const IN: usize = N;
            const OUT: usize = N;
            const PARAMS: usize = 0;
            // each reads either its input or its output
            const READS_INPUT: bool = !$reads;
            const READS_OUTPUT: bool = $reads;
            const STRIDED: bool = true;
            const STORES_INPUT_GRAD: bool = $stores;
            const IN_PLACE: bool = $in_place;

            #[inline]
            fn forward_in_place(pass: Pass, values: &mut [f32]) {
                let $v = &mut values[..pass.batch * N];
                vectorized(#[inline(always)] || $fwd_in_place)
            }

            #[inline]
            fn forward(f: Forward<'_>) {
                let (runs, len) = runs(f.pass.batch, N, f.out_stride);
                for r in 0..runs {
                    let ($x, $y) = (&f.input[r * len..][..len], &mut f.output[r * f.out_stride..][..len]);
                    vectorized(#[inline(always)] || $fwd)
                }
            }

            #[inline]
            fn backward(b: Backward<'_>) {
                let (runs, len) = runs(b.pass.batch, N, b.out_stride);
                for r in 0..runs {
                    let (at, out) = (r * len, r * b.out_stride);
                    let ($bx, $by, $dy, $dx, $fresh) = (
                        &b.input[at..][..len],
                        &b.output[out..][..len],
                        &b.d_output[out..][..len],
                        &mut b.d_input[at..][..len],
                        b.fresh,
                    );
                    vectorized(#[inline(always)] || $bwd)
                }
            }
        }
    };
}

elementwise!(
    /// `relu` over `N` values per sample.
    Relu, reads_output: false, stores: true, in_place: true, |x, y| activation::relu_forward(x, y),
    |v| activation::relu_in_place(v),
    |x, _y, dy, dx, fresh| if fresh { activation::relu_backward_store(x, dy, dx) } else { activation::relu_backward(x, dy, dx) }
);
elementwise!(
    /// `sigmoid` over `N` values per sample.
    Sigmoid, reads_output: true, stores: false, in_place: true, |x, y| activation::sigmoid_forward(x, y),
    |v| activation::sigmoid_in_place(v),
    |_x, y, dy, dx, _fresh| activation::sigmoid_backward(y, dy, dx)
);
elementwise!(
    /// `tanh` over `N` values per sample.
    Tanh, reads_output: true, stores: false, in_place: true, |x, y| activation::tanh_forward(x, y),
    |v| activation::tanh_in_place(v),
    |_x, y, dy, dx, _fresh| activation::tanh_backward(y, dy, dx)
);
elementwise!(
    /// `softmax` over the `N` values of each sample.
    Softmax, reads_output: true, stores: false, in_place: false, |x, y| activation::softmax_forward(N, x, y),
    |v| activation::softmax_in_place(N, v),
    |_x, y, dy, dx, _fresh| activation::softmax_backward(N, y, dy, dx)
);
elementwise!(
    /// `leaky_relu(A)` over `N` values per sample; the slope is passed as
    /// the bits of an `f32` (`A = f32::from_bits(SLOPE_BITS)`), since const
    /// generics cannot be floats.
    LeakyRelu<SLOPE_BITS>,
    reads_output: false,
    stores: false,
    in_place: false,
    |x, y| activation::leaky_relu_forward(f32::from_bits(SLOPE_BITS), x, y),
    |v| activation::leaky_relu_in_place(f32::from_bits(SLOPE_BITS), v),
    |x, _y, dy, dx, _fresh| activation::leaky_relu_backward(f32::from_bits(SLOPE_BITS), x, dy, dx)
);

/// `prelu`: one learnable slope per channel of `[C, H, W]` (`PLANE = H·W`) or
/// per feature of `[N]` (`C = N`, `PLANE = 1`); parameter `weight [C]`.
pub struct Prelu<const C: usize, const PLANE: usize>(PhantomData<()>);

impl<const C: usize, const PLANE: usize> Layer for Prelu<C, PLANE> {
    const IN: usize = C * PLANE;
    const OUT: usize = C * PLANE;
    const PARAMS: usize = C;

    #[inline]
    fn forward(f: Forward<'_>) {
        let n = f.pass.batch * C * PLANE;
        let (x, y) = (&f.input[..n], &mut f.output[..n]);
        vectorized(
            #[inline(always)]
            || activation::prelu_forward(C, PLANE, f.params, x, y),
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        let n = b.pass.batch * C * PLANE;
        let (x, dy, dx) = (&b.input[..n], &b.d_output[..n], &mut b.d_input[..n]);
        vectorized(
            #[inline(always)]
            || activation::prelu_backward(C, PLANE, b.params, x, dy, dx, b.d_params),
        )
    }
}
