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
//! Larger tiles need fewer multiplications (F(4×4, 3×3): 2.25 an output
//! instead of 4) but not within that bound: their transforms' coefficients
//! are larger and inexact, and in f32 the largest error reaches 0.9 of the
//! bound at 64 channels and 1.2 at 128 with the best points tried (0, ±1,
//! ½, −2), against 0.14 and 0.20 for this tile
//! (`tools/winograd/error.py`).
//!
//! The products run on the GEMM microkernel, reading `V` in place
//! ([`gemm::gemm_in_place_b`]): the input transform writes it as the
//! kernel reads it, a block of tile rows at a time, small enough that `V`
//! and `M` stay in L2 between the transforms and the products.
//!
//! Training uses the algorithm three times: for the forward pass, for the
//! input gradient (a 3×3 stride-1 convolution itself, of the output
//! gradient with the flipped kernels, run by [`forward`]) and for the
//! weight gradient ([`weight_grad_sample`]: the gradient of the
//! transformed kernels, 16 products per block, turned back into kernels
//! once per batch).
//!
//! The gradients' entry points ([`forward`] for the input gradient,
//! [`weight_grad_sample`], [`weight_grad_finish`]) are compiled once, for
//! every geometry, with the sizes as values: inlined into each conv layer
//! with its sizes as constants, they made a network's rebuild after a
//! one-line edit take 21–23 s for ResNet-20 and 56–62 s for AlexNet,
//! VGG-16 and ResNet-18 (11 and 24 s as one copy). The forward pass keeps
//! a copy per layer ([`forward_inlined`]): ResNet-20's batch-1 latency
//! was 697–707 µs through the one copy, 623–629 inlined (rebuilds 15 and
//! 26 s). The loops check their bounds once per block rather than per
//! access (`load`, `store`): with the sizes known only at run time, the
//! checks and their bookkeeping took most of the input transform's time.
//!
//! One sample on several threads (a team lent for batch-1 inference,
//! `nn::parallel::Replicas`) is shared out by `forward_shared`: each
//! thread its own rows of tiles, or its own output channels where the map
//! has too few tiles, padding, transforming and multiplying in buffers of
//! its own, so that the threads share only the input and the output.
//! Shared by positions ξ instead (each thread half of a block's products,
//! the transforms on the calling thread), the values each core handed the
//! other made one sample slower than on one thread: ResNet-20 860–870 µs
//! against 660; by rows and channels, VGG-mini on two threads 219–224 µs
//! against 325–331 by positions. The shared pass has a copy per conv
//! geometry too, its sizes constants (a conv layer hands its geometry over
//! as a type, `conv2d::Sizes`): compiled once for every geometry, it made
//! ResNet-20's sample on two threads 454–460 µs rather than 370–372.
//!
//! Where it runs ([`applies`]): 3×3 kernels with stride 1 and at least
//! [`MIN_CHANNELS`] input and output channels, on CPUs with the fast
//! kernels (the conv's plan decides, see `conv2d::Geometry::plan_for`).
#![allow(unsafe_code)]

