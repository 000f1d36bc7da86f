//! 2-D convolution (cross-correlation, no kernel flip), PyTorch's `Conv2d`.
//!
//! `y[o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[c, i·SH + u − PT, j·SW + v − PL]`,
//! with `x` zero outside the input (the padding). Layouts: input `[C, H, W]`,
//! weight `[OC, C, KH, KW]`, bias `[OC]`, output `[OC, OH, OW]`, batch first.
//!
//! Each sample is lowered to a matrix product: the input patches are copied
//! into `col[C·KH·KW, OH·OW]` (im2col) and `y = W · col + b`. Backward
//! recomputes `col` from the saved input, then `dW += dY · colᵀ` and
//! `dcol = Wᵀ · dY`, which col2im scatters back into `dX` — the same as the
//! full correlation of `dY` with the 180°-rotated kernel. Where
//! [`gemm()`] packs B (AVX2), the weight gradient of a conv with at least
//! [`TRANSPOSED_WEIGHT_GRAD_MIN_OC`] output channels is computed transposed,
//! `dWᵀ += col · dYᵀ`, summed over the batch and added to dW at the end.
//!
//! Stride-1 convolutions on CPUs with AVX-512, or AVX2 and FMA, read the
//! patches in place from a zero-padded copy of the input instead (an
//! implicit GEMM): the forward pass, the input gradient as that full
//! correlation of `dY` (padded; by col2im where that would be
//! [mostly padding](Geometry::input_grad_mostly_padding)), and, from
//! [`IMPLICIT_WEIGHT_GRAD_MIN_OC`]
//! output channels, the weight gradient as `dWᵀ += Patches · dYᵀ`. With
//! AVX2, ResNet-20's convolutions forward ran at 64 / 55 / 56 GFLOP/s in
//! place against 32 / 37 / 41 copied out and packed (16, 32 and 64 channels;
//! `cargo bench --bench conv -- conv2d_forward`), and its training step
//! went from about 440 to 360 ms.
//! (<https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html>)

use super::gemm::{self, gemm, Columns, ConvRows, Mat, Onto};
use super::winograd;

/// Output channels from which a stride-1 conv's weight gradient reads its
/// patches in place rather than copying them out (im2col): they are the
/// columns of its product, and below the kernel's 16 columns (one AVX-512
/// register, two AVX2 ones) the copy
/// was faster (LeNet-5's first conv, 6 channels: 544 µs against 862 µs a
/// batch of 64 backward; at 16 the two were even, at 32 and 64 in place was
/// 20–25 % faster). The `network!` summary names the same choice.
pub const IMPLICIT_WEIGHT_GRAD_MIN_OC: usize = 16;

/// The sizes of one convolution (or pooling window): input `[c, h, w]`,
/// output `[oc, oh, ow]`, kernel `kh × kw`, stride `sh × sw`, padding
/// `pt`, `pb`, `pl`, `pr` (top, bottom, left, right). The kernels index
/// with the top and left padding; the bottom and right padding decided
/// `oh`, `ow` (which the `network!` macro computed), and average pooling
/// reads them for the divisor of a window that hangs past them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels (a pool's are its input's).
    pub oc: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Kernel (window) height.
    pub kh: usize,
    /// Kernel (window) width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Padding above the input.
    pub pt: usize,
    /// Padding below the input.
    pub pb: usize,
    /// Padding left of the input.
    pub pl: usize,
    /// Padding right of the input.
    pub pr: usize,
}

impl Geometry {
    /// `self`, after the checks the `network!` macro makes with a proper
    /// message: a backstop for hand-written geometries, evaluated at
    /// compile time when used in a constant. Every size is at least 1, the
    /// window fits the padded input, and the last window starts inside the
    /// top- and left-padded input (a pool's last window may hang past the
    /// bottom or right, with `round = ceil`).
    pub const fn checked(self) -> Self {
        self.checked_windows(false)
    }

    /// [`Geometry::checked`] for a convolution, whose windows may also lie
    /// wholly in the bottom or right padding (a padding as large as the
    /// kernel, which PyTorch allows; their output is the bias): every window
    /// starts inside the padded input.
    pub const fn checked_conv(self) -> Self {
        self.checked_windows(true)
    }

    /// The checks of both, windows starting in the bottom and right padding
    /// allowed when `in_padding`.
    const fn checked_windows(self, in_padding: bool) -> Self {
        assert!(self.c >= 1 && self.h >= 1 && self.w >= 1 && self.oc >= 1);
        assert!(self.kh >= 1 && self.kw >= 1 && self.sh >= 1 && self.sw >= 1);
        assert!(self.oh >= 1 && self.ow >= 1, "geometry: empty output");
        let (rows, cols) = (self.h + self.pt + self.pb, self.w + self.pl + self.pr);
        assert!(
            rows >= self.kh && cols >= self.kw,
            "geometry: the window does not fit the padded input"
        );
        let (rows, cols) = match in_padding {
            true => (rows, cols),
            false => (self.h + self.pt, self.w + self.pl),
        };
        let starts_inside = (self.oh - 1) * self.sh < rows && (self.ow - 1) * self.sw < cols;
        match in_padding {
            true => assert!(
                starts_inside,
                "geometry: a window starts past the padded input"
            ),
            false => assert!(
                starts_inside,
                "geometry: output larger than the input allows"
            ),
        }
        self
    }

    /// Floats of one input sample: `C·H·W`.
    pub const fn in_len(&self) -> usize {
        self.c * self.h * self.w
    }
    /// Floats of one output sample: `OC·OH·OW`.
    pub const fn out_len(&self) -> usize {
        self.oc * self.oh * self.ow
    }
    /// Rows of the im2col matrix: `C·KH·KW`.
    pub const fn patch_len(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Columns of the im2col matrix: `OH·OW`.
    pub const fn positions(&self) -> usize {
        self.oh * self.ow
    }
    /// Scratch floats `forward` and `backward` need: `col` and `dcol`, or
    /// for the implicit GEMM the padded input and the wide output.
    pub const fn scratch_len(&self) -> usize {
        let (k, p) = (self.patch_len(), self.positions());
        // the channels-on-lanes pass: transposed weights and output, only
        // with the 16 output channels it needs (a const superset of
        // `lanes_apply`, which asks the CPU)
        let lanes = if self.oc == 16 {
            self.padded_len() + (k + p) * self.oc
        } else {
            0
        };
        let forward = max(
            max(k * p, lanes),
            self.padded_len() + self.oc * self.oh * self.padded_width(),
        );
        // backward: the weight gradient's scratch, then the input
        // gradient's: dcol for col2im, or for a convolution of dY the
        // rearranged weights, dY padded and the wide result
        let (hq, wq) = (self.h + self.kh - 1, self.w + self.kw - 1);
        let transposed = self.c * self.oc * self.kh * self.kw
            + self.oc * hq * wq
            + self.kw
            + self.c * self.h * wq;
        let backward = WeightGrad::scratch_len(self) + max(k * p, transposed);
        let winograd = if winograd::applies(self) {
            let flipped = self.c * self.oc * self.kh * self.kw;
            let input_grad =
                WeightGrad::scratch_len(self) + flipped + winograd::scratch_len(&self.transposed());
            max(winograd::scratch_len(self), input_grad)
        } else {
            0
        };
        max(max(forward, winograd), backward)
    }

    /// The stride-1 convolution that gives this one's input gradient from
    /// its output gradient: `dX = dY ⋆ rot180(W)`, channels swapped, dY
    /// padded by `KH − 1 − PT` on top (and likewise on each side, from the
    /// padding the output uses). Meaningful where the plan's input gradient
    /// is not [`Lowering::Im2col`] (every such padding is then at least 0).
    pub const fn transposed(&self) -> Geometry {
        let (pb, pr) = self.used_bottom_right();
        const fn side(k: usize, p: isize) -> usize {
            let s = k as isize - 1 - p;
            if s > 0 {
                s as usize
            } else {
                0
            }
        }
        Geometry {
            c: self.oc,
            h: self.oh,
            w: self.ow,
            oc: self.c,
            oh: self.h,
            ow: self.w,
            kh: self.kh,
            kw: self.kw,
            sh: 1,
            sw: 1,
            pt: side(self.kh, self.pt as isize),
            pb: side(self.kh, pb),
            pl: side(self.kw, self.pl as isize),
            pr: side(self.kw, pr),
        }
    }

    /// Bottom and right padding as the output uses them (at stride 1),
    /// from `OH = H + PT + PB − KH + 1`: less than `PB` where PyTorch's
    /// rounding leaves rows unread, negative where the output stops short
    /// of the input.
    const fn used_bottom_right(&self) -> (isize, isize) {
        let pb = (self.oh + self.kh - 1) as isize - (self.h + self.pt) as isize;
        let pr = (self.ow + self.kw - 1) as isize - (self.w + self.pl) as isize;
        (pb, pr)
    }

    /// Width of the padded input of a stride-1 convolution: `OW + KW − 1`.
    pub const fn padded_width(&self) -> usize {
        self.ow + self.kw - 1
    }

    /// Floats of the padded input `[C, OH + KH − 1, OW + KW − 1]` plus the
    /// `KW − 1` the last patch row reads past it.
    pub const fn padded_len(&self) -> usize {
        self.c * (self.oh + self.kh - 1) * self.padded_width() + self.kw - 1
    }

    /// How this convolution runs on this machine: [`Geometry::plan_for`]
    /// with the CPU's in-place kernels (AVX-512, or AVX2 and FMA, detected
    /// once by std).
    #[inline(always)]
    pub fn plan(&self) -> Plan {
        self.plan_for(gemm::conv_rows_fast())
    }

    /// Whether the input gradient as a convolution of dY
    /// ([`Geometry::transposed`]) would sum padding for much of its work:
    /// it computes `H·W` positions of `OC·KH·KW` terms where col2im's
    /// product computes `OH·OW`, so from an input of 1.5 times the output's
    /// positions col2im is chosen. LeNet-5's second conv (14 × 14 from
    /// 10 × 10, 1.96 times): the convolution of dY took 19 % of a training
    /// step (`perf`), col2im's product and its scatter in plain loops about
    /// 10 % each, and with the scatter in AVX-512 (`col2im_add`) the step
    /// on one thread went from 20.6–21.5 k to 22.4–23.1 k images a second
    /// (`profile_step 3000 lenet trainer 1`, builds alternating). A conv
    /// padded to keep its size ("same") has an input of exactly its
    /// output's positions and keeps the convolution of dY; a conv by
    /// Winograd keeps its input gradient by Winograd (2.25 times fewer
    /// products).
    pub const fn input_grad_mostly_padding(&self) -> bool {
        let input = self.h as u128 * self.w as u128;
        let output = self.oh as u128 * self.ow as u128;
        2 * input >= 3 * output
    }

    /// How this convolution runs on a CPU with (`in_place_kernels`) or
    /// without the kernels that read patches in place. The one
    /// place the strategy is chosen: `forward` and `backward` follow it, and
    /// the summary shows it.
    /// - forward: by Winograd's F(2×2, 3×3) where [`winograd::applies`]
    ///   (3×3, stride 1, at least [`winograd::MIN_CHANNELS`] channels in
    ///   and out), else in place for stride 1;
    /// - weight gradient: by Winograd where the forward is, else in place
    ///   for stride 1 from [`IMPLICIT_WEIGHT_GRAD_MIN_OC`] output channels;
    /// - input gradient: a stride-1 convolution of dY with the flipped
    ///   kernel ([`Geometry::transposed`]) when the forward is in place and
    ///   every padding side is at most the kernel size less one, by
    ///   Winograd where the forward is, else in place unless that
    ///   convolution is [mostly padding](Self::input_grad_mostly_padding);
    ///   otherwise col2im.
    pub const fn plan_for(&self, in_place_kernels: bool) -> Plan {
        let implicit = in_place_kernels && self.sh == 1 && self.sw == 1;
        let (pb, pr) = self.used_bottom_right();
        let transposed = implicit
            && self.pt < self.kh
            && self.pl < self.kw
            && pb >= 0
            && pb < self.kh as isize
            && pr >= 0
            && pr < self.kw as isize;
        const fn lowering(in_place: bool) -> Lowering {
            if in_place {
                Lowering::Implicit
            } else {
                Lowering::Im2col
            }
        }
        let winograd = implicit && winograd::applies(self);
        Plan {
            forward: if winograd {
                Lowering::Winograd
            } else {
                lowering(implicit)
            },
            weight_grad: if winograd {
                Lowering::Winograd
            } else {
                lowering(implicit && self.oc >= IMPLICIT_WEIGHT_GRAD_MIN_OC)
            },
            input_grad: if winograd && transposed {
                Lowering::Winograd
            } else {
                lowering(transposed && !self.input_grad_mostly_padding())
            },
        }
    }
}

/// How one of a convolution's three products is lowered to a GEMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// Patches copied out into a matrix (im2col; col2im for the input
    /// gradient).
    Im2col,
    /// Patches read in place from a zero-padded copy of the input.
    Implicit,
    /// Winograd's F(2×2, 3×3): 2×2 output tiles from transformed 4×4
    /// input tiles, 16 matrix products (the forward pass, the input
    /// gradient as the convolution [`Geometry::transposed`], and the
    /// weight gradient through the transformed kernels' gradient).
    Winograd,
}

