//! General matrix product for the layers: `C[m×n] = A[m×k] · B[k×n] (+ C)`,
//! with A and B given as strided views so transposes cost nothing.
//!
//! Why not `matrixmultiply::sgemm`: it allocates its packing buffers on
//! every call, and a training step makes a dozen calls, so the steady state
//! would not be allocation-free. This kernel needs no packing buffer: it
//! keeps a block of C in registers and streams A and B from where they are.
//! Two microkernels cover every product the layers make:
//!
//! - *axpy* (B's rows contiguous): a 4×16 block of C accumulates
//!   `A[i, p] · B[p, j..j+16]` over `p`; used for conv forward, conv input
//!   gradient and the dense gradients.
//! - *dot* (A's rows and Bᵀ's rows contiguous): a 2×4 block of C as dot
//!   products with 8 partial sums each; used for the conv weight gradient and
//!   dense forward, whose right operand is a transpose.
//!
//! Both exist three times, chosen at run time by what the CPU has: with
//! AVX-512 intrinsics (16 lanes, masked edges), with AVX2 and FMA
//! intrinsics (8 lanes), and as portable Rust for any other target.
#![allow(unsafe_code)]

/// A read-only matrix view: `rows × cols` with element `(i, j)` at
/// `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Mat {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    fn last_index(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
        }
    }
}

