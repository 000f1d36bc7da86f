//! 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3)
//! (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
//! 2016): each 2×2 block of output comes from a 4×4 block of the padded
//! input with 16 multiplications per channel pair instead of 36.
//!
//! With `d` a 4×4 input tile, `g` a 3×3 kernel and
//!
//! ```text
//!       ⎡1  0 −1  0⎤        ⎡ 1    0    0 ⎤
//! Bᵀ =  ⎢0  1  1  0⎥   G =  ⎢1/2  1/2  1/2⎥   Aᵀ = ⎡1 1  1  0⎤
//!       ⎢0 −1  1  0⎥        ⎢1/2 −1/2  1/2⎥        ⎣0 1 −1 −1⎦
//!       ⎣0  1  0 −1⎦        ⎣ 0    0    1 ⎦
//! ```
//!
//! the output tile is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. Summed over input
//! channels, the 16 element-wise products become 16 matrix products, one
//! per position ξ of the 4×4 transformed tile:
//! `M[ξ] (OC × tiles) = U[ξ] (OC × C) · V[ξ] (C × tiles)`, with
//! `U = G g Gᵀ` the transformed kernels and `V = Bᵀ d B` the transformed
//! input tiles. The input and output transforms are additions only; `G`'s
//! halves are exact. Results differ from the direct sum by rounding only
//! (a few units in the last place more, from the transforms' additions):
//! `tests/golden.rs` holds them to the same 1e-5 as every other layer.
//!
//! The products run on the GEMM microkernel, reading `V` in place
//! ([`gemm::gemm_in_place_b`]): the input transform writes it as the
//! kernel reads it, a block of tile rows at a time, small enough that `V`
//! and `M` stay in L2 between the transforms and the products.
//!
//! Where it runs ([`applies`]): 3×3 kernels with stride 1 and at least
//! [`MIN_CHANNELS`] input and output channels, on CPUs with the fast
//! kernels (the conv's plan decides, see `conv2d::Geometry::plan_for`).
#![allow(unsafe_code)]

use super::conv2d::Geometry;
use super::gemm::{self, Mat, Onto};

/// Input and output channels from which a 3×3 stride-1 conv runs by
/// Winograd's algorithm: below, the products' inner dimension (the input
/// channels) is too short for the transforms to pay. ResNet-20's convs in
/// `predict`, batch 64, best of 20 (AVX2, 2-core AMD EPYC): 16 channels
/// on 32² 3.6 ms either way; 32 on 16² 2.4 against 3.3 ms in place; 64
/// on 8² 2.0 against 3.3. With AVX-512 (2-core AMD EPYC, family 25), its
/// 16-channel convs by Winograd too rather than in place: one sample
/// 725–730 → 687–692 µs, batches of 64 1,360–1,368 → 1,383–1,440
/// images/s, training the same (`profile_step`, alternating builds).
pub const MIN_CHANNELS: usize = 16;

/// Target tiles per block: `V` and `M` of a block are `16 · (C + OC)`
/// rows of this, 256 KB at 64 channels.
const BLOCK_TILES: usize = 64;

/// The widest panel of B the microkernel reads ([`gemm::panel_columns`]).
const MAX_PANEL: usize = 32;

/// Positions of the transformed 4×4 tile.
const XI: usize = 16;

/// Floats between consecutive `V` (and `M`) matrices past their end: a
/// cache line.
const SKEW: usize = 16;

/// Whether `g` is a convolution this algorithm computes (whatever the CPU).
pub const fn applies(g: &Geometry) -> bool {
    g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.c >= MIN_CHANNELS && g.oc >= MIN_CHANNELS
}

/// How the output is cut into 2×2 tiles.
#[derive(Clone, Copy, Debug)]
struct Tiling {
    /// Tile rows and columns: `⌈OH/2⌉`, `⌈OW/2⌉`.
    th: usize,
    tw: usize,
    /// The zero-padded input, `[C, HP, WP]`: `2·TH + 2` rows, whole
    /// tiles even where OH is odd, of [`Tiling::half`] even columns then
    /// as many odd ones (at least `2·TW + 2` columns).
    hp: usize,
    wp: usize,
    /// Tile rows per block.
    rows: usize,
    /// Row length of a block's `V` and `M` matrices: its tiles rounded up
    /// to the widest panel.
    ld: usize,
}