/// How a convolution is computed: forward, weight gradient, input gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The output from the input and the kernels.
    pub forward: Lowering,
    /// The kernels' gradient from the input and the output's gradient.
    pub weight_grad: Lowering,
    /// The input's gradient from the output's gradient and the kernels.
    pub input_grad: Lowering,
}

impl core::fmt::Display for Plan {
    /// `implicit gemm`, `implicit gemm, dW im2col`, `im2col + gemm`, …
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.forward {
            Lowering::Im2col => f.write_str("im2col + gemm")?,
            Lowering::Implicit => f.write_str("implicit gemm")?,
            Lowering::Winograd => f.write_str("winograd")?,
        }
        let implicit = self.forward != Lowering::Im2col;
        if implicit && self.weight_grad == Lowering::Im2col {
            f.write_str(", dW im2col")?;
        }
        if implicit && self.input_grad == Lowering::Im2col {
            f.write_str(", dX col2im")?;
        }
        Ok(())
    }
}

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// The output columns `j` whose input column `j·SW + v − PL` lies inside
/// the input (the rest fall in the padding): `lo..hi`, and the input
/// column of `lo`.
#[inline(always)]
fn valid_columns(g: &Geometry, v: usize) -> (usize, usize, usize) {
    // first j with j·sw + v ≥ pl
    let lo = g.pl.saturating_sub(v).div_ceil(g.sw).min(g.ow);
    // last j with j·sw + v − pl ≤ w − 1
    let hi = if g.w + g.pl > v {
        ((g.w + g.pl - v - 1) / g.sw + 1).min(g.ow)
    } else {
        0
    };
    let hi = hi.max(lo);
    (lo, hi, lo * g.sw + v - g.pl.min(lo * g.sw + v))
}

/// Copies the patches of one sample `x[C, H, W]` into `col[C·KH·KW, OH·OW]`.
#[inline(always)]
pub fn im2col(g: &Geometry, x: &[f32], col: &mut [f32]) {
    im2col_rows(g, x, 0..g.oh, col);
}

/// [`im2col`] of output rows `rows` only: `col[C·KH·KW, rows·OW]`.
#[inline(always)]
fn im2col_rows(g: &Geometry, x: &[f32], rows: core::ops::Range<usize>, col: &mut [f32]) {
    let p = rows.len() * g.ow;
    // loop over patch rows (c, u, v)
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for u in 0..g.kh {
            for v in 0..g.kw {
                let row = ((c * g.kh + u) * g.kw + v) * p;
                let dst = &mut col[row..row + p];
                let (lo, hi, x0) = valid_columns(g, v);
                // loop over output rows (OH)
                for (i, out_row) in rows.clone().zip(dst.chunks_exact_mut(g.ow)) {
                    let y = (i * g.sh + u) as isize - g.pt as isize;
                    if y < 0 || y >= g.h as isize {
                        out_row.fill(0.0);
                        continue;
                    }
                    let src = &plane[y as usize * g.w..(y as usize + 1) * g.w];
                    out_row[..lo].fill(0.0);
                    out_row[hi..].fill(0.0);
                    if lo == hi {
                        continue;
                    }
                    let n = hi - lo;
                    let out = &mut out_row[lo..hi];
                    if g.sw == 1 {
                        out.copy_from_slice(&src[x0..x0 + n]);
                    } else if g.sw == 2 {
                        // eight at a time from sixteen, reading on into the
                        // plane's next row where the row ends (one at a
                        // time, these copies took half of a stride-2
                        // conv's time)
                        let from = y as usize * g.w + x0;
                        let mut k = 0;
                        while k + 8 <= n && from + 2 * k + 16 <= plane.len() {
                            let mut run = [0.0; 16];
                            run.copy_from_slice(&plane[from + 2 * k..][..16]);
                            let mut even = [0.0; 8];
                            for (i, e) in even.iter_mut().enumerate() {
                                *e = run[2 * i];
                            }
                            out[k..k + 8].copy_from_slice(&even);
                            k += 8;
                        }
                        for (k, o) in out.iter_mut().enumerate().skip(k) {
                            *o = src[x0 + 2 * k];
                        }
                    } else {
                        for (o, s) in out.iter_mut().zip(src[x0..].iter().step_by(g.sw)) {
                            *o = *s;
                        }
                    }
                }
            }
        }
    }
}

/// Adds `col[C·KH·KW, OH·OW]` back into `dx[C, H, W]` (the adjoint of
/// [`im2col`]); entries that fall into the padding are dropped.
#[inline(always)]
pub fn col2im_add(g: &Geometry, col: &[f32], dx: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if g.sw == 1
        && g.sh == 1
        && g.kw <= col2im_avx512::MAX_KW
        && std::is_x86_feature_detected!("avx512f")
    {
        // SAFETY: the CPU has AVX-512F, checked just above.
        #[allow(unsafe_code)]
        unsafe {
            col2im_avx512::add_unit_stride(g, col, dx)
        };
        return;
    }
    col2im_add_loops(g, col, dx);
}

/// [`col2im_add`] in plain loops, for every stride and CPU.
#[inline(always)]
fn col2im_add_loops(g: &Geometry, col: &[f32], dx: &mut [f32]) {
    let p = g.positions();
    for c in 0..g.c {
        let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
        for u in 0..g.kh {
            for v in 0..g.kw {
                let row = ((c * g.kh + u) * g.kw + v) * p;
                let src = &col[row..row + p];
                let (lo, hi, x0) = valid_columns(g, v);
                for (i, in_row) in src.chunks_exact(g.ow).enumerate() {
                    let y = (i * g.sh + u) as isize - g.pt as isize;
                    if y < 0 || y >= g.h as isize {
                        continue;
                    }
                    let dst = &mut plane[y as usize * g.w..(y as usize + 1) * g.w];
                    if lo == hi {
                        continue;
                    }
                    if g.sw == 1 {
                        dst[x0..x0 + (hi - lo)]
                            .iter_mut()
                            .zip(&in_row[lo..hi])
                            .for_each(|(d, s)| *d += s);
                    } else {
                        for (d, s) in dst[x0..].iter_mut().step_by(g.sw).zip(&in_row[lo..hi]) {
                            *d += s;
                        }
                    }
                }
            }
        }
    }
}