/// `c[m×n] = a · b + (accumulate ? c : 0)`, where `c` is row-major with
/// `n` columns.
pub fn gemm(a: Mat<'_>, b: Mat<'_>, c: &mut [f32], accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "gemm: inner dimensions differ");
    assert!(c.len() >= m * n, "gemm: output too small");
    let c = &mut c[..m * n];
    if !accumulate {
        c.fill(0.0);
    }
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(a.last_index() < a.data.len(), "gemm: A out of bounds");
    assert!(b.last_index() < b.data.len(), "gemm: B out of bounds");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { gemm_avx512(a, b, c) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { gemm_avx2_fma(a, b, c) };
        return;
    }
    product::<false>(a, b, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gemm_avx2_fma(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    if b.col_stride == 1 {
        avx::axpy(a, b, c);
    } else if a.col_stride == 1 && b.row_stride == 1 {
        avx::dot(a, b, c);
    } else {
        naive::<true>(a, b, c);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gemm_avx512(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    if b.col_stride == 1 {
        avx512::axpy(a, b, c);
    } else if a.col_stride == 1 && b.row_stride == 1 {
        avx512::dot(a, b, c);
    } else {
        naive::<true>(a, b, c);
    }
}

/// The microkernels with AVX-512 intrinsics: 16 lanes, and masked loads and
/// stores for the edges instead of scalar tails. Every pointer offset stays
/// inside the views that [`gemm`] bounds-checked, and masked-off lanes touch
/// no memory.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Mat;
    use std::arch::x86_64::*;

    /// Runs `$f::<ROWS>(args…, i)` over rows `0..$m` of C: blocks of 8
    /// rows, then one block of the 1–7 left.
    macro_rules! in_row_blocks {
        ($m:expr, $f:ident($($arg:expr),*)) => {{
            let m = $m;
            let mut i = 0;
            while i + 8 <= m {
                $f::<8>($($arg,)* i);
                i += 8;
            }
            match m - i {
                7 => $f::<7>($($arg,)* i),
                6 => $f::<6>($($arg,)* i),
                5 => $f::<5>($($arg,)* i),
                4 => $f::<4>($($arg,)* i),
                3 => $f::<3>($($arg,)* i),
                2 => $f::<2>($($arg,)* i),
                1 => $f::<1>($($arg,)* i),
                _ => {}
            }
        }};
    }

    /// Mask of the first `n` (≤ 16) lanes.
    #[inline(always)]
    fn first(n: usize) -> __mmask16 {
        ((1u32 << n) - 1) as __mmask16
    }

    /// B's rows contiguous: blocks of ROWS × 32 of C in 2·ROWS registers.
    #[target_feature(enable = "avx512f")]
    pub fn axpy(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
        let (m, n) = (a.rows, b.cols);
        // loop over panels of B's columns, each used by every row block while
        // it is in cache
        for start in (0..n).step_by(super::panel_width(a.cols)) {
            let cols = start..(start + super::panel_width(a.cols)).min(n);
            in_row_blocks!(m, axpy_rows(a, b, c, cols.clone()));
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn axpy_rows<const ROWS: usize>(
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        cols: core::ops::Range<usize>,
        i: usize,
    ) {
        // C's row stride is B's full width; this call covers columns `cols`
        let (k, ldc, n) = (a.cols, b.cols, cols.end);
        let mut j = cols.start;
        while j + 32 <= n {
            // SAFETY: rows i..i+ROWS ≤ m, columns j..j+32 ≤ n, p < k.
            unsafe {
                let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
                for p in 0..k {
                    let bp = b.data.as_ptr().add(p * b.row_stride + j);
                    let (b0, b1) = (_mm512_loadu_ps(bp), _mm512_loadu_ps(bp.add(16)));
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = _mm512_set1_ps(
                            *a.data
                                .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                        );
                        acc_r[0] = _mm512_fmadd_ps(x, b0, acc_r[0]);
                        acc_r[1] = _mm512_fmadd_ps(x, b1, acc_r[1]);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc + j);
                    _mm512_storeu_ps(cp, _mm512_add_ps(_mm512_loadu_ps(cp), acc_r[0]));
                    _mm512_storeu_ps(
                        cp.add(16),
                        _mm512_add_ps(_mm512_loadu_ps(cp.add(16)), acc_r[1]),
                    );
                }
            }
            j += 32;
        }
        // the last columns, 16 at a time, the final ones masked
        while j < n {
            let mask = first((n - j).min(16));
            // SAFETY: the mask enables lanes j..min(j + 16, n) only.
            unsafe {
                let mut acc = [_mm512_setzero_ps(); ROWS];
                for p in 0..k {
                    let b0 = _mm512_maskz_loadu_ps(mask, b.data.as_ptr().add(p * b.row_stride + j));
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = _mm512_set1_ps(
                            *a.data
                                .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                        );
                        *acc_r = _mm512_fmadd_ps(x, b0, *acc_r);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc + j);
                    _mm512_mask_storeu_ps(
                        cp,
                        mask,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(mask, cp), *acc_r),
                    );
                }
            }
            j += 16;
        }
    }

    /// [`super::gemm_conv`]: the axpy kernel with B's row `(c, u, v)` read
    /// from the padded input at its offset, two halves of 16 columns at a
    /// time.
    #[target_feature(enable = "avx512f")]
    pub fn conv_axpy(
        a: Mat<'_>,
        padded: &[f32],
        rows: super::ConvRows,
        cols: super::Columns,
        c: &mut [f32],
    ) {
        in_row_blocks!(a.rows, conv_axpy_rows(a, padded, rows, cols, c));
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn conv_axpy_rows<const ROWS: usize>(
        a: Mat<'_>,
        padded: &[f32],
        rows: super::ConvRows,
        cols: super::Columns,
        c: &mut [f32],
        i: usize,
    ) {
        let (halves, ldc) = (cols.halves(rows.row), cols.width());
        let mut h = 0;
        while h < halves {
            let (src0, dst0, len0) = cols.half(h, rows.row);
            let (src1, dst1, len1) = if h + 1 < halves {
                cols.half(h + 1, rows.row)
            } else {
                (0, 0, 0)
            };
            let (m0, m1) = (first(len0), first(len1));
            // SAFETY: rows i..i+ROWS of A and C exist; the masks enable the
            // halves' columns only, which lie inside C's rows and, read from
            // every patch row's offset, inside `padded` (checked by
            // `gemm_conv`); masked-off lanes touch no memory.
            unsafe {
                let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
                let mut p = 0;
                for ch in 0..rows.channels {
                    for u in 0..rows.kh {
                        for v in 0..rows.kw {
                            let bp = padded.as_ptr().add(ch * rows.plane + u * rows.row + v);
                            let (b0, b1) = (
                                _mm512_maskz_loadu_ps(m0, bp.add(src0)),
                                _mm512_maskz_loadu_ps(m1, bp.add(src1)),
                            );
                            for (r, acc_r) in acc.iter_mut().enumerate() {
                                let x = _mm512_set1_ps(
                                    *a.data
                                        .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                                );
                                acc_r[0] = _mm512_fmadd_ps(x, b0, acc_r[0]);
                                acc_r[1] = _mm512_fmadd_ps(x, b1, acc_r[1]);
                            }
                            p += 1;
                        }
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc);
                    let (cp0, cp1) = (cp.add(dst0), cp.add(dst1));
                    _mm512_mask_storeu_ps(
                        cp0,
                        m0,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cp0), acc_r[0]),
                    );
                    _mm512_mask_storeu_ps(
                        cp1,
                        m1,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cp1), acc_r[1]),
                    );
                }
            }
            h += 2;
        }
    }

    /// [`super::gemm_conv_weight`]: blocks of ROWS patch rows × 32 columns
    /// of C, each patch element broadcast against a row of B.
    #[target_feature(enable = "avx512f")]
    pub fn conv_weight_axpy(
        padded: &[f32],
        rows: super::ConvRows,
        out: (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
    ) {
        let k = rows.channels * rows.kh * rows.kw;
        in_row_blocks!(k, conv_weight_rows(padded, rows, out, b, n, c));
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn conv_weight_rows<const ROWS: usize>(
        padded: &[f32],
        rows: super::ConvRows,
        (oh, ow): (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
        i: usize,
    ) {
        let offsets: [usize; ROWS] = core::array::from_fn(|r| rows.patch_offset(i + r));
        let mut j = 0;
        while j < n {
            let width = (n - j).min(32);
            let (m0, m1) = (first(width.min(16)), first(width.saturating_sub(16)));
            // SAFETY: patch rows i..i+ROWS exist and each reads at most
            // (OH − 1)·WP + OW floats from its offset, inside `padded`; B has
            // OH·OW rows of n, C has K rows of n, and the masks enable
            // columns j..j+width ≤ n only (checked by `gemm_conv_weight`).
            unsafe {
                let mut acc = [[_mm512_setzero_ps(); 2]; ROWS];
                let mut bp = b.as_ptr().add(j);
                for y in 0..oh {
                    // each patch row's grid row y, walked along x
                    let mut pa: [*const f32; ROWS] =
                        core::array::from_fn(|r| padded.as_ptr().add(offsets[r] + y * rows.row));
                    for _ in 0..ow {
                        let (b0, b1) = (
                            _mm512_maskz_loadu_ps(m0, bp),
                            _mm512_maskz_loadu_ps(m1, bp.wrapping_add(16)),
                        );
                        for (acc_r, pa_r) in acc.iter_mut().zip(&mut pa) {
                            let v = _mm512_set1_ps(**pa_r);
                            *pa_r = pa_r.add(1);
                            acc_r[0] = _mm512_fmadd_ps(v, b0, acc_r[0]);
                            acc_r[1] = _mm512_fmadd_ps(v, b1, acc_r[1]);
                        }
                        bp = bp.wrapping_add(n);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * n + j);
                    _mm512_mask_storeu_ps(
                        cp,
                        m0,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cp), acc_r[0]),
                    );
                    // past the end when width ≤ 16: masked off, never dereferenced
                    let cp1 = cp.wrapping_add(16);
                    _mm512_mask_storeu_ps(
                        cp1,
                        m1,
                        _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cp1), acc_r[1]),
                    );
                }
            }
            j += 32;
        }
    }

    /// A's rows and Bᵀ's rows contiguous: 4 × 4 dot products at a time,
    /// each with 16 lanes of partial sums; the last lanes of k masked.
    #[target_feature(enable = "avx512f")]
    pub fn dot(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        for i in (0..m).step_by(4) {
            let rows = (m - i).min(4);
            for j in (0..n).step_by(4) {
                let cols = (n - j).min(4);
                // rows and columns past the end repeat the last one; their
                // sums are computed and dropped
                let ar: [usize; 4] = core::array::from_fn(|r| (i + r.min(rows - 1)) * a.row_stride);
                let bc: [usize; 4] = core::array::from_fn(|s| (j + s.min(cols - 1)) * b.col_stride);
                let mut acc = [[_mm512_setzero_ps(); 4]; 4];
                let mut p = 0;
                while p < k {
                    let mask = first((k - p).min(16));
                    // SAFETY: lanes p..min(p + 16, k) of rows of A and Bᵀ
                    // that lie inside the views.
                    unsafe {
                        let x: [__m512; 4] = core::array::from_fn(|r| {
                            _mm512_maskz_loadu_ps(mask, a.data.as_ptr().add(ar[r] + p))
                        });
                        for s in 0..4 {
                            let y = _mm512_maskz_loadu_ps(mask, b.data.as_ptr().add(bc[s] + p));
                            for r in 0..4 {
                                acc[r][s] = _mm512_fmadd_ps(x[r], y, acc[r][s]);
                            }
                        }
                    }
                    p += 16;
                }
                for r in 0..rows {
                    for s in 0..cols {
                        c[(i + r) * n + j + s] += _mm512_reduce_add_ps(acc[r][s]);
                    }
                }
            }
        }
    }
}

