//! Inference through a conv and the batch norm and ReLU after it in one
//! pass: `network!` emits it for `conv, batch_norm, relu` (or two of them,
//! the conv first) and runs it in [`Network::predict`] in evaluation mode,
//! where nothing reads the values between the layers. The batch norm's
//! running statistics and the conv's bias become a scale and a shift per
//! output channel, which the implicit GEMM applies, with the ReLU, while
//! the product is in registers (the im2col path in a pass over each
//! sample's output, while it is in cache).
//!
//! [`Network::predict`]: crate::Network::predict

use super::{BatchNorm, Conv2d, Forward, Window};
use crate::kernels::conv2d;
use crate::kernels::norm::eval_affine;
use crate::kernels::simd::vectorized;

/// A per-channel `y = x·scale + shift` that a conv can apply to its
/// output in inference.
pub trait ChannelAffine {
    /// Each channel's scale and shift from the layer's parameters and
    /// buffers (`scale` and `shift` hold one value per channel).
    fn affine(params: &[f32], buffers: &[f32], scale: &mut [f32], shift: &mut [f32]);
}

/// No layer between the conv and the ReLU.
pub struct Identity;

impl ChannelAffine for Identity {
    #[inline(always)]
    fn affine(_: &[f32], _: &[f32], scale: &mut [f32], shift: &mut [f32]) {
        scale.fill(1.0);
        shift.fill(0.0);
    }
}

impl<const C: usize, const P: usize, const MOMENTUM_BITS: u32, const EPS_BITS: u32> ChannelAffine
    for BatchNorm<C, P, MOMENTUM_BITS, EPS_BITS>
{
    /// Evaluation mode's: γ·invstd and β − mean·γ·invstd, from the
    /// running statistics, as the layer computes them.
    #[inline(always)]
    fn affine(params: &[f32], buffers: &[f32], scale: &mut [f32], shift: &mut [f32]) {
        let (gamma, beta) = params.split_at(C);
        let (mean, var) = (&buffers[..C], &buffers[C..2 * C]);
        let eps = f32::from_bits(EPS_BITS);
        for ch in 0..C {
            (scale[ch], shift[ch]) = eval_affine((gamma[ch], beta[ch]), eps, (mean[ch], var[ch]));
        }
    }
}

impl<G: Window, const BIAS: bool> Conv2d<G, BIAS> {
    /// Scratch floats for [`Conv2d::infer`]: the conv's and a scale and a
    /// shift per output channel.
    pub const INFER_SCRATCH: usize = Self::G.scratch_len() + 2 * Self::G.oc;

    /// Inference through this conv, then `N` (a batch norm in evaluation
    /// mode, or [`Identity`]), then a ReLU when `RELU`: `f.output` is what
    /// the last of them would write (with `f.out_stride`, wider when that
    /// is a `concat` branch's last layer); `norm` holds `N`'s parameters and
    /// buffers; `f.scratch` holds at least [`Conv2d::INFER_SCRATCH`]
    /// floats; `f.buffers` is not used.
    #[inline(never)]
    pub fn infer<N: ChannelAffine, const RELU: bool>(f: Forward<'_>, norm: (&[f32], &[f32])) {
        Self::infer_onto::<N, RELU>(f, norm, None)
    }

    /// [`Conv2d::infer`] with each output value added to its place's value
    /// in `residual` (sample `n` at `n · stride`, laid out as this conv's
    /// output) before the ReLU: `network!` emits it for the last conv (and
    /// batch norm) of an `add` block's branch, the other branch's output
    /// as the residual and the ReLU after the block as `RELU`, so that the
    /// sum and the ReLU take no pass of their own in `predict`.
    #[inline(never)]
    pub fn infer_residual<N: ChannelAffine, const RELU: bool>(
        f: Forward<'_>,
        norm: (&[f32], &[f32]),
        residual: (&[f32], usize),
    ) {
        Self::infer_onto::<N, RELU>(f, norm, Some(residual))
    }