/// [`col2im_add`] at stride 1 with AVX-512: each row of `dx`, sixteen
/// columns at a time, is summed in a register over every `(u, v)` that
/// reaches it, each term a masked load of a shifted row of `col`. The plain
/// loops added row to row, a vector, a scalar tail and bounds checks each
/// (4.7 µs a sample for LeNet-5's second conv, rows of 10); adding row to
/// row with masked stores was slower still, each row's next shift reading
/// what the last had just stored.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod col2im_avx512 {
    use super::Geometry;
    use std::arch::x86_64::*;

    /// Kernel widths up to which [`add_unit_stride`] applies: its table of
    /// shifts lives on the stack.
    pub const MAX_KW: usize = 16;

    /// Adds `col[C·KH·KW, OH·OW]` into `dx[C, H, W]`, each element's terms
    /// in the order of the plain loops (`u`, then `v`): the same sums.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn add_unit_stride(g: &Geometry, col: &[f32], dx: &mut [f32]) {
        assert!(
            g.sh == 1 && g.sw == 1 && g.kw <= MAX_KW,
            "col2im_avx512: stride 1 and kernels up to {MAX_KW} wide only"
        );
        let p = g.positions();
        let sizes = (
            g.patch_len().checked_mul(p),
            g.c.checked_mul(g.h).and_then(|ch| ch.checked_mul(g.w)),
        );
        assert!(
            matches!(sizes, (Some(k_p), Some(in_len)) if col.len() >= k_p && dx.len() >= in_len),
            "col2im_avx512: col or dx smaller than the geometry says"
        );
        let (col, dx) = (col.as_ptr(), dx.as_mut_ptr());
        for a in (0..g.w).step_by(16) {
            let lanes = (g.w - a).min(16);
            let m_row = low_bits(lanes);
            // for each v, the lanes it reaches and the offset of lane 0's
            // term from its row of `col`: dx columns x0..x0 + (hi − lo)
            // take that row's lo..hi
            let mut shifts = [(0 as __mmask16, 0isize); MAX_KW];
            for (v, shift) in shifts[..g.kw].iter_mut().enumerate() {
                let (lo, hi, x0) = valid_columns_unit_stride(g, v);
                let (from, to) = (x0.max(a), (x0 + hi - lo).min(a + lanes));
                if from < to {
                    let m = low_bits(to - a) & !low_bits(from - a);
                    *shift = (m, (v * p + lo + a) as isize - x0 as isize);
                }
            }
            let shifts = &shifts[..g.kw];
            // the rows of every plane, each `apart`-th in turn, so that a
            // row's 16 lanes do not reach into the row stored just before
            // it: the next row's load waited for that store (all rows one
            // after another: 2.0 µs a sample for LeNet-5's second conv)
            let apart = 16usize.div_ceil(g.w);
            for first in 0..apart.min(g.c * g.h) {
                for r in (first..g.c * g.h).step_by(apart) {
                    let (c, y) = (r / g.h, r % g.h);
                    let d_row = r * g.w + a;
                    // SAFETY: lanes `a..a + lanes` of row `y` lie in `dx`.
                    let mut acc = unsafe { _mm512_maskz_loadu_ps(m_row, dx.add(d_row)) };
                    for u in 0..g.kh {
                        // output row i = y + PT − u, if there is one
                        let i = (y + g.pt).wrapping_sub(u);
                        if i >= g.oh {
                            continue;
                        }
                        let rows = col.wrapping_add((c * g.kh + u) * g.kw * p + i * g.ow);
                        for &(m, shift) in shifts {
                            // SAFETY: only the lanes of `m` are read: lane l
                            // is element lo + (a + l − x0) of row i of
                            // `col`'s row (c, u, v), inside lo..hi; the
                            // others may lie outside and are not touched.
                            let terms =
                                unsafe { _mm512_maskz_loadu_ps(m, rows.wrapping_offset(shift)) };
                            // the other lanes left as they are, not + 0
                            // (which would turn a −0 into +0, where the
                            // plain loops add nothing)
                            acc = _mm512_mask_add_ps(acc, m, acc, terms);
                        }
                    }
                    // SAFETY: as the load of `acc`.
                    unsafe { _mm512_mask_storeu_ps(dx.add(d_row), m_row, acc) };
                }
            }
        }
    }

    /// [`valid_columns`] at stride 1, without its divisions (`g` is not a
    /// constant here, and they were most of the time).
    #[inline(always)]
    fn valid_columns_unit_stride(g: &Geometry, v: usize) -> (usize, usize, usize) {
        let lo = g.pl.saturating_sub(v).min(g.ow);
        let hi = (g.w + g.pl).saturating_sub(v).min(g.ow).max(lo);
        (lo, hi, lo + v - g.pl.min(lo + v))
    }

    /// The `n ≤ 16` low lanes.
    #[inline(always)]
    fn low_bits(n: usize) -> __mmask16 {
        ((1u32 << n) - 1) as __mmask16
    }
}

/// Forward pass over a batch: `input [B, C, H, W]` → `output [B, OC, OH, OW]`
/// (overwritten), sample `n`'s output at `n · out_stride` (`out_stride ≥
/// OC·OH·OW`: wider for a part of a larger output). `bias` is `[OC]` or
/// empty for a conv without bias. `scratch` holds at least
/// [`Geometry::scratch_len`] floats.
#[inline(always)]
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // tests and benches
pub fn forward(
    g: &Geometry,
    batch: usize,
    weight: &[f32],
    bias: &[f32],
    input: &[f32],
    output: (&mut [f32], usize),
    scratch: &mut [f32],
) {
    forward_prepared(g, batch, (weight, &[]), bias, input, output, scratch)
}