/// The microkernels with AVX2 and FMA intrinsics. Every pointer offset
/// below stays inside the views that [`gemm`] bounds-checked: rows `< m`,
/// columns `< n`, inner indices `< k`.
#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{madd, Mat};
    use std::arch::x86_64::*;

    /// B's rows contiguous: blocks of ROWS × 16 of C in 2·ROWS registers;
    /// the last columns (fewer than 16) by the portable loop.
    #[target_feature(enable = "avx2,fma")]
    pub fn axpy(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
        let (m, n) = (a.rows, b.cols);
        // loop over panels of B's columns, each used by every row block while
        // it is in cache
        for start in (0..n).step_by(super::panel_width(a.cols)) {
            let cols = start..(start + super::panel_width(a.cols)).min(n);
            let mut i = 0;
            while i + 4 <= m {
                axpy_rows::<4>(a, b, c, i, cols.clone());
                i += 4;
            }
            match m - i {
                3 => axpy_rows::<3>(a, b, c, i, cols.clone()),
                2 => axpy_rows::<2>(a, b, c, i, cols.clone()),
                1 => axpy_rows::<1>(a, b, c, i, cols.clone()),
                _ => {}
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn axpy_rows<const ROWS: usize>(
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        i: usize,
        cols: core::ops::Range<usize>,
    ) {
        // C's row stride is B's full width; this call covers columns `cols`
        let (k, ldc, n) = (a.cols, b.cols, cols.end);
        let mut j = cols.start;
        while j + 16 <= n {
            // SAFETY: rows i..i+ROWS ≤ m, columns j..j+16 ≤ n, p < k: all
            // inside A, B and C (checked by `gemm`).
            unsafe {
                let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
                for p in 0..k {
                    let bp = b.data.as_ptr().add(p * b.row_stride + j);
                    let (b0, b1) = (_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8)));
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_ps(
                            *a.data
                                .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                        );
                        acc_r[0] = _mm256_fmadd_ps(x, b0, acc_r[0]);
                        acc_r[1] = _mm256_fmadd_ps(x, b1, acc_r[1]);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc + j);
                    _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), acc_r[0]));
                    _mm256_storeu_ps(
                        cp.add(8),
                        _mm256_add_ps(_mm256_loadu_ps(cp.add(8)), acc_r[1]),
                    );
                }
            }
            j += 16;
        }
        if j + 8 <= n {
            // SAFETY: as above, with columns j..j+8 ≤ n.
            unsafe {
                let mut acc = [_mm256_setzero_ps(); ROWS];
                for p in 0..k {
                    let b0 = _mm256_loadu_ps(b.data.as_ptr().add(p * b.row_stride + j));
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_ps(
                            *a.data
                                .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                        );
                        *acc_r = _mm256_fmadd_ps(x, b0, *acc_r);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc + j);
                    _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), *acc_r));
                }
            }
            j += 8;
        }
        // the last columns, fewer than 8: masked loads and stores touch
        // only the lanes below `n`
        if j < n {
            const MASKS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
            // SAFETY: the mask enables lanes j..n only, all inside B's rows
            // and C's rows; the table read is 8 in-bounds i32s.
            unsafe {
                let mask = _mm256_loadu_si256(MASKS.as_ptr().add(8 - (n - j)) as *const __m256i);
                let mut acc = [_mm256_setzero_ps(); ROWS];
                for p in 0..k {
                    let b0 = _mm256_maskload_ps(b.data.as_ptr().add(p * b.row_stride + j), mask);
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = _mm256_set1_ps(
                            *a.data
                                .get_unchecked((i + r) * a.row_stride + p * a.col_stride),
                        );
                        *acc_r = _mm256_fmadd_ps(x, b0, *acc_r);
                    }
                }
                for (r, acc_r) in acc.iter().enumerate() {
                    let cp = c.as_mut_ptr().add((i + r) * ldc + j);
                    _mm256_maskstore_ps(
                        cp,
                        mask,
                        _mm256_add_ps(_mm256_maskload_ps(cp, mask), *acc_r),
                    );
                }
            }
        }
    }

    /// Sum of the 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// A's rows and Bᵀ's rows contiguous: 2 × 4 dot products at a time,
    /// each with 8 lanes of partial sums.
    #[target_feature(enable = "avx2,fma")]
    pub fn dot(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let body = k / 8 * 8;
        for i in (0..m).step_by(2) {
            let rows = (m - i).min(2);
            for j in (0..n).step_by(4) {
                let cols = (n - j).min(4);
                // rows and columns past the end repeat the last one; their
                // sums are computed and dropped
                let ar: [usize; 2] = core::array::from_fn(|r| (i + r.min(rows - 1)) * a.row_stride);
                let bc: [usize; 4] = core::array::from_fn(|s| (j + s.min(cols - 1)) * b.col_stride);
                let mut acc = [[_mm256_setzero_ps(); 4]; 2];
                let mut p = 0;
                while p < body {
                    // SAFETY: p + 8 ≤ k, and ar/bc start rows of A and Bᵀ
                    // that lie inside the views.
                    unsafe {
                        let x = [
                            _mm256_loadu_ps(a.data.as_ptr().add(ar[0] + p)),
                            _mm256_loadu_ps(a.data.as_ptr().add(ar[1] + p)),
                        ];
                        for s in 0..4 {
                            let y = _mm256_loadu_ps(b.data.as_ptr().add(bc[s] + p));
                            acc[0][s] = _mm256_fmadd_ps(x[0], y, acc[0][s]);
                            acc[1][s] = _mm256_fmadd_ps(x[1], y, acc[1][s]);
                        }
                    }
                    p += 8;
                }
                for r in 0..rows {
                    for s in 0..cols {
                        let mut sum = hsum(acc[r][s]);
                        for q in body..k {
                            sum = madd::<true>(sum, a.data[ar[r] + q], b.data[bc[s] + q]);
                        }
                        c[(i + r) * n + j + s] += sum;
                    }
                }
            }
        }
    }
}