impl Tiling {
    const fn of(g: &Geometry) -> Tiling {
        let (th, tw) = (g.oh.div_ceil(2), g.ow.div_ceil(2));
        // OW ≥ 1, so TW ≥ 1
        let rows = if BLOCK_TILES / tw > 1 {
            BLOCK_TILES / tw
        } else {
            1
        };
        let rows = if rows < th { rows } else { th };
        Tiling {
            th,
            tw,
            hp: 2 * th + 2,
            wp: 2 * (tw.div_ceil(L) * L + 1),
            rows,
            // room for the input transform's last eight tiles
            ld: (rows * tw + L).div_ceil(MAX_PANEL) * MAX_PANEL,
        }
    }

    /// Floats from one of a block's `V` matrices to the next (`C` rows of
    /// `ld`, and a cache line more): the transforms write and read the 16
    /// at once, and at a multiple of 4 KB apart the 16 streams would share
    /// cache sets and alias in the store buffer.
    const fn v_stride(&self, c: usize) -> usize {
        c * self.ld + SKEW
    }

    /// Floats from one of a block's `M` matrices to the next.
    const fn m_stride(&self, oc: usize) -> usize {
        oc * self.ld + SKEW
    }

    /// Floats of the even (and of the odd) columns of a padded row: the
    /// input transform reads eight tiles and one more at a time.
    const fn half(&self) -> usize {
        self.tw.div_ceil(L) * L + 1
    }
}

/// Floats of the transformed kernels `U` ([`prepare`]): 16 per kernel.
pub const fn prepared_len(g: &Geometry) -> usize {
    XI * g.oc * g.c
}

/// Scratch floats [`forward`] needs: `U` (unless prepared), the padded
/// input, a block's `V` and `M`, and the output transform's four rows.
pub const fn scratch_len(g: &Geometry) -> usize {
    let t = Tiling::of(g);
    prepared_len(g) + g.c * t.hp * t.wp + XI * (t.v_stride(g.c) + t.m_stride(g.oc)) + 4 * t.ld
}

/// The transformed kernels `u` (at least [`prepared_len`] floats) of
/// `weight [OC, C, 3, 3]`, for [`forward`] to use again and again while
/// the weights stay as they are.
#[inline(always)]
pub fn prepare(g: &Geometry, weight: &[f32], u: &mut [f32]) {
    transform_weights(g, weight, u);
}

/// `u[ξ][o][c] = (G w[o][c] Gᵀ)[ξ]` for weights `[OC, C, 3, 3]`, eight
/// input channels at a time (one at a time, the transform took a tenth of
/// ResNet-20's inference, which transforms them for every sample).
#[inline(always)]
fn transform_weights(g: &Geometry, weight: &[f32], u: &mut [f32]) {
    let (oc, c) = (g.oc, g.c);
    let u = &mut u[..XI * oc * c];
    let weight = &weight[..oc * c * 9];
    let half = |x: Lanes| {
        let mut x = x;
        for v in &mut x {
            *v *= 0.5;
        }
        x
    };
    for o in 0..oc {
        let mut ch = 0;
        while ch < c {
            // the last group overlaps the one before it (C ≥ 8)
            let ch0 = ch.min(c - L);
            // w[k] for the eight channels, k = 3u + v
            let w: [Lanes; 9] = {
                let mut w = [[0.0; L]; 9];
                for (l, kernel) in weight[(o * c + ch0) * 9..][..9 * L]
                    .chunks_exact(9)
                    .enumerate()
                {
                    for k in 0..9 {
                        w[k][l] = kernel[k];
                    }
                }
                w
            };
            // G w: 4 rows of 3
            let mut t = [[[0.0; L]; 3]; 4];
            for j in 0..3 {
                let (a, b, d) = (w[j], w[3 + j], w[6 + j]);
                t[0][j] = a;
                t[1][j] = half(add(add(a, b), d));
                t[2][j] = half(add(sub(a, b), d));
                t[3][j] = d;
            }
            // (G w) Gᵀ
            for (i, [a, b, d]) in t.into_iter().enumerate() {
                let row = [a, half(add(add(a, b), d)), half(add(sub(a, b), d)), d];
                for (j, x) in row.into_iter().enumerate() {
                    u[((i * 4 + j) * oc + o) * c + ch0..][..L].copy_from_slice(&x);
                }
            }
            ch = ch0 + L;
        }
    }
}

