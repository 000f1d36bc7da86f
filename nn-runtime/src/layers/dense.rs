//! `dense`: a fully connected layer, PyTorch's `Linear`.

use super::{Backward, Forward, Layer, Strategy};
use crate::kernels::dense;
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// `dense`: `[I]` → `[O]`; parameters `weight [O, I]`, then `bias [O]` when
/// `BIAS`.
pub struct Dense<const I: usize, const O: usize, const BIAS: bool>(PhantomData<()>);

impl<const I: usize, const O: usize, const BIAS: bool> Dense<I, O, BIAS> {
    /// The parameter gradients, and the input gradient when `input_grad`.
    #[inline(always)]
    fn grads(b: Backward<'_>, input_grad: bool) {
        vectorized(
            #[inline(always)]
            || {
                let (dw, db) = b.d_params.split_at_mut(O * I);
                let (w, x, dy) = (&b.params[..O * I], b.input, b.d_output);
                let dx = input_grad.then_some(b.d_input);
                dense::backward(I, O, b.pass.batch, w, x, dy, dx, dw, db);
            },
        )
    }
}

impl<const I: usize, const O: usize, const BIAS: bool> Layer for Dense<I, O, BIAS> {
    const IN: usize = I;
    const OUT: usize = O;
    const PARAMS: usize = O * I + if BIAS { O } else { 0 };
    const SCRATCH: usize = dense::scratch_len(I, O);

    fn strategy() -> Strategy {
        Strategy::Gemm
    }

    #[inline]
    fn forward(f: Forward<'_>) {
        vectorized(
            #[inline(always)]
            || {
                let (w, b) = f.params.split_at(O * I);
                dense::forward(I, O, f.pass.batch, w, b, f.input, f.output, f.scratch);
            },
        )
    }

    #[inline]
    fn backward(b: Backward<'_>) {
        Self::grads(b, true);
    }

    #[inline]
    fn backward_params(b: Backward<'_>) {
        Self::grads(b, false);
    }
}