/// Columns of B per panel in the vectorised axpy kernels: a panel of
/// `k × width` floats stays within about 256 KB (L2), so each row block
/// reads it from cache; a multiple of 32, the widest column block.
fn panel_width(k: usize) -> usize {
    ((65_536 / k.max(1)) / 32).max(1) * 32
}

/// The rows of a convolution's input patches read in place from a
/// zero-padded input `[C, HP, WP]` (an implicit im2col): row `(c, u, v)` of
/// the patch matrix is the padded input from `c·HP·WP + u·WP + v` on, and
/// its columns are the output positions of a grid `WP` wide (the last
/// `KW − 1` of each row are past the real output and dropped by the caller).
#[derive(Clone, Copy, Debug)]
pub struct ConvRows {
    pub channels: usize,
    pub kh: usize,
    pub kw: usize,
    /// `HP·WP`
    pub plane: usize,
    /// `WP`
    pub row: usize,
}

impl ConvRows {
    fn offset(&self, c: usize, u: usize, v: usize) -> usize {
        c * self.plane + u * self.row + v
    }
    /// Offset of patch row `p = (c·KH + u)·KW + v`.
    pub fn patch_offset(&self, p: usize) -> usize {
        let (cu, v) = (p / self.kw, p % self.kw);
        self.offset(cu / self.kh, cu % self.kh, v)
    }
    /// Floats the padded input must hold so that every row's `n` columns
    /// are inside it.
    pub fn needed(&self, n: usize) -> usize {
        self.offset(self.channels - 1, self.kh - 1, self.kw - 1) + n
    }
}