/// Lanes of the transforms' loops: eight values in arrays, which the
/// compiler turns into one AVX2 register each (a loop over single values
/// stayed scalar: ResNet-20's inference ran at 700 images/s against 880
/// for the direct convolution).
const L: usize = 8;

type Lanes = [f32; L];

// Plain loops, each `#[inline(always)]`: the arrays' own combinators
// (`map`, `from_fn`) and closures were left as calls, compiled without
// AVX2 (`perf`: `try_map` and `fmaf` among the hottest symbols).

#[inline(always)]
fn lanes(s: &[f32], at: usize) -> Lanes {
    let mut a = [0.0; L];
    a.copy_from_slice(&s[at..at + L]);
    a
}

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    let mut c = a;
    for k in 0..L {
        c[k] += b[k];
    }
    c
}

#[inline(always)]
fn sub(a: Lanes, b: Lanes) -> Lanes {
    let mut c = a;
    for k in 0..L {
        c[k] -= b[k];
    }
    c
}

/// `Aᵀ x` for eight columns `x` of four rows, from `m[at]` on, rows `row`
/// apart.
#[inline(always)]
fn a_t(m: &[f32], at: usize, row: usize) -> [Lanes; 2] {
    let (x0, x1) = (lanes(m, at), lanes(m, at + row));
    let (x2, x3) = (lanes(m, at + 2 * row), lanes(m, at + 3 * row));
    [add(add(x0, x1), x2), sub(sub(x1, x2), x3)]
}

/// The input tiles of tile rows `ty0 .. ty0 + rows` transformed:
/// `v[ξ][c][t] = (Bᵀ d B)[ξ]` for the block's tile `t` (row-major), `v`
/// holding 16 matrices of `C` rows of `ld`. `padded` holds each row's
/// even columns, then its odd ones (`half` of each), so that the tiles of
/// a row read contiguous values: tile `tx` reads even columns `tx` and
/// `tx + 1` and odd columns `tx` and `tx + 1`. The tiles go eight at a
/// time, the last eight of a row past its end into the next row's
/// place, which that row then overwrites (`ld` leaves room after the last).
#[inline(always)]
fn transform_input(
    g: &Geometry,
    t: &Tiling,
    padded: &[f32],
    (ty0, rows): (usize, usize),
    v: &mut [f32],
) {
    let (c, wp, tw, ld, half) = (g.c, t.wp, t.tw, t.ld, t.half());
    let vs = t.v_stride(c);
    let v = &mut v[..XI * vs];
    for ch in 0..c {
        for r in 0..rows {
            let top = (ch * t.hp + 2 * (ty0 + r)) * wp;
            let d = &padded[top..][..4 * wp];
            let at = ch * ld + r * tw;
            for tx in (0..tw).step_by(L) {
                // row i of Bᵀ d from two rows of d, then through B; the
                // tile's four columns are even, odd, even, odd ones
                for i in 0..4 {
                    let (p, q) = [(0, 2), (1, 2), (2, 1), (1, 3)][i];
                    let column = |k: usize| {
                        let (x, y) = (lanes(d, p * wp + k), lanes(d, q * wp + k));
                        if i == 1 {
                            add(x, y)
                        } else {
                            sub(x, y)
                        }
                    };
                    let (a, b) = (column(tx), column(half + tx));
                    let (cc, dd) = (column(tx + 1), column(half + tx + 1));
                    let row = [sub(a, cc), add(b, cc), sub(cc, b), sub(b, dd)];
                    for (j, x) in row.iter().enumerate() {
                        v[(4 * i + j) * vs + at + tx..][..L].copy_from_slice(x);
                    }
                }
            }
        }
    }
}