use super::conv2d::{Geometry, Sizes};
use super::gemm::{self, Mat, Onto};
use super::simd::vectorized;

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
    ///
    /// Saturating, as [`Tiling::m_stride`]: a size that would overflow
    /// fails the transforms' bounds checks rather than wrapping round to a
    /// small one that passes them.
    const fn v_stride(&self, c: usize) -> usize {
        c.saturating_mul(self.ld).saturating_add(SKEW)
    }

    /// Floats from one of a block's `M` matrices to the next.
    const fn m_stride(&self, oc: usize) -> usize {
        oc.saturating_mul(self.ld).saturating_add(SKEW)
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

/// `s[at..at + 8]`, unchecked.
///
/// # Safety
/// `at + 8 ≤ s.len()`.
#[inline(always)]
unsafe fn load(s: &[f32], at: usize) -> Lanes {
    debug_assert!(at + L <= s.len());
    // SAFETY: in bounds (the caller's promise); `Lanes` is plain floats
    unsafe { s.as_ptr().add(at).cast::<Lanes>().read_unaligned() }
}

/// `s[at..at + 8] = x`, unchecked.
///
/// # Safety
/// `at + 8 ≤ s.len()`.
#[inline(always)]
unsafe fn store(s: &mut [f32], at: usize, x: Lanes) {
    debug_assert!(at + L <= s.len());
    // SAFETY: as in `load`
    unsafe { s.as_mut_ptr().add(at).cast::<Lanes>().write_unaligned(x) }
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
///
/// # Safety
/// `at + 3·row + 8 ≤ m.len()`.
#[inline(always)]
unsafe fn a_t(m: &[f32], at: usize, row: usize) -> [Lanes; 2] {
    // SAFETY: the caller's promise
    let (x0, x1) = unsafe { (load(m, at), load(m, at + row)) };
    let (x2, x3) = unsafe { (load(m, at + 2 * row), load(m, at + 3 * row)) };
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
    let (c, hp, wp, tw, ld, half) = (g.c, t.hp, t.wp, t.tw, t.ld, t.half());
    let vs = t.v_stride(c);
    // Every read below lies in the block's four padded rows per tile row
    // (a tile reads up to column `half + 8⌈TW/8⌉` of each), every write in
    // the first `C` rows of the 16 matrices: checked here once, so that
    // the loop reads and writes unchecked (checked, with the sizes known
    // only at run time, the bounds and the loop's bookkeeping took most of
    // the transform's time).
    // (saturating: a size that would overflow fails the check)
    assert!(half.saturating_add(tw.div_ceil(L).saturating_mul(L)) < wp);
    assert!(ty0.saturating_add(rows).saturating_mul(2).saturating_add(2) <= hp);
    assert!(c.saturating_mul(hp).saturating_mul(wp) <= padded.len());
    assert!(rows.saturating_mul(tw).saturating_add(L) <= ld);
    assert!(c.saturating_mul(ld) <= vs && XI.saturating_mul(vs) <= v.len());
    for ch in 0..c {
        for r in 0..rows {
            let top = (ch * hp + 2 * (ty0 + r)) * wp;
            let at = ch * ld + r * tw;
            for tx in (0..tw).step_by(L) {
                // row i of Bᵀ d from rows p and q of d (x_p − x_q, or
                // x_p + x_q for row 1), then through B: the tile's four
                // columns are even, odd, even, odd ones
                let bt_row = |p: usize, q: usize, plus: bool| {
                    // SAFETY: columns up to `half + tx + 1 + 8 ≤ wp` of
                    // rows up to `top + 4·wp ≤ C·HP·WP` (asserted)
                    let column = |k: usize| unsafe {
                        let (x, y) = (
                            load(padded, top + p * wp + k),
                            load(padded, top + q * wp + k),
                        );
                        if plus {
                            add(x, y)
                        } else {
                            sub(x, y)
                        }
                    };
                    let (a, b) = (column(tx), column(half + tx));
                    let (cc, dd) = (column(tx + 1), column(half + tx + 1));
                    [sub(a, cc), add(b, cc), sub(cc, b), sub(b, dd)]
                };
                let mut put = |i: usize, row: [Lanes; 4]| {
                    for (j, x) in row.into_iter().enumerate() {
                        // SAFETY: `at + tx + 8 ≤ C·ld`, 16 matrices of `vs ≥ C·ld` (asserted)
                        unsafe { store(v, (4 * i + j) * vs + at + tx, x) };
                    }
                };
                put(0, bt_row(0, 2, false));
                put(1, bt_row(1, 2, true));
                put(2, bt_row(2, 1, false));
                put(3, bt_row(1, 3, false));
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
/// rows. With a `residual` (one sample's values laid out as the output),
/// each channel's rows, once spread and still in L1, are added to the
/// residual's and the epilogue's ReLU applied to the sums: a residual
/// block's last conv, its batch norm, the block's sum and the ReLU after it
/// in one pass. (Added as each pair of values was spread, the sums made
/// one sample on two threads slower, not faster.)
#[inline(always)]
fn transform_output(
    g: &Geometry,
    t: &Tiling,
    (m, channels): (&[f32], core::ops::Range<usize>),
    (ty0, rows): (usize, usize),
    (onto, residual): (Onto<'_>, Option<&[f32]>),
    (y, q): (Output, &mut [f32]),
) {
    let (oc, oh, ow, tw, ld) = (g.oc, g.oh, g.ow, t.tw, t.ld);
    let tiles = rows * tw;
    let xi = t.m_stride(oc);
    let m = &m[..XI * xi];
    let q = &mut q[..4 * ld];
    let add_to = matches!(onto, Onto::C);
    debug_assert!(residual.is_none() || !add_to);
    let residual = residual.map(|r| &r[..oc * oh * ow]);
    // the output rows of these tile rows
    let out_rows = 2 * ty0..(2 * (ty0 + rows)).min(oh);
    // the reads below stay within the first `OC` rows of `ld` of the 16
    // matrices and the writes within `q`: checked once here (see
    // `transform_input`)
    // (saturating: a size that would overflow fails the check)
    assert!(tiles.div_ceil(L).saturating_mul(L) <= ld);
    assert!(oc.saturating_mul(ld) <= xi && XI.saturating_mul(xi) <= m.len());
    assert!(channels.start <= channels.end && channels.end <= oc);
    assert!(ty0.saturating_add(rows) <= t.th && oc.saturating_mul(oh * ow) <= y.len);
    for o in channels.clone() {
        let (scale, shift, relu) = epilogue(onto, o);
        // the ReLU after the residual's sum, where there is one
        let (relu, after) = match residual {
            Some(_) => (false, relu),
            None => (relu, false),
        };
        // M holds the rows of `channels` only
        let at = (o - channels.start) * ld;
        for i in (0..tiles).step_by(L) {
            // Aᵀ M: column j of the tiles to two values each
            // SAFETY: `at + i + 8 ≤ OC·ld ≤ xi`, matrices up to 15 (asserted)
            let [s00, s10] = unsafe { a_t(m, at + i, 4 * xi) };
            let [s01, s11] = unsafe { a_t(m, xi + at + i, 4 * xi) };
            let [s02, s12] = unsafe { a_t(m, 2 * xi + at + i, 4 * xi) };
            let [s03, s13] = unsafe { a_t(m, 3 * xi + at + i, 4 * xi) };
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
                // SAFETY: `i + 8 ≤ ld`, four rows of `ld` (asserted)
                unsafe { store(q, k * ld + i, y) };
            }
        }
        let (q0, q1) = (&q[..ld], &q[ld..2 * ld]);
        let (q2, q3) = (&q[2 * ld..3 * ld], &q[3 * ld..]);
        for r in 0..rows {
            let ty = ty0 + r;
            let pair = if 2 * ty + 1 < oh { 2 } else { 1 };
            // SAFETY: within the output (asserted: `2·ty < OH`, `o < OC`),
            // and the caller's: no other thread touches this channel's
            // rows of these tiles
            let out = unsafe { y.part((o * oh + 2 * ty) * ow, pair * ow) };
            let (row0, row1) = out.split_at_mut(ow);
            spread(row0, (&q0[r * tw..], &q1[r * tw..]), add_to);
            if pair == 2 {
                spread(row1, (&q2[r * tw..], &q3[r * tw..]), add_to);
            }
        }
        if let Some(residual) = residual {
            let at = o * oh * ow + out_rows.start * ow;
            let len = out_rows.len() * ow;
            // SAFETY: within the output (asserted: the rows of tile rows
            // below `TH`, `o < OC`), and the caller's: no other thread
            // touches this channel's rows of these tiles
            let out = unsafe { y.part(at, len) };
            super::conv2d::add_residual(out, &residual[at..at + len], after);
        }
    }
}

/// `row[2i] = left[i]`, `row[2i + 1] = right[i]` (added to the row's
/// values when `add_to`), the last column of an odd row from `left`: eight
/// pairs at a time.
#[inline(always)]
fn spread(row: &mut [f32], (left, right): (&[f32], &[f32]), add_to: bool) {
    let pairs = row.len() / 2;
    assert!(pairs <= left.len() && pairs <= right.len());
    let mut i = 0;
    while i + L <= pairs {
        // SAFETY: `i + 8 ≤ pairs ≤ left.len(), right.len()` (asserted)
        let (l, r) = unsafe { (load(left, i), load(right, i)) };
        // interleaved as two runs of eight: the compiler's unpack
        // instructions (built as one array of sixteen, the stores went
        // out one or two floats at a time)
        let mut lo = [l[0], r[0], l[1], r[1], l[2], r[2], l[3], r[3]];
        let mut hi = [l[4], r[4], l[5], r[5], l[6], r[6], l[7], r[7]];
        if add_to {
            // SAFETY: `2i + 16 ≤ 2·pairs ≤ row.len()` by the loop's condition
            let (a, b) = unsafe { (load(row, 2 * i), load(row, 2 * i + L)) };
            (lo, hi) = (add(lo, a), add(hi, b));
        }
        // SAFETY: as above
        unsafe {
            store(row, 2 * i, lo);
            store(row, 2 * i + L, hi);
        }
        i += L;
    }
    // four pairs more (8×8 outputs have four tiles a row)
    if i + L / 2 <= pairs {
        let mut run = [0.0; L];
        for k in 0..L / 2 {
            (run[2 * k], run[2 * k + 1]) = (left[i + k], right[i + k]);
        }
        // SAFETY: `2i + 8 ≤ 2·pairs ≤ row.len()`
        unsafe {
            if add_to {
                run = add(run, load(row, 2 * i));
            }
            store(row, 2 * i, run);
        }
        i += L / 2;
    }
    for (k, out) in row[2 * i..].iter_mut().enumerate() {
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

/// The calling thread's scratch in [`forward_shared`], which only it uses
/// while the other threads of the team work in their own.
#[derive(Clone, Copy)]
struct Shared(*mut f32);

// SAFETY: only the calling thread's share writes through it, and the call
// that made it waits for every share.
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
///
/// One compiled copy serves every geometry (the sizes are values here, not
/// constants): the input gradient's way in, where a copy per conv layer
/// made the network's rebuild slower; the forward pass inlines
/// [`forward_inlined`] instead, which was faster at batch 1 (module docs).
#[inline(never)]
pub fn forward(
    g: &Geometry,
    batch: usize,
    weight: (&[f32], &[f32]),
    onto: Onto<'_>,
    input: (&[f32], usize),
    output: (&mut [f32], usize),
    scratch: &mut [f32],
) {
    vectorized(
        #[inline(always)]
        || forward_inlined(g, batch, weight, (onto, None), input, output, scratch),
    )
}

/// [`forward`], inlined into its caller: with the sizes as constants there,
/// a copy per conv layer. With a `residual` (sample `n` at `n · stride`,
/// laid out as the output), each output value is added to its residual,
/// then clamped at zero if `onto`'s ReLU says so (`transform_output`).
#[inline(always)]
pub fn forward_inlined<S: Sizes>(
    sizes: S,
    batch: usize,
    (weight, prepared): (&[f32], &[f32]),
    (onto, residual): (Onto<'_>, Option<(&[f32], usize)>),
    (input, in_stride): (&[f32], usize),
    (output, out_stride): (&mut [f32], usize),
    scratch: &mut [f32],
) {
    let g = sizes.geometry();
    debug_assert!(applies(g) && in_stride >= g.in_len() && out_stride >= g.out_len());
    let residual_of = |n: usize| residual.map(|(r, stride)| &r[n * stride..][..g.out_len()]);
    let t = Tiling::of(g);
    let (oc, c) = (g.oc, g.c);
    let (u, own) = scratch[..scratch_len(g)].split_at_mut(XI * oc * c);
    let u = if prepared.is_empty() {
        transform_weights(g, weight, u);
        &*u
    } else {
        &prepared[..XI * oc * c]
    };
    if crate::team::lent_size() > 1 {
        for n in 0..batch {
            let x = &input[n * in_stride..][..g.in_len()];
            let y = Output::of(&mut output[n * out_stride..][..g.out_len()]);
            let onto = (onto, residual_of(n));
            let scratch = (Shared(own.as_mut_ptr()), own.len());
            // a constant condition: no copy for sizes that take none
            if S::COPY {
                forward_shared(sizes, u, onto, x, y, scratch);
            } else {
                forward_shared(g, u, onto, x, y, scratch);
            }
        }
        return;
    }
    let (padded, rest) = own.split_at_mut(c * t.hp * t.wp);
    let (v, rest) = rest.split_at_mut(XI * t.v_stride(c));
    let (m, q) = rest.split_at_mut(XI * t.m_stride(oc));
    // the border stays zero; each sample overwrites the interior
    padded.fill(0.0);
    for n in 0..batch {
        let x = &input[n * in_stride..][..g.in_len()];
        let y = Output::of(&mut output[n * out_stride..][..g.out_len()]);
        pad(g, &t, x, padded);
        let mut ty0 = 0;
        while ty0 < t.th {
            let rows = t.rows.min(t.th - ty0);
            let tiles = rows * t.tw;
            transform_input(g, &t, padded, (ty0, rows), v);
            products((g, &t), (u, v), (m, 0..oc), tiles);
            let onto = (onto, residual_of(n));
            transform_output(g, &t, (m, 0..oc), (ty0, rows), onto, (y, &mut *q));
            ty0 += rows;
        }
    }
}

/// One sample's output `[OC, OH, OW]`, which the threads of a team write
/// at once, each its own channels or its own rows of them
/// ([`forward_shared`]).
#[derive(Clone, Copy)]
struct Output {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: the threads write disjoint parts through it, and the call that
// made it waits for them all.
unsafe impl Send for Output {}
// SAFETY: as above.
unsafe impl Sync for Output {}

impl Output {
    fn of(y: &mut [f32]) -> Output {
        Output {
            ptr: y.as_mut_ptr(),
            len: y.len(),
        }
    }

    /// `y[at .. at + len]`.
    ///
    /// # Safety
    /// No other thread reads or writes those values while the slice lives.
    #[inline(always)]
    unsafe fn part<'a>(self, at: usize, len: usize) -> &'a mut [f32] {
        assert!(at.checked_add(len).is_some_and(|end| end <= self.len));
        // SAFETY: in bounds (asserted); exclusive by the caller's promise
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(at), len) }
    }
}

/// Tiles per thread from which [`forward_shared`] gives each thread its
/// own rows of tiles rather than its own output channels: a thread's
/// products are then at least one panel wide.
const ROWS_SPLIT_TILES: usize = MAX_PANEL;

/// One sample's forward pass shared out among the `n` threads of the team
/// lent to this one: each thread its own rows of tiles (all channels) or,
/// where that would leave each too few tiles for the products to be
/// efficient, its own output channels (all tiles, the input transformed
/// by each). Each thread pads, transforms and multiplies in buffers of its
/// own, so what one writes another never reads (read by the other
/// thread's core, `V` and `M` made the shared products of a block slower
/// than one thread's); the threads share only the input (each reading its
/// rows and the two beyond them) and the output (each writing its part).
/// `scratch` is the calling thread's padded input, `V`, `M` and output
/// rows: `len` floats, [`scratch_len`] less `U`'s, which no one else uses
/// while the call lasts.
///
/// Not inlined: inlined into each layer beside the one-thread path, it
/// made that path slower (ResNet-20, one sample on one thread, 665–669 →
/// 699–705 µs). But a copy per layer when `sizes` is a layer's constant, so
/// that the sizes are constants in it as in the one-thread path: compiled
/// once for every geometry, the sizes read from memory, a 64-channel 8²
/// conv took as long on two threads as on one (24.2–24.5 µs against 24.2).
#[inline(never)]
fn forward_shared(
    sizes: impl Sizes,
    u: &[f32],
    onto: (Onto<'_>, Option<&[f32]>),
    x: &[f32],
    y: Output,
    (scratch, len): (Shared, usize),
) {
    crate::team::split(&|i, n| {
        if i == 0 {
            // SAFETY: the caller's scratch, which only this thread (the
            // caller's) uses while the call lasts
            let own = unsafe { core::slice::from_raw_parts_mut(scratch.get(), len) };
            thread_part(sizes, u, onto, (x, y), (i, n), own);
        } else {
            crate::team::with_own(len, |own| thread_part(sizes, u, onto, (x, y), (i, n), own));
        }
    });
}

/// [`shared_part`] with the CPU's vector instructions: one copy for both
/// the calling thread and the others (with two, ResNet-20's rebuild after
/// a one-line edit took 20.0–20.2 s rather than 19.4–19.5).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn thread_part(
    sizes: impl Sizes,
    u: &[f32],
    onto: (Onto<'_>, Option<&[f32]>),
    (x, y): (&[f32], Output),
    (i, n): (usize, usize),
    own: &mut [f32],
) {
    vectorized(
        #[inline(always)]
        || shared_part(sizes.geometry(), u, onto, (x, y), (i, n), own),
    );
}

/// Thread `i`'s part of [`forward_shared`], in its own buffers `own`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn shared_part(
    g: &Geometry,
    u: &[f32],
    onto: (Onto<'_>, Option<&[f32]>),
    (x, y): (&[f32], Output),
    (i, n): (usize, usize),
    own: &mut [f32],
) {
    let t = &Tiling::of(g);
    let (oc, c) = (g.oc, g.c);
    let (padded, rest) = own.split_at_mut(c * t.hp * t.wp);
    let (v, rest) = rest.split_at_mut(XI * t.v_stride(c));
    let (m, q) = rest.split_at_mut(XI * t.m_stride(oc));
    let by_rows = t.th / n * t.tw >= ROWS_SPLIT_TILES;
    let (tile_rows, channels) = if by_rows {
        (t.th * i / n..t.th * (i + 1) / n, 0..oc)
    } else {
        // in whole rows of the microkernel's
        let units = oc.div_ceil(8);
        let first = (units * i / n * 8).min(oc);
        (0..t.th, first..(units * (i + 1) / n * 8).min(oc))
    };
    if tile_rows.is_empty() || channels.is_empty() {
        return;
    }
    pad_rows(g, t, x, padded, 2 * tile_rows.start..2 * tile_rows.end + 2);
    let mut ty0 = tile_rows.start;
    while ty0 < tile_rows.end {
        let rows = t.rows.min(tile_rows.end - ty0);
        let tiles = rows * t.tw;
        transform_input(g, t, padded, (ty0, rows), v);
        products((g, t), (u, v), (m, channels.clone()), tiles);
        transform_output(g, t, (m, channels.clone()), (ty0, rows), onto, (y, &mut *q));
        ty0 += rows;
    }
}

/// [`pad`] of padded rows `rows` only, their borders zero.
///
/// Each channel's rows are zeroed in one `fill` before the input's are
/// spread over them, not with a `fill` (a call to `memset` for 18 to 34
/// floats) per row: ResNet-20, one sample on two threads, 469–477 → 456–465
/// µs (medians, alternating builds).
#[inline(always)]
fn pad_rows(
    g: &Geometry,
    t: &Tiling,
    x: &[f32],
    padded: &mut [f32],
    rows: core::ops::Range<usize>,
) {
    let half = t.half();
    for ch in 0..g.c {
        let plane = &mut padded[(ch * t.hp + rows.start) * t.wp..(ch * t.hp + rows.end) * t.wp];
        plane.fill(0.0);
        for (dst, row) in plane.chunks_exact_mut(t.wp).zip(rows.clone()) {
            if let Some(r) = row.checked_sub(g.pt).filter(|&r| r < g.h) {
                spread_row(&x[(ch * g.h + r) * g.w..][..g.w], dst, g.pl, half);
            }
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

/// Scratch floats of the weight gradient ([`weight_grad_start`],
/// [`weight_grad_sample`], [`weight_grad_finish`]): the batch's sum `dU`
/// of the transformed kernels' gradients, one sample's padded input, a
/// block's `V` and `dM`, and the sample's `dY` transposed.
pub const fn weight_grad_scratch_len(g: &Geometry) -> usize {
    let t = Tiling::of(g);
    let block = XI * (t.v_stride(g.c) + t.m_stride(g.oc));
    XI * g.oc * g.c + g.c * t.hp * t.wp + block + g.oh * g.ow * g.oc
}

/// Makes `scratch` ready for a batch's [`weight_grad_sample`]s: `dU` and
/// the padded input's border zero.
#[inline(always)]
pub fn weight_grad_start(g: &Geometry, scratch: &mut [f32]) {
    let t = Tiling::of(g);
    scratch[..XI * g.oc * g.c + g.c * t.hp * t.wp].fill(0.0);
}

/// Adds one sample's part of the transformed kernels' gradient (the front
/// of `scratch`, held as `dUᵀ`, `[16][C][OC]`). A 2×2 output tile is
/// `Aᵀ [U ⊙ V] A`, `U` the transformed kernel and `V` the transformed
/// input tile, linear in `U`: `dU = Σ_tiles (A dY Aᵀ) ⊙ V`, over the
/// channels 16 products
/// `dU[ξ]ᵀ (C × OC) += V[ξ] (C × tiles) · dM[ξ] (tiles × OC)` with
/// `dM = A dY Aᵀ`; the kernels' gradient is then `Gᵀ dU G`
/// ([`weight_grad_finish`]). 36 multiplications per channel pair and 2×2
/// tile become 16, as in the forward pass.
///
/// The products sum over the tiles, along the rows of `V` as the input
/// transform writes them; the GEMM broadcasts one operand along the other's
/// contiguous rows (108 GFLOP/s for 64 × 64 × 1,024 on AVX-512, against
/// 89 for dot products of rows of tiles, and 18 for 16 tiles), so `dM` is
/// made tile by tile with the output channels contiguous, from `dY`
/// transposed once per sample (`[OH·OW, OC]`). Transposing `V` instead, 16
/// matrices a block and four times the values of `dY` when `C = OC`, made
/// the weight gradient a third slower than the forward pass: ResNet-20's
/// convs, batch 64, 3.7 against 2.6 ms on 32² (16 channels), 2.5 against
/// 1.9 on 16², 2.4 against 1.8 on 8².
///
/// One compiled copy for every geometry, as [`forward`].
#[inline(never)]
pub fn weight_grad_sample(g: &Geometry, x: &[f32], dy: &[f32], scratch: &mut [f32]) {
    vectorized(
        #[inline(always)]
        || weight_grad_sample_inlined(g, x, dy, scratch),
    )
}

/// [`weight_grad_sample`], inlined into its caller.
#[inline(always)]
fn weight_grad_sample_inlined(g: &Geometry, x: &[f32], dy: &[f32], scratch: &mut [f32]) {
    let t = Tiling::of(g);
    let (oc, c, ld) = (g.oc, g.c, t.ld);
    let (vs, ms) = (t.v_stride(c), t.m_stride(oc));
    let (du, rest) = scratch[..weight_grad_scratch_len(g)].split_at_mut(XI * oc * c);
    let (padded, rest) = rest.split_at_mut(c * t.hp * t.wp);
    let (v, rest) = rest.split_at_mut(XI * vs);
    let (dm, dyt) = rest.split_at_mut(XI * ms);
    pad(g, &t, x, padded);
    super::transpose::transpose(&dy[..oc * g.oh * g.ow], oc, g.oh * g.ow, dyt);
    let mut ty0 = 0;
    while ty0 < t.th {
        let block = (ty0, t.rows.min(t.th - ty0));
        let tiles = block.1 * t.tw;
        transform_input(g, &t, padded, block, v);
        transform_output_grad(g, &t, dyt, block, dm);
        for xi in 0..XI {
            let a = Mat {
                data: &v[xi * vs..][..c * ld],
                rows: c,
                cols: tiles,
                row_stride: ld,
                col_stride: 1,
            };
            let b = Mat::new(&dm[xi * ms..][..tiles * oc], tiles, oc);
            gemm::gemm(a, b, &mut du[xi * oc * c..][..oc * c], true);
        }
        ty0 += block.1;
    }
}

/// `dM[ξ][t][o] = (A dY Aᵀ)[ξ]` of each 2×2 tile `t` of tile rows
/// `ty0 .. ty0 + rows` (the block's tiles row-major), from one sample's
/// output gradient transposed, `dyt [OH·OW, OC]` (zero past its edges),
/// `A` the 4×2 transpose of `Aᵀ`: rows `y₀`, `y₀ + y₁`, `y₀ − y₁`, `−y₁`
/// of the tile's two rows, then the same of its two columns. Eight output
/// channels at a time, the last eight overlapping the eight before them
/// where `OC` is not a multiple of eight (`OC ≥ 16`).
#[inline(always)]
fn transform_output_grad(
    g: &Geometry,
    t: &Tiling,
    dyt: &[f32],
    (ty0, rows): (usize, usize),
    dm: &mut [f32],
) {
    let (oc, oh, ow, tw) = (g.oc, g.oh, g.ow, t.tw);
    let ms = t.m_stride(oc);
    let dm = &mut dm[..XI * ms];
    // checked once, so that the loop below reads and writes unchecked
    // (see `transform_input`)
    // (saturating: a size that would overflow fails the check)
    assert!(L <= oc && rows.saturating_mul(tw).saturating_mul(oc) <= ms);
    assert!(XI.saturating_mul(ms) <= dm.len());
    assert!(oh.saturating_mul(ow).saturating_mul(oc) <= dyt.len());
    assert!(ty0.saturating_add(rows) <= t.th && tw == ow.div_ceil(2));
    let zero = [0.0; L];
    for r in 0..rows {
        let ty = ty0 + r;
        for tx in 0..tw {
            let tile = (r * tw + tx) * oc;
            // where the tile's four gradients start, if inside the output
            let at = |i: usize, j: usize| {
                let (y, x) = (2 * ty + i, 2 * tx + j);
                (y < oh && x < ow).then_some((y * ow + x) * oc)
            };
            let at = [at(0, 0), at(0, 1), at(1, 0), at(1, 1)];
            let mut o = 0;
            while o < oc {
                let o0 = o.min(oc - L);
                // (a plain loop: the arrays' `map` was left as a call)
                let mut y = [zero; 4];
                for (y, at) in y.iter_mut().zip(at) {
                    if let Some(at) = at {
                        // SAFETY: `at + o0 + 8 ≤ OH·OW·OC ≤ dyt.len()` (asserted)
                        *y = unsafe { load(dyt, at + o0) };
                    }
                }
                // the tile's two rows through A, two columns each
                let by_rows = [
                    (y[0], y[1]),
                    (add(y[0], y[2]), add(y[1], y[3])),
                    (sub(y[0], y[2]), sub(y[1], y[3])),
                    (sub(zero, y[2]), sub(zero, y[3])),
                ];
                for (i, (p, q)) in by_rows.into_iter().enumerate() {
                    let cols = [p, add(p, q), sub(p, q), sub(zero, q)];
                    for (j, x) in cols.into_iter().enumerate() {
                        // SAFETY: `tile + o0 + 8 ≤ rows·TW·OC ≤ ms`, 16
                        // matrices (asserted)
                        unsafe { store(dm, (4 * i + j) * ms + tile + o0, x) };
                    }
                }
                o = o0 + L;
            }
        }
    }
}

/// Adds `Gᵀ dU G` to `d_weight [OC, C, 3, 3]`, `dUᵀ` the front of the
/// scratch that the batch's [`weight_grad_sample`]s summed into.
#[inline(never)]
pub fn weight_grad_finish(g: &Geometry, scratch: &[f32], d_weight: &mut [f32]) {
    let (oc, c) = (g.oc, g.c);
    let du = &scratch[..XI * oc * c];
    // Gᵀ, 3 × 4: its halves are exact
    const GT: [[f32; 4]; 3] = [
        [1.0, 0.5, 0.5, 0.0],
        [0.0, 0.5, -0.5, 0.0],
        [0.0, 0.5, 0.5, 1.0],
    ];
    for (k, dw) in d_weight[..oc * c * 9].chunks_exact_mut(9).enumerate() {
        // kernel k is output channel o's of input channel ch, at
        // `ch · OC + o` in each of the 16 matrices of `dUᵀ`
        let at = (k % c) * oc + k / c;
        // Gᵀ dU: 3 rows of 4
        let mut gd = [[0.0f32; 4]; 3];
        for (a, row) in gd.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                for i in 0..4 {
                    *x += GT[a][i] * du[(4 * i + j) * oc * c + at];
                }
            }
        }
        for a in 0..3 {
            for b in 0..3 {
                let mut sum = 0.0;
                for j in 0..4 {
                    sum += gd[a][j] * GT[b][j];
                }
                dw[3 * a + b] += sum;
            }
        }
    }
}

/// `M[ξ] = U[ξ] · V[ξ]` for the 16 positions and the output channels
/// `channels`, `M` holding their rows only.
#[inline(always)]
fn products(
    (g, t): (&Geometry, &Tiling),
    (u, v): (&[f32], &[f32]),
    (m, channels): (&mut [f32], core::ops::Range<usize>),
    tiles: usize,
) {
    let (oc, c, ld) = (g.oc, g.c, t.ld);
    let (vs, ms) = (t.v_stride(c), t.m_stride(oc));
    let mine = channels.len();
    for xi in 0..XI {
        let a = Mat::new(&u[xi * oc * c + channels.start * c..][..mine * c], mine, c);
        let m = &mut m[xi * ms..][..mine * ld];
        gemm::gemm_in_place_b(a, (&v[xi * vs..][..c * ld], ld), (m, ld), tiles);
    }
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

    /// One sample shared out among the threads of a team gives the output
    /// of one thread, bit for bit: by rows of tiles (several blocks a
    /// thread, odd output rows, one-sided padding) and by output channels
    /// (maps of few tiles, a thread with none when the channels run out).
    #[test]
    fn one_sample_on_several_threads_is_one_threads_bit_for_bit() {
        let cases = [
            (16, 16, (32, 32), [1, 1, 1, 1]),
            (32, 40, (33, 17), [1, 1, 1, 1]),
            (32, 33, (21, 30), [2, 0, 0, 3]),
            (64, 64, (8, 8), [1, 1, 1, 1]),
            (48, 16, (5, 6), [0, 0, 0, 0]),
        ];
        let mut teams = [crate::team::Team::new(2), crate::team::Team::new(3)];
        for (case, &(c, oc, hw, pads)) in cases.iter().enumerate() {
            let g = geometry(c, oc, hw, pads);
            let w = random_vec(oc * c * 9, 50 + case as u64);
            let (scale, shift) = (random_vec(oc, 51), random_vec(oc, 52));
            let x = random_vec(g.in_len(), 53 + case as u64);
            let mut u = vec![0.0; prepared_len(&g)];
            prepare(&g, &w, &mut u);
            let onto = Onto::Affine {
                scale: &scale,
                shift: &shift,
                relu: case % 2 == 0,
            };
            let run = |y: &mut [f32]| {
                let mut scratch = vec![f32::NAN; scratch_len(&g)];
                let (x, y) = ((&x[..], g.in_len()), (y, g.out_len()));
                forward(&g, 1, (&w, &u), onto, x, y, &mut scratch);
            };
            let mut want = vec![f32::NAN; g.out_len()];
            run(&mut want);
            assert!(want.iter().all(|v| v.is_finite()), "case {case}");
            for team in &mut teams {
                let threads = team.size();
                let mut got = vec![f32::NAN; g.out_len()];
                crate::team::lend(team, || {
                    assert_eq!(crate::team::lent_size(), threads);
                    run(&mut got);
                });
                assert!(
                    got.iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "case {case} on {threads} threads"
                );
            }
        }
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
            // output rows of 11, 4 and 12: four pairs at a time, then the
            // rest, the last case adding to the output
            (32, 48, (9, 11), [1, 1, 1, 1]),
            (32, 32, (4, 4), [1, 1, 1, 1]),
            (32, 32, (10, 12), [1, 1, 1, 1]),
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

    /// With plain arithmetic in release builds, `C·HP·WP`, `C·ld` and the
    /// matrices' stride below wrap round to small sizes that pass the
    /// bounds checks, and the loop writes far outside `v`; checked
    /// saturating, they fail them. (Debug builds would stop at the
    /// overflow itself, with another message.)
    #[test]
    #[should_panic(expected = "assertion failed")]
    fn sizes_that_would_overflow_fail_the_bounds_checks() {
        let mut g = geometry(16, 16, (6, 1), [1, 1, 1, 1]);
        g.c = 1 << 62;
        let t = Tiling::of(&g);
        let mut v = vec![0.0; 1024];
        transform_input(&g, &t, &[0.0; 64], (0, t.rows), &mut v);
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