/// Whether [`gemm_conv`] has a fast kernel on this CPU (AVX-512); without
/// one, callers should copy the patches out (im2col) and use [`gemm`].
pub fn conv_rows_fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which positions of the padded grid a [`gemm_conv`] computes, and where
/// in C they go.
#[derive(Clone, Copy, Debug)]
pub enum Columns {
    /// The first `n` positions of the grid, C's columns one for one: rows
    /// as wide as the padded input, the last `KW − 1` of each past the
    /// real output (the caller drops them).
    Wide(usize),
    /// Only the real output, `oh` rows of `ow`, written densely: C has
    /// `oh · ow` columns and nothing is computed to be dropped.
    Rows { oh: usize, ow: usize },
}

impl Columns {
    /// The cheaper way to compute an output of `oh × ow` on a grid with
    /// rows `grid_row` wide: the kernel works in runs of 16 columns, so
    /// `Rows` costs `oh · ⌈ow / 16⌉` runs and `Wide` about `oh · grid_row / 16`;
    /// on a tie `Rows`, which also writes the output in place. (VGG-mini's
    /// 16-wide maps on 18-wide grids: 8 runs a row pair instead of 9;
    /// LeNet-5's second conv, 10 wide on a 14-wide grid, stays `Wide`.)
    pub fn for_grid(oh: usize, ow: usize, grid_row: usize) -> Columns {
        if ow.div_ceil(16) * 16 <= grid_row {
            Columns::Rows { oh, ow }
        } else {
            Columns::Wide(oh * grid_row)
        }
    }

    /// Columns of C.
    pub fn width(&self) -> usize {
        match *self {
            Columns::Wide(n) => n,
            Columns::Rows { oh, ow } => oh * ow,
        }
    }

    /// Number of runs of at most 16 columns the kernel works through.
    fn halves(&self, _grid_row: usize) -> usize {
        match *self {
            Columns::Wide(n) => n.div_ceil(16),
            Columns::Rows { oh, ow } => oh * ow.div_ceil(16),
        }
    }

    /// Run `h`: its first position in the grid, its first column in C,
    /// its length.
    #[inline(always)]
    fn half(&self, h: usize, grid_row: usize) -> (usize, usize, usize) {
        match *self {
            Columns::Wide(n) => (16 * h, 16 * h, (n - 16 * h).min(16)),
            Columns::Rows { ow, .. } => {
                let per_row = ow.div_ceil(16);
                let (y, x) = (h / per_row, (h % per_row) * 16);
                (y * grid_row + x, y * ow + x, (ow - x).min(16))
            }
        }
    }

    /// Floats past a patch row's offset the runs read.
    fn reach(&self, grid_row: usize) -> usize {
        match *self {
            Columns::Wide(n) => n,
            Columns::Rows { oh, ow } if oh > 0 => (oh - 1) * grid_row + ow,
            Columns::Rows { .. } => 0,
        }
    }
}

/// `c[m × cols] += a[m × K] · B`, where B's rows are the patch rows `rows`
/// reads in place from `padded` (`K = channels·KH·KW`) at the positions
/// `cols` picks.
pub fn gemm_conv(a: Mat<'_>, padded: &[f32], rows: ConvRows, cols: Columns, c: &mut [f32]) {
    let k = rows.channels * rows.kh * rows.kw;
    assert_eq!(
        a.cols, k,
        "gemm_conv: A has {} columns for {k} patch rows",
        a.cols
    );
    if let Columns::Rows { ow, .. } = cols {
        assert!(ow <= rows.row, "gemm_conv: output wider than the grid");
    }
    assert!(
        padded.len() >= rows.needed(cols.reach(rows.row)),
        "gemm_conv: padded input too small"
    );
    assert!(
        c.len() >= a.rows * cols.width(),
        "gemm_conv: output too small"
    );
    assert!(
        a.rows == 0 || a.last_index() < a.data.len(),
        "gemm_conv: A out of bounds"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { avx512::conv_axpy(a, padded, rows, cols, c) };
        return;
    }
    conv_portable(a, padded, rows, cols, c);
}

/// `c[K × n] += Patches · b`: the weight gradient of a stride-1
/// convolution, transposed. `Patches[K, OH·OW]` are the patch rows `rows`
/// reads in place from `padded`, taking the first `OW` columns of each of
/// `OH` grid rows; `b` is `[OH·OW, n]` (dY transposed, `n` = output
/// channels) and `c` is `[K, n]`, both row-major.
pub fn gemm_conv_weight(
    padded: &[f32],
    rows: ConvRows,
    (oh, ow): (usize, usize),
    b: &[f32],
    n: usize,
    c: &mut [f32],
) {
    let k = rows.channels * rows.kh * rows.kw;
    if k == 0 || oh == 0 || ow == 0 || n == 0 {
        return;
    }
    assert!(
        ow <= rows.row,
        "gemm_conv_weight: output wider than the grid"
    );
    assert!(
        padded.len() >= rows.needed((oh - 1) * rows.row + ow),
        "gemm_conv_weight: padded input too small"
    );
    assert!(b.len() >= oh * ow * n, "gemm_conv_weight: B too small");
    assert!(c.len() >= k * n, "gemm_conv_weight: output too small");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { avx512::conv_weight_axpy(padded, rows, (oh, ow), b, n, c) };
        return;
    }
    conv_weight_portable(padded, rows, (oh, ow), b, n, c);
}