    #[inline(always)]
    fn infer_onto<N: ChannelAffine, const RELU: bool>(
        f: Forward<'_>,
        norm: (&[f32], &[f32]),
        residual: Option<(&[f32], usize)>,
    ) {
        let oc = Self::G.oc;
        let (scratch, affine) =
            f.scratch[..Self::INFER_SCRATCH].split_at_mut(Self::G.scratch_len());
        let (scale, shift) = affine.split_at_mut(oc);
        N::affine(norm.0, norm.1, scale, shift);
        let (w, bias) = f.params.split_at(Self::WEIGHTS);
        if BIAS {
            // (x + b)·scale + shift
            for ((sh, &sc), &b) in shift.iter_mut().zip(&*scale).zip(bias) {
                *sh = b.mul_add(sc, *sh);
            }
        }
        vectorized(
            #[inline(always)]
            || {
                let affine = (&*scale, &*shift, RELU);
                let weight = (w, Self::prepared(f.pass, f.prepared));
                let output = (f.output, f.out_stride);
                match residual {
                    Some(r) => conv2d::forward_residual(
                        Self::SIZES,
                        f.pass.batch,
                        weight,
                        affine,
                        r,
                        f.input,
                        output,
                        scratch,
                    ),
                    None => conv2d::forward_affine(
                        Self::SIZES,
                        f.pass.batch,
                        weight,
                        affine,
                        f.input,
                        output,
                        scratch,
                    ),
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Layer, Mode, Pass};
    use crate::testing::{assert_close, random_vec};

    /// 3 → 16 channels on 6×7, stride 1 (the implicit GEMM where the CPU
    /// has it), and 16 → 5 on 6×7 with stride 2 (im2col).
    struct Wide;
    impl Window for Wide {
        const GEOMETRY: crate::layers::Geometry = crate::layers::Geometry {
            c: 3,
            h: 6,
            w: 7,
            oc: 16,
            oh: 6,
            ow: 7,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            pt: 1,
            pb: 1,
            pl: 1,
            pr: 1,
        };
    }
    struct Strided;
    impl Window for Strided {
        const GEOMETRY: crate::layers::Geometry = crate::layers::Geometry {
            c: 16,
            h: 6,
            w: 7,
            oc: 5,
            oh: 3,
            ow: 4,
            kh: 3,
            kw: 3,
            sh: 2,
            sw: 2,
            pt: 1,
            pb: 1,
            pl: 1,
            pr: 1,
        };
    }

    /// The conv, the batch norm (evaluation) and the ReLU one after the
    /// other, against `infer`.
    fn check<G: Window, const BIAS: bool, const C: usize, const P: usize>(seed: u64) {
        type Bn<const C: usize, const P: usize> = BatchNorm<C, P, 0x3dcc_cccd, 0x3727_c5ac>;
        let batch = 3;
        let pass = Pass::new(batch, Mode::Eval);
        let conv_params = random_vec(<Conv2d<G, BIAS> as Layer>::PARAMS, seed);
        let bn_params = random_vec(2 * C, seed + 1);
        let mut bn_buffers = vec![0.0; <Bn<C, P> as Layer>::BUFFERS];
        bn_buffers[..C].copy_from_slice(&random_vec(C, seed + 2));
        for (v, r) in bn_buffers[C..2 * C].iter_mut().zip(random_vec(C, seed + 3)) {
            *v = 0.1 + r.abs();
        }
        let x = random_vec(batch * <Conv2d<G, BIAS> as Layer>::IN, seed + 4);
        let n = batch * C * P;
        let mut scratch = vec![0.0; Conv2d::<G, BIAS>::INFER_SCRATCH];
        let (mut conv_out, mut bn_out, mut relu_out) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        <Conv2d<G, BIAS> as Layer>::forward(Forward {
            pass,
            params: &conv_params,
            input: &x,
            output: &mut conv_out,
            out_stride: C * P,
            scratch: &mut scratch,
            buffers: &mut [],
            prepared: &[],
            saved: &mut [],
        });
        <Bn<C, P> as Layer>::forward(Forward {
            pass,
            params: &bn_params,
            input: &conv_out,
            output: &mut bn_out,
            out_stride: C * P,
            scratch: &mut scratch,
            buffers: &mut bn_buffers.clone(),
            prepared: &[],
            saved: &mut [],
        });
        relu_out
            .iter_mut()
            .zip(&bn_out)
            .for_each(|(y, &v)| *y = v.max(0.0));
        let what = format!("{:?}, bias {BIAS}", G::GEOMETRY);
        // what `predict` prepares once: Winograd's kernels where it applies
        let mut prepared = vec![f32::NAN; <Conv2d<G, BIAS> as Layer>::PREPARED];
        <Conv2d<G, BIAS> as Layer>::prepare(&conv_params, &mut prepared);
        // `infer`, or with `residual` (slice, stride) `infer_residual`
        let run = |norm: bool, relu: bool, residual: Option<(&[f32], usize)>| {
            let mut y = vec![f32::NAN; n];
            let f = Forward {
                pass: Pass {
                    inference: true,
                    ..pass
                },
                params: &conv_params,
                input: &x,
                output: &mut y,
                out_stride: C * P,
                scratch: &mut vec![0.0; Conv2d::<G, BIAS>::INFER_SCRATCH],
                buffers: &mut [],
                prepared: &prepared,
                saved: &mut [],
            };
            let norm_args = (&bn_params[..], &bn_buffers[..]);
            match (norm, relu, residual) {
                (true, true, None) => Conv2d::<G, BIAS>::infer::<Bn<C, P>, true>(f, norm_args),
                (true, false, None) => Conv2d::<G, BIAS>::infer::<Bn<C, P>, false>(f, norm_args),
                (false, true, None) => Conv2d::<G, BIAS>::infer::<Identity, true>(f, norm_args),
                (false, false, None) => Conv2d::<G, BIAS>::infer::<Identity, false>(f, norm_args),
                (true, true, Some(r)) => {
                    Conv2d::<G, BIAS>::infer_residual::<Bn<C, P>, true>(f, norm_args, r)
                }
                (true, false, Some(r)) => {
                    Conv2d::<G, BIAS>::infer_residual::<Bn<C, P>, false>(f, norm_args, r)
                }
                (false, true, Some(r)) => {
                    Conv2d::<G, BIAS>::infer_residual::<Identity, true>(f, norm_args, r)
                }
                (false, false, Some(r)) => {
                    Conv2d::<G, BIAS>::infer_residual::<Identity, false>(f, norm_args, r)
                }
            }
            y
        };
        assert_close(
            &run(true, true, None),
            &relu_out,
            1e-5,
            &format!("{what}: conv, bn, relu"),
        );
        assert_close(
            &run(true, false, None),
            &bn_out,
            1e-5,
            &format!("{what}: conv, bn"),
        );
        let conv_relu: Vec<f32> = conv_out.iter().map(|v| v.max(0.0)).collect();
        assert_eq!(run(false, true, None), conv_relu, "{what}: conv, relu");
        assert_eq!(run(false, false, None), conv_out, "{what}: conv");

        // with a residual (each sample's one float further on than the
        // output's), on one thread and shared out among two: bit for bit
        // `infer`, then the sum and the ReLU
        let stride = C * P + 1;
        let residual = random_vec(batch * stride, seed + 5);
        let r = Some((&residual[..], stride));
        let mut team = crate::team::Team::new(2);
        for (norm, relu) in [(true, false), (true, true), (false, false), (false, true)] {
            let mut want = run(norm, false, None);
            for (y, r) in want
                .chunks_exact_mut(C * P)
                .zip(residual.chunks_exact(stride))
            {
                for (v, &r) in y.iter_mut().zip(r) {
                    let sum = *v + r;
                    *v = if relu { sum.max(0.0) } else { sum };
                }
            }
            assert_eq!(want.iter().any(|&v| v < 0.0), !relu, "{what}");
            let same = |got: &[f32]| {
                got.iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            };
            let case = format!("{what}: residual, bn {norm}, relu {relu}");
            assert!(same(&run(norm, relu, r)), "{case}");
            let mut shared = Vec::new();
            crate::team::lend(&mut team, || shared = run(norm, relu, r));
            assert!(same(&shared), "{case}, on two threads");
        }
    }

    /// 32 → 32 channels 3×3 on 6×7, stride 1: Winograd's, with the
    /// kernels prepared for inference and made afresh by `forward`.
    struct Tiles;
    impl Window for Tiles {
        const GEOMETRY: crate::layers::Geometry = crate::layers::Geometry {
            c: 32,
            oc: 32,
            ..Wide::GEOMETRY
        };
    }

    /// Winograd's on rows of 27: eight pairs at a time, then four, then
    /// one and the odd column.
    struct Long;
    impl Window for Long {
        const GEOMETRY: crate::layers::Geometry = crate::layers::Geometry {
            h: 5,
            w: 27,
            oh: 5,
            ow: 27,
            ..Tiles::GEOMETRY
        };
    }

    /// Winograd's on 16×16, which two threads share out by rows of tiles.
    struct Square;
    impl Window for Square {
        const GEOMETRY: crate::layers::Geometry = crate::layers::Geometry {
            c: 16,
            oc: 16,
            h: 16,
            w: 16,
            oh: 16,
            ow: 16,
            ..Wide::GEOMETRY
        };
    }

    #[test]
    fn infer_gives_the_layers_one_after_the_other() {
        const { assert!(<Conv2d<Tiles, true> as Layer>::PREPARED > 0) };
        const { assert!(<Conv2d<Long, true> as Layer>::PREPARED > 0) };
        const { assert!(<Conv2d<Square, false> as Layer>::PREPARED > 0) };
        check::<Long, true, 32, 135>(7);
        check::<Square, false, 16, 256>(8);
        check::<Tiles, true, 32, 42>(5);
        check::<Tiles, false, 32, 42>(6);
        check::<Wide, true, 16, 42>(1);
        check::<Wide, false, 16, 42>(2);
        check::<Strided, true, 5, 12>(3);
        check::<Strided, false, 5, 12>(4);
    }
}