/// [`forward`] with the weights as [`prepare`] made them as well (or
/// empty: made here, once per call, where the plan needs them).
#[inline(always)]
pub fn forward_prepared(
    g: impl Sizes,
    batch: usize,
    weight: (&[f32], &[f32]),
    bias: &[f32],
    input: &[f32],
    (output, out_stride): (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let store = Store::Bias(bias);
    forward_storing(
        g,
        batch,
        weight,
        (store, None),
        input,
        (output, out_stride),
        scratch,
    )
}

/// A conv's geometry as the forward pass takes it: a value (`&Geometry`,
/// for which the passes that share one sample out among a team's threads
/// are compiled once, the sizes values), or a layer's constant (a type
/// whose `geometry` returns it: those passes get a copy per layer, the
/// sizes constants in it, as in the passes on one thread, which inline
/// theirs). See `winograd::forward_inlined`.
pub trait Sizes: Copy + Sync {
    /// Whether the shared passes get a copy for these sizes: only a
    /// layer's constant for which they can run (a type's copy is compiled
    /// wherever the type is used, whether the pass runs or not: for every
    /// conv, ResNet-20's rebuild after a one-line edit took 22.8–23.5 s
    /// rather than 19.4–19.5). Otherwise they take the geometry as a
    /// value.
    const COPY: bool;

    /// The geometry.
    fn geometry(&self) -> &Geometry;
}

impl Sizes for &Geometry {
    const COPY: bool = false;

    #[inline(always)]
    fn geometry(&self) -> &Geometry {
        self
    }
}

/// Floats of what [`prepare`] derives from the weights for the forward
/// pass: Winograd's transformed kernels where it [applies](winograd::applies),
/// else none.
pub const fn prepared_len(g: &Geometry) -> usize {
    if winograd::applies(g) {
        winograd::prepared_len(g)
    } else {
        0
    }
}

/// What the forward pass derives from `weight` alone, into `prepared`
/// ([`prepared_len`] floats), to be reused while the weights stay the same.
#[inline(always)]
pub fn prepare(g: &Geometry, weight: &[f32], prepared: &mut [f32]) {
    if winograd::applies(g) {
        winograd::prepare(g, weight, prepared);
    }
}

/// [`forward_prepared`] without bias, each output channel `o` then scaled by
/// `scale[o]` and shifted by `shift[o]`, and clamped at zero when `relu`
/// (a NaN passes): inference through a conv, a batch norm and a ReLU in
/// one pass, the implicit GEMM applying them while the product is in
/// registers.
#[inline(always)]
pub fn forward_affine(
    sizes: impl Sizes,
    batch: usize,
    weight: (&[f32], &[f32]),
    (scale, shift, relu): (&[f32], &[f32], bool),
    input: &[f32],
    output: (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let g = sizes.geometry();
    assert!(scale.len() >= g.oc && shift.len() >= g.oc);
    let store = Store::Affine { scale, shift, relu };
    forward_storing(sizes, batch, weight, (store, None), input, output, scratch)
}

/// [`forward_affine`] with each output value added to its place's value in
/// `residual` (sample `n` at `n · stride`, laid out as the output) before
/// the ReLU: inference through a residual block's last conv, its batch
/// norm, the block's sum and the ReLU after it in one pass, while each
/// value is in registers (Winograd's convs and the im2col ones a team
/// shares out) or each sample's output in cache (the others).
#[inline(always)]
pub fn forward_residual(
    sizes: impl Sizes,
    batch: usize,
    weight: (&[f32], &[f32]),
    (scale, shift, relu): (&[f32], &[f32], bool),
    (residual, stride): (&[f32], usize),
    input: &[f32],
    output: (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let g = sizes.geometry();
    assert!(scale.len() >= g.oc && shift.len() >= g.oc);
    assert!(
        stride >= g.out_len() && residual.len() >= batch.saturating_sub(1) * stride + g.out_len()
    );
    let store = Store::Affine { scale, shift, relu };
    let residual = Some((residual, stride));
    forward_storing(
        sizes,
        batch,
        weight,
        (store, residual),
        input,
        output,
        scratch,
    )
}

/// `y = max(0, y + r)`, or without `max` unless `relu` (a NaN passes, as
/// through the ReLU layer): a residual added to one sample's output while
/// it is in cache.
#[inline(always)]
pub(super) fn add_residual(y: &mut [f32], r: &[f32], relu: bool) {
    for (y, &r) in y.iter_mut().zip(r) {
        let v = *y + r;
        *y = if relu && v < 0.0 { 0.0 } else { v };
    }
}

/// What a forward pass stores per output channel.
#[derive(Clone, Copy)]
enum Store<'a> {
    /// The product plus the bias (`[OC]`, or empty for none).
    Bias(&'a [f32]),
    /// `max(0, product·scale + shift)`, or without `max` unless `relu`.
    Affine {
        scale: &'a [f32],
        shift: &'a [f32],
        relu: bool,
    },
}

impl<'a> Store<'a> {
    /// As the implicit GEMM's start or epilogue.
    fn onto(self) -> Onto<'a> {
        match self {
            Store::Bias([]) => Onto::Zero,
            Store::Bias(bias) => Onto::Bias(bias),
            Store::Affine { scale, shift, relu } => Onto::Affine { scale, shift, relu },
        }
    }
}

#[inline(always)]
fn forward_storing(
    sizes: impl Sizes,
    batch: usize,
    (weight, prepared): (&[f32], &[f32]),
    (store, residual): (Store<'_>, Option<(&[f32], usize)>),
    input: &[f32],
    (output, out_stride): (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let g = sizes.geometry();
    debug_assert!(out_stride >= g.out_len());
    let residual_of = |n: usize| residual.map(|(r, stride)| &r[n * stride..][..g.out_len()]);
    if g.plan().forward == Lowering::Winograd {
        let output = (output, out_stride);
        let weight = (weight, prepared);
        let input = (input, g.in_len());
        let onto = (store.onto(), residual);
        return winograd::forward_inlined(sizes, batch, weight, onto, input, output, scratch);
    }
    // the ReLU after the residual's sum, where there is one
    let (store, relu_after) = match (store, residual) {
        (Store::Affine { scale, shift, relu }, Some(_)) => {
            let store = Store::Affine {
                scale,
                shift,
                relu: false,
            };
            (store, relu)
        }
        _ => (store, false),
    };
    if g.plan().forward == Lowering::Implicit {
        forward_implicit(
            g,
            batch,
            weight,
            store,
            input,
            (output, out_stride),
            scratch,
        );
        // each sample's output added to in a pass of its own, while in
        // cache: the in-place kernel's stores have no residual to read
        for n in 0..batch {
            if let Some(r) = residual_of(n) {
                add_residual(&mut output[n * out_stride..][..g.out_len()], r, relu_after);
            }
        }
        return;
    }
    let (k, p) = (g.patch_len(), g.positions());
    if k * p * g.oc >= SHARED_MIN_MACS && crate::team::lent_size() > 1 {
        for n in 0..batch {
            let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
            let y = &mut output[n * out_stride..][..g.out_len()];
            let residual = residual_of(n).map(|r| (r, relu_after));
            forward_im2col_shared(g, weight, (store, residual), x, y);
        }
        return;
    }
    let col = &mut scratch[..k * p];
    let w = Mat::new(weight, g.oc, k);
    for n in 0..batch {
        let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
        let y = &mut output[n * out_stride..][..g.out_len()];
        im2col(g, x, col);
        match store {
            Store::Bias([]) => gemm(w, Mat::new(col, k, p), y, false),
            Store::Bias(bias) => {
                for (o, &b) in bias.iter().enumerate() {
                    y[o * p..(o + 1) * p].fill(b);
                }
                gemm(w, Mat::new(col, k, p), y, true);
            }
            Store::Affine { scale, shift, relu } => {
                gemm(w, Mat::new(col, k, p), y, false);
                // this sample's output, still in cache
                for (o, plane) in y.chunks_exact_mut(p).enumerate() {
                    let ab = (scale[o], shift[o]);
                    plane
                        .iter_mut()
                        .for_each(|v| *v = gemm::affine(*v, ab, relu));
                }
            }
        }
        if let Some(r) = residual_of(n) {
            add_residual(y, r, relu_after);
        }
    }
}

/// Multiply-adds of a sample from which a conv by im2col shares it out
/// among a lent team's threads ([`forward_im2col_shared`]): ResNet-20's
/// 3×3 stride-2 convs (1.2 M), not its 1×1 ones (0.13 M), which take 4 to
/// 6 µs on one thread, little more than handing work to another.
const SHARED_MIN_MACS: usize = 1 << 19;

/// One sample's forward pass by im2col shared out among the threads of
/// the team lent to this one: each thread its own rows of the output (all
/// channels), whose patches it copies out and multiplies in a buffer of
/// its own, then stores through the epilogue. A thread reads only the
/// input rows under its output rows, which a conv before it shared out
/// the same way mostly wrote on the same core. Compiled once for every
/// geometry.
#[inline(never)]
fn forward_im2col_shared(
    g: &Geometry,
    weight: &[f32],
    (store, residual): (Store<'_>, Option<(&[f32], bool)>),
    x: &[f32],
    y: &mut [f32],
) {
    let (k, p) = (g.patch_len(), g.positions());
    let w = Mat::new(weight, g.oc, k);
    crate::team::split_planes(&mut y[..g.out_len()], (p, g.ow), &|_, _, mut part| {
        let range = part.range();
        let (rows, len) = (range.start / g.ow..range.end / g.ow, range.len());
        if len == 0 {
            return;
        }
        crate::team::with_own((k + g.oc) * len, |own| {
            let (col, c) = own.split_at_mut(k * len);
            super::simd::vectorized(
                #[inline(always)]
                || im2col_rows(g, x, rows.clone(), col),
            );
            // the sums as one thread makes them, bit for bit: from the
            // bias where there is one
            if let Store::Bias(bias @ [_, ..]) = store {
                for (row, &b) in c.chunks_exact_mut(len).zip(bias) {
                    row.fill(b);
                }
                gemm(w, Mat::new(col, k, len), c, true);
            } else {
                gemm(w, Mat::new(col, k, len), c, false);
            }
            super::simd::vectorized(
                #[inline(always)]
                || {
                    for (o, src) in c.chunks_exact(len).enumerate() {
                        let dst = part.plane(o);
                        match store {
                            Store::Bias(_) => dst.copy_from_slice(src),
                            Store::Affine { scale, shift, relu } => {
                                let ab = (scale[o], shift[o]);
                                for (d, &v) in dst.iter_mut().zip(src) {
                                    *d = gemm::affine(v, ab, relu);
                                }
                            }
                        }
                        if let Some((r, relu)) = residual {
                            add_residual(dst, &r[o * p + range.start..][..len], relu);
                        }
                    }
                },
            );
        });
    });
}

/// Stride-1 forward without im2col: each sample is copied once into a
/// zero-padded buffer, whose shifted rows are the patch rows
/// ([`gemm::gemm_conv`]); the product is computed on a grid as wide as the
/// padded input, and its first `OW` columns are the output.
#[inline(always)]
fn forward_implicit(
    g: &Geometry,
    batch: usize,
    weight: &[f32],
    store: Store<'_>,
    input: &[f32],
    (output, out_stride): (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let (hp, wp) = (g.oh + g.kh - 1, g.padded_width());
    let rows = ConvRows {
        channels: g.c,
        kh: g.kh,
        kw: g.kw,
        plane: hp * wp,
        row: wp,
    };
    let n_wide = g.oh * wp;
    let (padded, rest) = scratch.split_at_mut(g.padded_len());
    // the padding stays zero; each sample overwrites the interior
    padded.fill(0.0);
    if lanes_apply(g) && gemm::has_conv_lanes() && crate::team::lent_size() <= 1 {
        let (w_t, rest) = rest.split_at_mut(g.patch_len() * g.oc);
        let c = &mut rest[..g.positions() * g.oc];
        super::transpose::transpose(weight, g.oc, g.patch_len(), w_t);
        for n in 0..batch {
            let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
            let y = &mut output[n * out_stride..][..g.out_len()];
            copy_into_padded(x, (g.h, g.w), padded, (hp, wp), (g.pt, g.pl));
            gemm::gemm_conv_lanes(w_t, padded, rows, (g.oh, g.ow), c, store.onto());
            super::transpose::transpose(c, g.positions(), g.oc, y);
        }
        return;
    }
    let wide = &mut rest[..g.oc * n_wide];
    let w = Mat::new(weight, g.oc, g.patch_len());
    for n in 0..batch {
        let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
        let y = &mut output[n * out_stride..][..g.out_len()];
        copy_into_padded(x, (g.h, g.w), padded, (hp, wp), (g.pt, g.pl));
        let cols = Columns::for_grid(g.oh, g.ow, wp);
        let c = if let Columns::Rows { .. } = cols {
            &mut *y
        } else {
            &mut *wide
        };
        // stored, not added: y is not read
        gemm::gemm_conv(w, padded, rows, cols, c, store.onto());
        if let Columns::Wide { .. } = cols {
            // the first OW columns of each grid row are the output
            for (dst, src) in y.chunks_exact_mut(g.ow).zip(wide.chunks_exact(wp)) {
                dst.copy_from_slice(&src[..g.ow]);
            }
        }
    }
}

/// Whether the implicit forward pass puts the output channels on the
/// lanes ([`gemm::gemm_conv_lanes`]): with exactly 16 of them (one AVX-512
/// register) where the usual kernel, in runs of 16, would compute columns
/// to drop ([`Columns::Wide`]), as LeNet-5's second conv (10 wide on a
/// 14-wide grid) does.
fn lanes_apply(g: &Geometry) -> bool {
    g.oc == 16
        && gemm::conv_run() == 16
        && matches!(
            Columns::for_grid(g.oh, g.ow, g.padded_width()),
            Columns::Wide { .. }
        )
}

/// Copies planes of `h × w` into the interior of planes of `hp × wp`,
/// starting `top` rows and `left` columns in; the border is left as it is.
#[inline(always)]
fn copy_into_padded(
    src: &[f32],
    (h, w): (usize, usize),
    dst: &mut [f32],
    (hp, wp): (usize, usize),
    (top, left): (usize, usize),
) {
    for (c, plane) in src.chunks_exact(h * w).enumerate() {
        for (r, row) in plane.chunks_exact(w).enumerate() {
            let start = c * hp * wp + (r + top) * wp + left;
            dst[start..start + w].copy_from_slice(row);
        }
    }
}

/// Adds one sample's bias gradient: dY summed over the positions.
#[inline(always)]
fn bias_grad(g: &Geometry, dy: &[f32], d_bias: &mut [f32]) {
    let p = g.positions();
    for (o, db) in d_bias.iter_mut().enumerate() {
        *db += super::sum(&dy[o * p..(o + 1) * p]);
    }
}

/// Output channels from which, where [`gemm()`] packs B
/// ([`gemm::packs_b`]), an im2col weight gradient is computed transposed,
/// `dWᵀ[K, OC] += col[K, P] · dYᵀ[P, OC]`, rather than as `dY · colᵀ`,
/// whose dot products of rows `P` long the packed kernel cannot take:
/// transposed, the many patch rows are the product's rows, read in place,
/// and the few output channels its packed columns. ResNet-20's weight
/// gradients, one sample, went from 46 / 39 / 23 GFLOP/s to 67 / 85 / 89
/// (16, 32 and 64 channels), its training step from 617 to 451 ms;
/// below 16 channels a panel of 16 columns is mostly padding
/// (LeNet-5's first conv has 6) and the dot products stay.
pub const TRANSPOSED_WEIGHT_GRAD_MIN_OC: usize = 16;

/// How the weight gradient is computed, with its scratch.
enum WeightGrad<'a> {
    /// `dW[OC, K] += dY[OC, P] · colᵀ[P, K]`, `col` from im2col.
    Im2col { col: &'a mut [f32] },
    /// `dWᵀ[K, OC] += col[K, P] · dYᵀ[P, OC]`, `col` from im2col and dY
    /// transposed into `dy_t`, summed over the batch in `dwt` and added to
    /// dW, transposed, at the end.
    Transposed {
        col: &'a mut [f32],
        dy_t: &'a mut [f32],
        dwt: &'a mut [f32],
    },
    /// 3×3, stride 1: by Winograd's algorithm, summed over the batch in
    /// the transformed kernels' gradient at the front of `scratch`
    /// ([`winograd::weight_grad_sample`]).
    Winograd { scratch: &'a mut [f32] },
    /// Stride 1: `dWᵀ[K, OC] += Patches[K, P] · dYᵀ[P, OC]` with the
    /// patches read in place from the zero-padded input
    /// ([`gemm::gemm_conv_weight`]), summed over the batch in `dwt` and
    /// added to dW, transposed, at the end.
    Implicit {
        padded: &'a mut [f32],
        dy_t: &'a mut [f32],
        dwt: &'a mut [f32],
    },
}

impl<'a> WeightGrad<'a> {
    /// Floats of scratch the larger of the two needs.
    const fn scratch_len(g: &Geometry) -> usize {
        let transposed = (g.patch_len() + g.oc) * g.positions() + g.patch_len() * g.oc;
        let implicit = g.padded_len() + (g.positions() + g.patch_len()) * g.oc;
        let winograd = if winograd::applies(g) {
            winograd::weight_grad_scratch_len(g)
        } else {
            0
        };
        max(max(transposed, implicit), winograd)
    }

    /// Floats of scratch the way `plan` computes it takes (at most
    /// [`WeightGrad::scratch_len`]): the input gradient's scratch follows
    /// it, so that a pass touches no page between the two, and the pages
    /// that stay resident are those of the ways the network runs.
    fn used_len(g: &Geometry, plan: Plan) -> usize {
        let (k, p) = (g.patch_len(), g.positions());
        if plan.weight_grad == Lowering::Winograd {
            winograd::weight_grad_scratch_len(g)
        } else if plan.weight_grad == Lowering::Implicit {
            g.padded_len() + (p + k) * g.oc
        } else if g.oc >= TRANSPOSED_WEIGHT_GRAD_MIN_OC && gemm::packs_b() {
            (k + g.oc) * p + k * g.oc
        } else {
            k * p
        }
    }

    /// Takes its scratch from the front of `scratch`; returns the rest.
    #[inline(always)]
    fn new(g: &Geometry, plan: Plan, scratch: &'a mut [f32]) -> (Self, &'a mut [f32]) {
        let (k, p) = (g.patch_len(), g.positions());
        let (mine, rest) = scratch.split_at_mut(Self::used_len(g, plan));
        if plan.weight_grad == Lowering::Winograd {
            winograd::weight_grad_start(g, mine);
            (Self::Winograd { scratch: mine }, rest)
        } else if plan.weight_grad == Lowering::Implicit {
            let (padded, mine) = mine.split_at_mut(g.padded_len());
            let (dy_t, mine) = mine.split_at_mut(p * g.oc);
            let dwt = &mut mine[..k * g.oc];
            // the padding stays zero; each sample overwrites the interior
            padded.fill(0.0);
            dwt.fill(0.0);
            (Self::Implicit { padded, dy_t, dwt }, rest)
        } else if g.oc >= TRANSPOSED_WEIGHT_GRAD_MIN_OC && gemm::packs_b() {
            let (col, mine) = mine.split_at_mut(k * p);
            let (dy_t, mine) = mine.split_at_mut(p * g.oc);
            let dwt = &mut mine[..k * g.oc];
            dwt.fill(0.0);
            (Self::Transposed { col, dy_t, dwt }, rest)
        } else {
            (
                Self::Im2col {
                    col: &mut mine[..k * p],
                },
                rest,
            )
        }
    }

    /// Adds one sample's weight gradient (to dW, or to the batch's `dwt`).
    #[inline(always)]
    fn sample(&mut self, g: &Geometry, x: &[f32], dy: &[f32], d_weight: &mut [f32]) {
        let (k, p) = (g.patch_len(), g.positions());
        match self {
            Self::Im2col { col } => {
                im2col(g, x, col);
                gemm(
                    Mat::new(dy, g.oc, p),
                    Mat::new(col, k, p).t(),
                    d_weight,
                    true,
                );
            }
            Self::Transposed { col, dy_t, dwt } => {
                im2col(g, x, col);
                super::transpose::transpose(dy, g.oc, p, dy_t);
                gemm(Mat::new(col, k, p), Mat::new(dy_t, p, g.oc), dwt, true);
            }
            Self::Winograd { scratch } => winograd::weight_grad_sample(g, x, dy, scratch),
            Self::Implicit { padded, dy_t, dwt } => {
                let (hp, wp) = (g.oh + g.kh - 1, g.padded_width());
                copy_into_padded(x, (g.h, g.w), padded, (hp, wp), (g.pt, g.pl));
                super::transpose::transpose(dy, g.oc, p, dy_t);
                let rows = ConvRows {
                    channels: g.c,
                    kh: g.kh,
                    kw: g.kw,
                    plane: hp * wp,
                    row: wp,
                };
                gemm::gemm_conv_weight(padded, rows, (g.oh, g.ow), dy_t, g.oc, dwt);
            }
        }
    }

    /// Adds what the batch left in `dwt` to dW.
    #[inline(always)]
    fn finish(self, g: &Geometry, d_weight: &mut [f32]) {
        if let Self::Winograd { scratch } = self {
            return winograd::weight_grad_finish(g, scratch, d_weight);
        }
        if let Self::Implicit { dwt, .. } | Self::Transposed { dwt, .. } = self {
            let k = g.patch_len();
            for (o, row) in d_weight.chunks_exact_mut(k).enumerate() {
                for (i, d) in row.iter_mut().enumerate() {
                    *d += dwt[i * g.oc + o];
                }
            }
        }
    }
}

/// Backward pass over a batch; *accumulates* into `d_input [B, C, H, W]`
/// (skipped when `None`: nothing needs it; stored, not added, when its
/// flag is set), `d_weight [OC, C, KH, KW]` and `d_bias [OC]` (empty
/// without bias). Sample `n`'s output gradient is at `n · out_stride`, as
/// [`forward`] wrote its output.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn backward(
    g: &Geometry,
    batch: usize,
    weight: &[f32],
    input: &[f32],
    (d_output, out_stride): (&[f32], usize),
    (d_input, store): (Option<&mut [f32]>, bool),
    d_weight: &mut [f32],
    d_bias: &mut [f32],
    scratch: &mut [f32],
) {
    let (k, p) = (g.patch_len(), g.positions());
    let plan = g.plan();
    let (mut weight_grad, rest) = WeightGrad::new(g, plan, scratch);
    match d_input {
        Some(d_input) if plan.input_grad == Lowering::Winograd => {
            let dy = (d_output, out_stride);
            parameter_grads(g, batch, input, dy, &mut weight_grad, d_weight, d_bias);
            let (flipped, rest) = rest.split_at_mut(g.c * g.oc * g.kh * g.kw);
            flip_kernels(g, weight, flipped);
            let onto = if store { Onto::Zero } else { Onto::C };
            let (weight, dy) = ((&*flipped, &[][..]), (d_output, out_stride));
            let dx = (d_input, g.in_len());
            winograd::forward(&g.transposed(), batch, weight, onto, dy, dx, rest);
        }
        Some(d_input) if plan.input_grad == Lowering::Implicit => backward_transposed(
            g,
            batch,
            weight,
            input,
            (d_output, out_stride),
            (d_input, store),
            d_weight,
            d_bias,
            &mut weight_grad,
            rest,
        ),
        Some(d_input) => {
            let d_col = &mut rest[..k * p];
            let w = Mat::new(weight, g.oc, k);
            for n in 0..batch {
                let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
                let dy = &d_output[n * out_stride..][..g.out_len()];
                let dx = &mut d_input[n * g.in_len()..(n + 1) * g.in_len()];
                bias_grad(g, dy, d_bias);
                weight_grad.sample(g, x, dy, d_weight);
                // input gradient: dcol[K, P] = Wᵀ[K, OC] · dY[OC, P], then col2im
                gemm(w.t(), Mat::new(dy, g.oc, p), d_col, false);
                if store {
                    dx.fill(0.0);
                }
                col2im_add(g, d_col, dx);
            }
        }
        None => {
            let dy = (d_output, out_stride);
            parameter_grads(g, batch, input, dy, &mut weight_grad, d_weight, d_bias);
        }
    }
    weight_grad.finish(g, d_weight);
}

/// Adds each sample's bias and weight gradients, for a backward pass whose
/// input gradient is computed apart (or not needed).
#[inline(always)]
fn parameter_grads(
    g: &Geometry,
    batch: usize,
    input: &[f32],
    (d_output, out_stride): (&[f32], usize),
    weight_grad: &mut WeightGrad<'_>,
    d_weight: &mut [f32],
    d_bias: &mut [f32],
) {
    for n in 0..batch {
        let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
        let dy = &d_output[n * out_stride..][..g.out_len()];
        bias_grad(g, dy, d_bias);
        weight_grad.sample(g, x, dy, d_weight);
    }
}

/// The kernels of [`Geometry::transposed`], `[C, OC, KH, KW]`:
/// `W'[c][o][u][v] = W[o][c][KH−1−u][KW−1−v]`.
#[inline(always)]
fn flip_kernels(g: &Geometry, weight: &[f32], flipped: &mut [f32]) {
    let kk = g.kh * g.kw;
    let taps = g.oc * kk;
    for c in 0..g.c {
        for o in 0..g.oc {
            for t in 0..kk {
                flipped[c * taps + o * kk + t] = weight[(o * g.c + c) * kk + (kk - 1 - t)];
            }
        }
    }
}

/// Stride-1 backward whose input gradient is a forward convolution:
/// `dX = dY ⋆ rot180(W)` over the channels swapped, with dY padded by
/// `KH − 1 − PT` on top (and likewise on each side), computed by the
/// implicit GEMM.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_transposed(
    g: &Geometry,
    batch: usize,
    weight: &[f32],
    input: &[f32],
    (d_output, out_stride): (&[f32], usize),
    (d_input, store): (&mut [f32], bool),
    d_weight: &mut [f32],
    d_bias: &mut [f32],
    weight_grad: &mut WeightGrad<'_>,
    scratch: &mut [f32],
) {
    let taps = g.oc * g.kh * g.kw;
    let (hq, wq) = (g.h + g.kh - 1, g.w + g.kw - 1);
    let rows = ConvRows {
        channels: g.oc,
        kh: g.kh,
        kw: g.kw,
        plane: hq * wq,
        row: wq,
    };
    let n_wide = g.h * wq;
    let (flipped, rest) = scratch.split_at_mut(g.c * taps);
    let (dy_padded, rest) = rest.split_at_mut(g.oc * hq * wq + g.kw);
    let wide = &mut rest[..g.c * n_wide];
    flip_kernels(g, weight, flipped);
    let flipped = Mat::new(flipped, g.c, taps);
    let (top, left) = (g.kh - 1 - g.pt, g.kw - 1 - g.pl);
    // the padding stays zero; each sample overwrites the interior
    dy_padded.fill(0.0);
    for n in 0..batch {
        let x = &input[n * g.in_len()..(n + 1) * g.in_len()];
        let dy = &d_output[n * out_stride..][..g.out_len()];
        let dx = &mut d_input[n * g.in_len()..(n + 1) * g.in_len()];
        bias_grad(g, dy, d_bias);
        weight_grad.sample(g, x, dy, d_weight);
        // input gradient: dY padded, convolved with the flipped kernel
        copy_into_padded(dy, (g.oh, g.ow), dy_padded, (hq, wq), (top, left));
        match Columns::for_grid(g.h, g.w, wq) {
            // straight into dX, which accumulates or is overwritten
            cols @ Columns::Rows { .. } => {
                let onto = if store { Onto::Zero } else { Onto::C };
                gemm::gemm_conv(flipped, dy_padded, rows, cols, dx, onto)
            }
            cols => {
                gemm::gemm_conv(flipped, dy_padded, rows, cols, wide, Onto::Zero);
                for (dst, src) in dx.chunks_exact_mut(g.w).zip(wide.chunks_exact(wq)) {
                    if store {
                        dst.copy_from_slice(&src[..g.w]);
                    } else {
                        dst.iter_mut().zip(&src[..g.w]).for_each(|(d, s)| *d += s);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, grad_check, random_vec};

    fn reference_forward(g: &Geometry, w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
        let mut y = vec![0.0f64; g.out_len()];
        for o in 0..g.oc {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut s = if b.is_empty() { 0.0 } else { b[o] as f64 };
                    for c in 0..g.c {
                        for u in 0..g.kh {
                            for v in 0..g.kw {
                                let yy = (i * g.sh + u) as isize - g.pt as isize;
                                let xx = (j * g.sw + v) as isize - g.pl as isize;
                                if yy >= 0 && xx >= 0 && (yy as usize) < g.h && (xx as usize) < g.w
                                {
                                    s += w[((o * g.c + c) * g.kh + u) * g.kw + v] as f64
                                        * x[(c * g.h + yy as usize) * g.w + xx as usize] as f64;
                                }
                            }
                        }
                    }
                    y[(o * g.oh + i) * g.ow + j] = s;
                }
            }
        }
        y.into_iter().map(|v| v as f32).collect()
    }

    fn geometries() -> Vec<Geometry> {
        // bottom and right padding from the output size
        let g = |c, h, w, oc, oh, ow, kh, kw, sh, sw, pt, pl| Geometry {
            c,
            h,
            w,
            oc,
            oh,
            ow,
            kh,
            kw,
            sh,
            sw,
            pt,
            pb: ((oh - 1) * sh + kh).saturating_sub(h + pt),
            pl,
            pr: ((ow - 1) * sw + kw).saturating_sub(w + pl),
        };
        vec![
            g(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
            g(3, 7, 9, 4, 5, 7, 3, 3, 1, 1, 0, 0),
            g(2, 9, 8, 3, 5, 4, 3, 3, 2, 2, 1, 1),
            g(2, 11, 10, 5, 4, 5, 3, 2, 3, 2, 1, 0),
            g(1, 4, 4, 2, 2, 2, 3, 3, 2, 2, 0, 0),
            g(2, 5, 5, 3, 1, 1, 5, 5, 1, 1, 0, 0),
            g(2, 10, 13, 3, 4, 4, 2, 4, 3, 3, 1, 0),
            // padding wider than the input: whole rows and columns of padding
            g(1, 2, 1, 2, 4, 4, 3, 3, 1, 1, 2, 2),
            g(2, 3, 2, 1, 2, 3, 3, 5, 2, 2, 1, 3),
            // enough output channels for the in-place weight gradient
            g(3, 6, 7, 16, 6, 7, 3, 3, 1, 1, 1, 1),
            g(2, 5, 5, 33, 3, 4, 3, 2, 1, 1, 0, 0),
            g(1, 4, 4, 20, 6, 6, 3, 3, 1, 1, 2, 2),
            // in place, with padding as wide as the kernel (dX by col2im)
            g(1, 2, 1, 16, 5, 4, 2, 2, 1, 1, 2, 2),
            // stride 2 along rows of 8 outputs and more (patches copied
            // eight at a time), with and without padding, 1×1 and 3×3
            g(2, 33, 35, 3, 17, 17, 3, 3, 2, 2, 1, 1),
            g(2, 16, 17, 3, 8, 9, 3, 3, 2, 2, 1, 0),
            g(3, 32, 32, 4, 16, 16, 1, 1, 2, 2, 0, 0),
        ]
    }

    #[test]
    fn plan_follows_stride_channels_padding_and_cpu() {
        use Lowering::{Im2col, Implicit, Winograd};
        let plan = |g: Geometry, cpu| {
            let p = g.plan_for(cpu);
            (p.forward, p.weight_grad, p.input_grad, p.to_string())
        };
        let g = geometries();
        // stride 1, 16 output channels, padding below the kernel: all in place
        assert_eq!(
            plan(g[9], true),
            (Implicit, Implicit, Implicit, "implicit gemm".into())
        );
        // 4 output channels: the weight gradient copies its patches out
        assert_eq!(
            plan(Geometry { oc: 4, ..g[9] }, true),
            (
                Implicit,
                Im2col,
                Implicit,
                "implicit gemm, dW im2col".into()
            )
        );
        // LeNet-5's second conv, 14 × 14 → 10 × 10: the input gradient as
        // a convolution of dY would be half padding, so col2im
        let lenet_c2 = Geometry {
            c: 6,
            h: 14,
            w: 14,
            oc: 16,
            oh: 10,
            ow: 10,
            kh: 5,
            kw: 5,
            sh: 1,
            sw: 1,
            pt: 0,
            pb: 0,
            pl: 0,
            pr: 0,
        };
        assert!(lenet_c2.input_grad_mostly_padding());
        assert!(!g[9].input_grad_mostly_padding());
        assert_eq!(
            plan(lenet_c2, true),
            (
                Implicit,
                Implicit,
                Im2col,
                "implicit gemm, dX col2im".into()
            )
        );
        // padding as wide as the kernel: the input gradient by col2im
        assert_eq!(
            plan(g[12], true),
            (
                Implicit,
                Implicit,
                Im2col,
                "implicit gemm, dX col2im".into()
            )
        );
        // 3×3, stride 1, 32 channels in and out: all three by Winograd
        let tiles = Geometry {
            c: 32,
            oc: 32,
            ..g[9]
        };
        assert_eq!((tiles.kh, tiles.kw, tiles.sh, tiles.sw), (3, 3, 1, 1));
        assert_eq!(
            plan(tiles, true),
            (Winograd, Winograd, Winograd, "winograd".into())
        );
        // dX's convolution: dY padded by 2 − 1 on each side back to 6 × 7
        let t = tiles.transposed().checked_conv();
        assert_eq!((t.c, t.oc, t.h, t.w, t.oh, t.ow), (32, 32, 6, 7, 6, 7));
        assert_eq!((t.pt, t.pb, t.pl, t.pr), (1, 1, 1, 1));
        // padding wider than the kernel less one: dX by col2im
        let wide = Geometry {
            pt: 3,
            oh: tiles.oh + 2,
            ..tiles
        };
        assert_eq!(
            plan(wide, true),
            (Winograd, Winograd, Im2col, "winograd, dX col2im".into())
        );
        // stride 2
        assert_eq!(
            plan(g[2], true),
            (Im2col, Im2col, Im2col, "im2col + gemm".into())
        );
        // without the in-place kernels every product copies its patches
        for g in g {
            assert_eq!(
                plan(g, false),
                (Im2col, Im2col, Im2col, "im2col + gemm".into())
            );
        }
    }

    #[test]
    fn checked_geometry_passes_valid_sizes() {
        // windows wholly in the padding among them (the later geometries),
        // as PyTorch allows
        for g in &geometries() {
            assert_eq!(g.checked_conv(), *g);
        }
    }

    #[test]
    #[should_panic(expected = "geometry: a window starts past the padded input")]
    fn checked_geometry_rejects_a_window_past_the_padded_input() {
        // 7 rows, no padding: the 8th output row's window would start at row 7
        let mut g = geometries()[1];
        g.oh += 3;
        g.checked_conv();
    }

    #[test]
    fn forward_matches_reference_on_awkward_shapes() {
        for (t, g) in geometries().into_iter().enumerate() {
            for with_bias in [true, false] {
                let batch = 2;
                let w = random_vec(g.oc * g.patch_len(), 10 + t as u64);
                let b = if with_bias {
                    random_vec(g.oc, 20 + t as u64)
                } else {
                    vec![]
                };
                let x = random_vec(batch * g.in_len(), 30 + t as u64);
                // each sample's output part of a wider one, as in a concat
                let stride = g.out_len() + 3;
                let mut y = vec![f32::NAN; batch * stride];
                let mut scratch = vec![0.0; g.scratch_len()];
                forward(&g, batch, &w, &b, &x, (&mut y, stride), &mut scratch);
                for n in 0..batch {
                    let want =
                        reference_forward(&g, &w, &b, &x[n * g.in_len()..(n + 1) * g.in_len()]);
                    let (part, rest) = y[n * stride..(n + 1) * stride].split_at(g.out_len());
                    assert_close(part, &want, 1e-5, &format!("{g:?}"));
                    assert!(
                        rest.iter().all(|v| v.is_nan()),
                        "{g:?}: wrote past its part"
                    );
                }
            }
        }
    }

    /// Convs by im2col large enough to share a sample out among a team's
    /// threads (each its own output rows) give one thread's outputs bit
    /// for bit, with a bias, without, and through scale, shift and ReLU,
    /// on 2 and 3 threads; a batch of two goes sample by sample.
    #[test]
    fn im2col_shared_among_threads_is_one_threads_bit_for_bit() {
        let g = |c, h, w, oc, k, s, p| {
            let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
            Geometry {
                c,
                h,
                w,
                oc,
                oh,
                ow,
                kh: k,
                kw: k,
                sh: s,
                sw: s,
                pt: p,
                pb: p,
                pl: p,
                pr: p,
            }
            .checked_conv()
        };
        let cases = [
            g(16, 32, 32, 32, 3, 2, 1),
            g(32, 16, 15, 64, 3, 2, 1),
            g(24, 9, 40, 40, 5, 3, 2),
        ];
        let mut teams = [crate::team::Team::new(2), crate::team::Team::new(3)];
        for (t, g) in cases.into_iter().enumerate() {
            assert_eq!(g.plan().forward, Lowering::Im2col);
            assert!(
                g.patch_len() * g.positions() * g.oc >= SHARED_MIN_MACS,
                "{g:?}"
            );
            let batch = 2;
            let w = random_vec(g.oc * g.patch_len(), 60 + t as u64);
            let (bias, scale, shift) = (
                random_vec(g.oc, 61),
                random_vec(g.oc, 62),
                random_vec(g.oc, 63),
            );
            let x = random_vec(batch * g.in_len(), 64 + t as u64);
            // a residual of stride 2 more than the output's
            let residual = random_vec(batch * (g.out_len() + 2), 65 + t as u64);
            let affine = Store::Affine {
                scale: &scale,
                shift: &shift,
                relu: true,
            };
            for store in [
                (Store::Bias(&bias), None),
                (Store::Bias(&[]), None),
                (affine, None),
                (affine, Some((&residual[..], g.out_len() + 2))),
            ] {
                let run = |y: &mut [f32]| {
                    let mut scratch = vec![f32::NAN; g.scratch_len()];
                    let output = (y, g.out_len() + 1);
                    forward_storing(&g, batch, (&w, &[]), store, &x, output, &mut scratch);
                };
                let mut want = vec![f32::NAN; batch * (g.out_len() + 1)];
                run(&mut want);
                for team in &mut teams {
                    let mut got = vec![f32::NAN; want.len()];
                    crate::team::lend(team, || run(&mut got));
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{g:?} on {} threads", team.size());
                }
            }
        }
    }

    /// col2im at stride 1 (with AVX-512 where the CPU has it) adds the same
    /// terms in the same order as the plain loops: the same bits, over
    /// padding of every width, rows wider than 16 (several registers, the
    /// last part of one) and kernels up to the widest it takes.
    #[test]
    fn col2im_at_stride_one_is_the_plain_loops_bit_for_bit() {
        let conv = |c, (h, w), (kh, kw), (pt, pb, pl, pr)| {
            Geometry {
                c,
                h,
                w,
                oc: 1,
                oh: h + pt + pb + 1 - kh,
                ow: w + pl + pr + 1 - kw,
                kh,
                kw,
                sh: 1,
                sw: 1,
                pt,
                pb,
                pl,
                pr,
            }
            .checked_conv()
        };
        let mut cases: Vec<Geometry> = geometries()
            .into_iter()
            .filter(|g| g.sh == 1 && g.sw == 1)
            .collect();
        cases.extend([
            conv(6, (14, 14), (5, 5), (0, 0, 0, 0)),
            conv(2, (9, 37), (3, 7), (1, 2, 3, 1)),
            conv(3, (5, 33), (2, 16), (0, 1, 8, 7)),
            conv(2, (4, 16), (3, 3), (2, 2, 2, 2)),
            conv(1, (3, 3), (5, 5), (4, 4, 4, 4)),
        ]);
        // an output too small to reach the input's last row and columns:
        // they take no term, and their −0 must stay −0
        cases.push(Geometry {
            oh: 4,
            ow: 14,
            ..conv(2, (7, 19), (3, 3), (0, 0, 0, 0))
        });
        for (t, g) in cases.into_iter().enumerate() {
            let col = random_vec(g.patch_len() * g.positions(), 70 + t as u64);
            // every third value −0, which adding a +0 would change
            let start: Vec<f32> = random_vec(g.in_len(), 80 + t as u64)
                .into_iter()
                .enumerate()
                .map(|(i, v)| if i % 3 == 0 { -0.0 } else { v })
                .collect();
            let (mut got, mut want) = (start.clone(), start);
            col2im_add(&g, &col, &mut got);
            col2im_add_loops(&g, &col, &mut want);
            let same = got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{g:?}");
        }
    }

    #[test]
    fn affine_forward_is_forward_scaled_shifted_and_clamped() {
        for (t, g) in geometries().into_iter().enumerate() {
            let batch = 2;
            let w = random_vec(g.oc * g.patch_len(), 10 + t as u64);
            let (scale, shift) = (
                random_vec(g.oc, 40 + t as u64),
                random_vec(g.oc, 50 + t as u64),
            );
            let x = random_vec(batch * g.in_len(), 30 + t as u64);
            let mut scratch = vec![0.0; g.scratch_len()];
            let mut plain = vec![f32::NAN; batch * g.out_len()];
            forward(
                &g,
                batch,
                &w,
                &[],
                &x,
                (&mut plain, g.out_len()),
                &mut scratch,
            );
            for relu in [false, true] {
                let mut y = vec![f32::NAN; batch * g.out_len()];
                let affine = (&scale[..], &shift[..], relu);
                let output = (&mut y[..], g.out_len());
                forward_affine(&g, batch, (&w, &[]), affine, &x, output, &mut scratch);
                let p = g.positions();
                let want: Vec<f32> = plain
                    .iter()
                    .enumerate()
                    .map(|(j, v)| v * scale[j / p % g.oc] + shift[j / p % g.oc])
                    .map(|v| if relu { v.max(0.0) } else { v })
                    .collect();
                assert_close(&y, &want, 1e-5, &format!("{g:?}, relu {relu}"));
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        for (t, g) in geometries().into_iter().enumerate() {
            let batch = 2;
            let w = random_vec(g.oc * g.patch_len(), 40 + t as u64);
            let b = random_vec(g.oc, 50 + t as u64);
            let x = random_vec(batch * g.in_len(), 60 + t as u64);
            let dy = random_vec(batch * g.out_len(), 70 + t as u64);
            let mut scratch = vec![0.0; g.scratch_len()];
            // backward into dx (stored when `store`), dw and db
            let mut run = |dx: Option<&mut [f32]>, store: bool, dw: &mut [f32], db: &mut [f32]| {
                let dy = (&dy[..], g.out_len());
                backward(&g, batch, &w, &x, dy, (dx, store), dw, db, &mut scratch)
            };
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
            run(Some(&mut dx), false, &mut dw, &mut db);
            let loss = |w: &[f32], b: &[f32], x: &[f32]| -> f64 {
                let mut y = vec![0.0; batch * g.out_len()];
                let mut s = vec![0.0; g.scratch_len()];
                forward(&g, batch, w, b, x, (&mut y, g.out_len()), &mut s);
                y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
            };
            grad_check(&x, &dx, |x| loss(&w, &b, x), &format!("dx {g:?}"));
            grad_check(&w, &dw, |w| loss(w, &b, &x), &format!("dw {g:?}"));
            grad_check(&b, &db, |b| loss(&w, b, &x), &format!("db {g:?}"));

            // without the input gradient: the same parameter gradients
            let (mut dw2, mut db2) = (vec![0.0; w.len()], vec![0.0; b.len()]);
            run(None, false, &mut dw2, &mut db2);
            assert_eq!(dw2, dw, "dw without dx {g:?}");
            assert_eq!(db2, db, "db without dx {g:?}");

            // dx stored over stale values: what adding onto zeros gave
            let mut stored = vec![f32::NAN; x.len()];
            run(Some(&mut stored), true, &mut dw2, &mut db2);
            assert_eq!(stored, dx, "dx stored {g:?}");
        }
    }

    /// The exact gradients in f64, by direct loops: `dx`, `dw`, `db`.
    fn reference_backward(
        g: &Geometry,
        w: &[f32],
        x: &[f32],
        dy: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mut dx, mut dw, mut db) = (
            vec![0.0f64; g.in_len()],
            vec![0.0f64; w.len()],
            vec![0.0f64; g.oc],
        );
        for o in 0..g.oc {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let d = dy[(o * g.oh + i) * g.ow + j] as f64;
                    db[o] += d;
                    for c in 0..g.c {
                        for u in 0..g.kh {
                            for v in 0..g.kw {
                                let yy = (i * g.sh + u) as isize - g.pt as isize;
                                let xx = (j * g.sw + v) as isize - g.pl as isize;
                                if yy >= 0 && xx >= 0 && (yy as usize) < g.h && (xx as usize) < g.w
                                {
                                    let xi = (c * g.h + yy as usize) * g.w + xx as usize;
                                    let wi = ((o * g.c + c) * g.kh + u) * g.kw + v;
                                    dx[xi] += w[wi] as f64 * d;
                                    dw[wi] += x[xi] as f64 * d;
                                }
                            }
                        }
                    }
                }
            }
        }
        let f = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
        (f(dx), f(dw), f(db))
    }

    /// Random geometries, most of stride 1 with enough output channels for
    /// every in-place path (output rows of any width, paired or not, on
    /// grids of any width), every fifth a 3×3 one with enough channels for
    /// Winograd's, against the f64 reference.
    #[test]
    fn random_geometries_match_the_reference() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
        let (mut checked, mut winograd, mut winograd_dw) = (0, 0, 0);
        for t in 0..75u64 {
            let tiles = t % 5 == 4;
            let (kh, kw) = (rng.gen_range(1..=5usize), rng.gen_range(1..=5usize));
            let (kh, kw) = if tiles { (3, 3) } else { (kh, kw) };
            let (sh, sw) = if t % 4 == 3 && !tiles {
                (rng.gen_range(1..=3usize), rng.gen_range(1..=3usize))
            } else {
                (1, 1)
            };
            let (h, w) = (rng.gen_range(1..=20usize), rng.gen_range(1..=40usize));
            let (pt, pl) = (rng.gen_range(0..=kh), rng.gen_range(0..=kw));
            let (pb, pr) = (rng.gen_range(0..=kh), rng.gen_range(0..=kw));
            if h + pt + pb < kh || w + pl + pr < kw {
                continue;
            }
            let (oh, ow) = ((h + pt + pb - kh) / sh + 1, (w + pl + pr - kw) / sw + 1);
            let (c, oc) = (
                rng.gen_range(1..=4),
                [1, 3, 16, 17, 32, 40][rng.gen_range(0..6usize)],
            );
            // Winograd's: channels in and out that are multiples of eight
            // and not, which its transforms take eight at a time
            let (c, oc) = if tiles {
                (c * 8 + 23 + t as usize % 2, oc.max(16) + t as usize % 3)
            } else {
                (c, oc)
            };
            let g = Geometry {
                c,
                h,
                w,
                oc,
                oh,
                ow,
                kh,
                kw,
                sh,
                sw,
                pt,
                pb,
                pl,
                pr,
            };
            let batch = 2;
            let wt = random_vec(g.oc * g.patch_len(), 100 + t);
            let b = random_vec(g.oc, 200 + t);
            let x = random_vec(batch * g.in_len(), 300 + t);
            // every other geometry writes its part of wider samples
            let stride = g.out_len() + if t % 2 == 0 { 0 } else { 5 };
            let dy = random_vec(batch * stride, 400 + t);
            let mut scratch = vec![0.0; g.scratch_len()];
            let mut y = vec![f32::NAN; batch * stride];
            forward(&g, batch, &wt, &b, &x, (&mut y, stride), &mut scratch);
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; wt.len()], vec![0.0; g.oc]);
            // every third geometry stores dx over stale values
            let store = t % 3 == 1;
            if store {
                dx.fill(f32::NAN);
            }
            backward(
                &g,
                batch,
                &wt,
                &x,
                (&dy, stride),
                (Some(&mut dx), store),
                &mut dw,
                &mut db,
                &mut scratch,
            );
            let (mut dw_sum, mut db_sum) = (vec![0.0f32; wt.len()], vec![0.0f32; g.oc]);
            for n in 0..batch {
                let (xs, ys) = (
                    n * g.in_len()..(n + 1) * g.in_len(),
                    n * stride..n * stride + g.out_len(),
                );
                let what = format!("{g:?}, sample {n}");
                assert_close(
                    &y[ys.clone()],
                    &reference_forward(&g, &wt, &b, &x[xs.clone()]),
                    1e-5,
                    &what,
                );
                let (rdx, rdw, rdb) = reference_backward(&g, &wt, &x[xs.clone()], &dy[ys]);
                assert_close(&dx[xs], &rdx, 1e-5, &format!("dx {what}"));
                dw_sum.iter_mut().zip(&rdw).for_each(|(s, v)| *s += v);
                db_sum.iter_mut().zip(&rdb).for_each(|(s, v)| *s += v);
            }
            assert_close(&dw, &dw_sum, 1e-5, &format!("dw {g:?}"));
            assert_close(&db, &db_sum, 1e-5, &format!("db {g:?}"));
            checked += 1;
            winograd += usize::from(g.plan().input_grad == Lowering::Winograd);
            winograd_dw += usize::from(g.plan().weight_grad == Lowering::Winograd);
        }
        assert!(checked >= 60, "only {checked} geometries checked");
        // on CPUs with the in-place kernels: dX and dW by Winograd's algorithm
        if gemm::conv_rows_fast() {
            assert!(winograd >= 6, "only {winograd} Winograd input gradients");
            assert!(
                winograd_dw >= 6,
                "only {winograd_dw} Winograd weight gradients"
            );
        }
    }
}