/// [`gemm_conv_weight`] in portable Rust, one patch row at a time.
fn conv_weight_portable(
    padded: &[f32],
    rows: ConvRows,
    (oh, ow): (usize, usize),
    b: &[f32],
    n: usize,
    c: &mut [f32],
) {
    let k = rows.channels * rows.kh * rows.kw;
    for i in 0..k {
        let a = &padded[rows.patch_offset(i)..];
        let c = &mut c[i * n..(i + 1) * n];
        for y in 0..oh {
            for x in 0..ow {
                let v = a[y * rows.row + x];
                let b = &b[(y * ow + x) * n..][..n];
                c.iter_mut().zip(b).for_each(|(c, b)| *c += v * b);
            }
        }
    }
}

/// [`gemm_conv`] in portable Rust, one patch row at a time.
fn conv_portable(a: Mat<'_>, padded: &[f32], rows: ConvRows, cols: Columns, c: &mut [f32]) {
    let (k, ldc) = (rows.channels * rows.kh * rows.kw, cols.width());
    for i in 0..a.rows {
        for p in 0..k {
            let x = a.data[i * a.row_stride + p * a.col_stride];
            let src = &padded[rows.patch_offset(p)..];
            for h in 0..cols.halves(rows.row) {
                let (s, d, len) = cols.half(h, rows.row);
                c[i * ldc + d..][..len]
                    .iter_mut()
                    .zip(&src[s..s + len])
                    .for_each(|(c, s)| *c += x * s);
            }
        }
    }
}

/// `acc + x·y`, fused where the target has FMA.
#[inline(always)]
fn madd<const FMA: bool>(acc: f32, x: f32, y: f32) -> f32 {
    if FMA {
        x.mul_add(y, acc)
    } else {
        acc + x * y
    }
}

#[inline(always)]
fn product<const FMA: bool>(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    if b.col_stride == 1 {
        axpy::<FMA>(a, b, c);
    } else if a.col_stride == 1 && b.row_stride == 1 {
        dot::<FMA>(a, b, c);
    } else {
        naive::<FMA>(a, b, c);
    }
}

const AXPY_MR: usize = 4;
const AXPY_NR: usize = 16;

/// B's rows are contiguous: blocks of `AXPY_MR × AXPY_NR` of C in registers.
#[inline(always)]
fn axpy<const FMA: bool>(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let at = |i: usize, p: usize| a.data[i * a.row_stride + p * a.col_stride];
    let mut i = 0;
    // loop over row blocks of C
    while i < m {
        let rows = (m - i).min(AXPY_MR);
        let mut j = 0;
        // loop over column blocks of C
        while j + AXPY_NR <= n {
            let mut acc = [[0.0f32; AXPY_NR]; AXPY_MR];
            if rows == AXPY_MR {
                for p in 0..k {
                    let brow: &[f32; AXPY_NR] = b.data[p * b.row_stride + j..][..AXPY_NR]
                        .try_into()
                        .expect("block");
                    for (r, acc_r) in acc.iter_mut().enumerate() {
                        let x = at(i + r, p);
                        for q in 0..AXPY_NR {
                            acc_r[q] = madd::<FMA>(acc_r[q], x, brow[q]);
                        }
                    }
                }
            } else {
                for p in 0..k {
                    let brow: &[f32; AXPY_NR] = b.data[p * b.row_stride + j..][..AXPY_NR]
                        .try_into()
                        .expect("block");
                    for (r, acc_r) in acc.iter_mut().enumerate().take(rows) {
                        let x = at(i + r, p);
                        for q in 0..AXPY_NR {
                            acc_r[q] = madd::<FMA>(acc_r[q], x, brow[q]);
                        }
                    }
                }
            }
            for (r, acc_r) in acc.iter().enumerate().take(rows) {
                let crow = &mut c[(i + r) * n + j..][..AXPY_NR];
                crow.iter_mut().zip(acc_r).for_each(|(c, a)| *c += a);
            }
            j += AXPY_NR;
        }
        // the last columns, narrower than a block
        if j < n {
            let width = n - j;
            let mut acc = [[0.0f32; AXPY_NR]; AXPY_MR];
            for p in 0..k {
                let brow = &b.data[p * b.row_stride + j..][..width];
                for (r, acc_r) in acc.iter_mut().enumerate().take(rows) {
                    let x = at(i + r, p);
                    for (s, &y) in acc_r.iter_mut().zip(brow) {
                        *s = madd::<FMA>(*s, x, y);
                    }
                }
            }
            for (r, acc_r) in acc.iter().enumerate().take(rows) {
                let crow = &mut c[(i + r) * n + j..][..width];
                crow.iter_mut().zip(acc_r).for_each(|(c, a)| *c += a);
            }
        }
        i += rows;
    }
}