/// What the output transform stores per output channel: `y·scale + shift`,
/// clamped at zero when `relu`.
#[inline(always)]
fn epilogue(onto: Onto<'_>, o: usize) -> (f32, f32, bool) {
    match onto {
        Onto::Bias(bias) => (1.0, bias[o], false),
        Onto::Affine { scale, shift, relu } => (scale[o], shift[o], relu),
        Onto::Zero | Onto::C => (1.0, 0.0, false),
    }
}

/// `Aᵀ M A` of each tile of tile rows `ty0 .. ty0 + rows`, through the
/// epilogue, into one sample's output `[OC, OH, OW]`: first for all the
/// block's tiles at once into `q` (four rows of `ld`, one per position in
/// the 2×2 tile, contiguous over the tiles), then spread into the output
/// rows.
#[inline(always)]
fn transform_output(
    g: &Geometry,
    t: &Tiling,
    m: &[f32],
    (ty0, rows): (usize, usize),
    onto: Onto<'_>,
    (y, q): (&mut [f32], &mut [f32]),
) {
    let (oc, oh, ow, tw, ld) = (g.oc, g.oh, g.ow, t.tw, t.ld);
    let tiles = rows * tw;
    let xi = t.m_stride(oc);
    let m = &m[..XI * xi];
    let q = &mut q[..4 * ld];
    let add_to = matches!(onto, Onto::C);
    for (o, plane) in y[..oc * oh * ow].chunks_exact_mut(oh * ow).enumerate() {
        let (scale, shift, relu) = epilogue(onto, o);
        let at = o * ld;
        for i in (0..tiles).step_by(L) {
            // Aᵀ M: column j of the tiles to two values each
            let [s00, s10] = a_t(m, at + i, 4 * xi);
            let [s01, s11] = a_t(m, xi + at + i, 4 * xi);
            let [s02, s12] = a_t(m, 2 * xi + at + i, 4 * xi);
            let [s03, s13] = a_t(m, 3 * xi + at + i, 4 * xi);
            // (Aᵀ M) A
            let y = [
                add(add(s00, s01), s02),
                sub(sub(s01, s02), s03),
                add(add(s10, s11), s12),
                sub(sub(s11, s12), s13),
            ];
            for (k, mut y) in y.into_iter().enumerate() {
                for v in &mut y {
                    *v = gemm::affine(*v, (scale, shift), relu);
                }
                q[k * ld + i..][..L].copy_from_slice(&y);
            }
        }
        let (q0, q1) = (&q[..ld], &q[ld..2 * ld]);
        let (q2, q3) = (&q[2 * ld..3 * ld], &q[3 * ld..]);
        for r in 0..rows {
            let ty = ty0 + r;
            let (row0, rest) = plane[2 * ty * ow..].split_at_mut(ow);
            spread(row0, (&q0[r * tw..], &q1[r * tw..]), add_to);
            if 2 * ty + 1 < oh {
                spread(&mut rest[..ow], (&q2[r * tw..], &q3[r * tw..]), add_to);
            }
        }
    }
}

/// `row[2i] = left[i]`, `row[2i + 1] = right[i]` (added to the row's
/// values when `add_to`), the last column of an odd row from `left`: eight
/// pairs at a time.
#[inline(always)]
fn spread(row: &mut [f32], (left, right): (&[f32], &[f32]), add_to: bool) {
    let mut chunks = row.chunks_exact_mut(2 * L);
    let mut i = 0;
    for out in &mut chunks {
        let (l, r) = (lanes(left, i), lanes(right, i));
        let mut pairs = [0.0; 2 * L];
        for k in 0..L {
            pairs[2 * k] = l[k];
            pairs[2 * k + 1] = r[k];
        }
        if add_to {
            for (out, p) in out.iter_mut().zip(pairs) {
                *out += p;
            }
        } else {
            out.copy_from_slice(&pairs);
        }
        i += L;
    }
    for (k, out) in chunks.into_remainder().iter_mut().enumerate() {
        let p = if k % 2 == 0 {
            left[i + k / 2]
        } else {
            right[i + k / 2]
        };
        *out = if add_to { *out + p } else { p };
    }
}

