//! `batch_norm`: PyTorch's `BatchNorm2d` on `[C, H, W]` and `BatchNorm1d`
//! on `[N]`.

use super::{Backward, Forward, Layer, Mode};
use crate::kernels::norm::{self, Running, Saved};
use crate::kernels::simd::vectorized;
use core::marker::PhantomData;

/// `batch_norm(momentum, eps)` over `C` channels of `P` values per sample
/// (`P = H·W`; `P = 1` for the features of `[N]`). The momentum and epsilon
/// are passed as the bits of `f32`s, since const generics cannot be floats.
///
/// Parameters: `weight [C]` (γ), then `bias [C]` (β). Buffers: the named
/// `running_mean [C]`, `running_var [C]` and `num_batches_tracked` (one
/// count kept as an `f32`, exact up to 2^24 batches), then the mean and
/// `1/√(σ² + ε)` the last forward pass used, for backward.
pub struct BatchNorm<const C: usize, const P: usize, const MOMENTUM_BITS: u32, const EPS_BITS: u32>(
    PhantomData<()>,
);

impl<const C: usize, const P: usize, const MOMENTUM_BITS: u32, const EPS_BITS: u32>
    BatchNorm<C, P, MOMENTUM_BITS, EPS_BITS>
{
    const MOMENTUM: f32 = f32::from_bits(MOMENTUM_BITS);
    const EPS: f32 = f32::from_bits(EPS_BITS);

    fn grads(b: Backward<'_>, input_grad: bool) {
        let (gamma, buffers) = (&b.params[..C], b.buffers);
        let saved = Saved {
            mean: &buffers[2 * C + 1..3 * C + 1],
            invstd: &buffers[3 * C + 1..4 * C + 1],
        };
        let (d_gamma, d_beta) = b.d_params.split_at_mut(C);
        let n = b.pass.batch * C * P;
        let dx = input_grad.then_some(&mut b.d_input[..n]);
        let train = b.pass.mode == Mode::Train;
        vectorized(
            #[inline(always)]
            || {
                norm::backward(
                    (C, P, b.pass.batch),
                    gamma,
                    saved,
                    train,
                    (&b.input[..n], &b.d_output[..n]),
                    (dx, b.fresh),
                    (d_gamma, d_beta),
                )
            },
        )
    }
}

impl<const C: usize, const P: usize, const MOMENTUM_BITS: u32, const EPS_BITS: u32> Layer
    for BatchNorm<C, P, MOMENTUM_BITS, EPS_BITS>
{
    const IN: usize = C * P;
    const OUT: usize = C * P;
    const PARAMS: usize = 2 * C;
    const BUFFERS: usize = 4 * C + 1;
    const STORES_INPUT_GRAD: bool = true;

    // not inlined: one copy per shape, however many layers share it
    // (compile time; the call costs nothing next to the passes over the
    // values)
    #[inline(never)]
    fn forward(f: Forward<'_>) {
        let (gamma, beta) = f.params.split_at(C);
        let (running, saved) = f.buffers.split_at_mut(2 * C + 1);
        let (mean, rest) = running.split_at_mut(C);
        let (var, count) = rest.split_at_mut(C);
        let (saved_mean, saved_invstd) = saved.split_at_mut(C);
        let n = f.pass.batch * C * P;
        let (x, y) = (&f.input[..n], &mut f.output[..n]);
        let dims = (C, P, f.pass.batch);
        vectorized(
            #[inline(always)]
            || match f.pass.mode {
                Mode::Train => {
                    let running = Running {
                        mean,
                        var,
                        count: &mut count[0],
                    };
                    norm::train_forward(
                        dims,
                        (gamma, beta),
                        (Self::MOMENTUM, Self::EPS),
                        x,
                        y,
                        running,
                        saved_mean,
                        saved_invstd,
                    )
                }
                Mode::Eval => {
                    // what backward differentiates through in evaluation
                    saved_mean.copy_from_slice(mean);
                    for (s, &v) in saved_invstd.iter_mut().zip(var.iter()) {
                        *s = norm::running_invstd(v, Self::EPS);
                    }
                    norm::eval_forward(dims, (gamma, beta), Self::EPS, (mean, var), x, y)
                }
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