const DOT_MR: usize = 2;
const DOT_NR: usize = 4;
const LANES: usize = 8;

/// A's rows and Bᵀ's rows are contiguous: each C entry is a dot product.
#[inline(always)]
fn dot<const FMA: bool>(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let a_row = |i: usize| &a.data[i * a.row_stride..][..k];
    // row j of Bᵀ is column j of B
    let b_col = |j: usize| &b.data[j * b.col_stride..][..k];
    let body = k / LANES * LANES;
    let mut i = 0;
    while i < m {
        let rows = (m - i).min(DOT_MR);
        let mut j = 0;
        while j < n {
            let cols = (n - j).min(DOT_NR);
            let mut acc = [[[0.0f32; LANES]; DOT_NR]; DOT_MR];
            let ar: [&[f32]; DOT_MR] = core::array::from_fn(|r| a_row(i + r.min(rows - 1)));
            let bc: [&[f32]; DOT_NR] = core::array::from_fn(|s| b_col(j + s.min(cols - 1)));
            // loop over k in chunks of LANES
            for p in (0..body).step_by(LANES) {
                for r in 0..DOT_MR {
                    let x: &[f32; LANES] = ar[r][p..p + LANES].try_into().expect("chunk");
                    for s in 0..DOT_NR {
                        let y: &[f32; LANES] = bc[s][p..p + LANES].try_into().expect("chunk");
                        for l in 0..LANES {
                            acc[r][s][l] = madd::<FMA>(acc[r][s][l], x[l], y[l]);
                        }
                    }
                }
            }
            for r in 0..rows {
                for s in 0..cols {
                    let mut sum: f32 = acc[r][s].iter().sum();
                    for p in body..k {
                        sum = madd::<FMA>(sum, ar[r][p], bc[s][p]);
                    }
                    c[(i + r) * n + j + s] += sum;
                }
            }
            j += cols;
        }
        i += rows;
    }
}