/// Copies an input row into a padded row held as its even columns, then
/// its odd ones (`half` of each), input column `x` going to padded column
/// `x + left`: sixteen at a time, split into eight even and eight odd.
#[inline(always)]
fn spread_row(src: &[f32], dst: &mut [f32], left: usize, half: usize) {
    // where src[2k] and src[2k + 1] go: dst[at.0 + k] and dst[at.1 + k]
    let at = if left.is_multiple_of(2) {
        (left / 2, half + left / 2)
    } else {
        (half + left / 2, left / 2 + 1)
    };
    let pairs = src.len() / 2;
    let mut k = 0;
    while k + L <= pairs {
        let a = lanes(src, 2 * k);
        let b = lanes(src, 2 * k + L);
        let (mut even, mut odd) = ([0.0; L], [0.0; L]);
        for i in 0..L / 2 {
            (even[i], odd[i]) = (a[2 * i], a[2 * i + 1]);
            (even[L / 2 + i], odd[L / 2 + i]) = (b[2 * i], b[2 * i + 1]);
        }
        dst[at.0 + k..][..L].copy_from_slice(&even);
        dst[at.1 + k..][..L].copy_from_slice(&odd);
        k += L;
    }
    for k in k..pairs {
        dst[at.0 + k] = src[2 * k];
        dst[at.1 + k] = src[2 * k + 1];
    }
    if src.len() % 2 == 1 {
        dst[at.0 + pairs] = src[2 * pairs];
    }
}

/// M of a block, shared by the threads of a team, each writing the
/// products of its own positions ξ.
#[derive(Clone, Copy)]
struct Shared(*mut f32);

// SAFETY: the threads write disjoint matrices through it, and the block
// that made it waits for them all.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// The pointer (a method, so that closures capture the `Sync` whole).
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Forward pass of a conv for which [`applies`] holds, over a batch:
/// `input [B, C, H, W]` (sample `n` at `n · in_stride`) → `output`
/// (sample `n` at `n · out_stride`) through the epilogue `onto`: bias, or
/// scale, shift and ReLU, overwriting the output; [`Onto::C`] adds to it
/// (the input gradient of a conv whose input several layers read).
/// `weight` is `[OC, C, 3, 3]` and
/// `prepared` what [`prepare`] made of it, or empty: the kernels are then
/// transformed here, once per call. `scratch` holds at least
/// [`scratch_len`] floats.
#[inline(always)]
pub fn forward(
    g: &Geometry,
    batch: usize,
    (weight, prepared): (&[f32], &[f32]),
    onto: Onto<'_>,
    (input, in_stride): (&[f32], usize),
    (output, out_stride): (&mut [f32], usize),
    scratch: &mut [f32],
) {
    debug_assert!(applies(g) && in_stride >= g.in_len() && out_stride >= g.out_len());
    let t = Tiling::of(g);
    let (oc, c) = (g.oc, g.c);
    let (u, rest) = scratch[..scratch_len(g)].split_at_mut(XI * oc * c);
    let (padded, rest) = rest.split_at_mut(c * t.hp * t.wp);
    let (v, rest) = rest.split_at_mut(XI * t.v_stride(c));
    let (m, q) = rest.split_at_mut(XI * t.m_stride(oc));
    let u = if prepared.is_empty() {
        transform_weights(g, weight, u);
        &*u
    } else {
        &prepared[..XI * oc * c]
    };
    // the border stays zero; each sample overwrites the interior
    padded.fill(0.0);
    for n in 0..batch {
        let x = &input[n * in_stride..][..g.in_len()];
        let y = &mut output[n * out_stride..][..g.out_len()];
        pad(g, &t, x, padded);
        let mut ty0 = 0;
        while ty0 < t.th {
            let rows = t.rows.min(t.th - ty0);
            let tiles = rows * t.tw;
            transform_input(g, &t, padded, (ty0, rows), v);
            products(g, &t, u, v, m, tiles);
            transform_output(g, &t, m, (ty0, rows), onto, (&mut *y, &mut *q));
            ty0 += rows;
        }
    }
}

