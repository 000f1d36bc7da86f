//! `rnn`, `lstm` and `gru`: PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU`
//! (one layer, one direction, batch first) over `[T, F]` sequences.

use super::{Backward, Forward, Layer, Strategy};
use crate::kernels::recurrent::{self, Cell, Dims};
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// Which recurrence a [`Recurrent`] layer runs.
pub trait CellKind {
    const CELL: Cell;
}

/// `rnn`: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
pub struct Rnn;
/// `lstm`: gates i, f, g, o.
pub struct Lstm;
/// `gru`: gates r, z, n.
pub struct Gru;

impl CellKind for Rnn {
    const CELL: Cell = Cell::Rnn;
}
impl CellKind for Lstm {
    const CELL: Cell = Cell::Lstm;
}
impl CellKind for Gru {
    const CELL: Cell = Cell::Gru;
}

/// A recurrent layer over `[T, F]` into `H` hidden values: `[T, H]` (the
/// state after every step) when `ALL`, else `[H]` (after the last).
/// Parameters: `weight_ih [G·H, F]`, `weight_hh [G·H, H]`, `bias_ih
/// [G·H]`, `bias_hh [G·H]`, the gates in PyTorch's order. It keeps its
/// states at every step for backward ([`Layer::SAVED`]).
pub struct Recurrent<C, const T: usize, const F: usize, const H: usize, const ALL: bool>(
    PhantomData<C>,
);

impl<C: CellKind, const T: usize, const F: usize, const H: usize, const ALL: bool>
    Recurrent<C, T, F, H, ALL>
{
    const DIMS: Dims = Dims {
        cell: C::CELL,
        t: T,
        f: F,
        h: H,
    };

    fn grads(b: Backward<'_>, input_grad: bool) {
        let dx = input_grad.then_some(b.d_input);
        vectorized(
            #[inline(always)]
            || {
                recurrent::backward(
                    &Self::DIMS,
                    b.pass.batch,
                    b.params,
                    b.input,
                    (b.d_output, ALL),
                    b.saved,
                    b.d_saved,
                    (dx, b.fresh),
                    b.d_params,
                )
            },
        )
    }
}

impl<C: CellKind, const T: usize, const F: usize, const H: usize, const ALL: bool> Layer
    for Recurrent<C, T, F, H, ALL>
{
    const IN: usize = T * F;
    const OUT: usize = if ALL { T * H } else { H };
    const PARAMS: usize = Self::DIMS.params();
    const SAVED: usize = recurrent::saved_len(&Self::DIMS);
    const SCRATCH: usize = recurrent::scratch_len(&Self::DIMS);
    const PREPARED: usize = recurrent::prepared_len(&Self::DIMS);
    const STORES_INPUT_GRAD: bool = true;

    fn strategy() -> Strategy {
        Strategy::Gemm
    }

    fn prepare(params: &[f32], prepared: &mut [f32]) {
        vectorized(
            #[inline(always)]
            || recurrent::prepare(&Self::DIMS, params, prepared),
        )
    }

    // not inlined: one copy per shape (compile time; the call costs
    // nothing next to a sequence's products)
    #[inline(never)]
    fn forward(f: Forward<'_>) {
        // the transposed weights, made once while the parameters stay as
        // they are, where the pass may read them (inference)
        let prepared = if f.pass.inference {
            &f.prepared[..Self::PREPARED]
        } else {
            &[]
        };
        vectorized(
            #[inline(always)]
            || {
                recurrent::forward(
                    &Self::DIMS,
                    f.pass.batch,
                    (f.params, prepared),
                    f.input,
                    (f.output, ALL),
                    (f.saved, !f.pass.inference),
                    f.scratch,
                )
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