/// Any strides: the plain triple loop.
#[inline(always)]
fn naive<const FMA: bool>(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    let n = b.cols;
    for i in 0..a.rows {
        for p in 0..a.cols {
            let x = a.data[i * a.row_stride + p * a.col_stride];
            for j in 0..n {
                c[i * n + j] =
                    madd::<FMA>(c[i * n + j], x, b.data[p * b.row_stride + j * b.col_stride]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, random_vec};

    fn reference(a: Mat<'_>, b: Mat<'_>) -> Vec<f32> {
        let mut c = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let s: f64 = (0..a.cols)
                    .map(|p| {
                        a.data[i * a.row_stride + p * a.col_stride] as f64
                            * b.data[p * b.row_stride + j * b.col_stride] as f64
                    })
                    .sum();
                c[i * b.cols + j] = s as f32;
            }
        }
        c
    }

    /// A row-major `rows × cols` matrix or, with `transposed`, the transpose
    /// of a row-major `cols × rows` one.
    fn matrix(data: &[f32], rows: usize, cols: usize, transposed: bool) -> Mat<'_> {
        if transposed {
            Mat::new(data, cols, rows).t()
        } else {
            Mat::new(data, rows, cols)
        }
    }

    type Path = fn(Mat<'_>, Mat<'_>, &mut [f32]);

    /// The kernels this CPU can run, by name.
    fn paths() -> Vec<(&'static str, Path)> {
        let mut paths: Vec<(&'static str, Path)> =
            vec![("portable", |a, b, c| product::<false>(a, b, c))];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                paths.push(("avx2+fma", |a, b, c| unsafe { gemm_avx2_fma(a, b, c) }));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked above).
                paths.push(("avx512", |a, b, c| unsafe { gemm_avx512(a, b, c) }));
            }
        }
        paths
    }

    #[test]
    fn every_layout_and_awkward_size_matches_the_reference() {
        // the last two span several column panels of the axpy kernels
        let sizes = [
            (1, 1, 1),
            (3, 5, 7),
            (4, 9, 16),
            (5, 8, 17),
            (6, 25, 784),
            (16, 150, 100),
            (65, 63, 15),
            (2, 400, 120),
            (7, 300, 500),
            (13, 1000, 70),
        ];
        for (t, &(m, k, n)) in sizes.iter().enumerate() {
            let a_data = random_vec(m * k, t as u64);
            let b_data = random_vec(k * n, 100 + t as u64);
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                let (a, b) = (matrix(&a_data, m, k, ta), matrix(&b_data, k, n, tb));
                let want = reference(a, b);
                let what = format!("{m}x{k}x{n} transposed {ta}/{tb}");
                let mut c = vec![f32::NAN; m * n];
                gemm(a, b, &mut c, false);
                assert_close(&c, &want, 1e-5, &what);
                // accumulation adds to what is there
                let mut c = vec![1.0; m * n];
                gemm(a, b, &mut c, true);
                let want_plus: Vec<f32> = want.iter().map(|w| w + 1.0).collect();
                assert_close(&c, &want_plus, 1e-5, &what);
                // every path this CPU can run agrees, not only the one `gemm` picks
                for (path, run) in paths() {
                    let mut c = vec![0.0; m * n];
                    run(a, b, &mut c);
                    assert_close(&c, &want, 1e-5, &format!("{what}, {path}"));
                }
            }
        }
    }

    #[test]
    fn implicit_conv_products_match_explicit_patches() {
        // (channels, kh, kw, hp, wp, m): the patch rows of a padded input
        for &(ch, kh, kw, hp, wp, m) in &[
            (1, 5, 5, 32, 32, 6),
            (3, 3, 3, 34, 34, 32),
            (2, 2, 3, 5, 7, 3),
            (6, 5, 5, 14, 14, 16),
            (1, 1, 1, 1, 1, 1),
            // output widths of 16, 32 and 33: whole, paired and ragged runs
            (4, 3, 3, 18, 18, 9),
            (2, 3, 3, 6, 34, 8),
            (2, 3, 3, 5, 35, 3),
        ] {
            let rows = ConvRows {
                channels: ch,
                kh,
                kw,
                plane: hp * wp,
                row: wp,
            };
            let k = ch * kh * kw;
            let n = (hp - kh + 1) * wp;
            let padded = random_vec(rows.needed(n), 1);
            // the patch matrix, copied out
            let patches: Vec<f32> = (0..k)
                .flat_map(|p| padded[rows.patch_offset(p)..][..n].to_vec())
                .collect();
            let what = format!("{ch}x{kh}x{kw} on {hp}x{wp}, {m} rows");

            let w = random_vec(m * k, 2);
            let want = reference(Mat::new(&w, m, k), Mat::new(&patches, k, n));
            let mut c = vec![0.0; m * n];
            gemm_conv(Mat::new(&w, m, k), &padded, rows, Columns::Wide(n), &mut c);
            assert_close(&c, &want, 1e-5, &what);
            let mut c = vec![0.0; m * n];
            conv_portable(Mat::new(&w, m, k), &padded, rows, Columns::Wide(n), &mut c);
            assert_close(&c, &want, 1e-5, &format!("{what}, portable"));

            // only the real output positions, written densely, onto what is there
            let (oh, ow) = (hp - kh + 1, wp - kw + 1);
            let dense: Vec<f32> = (0..m)
                .flat_map(|i| {
                    let row = &want[i * n..(i + 1) * n];
                    (0..oh).flat_map(move |y| row[y * wp..y * wp + ow].to_vec())
                })
                .map(|v| v + 1.0)
                .collect();
            let cols = Columns::Rows { oh, ow };
            let mut c = vec![1.0; m * oh * ow];
            gemm_conv(Mat::new(&w, m, k), &padded, rows, cols, &mut c);
            assert_close(&c, &dense, 1e-5, &format!("{what}, rows"));
            let mut c = vec![1.0; m * oh * ow];
            conv_portable(Mat::new(&w, m, k), &padded, rows, cols, &mut c);
            assert_close(&c, &dense, 1e-5, &format!("{what}, rows, portable"));
        }
    }

    #[test]
    fn implicit_weight_products_match_explicit_patches() {
        // (channels, kh, kw, hp, wp, n): the patch rows of a padded input,
        // `OW = WP − KW + 1` columns of each grid row, times B[P, n]
        for &(ch, kh, kw, hp, wp, n) in &[
            (1, 5, 5, 32, 32, 6),
            (3, 3, 3, 34, 34, 32),
            (2, 2, 3, 5, 7, 3),
            (6, 5, 5, 14, 14, 16),
            (4, 3, 3, 10, 10, 64),
            (3, 3, 2, 6, 9, 40),
            (1, 1, 1, 1, 1, 1),
        ] {
            let rows = ConvRows {
                channels: ch,
                kh,
                kw,
                plane: hp * wp,
                row: wp,
            };
            let (k, oh, ow) = (ch * kh * kw, hp - kh + 1, wp - kw + 1);
            let padded = random_vec(rows.needed((oh - 1) * wp + ow), 3);
            let patches: Vec<f32> = (0..k)
                .flat_map(|i| {
                    let row = &padded[rows.patch_offset(i)..];
                    (0..oh).flat_map(move |y| row[y * wp..y * wp + ow].to_vec())
                })
                .collect();
            let b = random_vec(oh * ow * n, 4);
            let what = format!("{ch}x{kh}x{kw} on {hp}x{wp}, {n} columns");
            let want = reference(Mat::new(&patches, k, oh * ow), Mat::new(&b, oh * ow, n));
            // accumulates onto what is there
            let mut c = vec![1.0; k * n];
            gemm_conv_weight(&padded, rows, (oh, ow), &b, n, &mut c);
            let want_plus: Vec<f32> = want.iter().map(|w| w + 1.0).collect();
            assert_close(&c, &want_plus, 1e-5, &what);
            let mut c = vec![0.0; k * n];
            conv_weight_portable(&padded, rows, (oh, ow), &b, n, &mut c);
            assert_close(&c, &want, 1e-5, &format!("{what}, portable"));
        }
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let mut c = vec![5.0; 6];
        gemm(Mat::new(&[], 2, 0), Mat::new(&[], 0, 3), &mut c, false);
        assert_eq!(c, vec![0.0; 6]);
    }
}