/// Copies one sample `x [C, H, W]` into the interior of `padded`, each
/// padded row as its even columns, then its odd ones.
#[inline(always)]
fn pad(g: &Geometry, t: &Tiling, x: &[f32], padded: &mut [f32]) {
    let half = t.half();
    for (ch, plane) in x.chunks_exact(g.h * g.w).enumerate() {
        for (row, src) in plane.chunks_exact(g.w).enumerate() {
            let dst = &mut padded[(ch * t.hp + row + g.pt) * t.wp..][..t.wp];
            spread_row(src, dst, g.pl, half);
        }
    }
}

/// `M[ξ] = U[ξ] · V[ξ]` for the 16 positions, shared out among the
/// threads of a team lent to this one (one sample on several threads).
#[inline(always)]
fn products(g: &Geometry, t: &Tiling, u: &[f32], v: &[f32], m: &mut [f32], tiles: usize) {
    let (oc, c, ld) = (g.oc, g.c, t.ld);
    let (vs, ms) = (t.v_stride(c), t.m_stride(oc));
    assert!(u.len() >= XI * oc * c && v.len() >= XI * vs && m.len() >= XI * ms);
    let out = Shared(m.as_mut_ptr());
    let next = core::sync::atomic::AtomicUsize::new(0);
    crate::team::split(&|_, _| loop {
        let xi = next.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        if xi >= XI {
            break;
        }
        // SAFETY: M holds 16 matrices of OC × ld (asserted), and each ξ
        // goes to one thread.
        let m = unsafe { core::slice::from_raw_parts_mut(out.get().add(xi * ms), oc * ld) };
        let a = Mat::new(&u[xi * oc * c..][..oc * c], oc, c);
        gemm::gemm_in_place_b(a, (&v[xi * vs..][..c * ld], ld), (m, ld), tiles);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_vec;

    /// The direct sum, in f64.
    fn direct(g: &Geometry, w: &[f32], b: &[f32], x: &[f32]) -> Vec<f64> {
        let mut y = vec![0.0f64; g.out_len()];
        for o in 0..g.oc {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut acc = b.get(o).copied().unwrap_or(0.0) as f64;
                    for ch in 0..g.c {
                        for u in 0..3 {
                            for v in 0..3 {
                                let (yy, xx) = (i + u, j + v);
                                if yy < g.pt || xx < g.pl || yy - g.pt >= g.h || xx - g.pl >= g.w {
                                    continue;
                                }
                                let xi = x[(ch * g.h + yy - g.pt) * g.w + xx - g.pl] as f64;
                                acc += w[((o * g.c + ch) * 3 + u) * 3 + v] as f64 * xi;
                            }
                        }
                    }
                    y[(o * g.oh + i) * g.ow + j] = acc;
                }
            }
        }
        y
    }

    fn geometry(c: usize, oc: usize, (h, w): (usize, usize), pads: [usize; 4]) -> Geometry {
        let [pt, pb, pl, pr] = pads;
        Geometry {
            c,
            h,
            w,
            oc,
            oh: h + pt + pb - 2,
            ow: w + pl + pr - 2,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            pt,
            pb,
            pl,
            pr,
        }
        .checked_conv()
    }

    #[test]
    fn matches_the_direct_sum_on_odd_and_even_sizes_and_any_padding() {
        let cases = [
            (32, 32, (8, 8), [1, 1, 1, 1]),
            (48, 33, (7, 9), [1, 1, 1, 1]),
            (33, 32, (5, 6), [0, 0, 0, 0]),
            (32, 40, (6, 5), [2, 0, 0, 3]),
            (32, 32, (3, 3), [4, 4, 1, 5]),
            (40, 64, (33, 17), [1, 1, 1, 1]),
        ];
        for (case, &(c, oc, hw, pads)) in cases.iter().enumerate() {
            let g = geometry(c, oc, hw, pads);
            assert!(applies(&g));
            let batch = 2;
            let w = random_vec(oc * c * 9, 1 + case as u64);
            let b = random_vec(oc, 2 + case as u64);
            // samples apart in both; every third case adds to the output
            let (in_stride, stride) = (g.in_len() + 5, g.out_len() + 3);
            let x = random_vec(batch * in_stride, 3 + case as u64);
            let mut y = vec![f32::NAN; batch * stride];
            let adds = case % 3 == 2;
            let before = random_vec(batch * stride, 4 + case as u64);
            if adds {
                for n in 0..batch {
                    let at = n * stride..n * stride + g.out_len();
                    y[at.clone()].copy_from_slice(&before[at]);
                }
            }
            let mut scratch = vec![f32::NAN; scratch_len(&g)];
            let mut u = vec![0.0; prepared_len(&g)];
            prepare(&g, &w, &mut u);
            let prepared = [&[][..], &u[..]][case % 2];
            forward(
                &g,
                batch,
                (&w, prepared),
                if adds { Onto::C } else { Onto::Bias(&b) },
                (&x, in_stride),
                (&mut y, stride),
                &mut scratch,
            );
            for n in 0..batch {
                let b = if adds { &[][..] } else { &b[..] };
                let mut want = direct(&g, &w, b, &x[n * in_stride..][..g.in_len()]);
                if adds {
                    let base = &before[n * stride..][..g.out_len()];
                    want.iter_mut().zip(base).for_each(|(w, &b)| *w += b as f64);
                }
                let got = &y[n * stride..][..g.out_len()];
                let scale = want.iter().map(|v| v.abs()).sum::<f64>() / want.len() as f64;
                for (i, (&got, &want)) in got.iter().zip(&want).enumerate() {
                    let err = (got as f64 - want).abs();
                    assert!(
                        err <= 1e-5 * (want.abs() + scale),
                        "case {case} sample {n} output {i}: {got} against {want}"
                    );
                }
                let gap = &y[n * stride + g.out_len()..(n + 1) * stride];
                assert!(gap.iter().all(|v| v.is_nan()), "wrote past the output");
            }
        }
    }

    #[test]
    fn applies_the_affine_epilogue_and_relu() {
        let g = geometry(32, 32, (6, 6), [1, 1, 1, 1]);
        let w = random_vec(32 * 32 * 9, 4);
        let x = random_vec(g.in_len(), 5);
        let scale = random_vec(32, 6);
        let shift = random_vec(32, 7);
        let mut scratch = vec![0.0; scratch_len(&g)];
        let mut plain = vec![0.0; g.out_len()];
        let out = (&mut plain[..], g.out_len());
        let x = (&x[..], g.in_len());
        forward(&g, 1, (&w, &[]), Onto::Zero, x, out, &mut scratch);
        for relu in [false, true] {
            let mut y = vec![0.0; g.out_len()];
            let onto = Onto::Affine {
                scale: &scale,
                shift: &shift,
                relu,
            };
            forward(
                &g,
                1,
                (&w, &[]),
                onto,
                x,
                (&mut y, g.out_len()),
                &mut scratch,
            );
            for (i, (&got, &p)) in y.iter().zip(&plain).enumerate() {
                let o = i / (g.oh * g.ow);
                let want = gemm::affine(p, (scale[o], shift[o]), relu);
                assert_eq!(got, want, "output {i}, relu {relu}");
            }
            assert_eq!(y.iter().any(|&v| v < 0.0), !relu);
        }
    }
}
