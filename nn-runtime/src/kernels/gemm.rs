//! General matrix product for the layers: `C[m×n] = A[m×k] · B[k×n] (+ C)`,
//! with A and B given as strided views so transposes cost nothing.
//!
//! Why not `matrixmultiply::sgemm`: it allocates its packing buffers on
//! every call, and a training step makes a dozen calls, so the steady state
//! would not be allocation-free. Two kinds of kernel cover every product
//! the layers make:
//!
//! - *axpy* (B's rows contiguous): a block of C in registers accumulates
//!   `A[i, p] · B[p, j..j+2·LANES]` over `p`, A's elements broadcast; used
//!   for conv forward, conv input gradient and the dense gradients.
//! - *dot* (A's rows and Bᵀ's rows contiguous): a 2×4 block of C as dot
//!   products with LANES partial sums each; used for dense forward, whose
//!   right operand is a transpose, and the conv weight gradient with
//!   AVX-512 or few output channels.
//!
//! Both are written once over a vector unit and compiled for each unit the
//! CPU may have, chosen at run time: AVX-512 (16 lanes; axpy blocks of up
//! to 8×32 streaming A and B from where they are, dot blocks of 4×4,
//! masked edges) and AVX2 with FMA (8 lanes; below). Portable Rust covers
//! any other target.
//!
//! # AVX2: B packed
//!
//! With AVX2's 16 registers the axpy kernel, like BLIS's, packs B and
//! loops around a microkernel of 6 rows × 16 columns (12 accumulators, 2
//! registers of B, one broadcast of A), and takes every layout but the dot
//! kernel's (with AVX2, `gemm` packs any other B, whatever its strides):
//!
//! - B in blocks of at most `KC` = 256 rows (`k` split evenly) and as
//!   many columns as `PACKED_LEN` floats hold, packed into panels of 16
//!   columns whose rows the microkernel reads one after the other; A read
//!   in place, one broadcast an element (the layers' A are small, often
//!   transposed views, and for ResNet-20's 64-column products a packed A
//!   would be copied for each few uses); blocks of `MC` = 72 rows of A
//!   (72 KB, in L2) against each panel in turn (512² at 65, 82, 71 and 61
//!   GFLOP/s with blocks of 36, 72, 144 and all 512 rows). `KC` is BLIS's
//!   for these cores, not tuned here.
//! - The packed B is a thread-local array of `PACKED_LEN` = 32 K floats
//!   (128 KB), a constant made with the thread: no allocation, ever, not
//!   even on the first product (which the allocation tests require of
//!   single-sample inference right after construction). It is per thread,
//!   not in the layers' scratch, because `gemm` serves every layer and its
//!   callers without a scratch argument. 128 KB rather than 64, 256 or
//!   512: ResNet-20's first-stage conv forward (16×144×1024) ran at 52
//!   GFLOP/s against 41 with 256 KB, its input gradient (144×16×1024) 70
//!   against 52 (B's block and the panel just packed stay nearer), 512²
//!   about even (74–80).
//! - Rows go in ⌈m / 6⌉ blocks as even as can be (16 as 6 + 5 + 5), each
//!   microkernel call in a function of its own (`Simd::apart`) so
//!   that its 15 live registers are not spilled.
//! - With `accumulate` false, the first block of `k` stores C instead of
//!   adding to it: no pass zeroing C first.
//!
//! The implicit convolution kernels ([`gemm_conv`], [`gemm_conv_weight`])
//! read B in place instead, from a padded input whose rows are the patch
//! rows: with AVX2, two runs of 8 columns (one register each) against
//! blocks of 6 rows of A, the rows of A read through a pointer each (first
//! written with a multiplication per element, the kernel ran at half the
//! speed of the packed one; with the pointers, 1.4–2× it on ResNet-20's
//! convolutions, no im2col or packing).
//!
//! Each entry of C is the same sum whatever `m` and `n`: its `k` terms in
//! blocks that depend on `k` only, in order (so that a batch split across
//! threads gives the same bits as the whole).
//!
//! Measured on a 2-core AMD EPYC (AVX2, FMA; shared with other work, so
//! medians of 5 alternate runs, one sample's product), before → after:
//! 512² 47 → 79 GFLOP/s (`matrixmultiply::sgemm` 61–74 in `speed`'s runs);
//! ResNet-20's conv forward 35 / 55 / 61 → 49 / 70 / 84 GFLOP/s (16, 32, 64
//! channels), input gradient 27 / 54 / 67 → 72 / 87 / 88, and the weight
//! gradient, computed transposed now (see `conv2d`), 46 / 39 / 23 (dot
//! products) → 67 / 85 / 89.
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

    /// Index of the last element, `None` if it overflows `usize` (the
    /// fields are public: a view may claim any size).
    fn last_index(&self) -> Option<usize> {
        if self.rows == 0 || self.cols == 0 {
            Some(0)
        } else {
            (self.rows - 1)
                .checked_mul(self.row_stride)?
                .checked_add((self.cols - 1).checked_mul(self.col_stride)?)
        }
    }

    /// Whether every element lies inside `data`: what the kernels' unchecked
    /// reads rely on.
    fn in_bounds(&self) -> bool {
        self.last_index().is_some_and(|last| last < self.data.len())
    }
}

/// `a · b · …` in `usize`, `None` if it overflows: the sizes that guard the
/// kernels' unchecked accesses are computed with this, so that a claimed
/// size too large to exist is refused instead of wrapping to a small one.
fn product_of(factors: &[usize]) -> Option<usize> {
    factors.iter().try_fold(1usize, |p, &f| p.checked_mul(f))
}

/// `c[m×n] = a · b + (accumulate ? c : 0)`, where `c` is row-major with
/// `n` columns.
pub fn gemm(a: Mat<'_>, b: Mat<'_>, c: &mut [f32], accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "gemm: inner dimensions differ");
    let mn = product_of(&[m, n]).filter(|&mn| mn <= c.len());
    let c = &mut c[..mn.expect("gemm: output too small")];
    if m == 0 || n == 0 || k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    assert!(a.in_bounds(), "gemm: A out of bounds");
    assert!(b.in_bounds(), "gemm: B out of bounds");
    #[cfg(target_arch = "x86_64")]
    if packs_b() {
        PACKED_B.with_borrow_mut(|buf| {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            unsafe { gemm_avx2_fma(a, b, c, accumulate, &mut buf.0) }
        });
        return;
    }
    if !accumulate {
        c.fill(0.0);
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { gemm_avx512(a, b, c) };
        return;
    }
    product::<false>(a, b, c);
}

/// `c = a · b + (accumulate ? c : 0)` with the AVX2 kernels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gemm_avx2_fma(a: Mat<'_>, b: Mat<'_>, c: &mut [f32], accumulate: bool, buf: &mut [f32]) {
    x86::product_narrow(x86::Avx2::new(), a, b, c, accumulate, buf);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn gemm_avx512(a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    x86::product_wide(x86::Avx512::new(), a, b, c);
}

/// The vectorised microkernels, each written once over a [`Simd`] unit
/// and instantiated from the `#[target_feature]` functions that dispatch to
/// them, once with AVX-512 ([`Avx512`]: 16 lanes) and once with AVX2 and
/// FMA ([`Avx2`]: 8 lanes). The kernels and the units' methods are all
/// `#[inline(always)]`: only code inlined into a `#[target_feature]`
/// function is compiled with its features, and so each instantiation
/// compiles to the unit's instructions, as if written with its intrinsics.
///
/// Every pointer offset stays inside the views that the public functions
/// bounds-checked, and masked-off lanes touch no memory.
///
/// [`Simd`]: x86::Simd
/// [`Avx512`]: x86::Avx512
/// [`Avx2`]: x86::Avx2
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{madd, naive, Columns, ConvRows, Mat, Onto};
    use std::arch::x86_64::*;

    /// A vector unit as the microkernels use it: registers of `LANES`
    /// floats and the operations on them. A value of an implementing type
    /// is a token that the CPU has the unit, so the arithmetic is safe;
    /// loads and stores are `unsafe` for their pointers.
    pub trait Simd: Copy {
        /// A register.
        type V: Copy;
        /// Which lanes a masked load or store touches.
        type Mask: Copy;
        const LANES: usize;
        fn zero(self) -> Self::V;
        fn splat(self, x: f32) -> Self::V;
        /// `a · b + c`, rounded once.
        fn fmadd(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
        fn add(self, a: Self::V, b: Self::V) -> Self::V;
        /// The larger of each pair of lanes (`b` where either is NaN, as
        /// `maxps`).
        fn max(self, a: Self::V, b: Self::V) -> Self::V;
        /// Calls `f` inlined into a function of its own compiled for the
        /// unit, not into the caller: a microkernel whose accumulators take
        /// all the registers has them all to itself (inlined among the
        /// loops around it, it had two spilled and values shuffled between
        /// registers on every step).
        fn apart<R>(self, f: impl FnOnce() -> R) -> R;
        /// The sum of the lanes, in the unit's own order.
        fn sum(self, v: Self::V) -> f32;
        /// The first `n` lanes, `n ≤ LANES`.
        fn first(self, n: usize) -> Self::Mask;
        /// # Safety
        /// `p` is valid for reading `LANES` floats.
        unsafe fn load(self, p: *const f32) -> Self::V;
        /// # Safety
        /// `p` is valid for writing `LANES` floats.
        unsafe fn store(self, p: *mut f32, v: Self::V);
        /// The lanes of `mask` from `p`, zero in the others.
        ///
        /// # Safety
        /// `p` is valid for reading the lanes of `mask`; the others are not
        /// touched.
        unsafe fn load_masked(self, mask: Self::Mask, p: *const f32) -> Self::V;
        /// # Safety
        /// `p` is valid for writing the lanes of `mask`; the others are not
        /// touched.
        unsafe fn store_masked(self, mask: Self::Mask, p: *mut f32, v: Self::V);
    }

    /// AVX-512F: 16 lanes, masks in mask registers.
    #[derive(Clone, Copy)]
    pub struct Avx512(());

    impl Avx512 {
        /// The token: a call needs no `unsafe` only in code compiled for
        /// AVX-512F, which runs only where the CPU has it.
        #[target_feature(enable = "avx512f")]
        #[inline]
        pub fn new() -> Self {
            Avx512(())
        }
    }

    impl Simd for Avx512 {
        type V = __m512;
        type Mask = __mmask16;
        const LANES: usize = 16;
        #[inline(always)]
        fn zero(self) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_set1_ps(x) }
        }
        #[inline(always)]
        fn fmadd(self, a: __m512, b: __m512, c: __m512) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn add(self, a: __m512, b: __m512) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        fn max(self, a: __m512, b: __m512) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_max_ps(a, b) }
        }
        #[inline(always)]
        fn apart<R>(self, f: impl FnOnce() -> R) -> R {
            #[inline(never)]
            #[target_feature(enable = "avx512f")]
            fn run<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { run(f) }
        }
        #[inline(always)]
        fn sum(self, v: __m512) -> f32 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F.
            unsafe { _mm512_reduce_add_ps(v) }
        }
        #[inline(always)]
        fn first(self, n: usize) -> __mmask16 {
            ((1u32 << n) - 1) as __mmask16
        }
        #[inline(always)]
        unsafe fn load(self, p: *const f32) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F,
            // and `p` is as the caller promises.
            unsafe { _mm512_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32, v: __m512) {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F,
            // and `p` is as the caller promises.
            unsafe { _mm512_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, mask: __mmask16, p: *const f32) -> __m512 {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F,
            // and `p` is as the caller promises.
            unsafe { _mm512_maskz_loadu_ps(mask, p) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, mask: __mmask16, p: *mut f32, v: __m512) {
            // SAFETY: an `Avx512` is only made where the CPU has AVX-512F,
            // and `p` is as the caller promises.
            unsafe { _mm512_mask_storeu_ps(p, mask, v) }
        }
    }

    /// AVX2 and FMA: 8 lanes, masks as vectors of all-ones or zero lanes.
    #[derive(Clone, Copy)]
    pub struct Avx2(());

    impl Avx2 {
        /// The token: a call needs no `unsafe` only in code compiled for
        /// AVX2 and FMA, which runs only where the CPU has them.
        #[target_feature(enable = "avx2,fma")]
        #[inline]
        pub fn new() -> Self {
            Avx2(())
        }
    }

    impl Simd for Avx2 {
        type V = __m256;
        type Mask = __m256i;
        const LANES: usize = 8;
        #[inline(always)]
        fn zero(self) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { _mm256_setzero_ps() }
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { _mm256_set1_ps(x) }
        }
        #[inline(always)]
        fn fmadd(self, a: __m256, b: __m256, c: __m256) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn add(self, a: __m256, b: __m256) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        fn max(self, a: __m256, b: __m256) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { _mm256_max_ps(a, b) }
        }
        #[inline(always)]
        fn apart<R>(self, f: impl FnOnce() -> R) -> R {
            #[inline(never)]
            #[target_feature(enable = "avx2,fma")]
            fn run<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe { run(f) }
        }
        #[inline(always)]
        fn sum(self, v: __m256) -> f32 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe {
                let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
                let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
                let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
                _mm_cvtss_f32(s)
            }
        }
        #[inline(always)]
        fn first(self, n: usize) -> __m256i {
            // lane l all ones where l < n
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA.
            unsafe {
                _mm256_cmpgt_epi32(
                    _mm256_set1_epi32(n as i32),
                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                )
            }
        }
        #[inline(always)]
        unsafe fn load(self, p: *const f32) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA,
            // and `p` is as the caller promises.
            unsafe { _mm256_loadu_ps(p) }
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32, v: __m256) {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA,
            // and `p` is as the caller promises.
            unsafe { _mm256_storeu_ps(p, v) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, mask: __m256i, p: *const f32) -> __m256 {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA,
            // and `p` is as the caller promises.
            unsafe { _mm256_maskload_ps(p, mask) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, mask: __m256i, p: *mut f32, v: __m256) {
            // SAFETY: an `Avx2` is only made where the CPU has AVX2 and FMA,
            // and `p` is as the caller promises.
            unsafe { _mm256_maskstore_ps(p, mask, v) }
        }
    }

    /// A load of all lanes (`None`) or of the lanes of a mask.
    ///
    /// # Safety
    /// As [`Simd::load`] or [`Simd::load_masked`].
    #[inline(always)]
    unsafe fn load<S: Simd>(s: S, lanes: Option<S::Mask>, p: *const f32) -> S::V {
        match lanes {
            // SAFETY: `p` is valid for reading LANES floats (the caller's).
            None => unsafe { s.load(p) },
            // SAFETY: `p` is valid for reading the lanes of `mask` (the
            // caller's).
            Some(mask) => unsafe { s.load_masked(mask, p) },
        }
    }

    /// A store of all lanes (`None`) or of the lanes of a mask.
    ///
    /// # Safety
    /// As [`Simd::store`] or [`Simd::store_masked`].
    #[inline(always)]
    unsafe fn store<S: Simd>(s: S, lanes: Option<S::Mask>, p: *mut f32, v: S::V) {
        match lanes {
            // SAFETY: `p` is valid for writing LANES floats (the caller's).
            None => unsafe { s.store(p, v) },
            // SAFETY: `p` is valid for writing the lanes of `mask` (the
            // caller's).
            Some(mask) => unsafe { s.store_masked(mask, p, v) },
        }
    }

    /// `acc[r][w] += x(r) · b[w]`: one rank-1 update of a block of C in
    /// registers, `x(r)` called once per row, in order.
    #[inline(always)]
    fn fmadd_rows<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        acc: &mut [[S::V; W]; ROWS],
        mut x: impl FnMut(usize) -> f32,
        b: [S::V; W],
    ) {
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let x = s.splat(x(r));
            for (acc_rw, bw) in acc_r.iter_mut().zip(b) {
                *acc_rw = s.fmadd(x, bw, *acc_rw);
            }
        }
    }

    /// `C += acc` for a block of ROWS × W registers, register `(r, w)` of C
    /// at `at(r, w)` with lanes `lanes[w]`.
    ///
    /// # Safety
    /// Each `at(r, w)` is valid for reading and writing the lanes
    /// `lanes[w]` (all when `None`).
    #[inline(always)]
    unsafe fn add_into<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        acc: &[[S::V; W]; ROWS],
        at: impl Fn(usize, usize) -> *mut f32,
        lanes: [Option<S::Mask>; W],
    ) {
        for (r, acc_r) in acc.iter().enumerate() {
            for (w, &acc_rw) in acc_r.iter().enumerate() {
                let cp = at(r, w);
                // SAFETY: `cp` is valid for reading and writing the lanes
                // `lanes[w]` (the caller's).
                unsafe { store(s, lanes[w], cp, s.add(load(s, lanes[w], cp), acc_rw)) };
            }
        }
    }

    /// `C = start(r) + acc` for a block of ROWS × W registers, register
    /// `(r, w)` of C at `at(r, w)` with lanes `lanes[w]`: C is written, not
    /// read.
    ///
    /// # Safety
    /// Each `at(r, w)` is valid for writing the lanes `lanes[w]` (all when
    /// `None`).
    #[inline(always)]
    unsafe fn store_onto<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        acc: &[[S::V; W]; ROWS],
        at: impl Fn(usize, usize) -> *mut f32,
        lanes: [Option<S::Mask>; W],
        start: impl Fn(usize) -> S::V,
    ) {
        for (r, acc_r) in acc.iter().enumerate() {
            let b = start(r);
            for (w, &acc_rw) in acc_r.iter().enumerate() {
                // SAFETY: `at(r, w)` is valid for writing the lanes
                // `lanes[w]` (the caller's).
                unsafe { store(s, lanes[w], at(r, w), s.add(b, acc_rw)) };
            }
        }
    }

    /// `C = scale(r) · acc + shift(r)`, then `max(·, 0)` when `relu`, for a
    /// block of ROWS × W registers, as [`store_onto`]: C is written, not
    /// read.
    ///
    /// # Safety
    /// As [`store_onto`].
    #[inline(always)]
    unsafe fn store_affine<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        acc: &[[S::V; W]; ROWS],
        at: impl Fn(usize, usize) -> *mut f32,
        lanes: [Option<S::Mask>; W],
        affine: impl Fn(usize) -> (S::V, S::V),
        relu: bool,
    ) {
        for (r, acc_r) in acc.iter().enumerate() {
            let (a, b) = affine(r);
            for (w, &acc_rw) in acc_r.iter().enumerate() {
                let mut v = s.fmadd(acc_rw, a, b);
                if relu {
                    // `max` gives its second operand for a NaN: a NaN
                    // passes through, as the ReLU layer lets it
                    v = s.max(s.zero(), v);
                }
                // SAFETY: `at(r, w)` is valid for writing the lanes
                // `lanes[w]` (the caller's).
                unsafe { store(s, lanes[w], at(r, w), v) };
            }
        }
    }

    /// Runs `$f::<_, ROWS>(args…, i)` over rows `0..$m` of C: blocks of the
    /// first size listed, then one block of what is left, each size a
    /// constant of its own (so that a block's accumulators are registers).
    macro_rules! in_row_blocks {
        ($m:expr, [$mr:literal, $($rest:literal),*], $f:ident $args:tt) => {{
            let m = $m;
            let mut i = 0;
            while i + $mr <= m {
                in_row_blocks!(@call $f $args, $mr, i);
                i += $mr;
            }
            match m - i {
                $($rest => in_row_blocks!(@call $f $args, $rest, i),)*
                _ => {}
            }
        }};
        (@call $f:ident ($($arg:expr),*), $rows:literal, $i:ident) => {
            $f::<_, $rows>($($arg,)* $i)
        };
    }

    /// The kernels for AVX2's 16 registers: `c = a · b (+ c)` with B
    /// packed into panels of 2 registers of columns and blocks of 6 rows
    /// (12 accumulators), except A·Bᵀ with both rows contiguous, as dense
    /// layers make it, whose dot products go 2 × 4 at a time with the last
    /// `k % LANES` terms added one by one.
    #[inline(always)]
    pub fn product_narrow<S: Simd>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        accumulate: bool,
        buf: &mut [f32],
    ) {
        if b.col_stride != 1 && a.col_stride == 1 && b.row_stride == 1 {
            if !accumulate {
                c.fill(0.0);
            }
            dot::<S, 2, false>(s, a, b, c);
        } else {
            packed::<S, 6, 2>(s, a, b, c, accumulate, buf);
        }
    }

    /// `c = a · b (+ c)`, BLIS's loops around a microkernel of MR rows × W
    /// registers of columns: B in blocks of `kc` rows (at most
    /// [`KC`](super::KC), `k` split evenly) and as many columns as `buf`
    /// holds, packed into panels of W registers of columns, each read
    /// contiguously by the microkernel; A read in place, one broadcast per
    /// element, in blocks of [`MC`](super::MC) rows that stay in L2 while
    /// the panels of B go by.
    ///
    /// Each entry of C is the same sum whatever `m` and `n` are: its `k`
    /// terms in the blocks that depend on `k` only, in order.
    #[inline(always)]
    pub fn packed<S: Simd, const MR: usize, const W: usize>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        accumulate: bool,
        buf: &mut [f32],
    ) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let nr = W * S::LANES;
        let kc_max = k.div_ceil(k.div_ceil(super::KC));
        let nc_max = (buf.len() / (kc_max * nr)).max(1) * nr;
        assert!(kc_max * nr <= buf.len(), "gemm: packing buffer too small");
        let mut jc = 0;
        while jc < n {
            let nc = (n - jc).min(nc_max);
            let mut pc = 0;
            while pc < k {
                let kc = (k - pc).min(kc_max);
                pack_b::<W>(S::LANES, b, pc..pc + kc, jc..jc + nc, buf);
                let overwrite = !accumulate && pc == 0;
                let mut ic = 0;
                while ic < m {
                    let mc = (m - ic).min(super::MC);
                    for q in 0..nc.div_ceil(nr) {
                        let j = jc + q * nr;
                        let panel = &buf[q * kc * nr..][..kc * nr];
                        let t = Tile {
                            a,
                            pc,
                            kc,
                            panel,
                            panel_row: nr,
                            j,
                            width: (n - j).min(nr),
                            ldc: n,
                            overwrite,
                        };
                        // ⌈mc / MR⌉ blocks of rows as even as can be:
                        // 16 rows as 6 + 5 + 5, not 6 + 6 + 4, whose last
                        // block has too few accumulators to hide the
                        // latency of its multiply-adds
                        let blocks = mc.div_ceil(MR);
                        let mut i = ic;
                        for block in 0..blocks {
                            let rows = mc / blocks + usize::from(block < mc % blocks);
                            s.apart(
                                #[inline(always)]
                                || match rows {
                                    1 => t.run::<S, 1, W>(s, c, i),
                                    2 => t.run::<S, 2, W>(s, c, i),
                                    3 => t.run::<S, 3, W>(s, c, i),
                                    4 => t.run::<S, 4, W>(s, c, i),
                                    5 => t.run::<S, 5, W>(s, c, i),
                                    _ => {
                                        assert!(rows == MR && MR <= 6, "blocks of 1 to 6 rows");
                                        t.run::<S, MR, W>(s, c, i)
                                    }
                                },
                            );
                            i += rows;
                        }
                    }
                    ic += mc;
                }
                pc += kc;
            }
            jc += nc;
        }
    }

    /// `c = a · b` (stored, row stride `ldc`) with B read in place as
    /// panels of W registers of columns, rows `ldb` floats apart, the
    /// columns past `n` up to the panel's width read and dropped: for a B
    /// small enough to stay in cache, laid out by its maker as the
    /// microkernel reads it (Winograd's transformed input). Blocks of rows
    /// as [`packed`] makes them.
    ///
    /// # Safety
    /// `b` holds `k` rows of `ldb` floats, `ldb` at least `n` rounded up
    /// to `W · LANES`; `c` holds `m` rows of `ldc ≥ n` floats; `a` is in
    /// bounds.
    #[inline(always)]
    pub unsafe fn in_place_b<S: Simd, const MR: usize, const W: usize>(
        s: S,
        a: Mat<'_>,
        (b, ldb): (&[f32], usize),
        (c, ldc): (&mut [f32], usize),
        n: usize,
    ) {
        let (m, k) = (a.rows, a.cols);
        let nr = W * S::LANES;
        // one call apart for the whole product: its blocks are short (`k`
        // is a conv's input channels, 16 for ResNet-20's first stage)
        s.apart(
            #[inline(always)]
            || {
                for q in 0..n.div_ceil(nr) {
                    let j = q * nr;
                    let t = Tile {
                        a,
                        pc: 0,
                        kc: k,
                        panel: b.get(j..).unwrap_or_default(),
                        panel_row: ldb,
                        j,
                        width: (n - j).min(nr),
                        ldc,
                        overwrite: true,
                    };
                    if t.width <= S::LANES && W > 1 {
                        // a last panel one register wide or less (a conv's
                        // 8×8 output, 16 tiles): one register a row, in
                        // blocks of up to 8 rows so that the FMAs still
                        // overlap, rather than two with half the products
                        // dropped. ResNet-20's 64-channel convs by
                        // Winograd, one sample: 47 → 29 µs each; the whole
                        // network, one sample 665 → 567 µs, batches of 64
                        // 1,497 → 1,740 images/s, training 335 → 354
                        // (`profile_step`, alternating builds)
                        t.rows::<S, 8, 1>(s, c, m);
                    } else {
                        t.rows::<S, MR, W>(s, c, m);
                    }
                }
            },
        );
    }

    /// Packs `B[rows, cols]` into `buf` as panels of `W · lanes` columns,
    /// panel `q` holding its `rows.len()` rows one after the other, the
    /// columns past `cols` zero.
    #[inline(always)]
    fn pack_b<const W: usize>(
        lanes: usize,
        b: Mat<'_>,
        rows: core::ops::Range<usize>,
        cols: core::ops::Range<usize>,
        buf: &mut [f32],
    ) {
        let nr = W * lanes;
        let kc = rows.len();
        let panels = cols.len().div_ceil(nr);
        if b.col_stride == 1 {
            // along B's rows, as they lie in memory
            for (dp, p) in rows.enumerate() {
                let src = &b.data[p * b.row_stride..][cols.clone()];
                for (q, src) in src.chunks(nr).enumerate() {
                    let dst = &mut buf[(q * kc + dp) * nr..][..nr];
                    if src.len() == nr {
                        dst.copy_from_slice(src);
                    } else {
                        dst[..src.len()].copy_from_slice(src);
                        dst[src.len()..].fill(0.0);
                    }
                }
            }
            return;
        }
        // any other layout: a column of B at a time, along its stride
        for (q, panel) in buf.chunks_exact_mut(kc * nr).take(panels).enumerate() {
            let j = cols.start + q * nr;
            let width = (cols.end - j).min(nr);
            for t in 0..nr {
                if t < width {
                    let col = &b.data[(j + t) * b.col_stride..];
                    for (p, dst) in rows.clone().zip(panel.chunks_exact_mut(nr)) {
                        dst[t] = col[p * b.row_stride];
                    }
                } else {
                    for dst in panel.chunks_exact_mut(nr) {
                        dst[t] = 0.0;
                    }
                }
            }
        }
    }

    /// `Σ_p x(r, p) · panel[p]` for ROWS rows, in registers: each row of
    /// the panel (W registers, rows `panel_row` floats apart) loaded once
    /// and multiplied by each row's element `x(r, p)`, broadcast.
    ///
    /// # Safety
    /// `panel` is valid for reading `kc` rows of W registers, and `x` for
    /// rows `0..ROWS` and columns `0..kc`.
    #[inline(always)]
    unsafe fn microkernel<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        (kc, panel_row): (usize, usize),
        panel: *const f32,
        x: impl Fn(usize, usize) -> f32,
    ) -> [[S::V; W]; ROWS] {
        let mut acc = [[s.zero(); W]; ROWS];
        let mut bp = panel;
        for p in 0..kc {
            let mut bv = [s.zero(); W];
            for (w, bv_w) in bv.iter_mut().enumerate() {
                // SAFETY: row p < kc of the panel (the caller's).
                *bv_w = unsafe { s.load(bp.add(w * S::LANES)) };
            }
            fmadd_rows(s, &mut acc, |r| x(r, p), bv);
            bp = bp.wrapping_add(panel_row);
        }
        acc
    }

    /// One panel of packed B against rows of A: what a microkernel call
    /// needs besides its rows.
    #[derive(Clone, Copy)]
    struct Tile<'a> {
        a: Mat<'a>,
        /// The first of A's columns (B's rows) in the panel.
        pc: usize,
        /// Rows of the panel.
        kc: usize,
        panel: &'a [f32],
        /// Floats from one row of the panel to the next: `W · LANES` when
        /// packed, B's row stride when read in place.
        panel_row: usize,
        /// The first of C's columns.
        j: usize,
        /// C's columns from `j`, at most the panel's.
        width: usize,
        ldc: usize,
        /// Store into C rather than add to it.
        overwrite: bool,
    }

    impl Tile<'_> {
        /// [`Tile::run`] for all `m` rows of C, in blocks of `MR` rows or
        /// fewer, as even as they go.
        #[inline(always)]
        fn rows<S: Simd, const MR: usize, const W: usize>(self, s: S, c: &mut [f32], m: usize) {
            let blocks = m.div_ceil(MR);
            let mut i = 0;
            for block in 0..blocks {
                let rows = m / blocks + usize::from(block < m % blocks);
                match rows {
                    1 => self.run::<S, 1, W>(s, c, i),
                    2 => self.run::<S, 2, W>(s, c, i),
                    3 => self.run::<S, 3, W>(s, c, i),
                    4 => self.run::<S, 4, W>(s, c, i),
                    5 => self.run::<S, 5, W>(s, c, i),
                    6 => self.run::<S, 6, W>(s, c, i),
                    7 => self.run::<S, 7, W>(s, c, i),
                    _ => {
                        assert!(rows == MR && MR <= 8, "blocks of 1 to 8 rows");
                        self.run::<S, MR, W>(s, c, i)
                    }
                }
                i += rows;
            }
        }

        /// `C[i..i+ROWS, j..j+width] (+)= A[i..i+ROWS, pc..pc+kc] · panel`:
        /// a block of ROWS × W registers of C in registers, each row of the
        /// panel loaded once and multiplied by each row's broadcast element.
        #[inline(always)]
        fn run<S: Simd, const ROWS: usize, const W: usize>(self, s: S, c: &mut [f32], i: usize) {
            let l = S::LANES;
            let reach = self.kc.saturating_sub(1) * self.panel_row + W * l;
            assert!(self.kc == 0 || self.panel.len() >= reach);
            assert!((i + ROWS) * self.ldc <= c.len() && self.j + self.width <= self.ldc);
            let (a, kc, panel) = (self.a, (self.kc, self.panel_row), self.panel.as_ptr());
            let (rs, cs) = (a.row_stride, a.col_stride);
            // SAFETY: the panel holds kc rows of W registers (asserted);
            // rows i..i+ROWS and columns pc..pc+kc of A lie inside the view
            // that `gemm` bounds-checked.
            let acc = unsafe {
                let ap = a.data.as_ptr().add(i * rs + self.pc * cs);
                // A's element (i + r, pc + p) by the layouts the layers
                // make, each addressed without a multiplication per row
                if cs == 1 {
                    let row: [*const f32; ROWS] = core::array::from_fn(|r| ap.add(r * rs));
                    microkernel::<S, ROWS, W>(s, kc, panel, |r, p| *row[r].add(p))
                } else if rs == 1 {
                    microkernel::<S, ROWS, W>(s, kc, panel, |r, p| *ap.add(p * cs + r))
                } else {
                    microkernel::<S, ROWS, W>(s, kc, panel, |r, p| *ap.add(r * rs + p * cs))
                }
            };
            let cp = c.as_mut_ptr();
            // register w of row r, past C's row when w · LANES ≥ width:
            // masked off then, never dereferenced
            let at = |r: usize, w: usize| cp.wrapping_add((i + r) * self.ldc + self.j + w * l);
            if self.width == W * l {
                // SAFETY: rows i..i+ROWS and columns j..j+W·LANES lie inside
                // C (asserted).
                unsafe { self.write(s, &acc, at, [None; W]) };
            } else {
                let lanes: [Option<S::Mask>; W] = core::array::from_fn(|w| {
                    Some(s.first(self.width.saturating_sub(w * l).min(l)))
                });
                // SAFETY: rows i..i+ROWS of C exist, and the masks enable
                // columns j..j+width only, inside C's rows (asserted).
                unsafe { self.write(s, &acc, at, lanes) };
            }
        }

        /// Stores or adds `acc` into C.
        ///
        /// # Safety
        /// As [`add_into`].
        #[inline(always)]
        unsafe fn write<S: Simd, const ROWS: usize, const W: usize>(
            self,
            s: S,
            acc: &[[S::V; W]; ROWS],
            at: impl Fn(usize, usize) -> *mut f32,
            lanes: [Option<S::Mask>; W],
        ) {
            if self.overwrite {
                for (r, acc_r) in acc.iter().enumerate() {
                    for (w, &acc_rw) in acc_r.iter().enumerate() {
                        // SAFETY: `at(r, w)` is valid for writing the lanes
                        // `lanes[w]` (the caller's).
                        unsafe { store(s, lanes[w], at(r, w), acc_rw) };
                    }
                }
            } else {
                // SAFETY: as promised by the caller.
                unsafe { add_into(s, acc, at, lanes) };
            }
        }
    }

    /// The kernels for AVX-512's 32 registers: axpy in blocks of 8 rows ×
    /// 2 registers of columns (16 accumulators), dot products 4 × 4 at a
    /// time with the last `k % LANES` terms in masked lanes.
    #[inline(always)]
    pub fn product_wide<S: Simd>(s: S, a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
        if b.col_stride == 1 {
            for cols in panels(a.cols, b.cols) {
                in_row_blocks!(
                    a.rows,
                    [8, 7, 6, 5, 4, 3, 2, 1],
                    axpy_rows(s, a, b, c, cols.clone())
                );
            }
        } else if a.col_stride == 1 && b.row_stride == 1 {
            dot::<S, 4, true>(s, a, b, c);
        } else {
            naive::<true>(a, b, c);
        }
    }

    /// The column panels of the axpy kernels: `0..n` in runs of
    /// [`panel_width`](super::panel_width).
    #[inline(always)]
    fn panels(k: usize, n: usize) -> impl Iterator<Item = core::ops::Range<usize>> {
        let width = super::panel_width(k);
        (0..n)
            .step_by(width)
            .map(move |start| start..(start + width).min(n))
    }

    /// B's rows contiguous: rows `i..i+ROWS` of C, columns `cols`, in
    /// blocks of two registers of columns, then one, then one masked.
    #[inline(always)]
    fn axpy_rows<S: Simd, const ROWS: usize>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        cols: core::ops::Range<usize>,
        i: usize,
    ) {
        // C's row stride is B's full width; this call covers columns `cols`
        let (ldc, n, l) = (b.cols, cols.end, S::LANES);
        let mut j = cols.start;
        // one or two rows (a vector times a matrix: a dense layer or a
        // recurrent step on one sample): wider blocks, so that enough
        // accumulators are in flight to hide the FMAs' latency and each
        // row of B is read in longer runs. Two registers a row, 1 × 128 ·
        // 128 × 512 took 6.5 µs (10 G multiply-adds/s); eight, 3.0 µs (22)
        if ROWS <= 2 {
            let w = 8 / ROWS;
            while j + w * l <= n {
                // SAFETY: rows i..i+ROWS ≤ m, columns j..j+w·LANES ≤ n:
                // inside A, B and C (checked by `gemm`).
                unsafe {
                    if ROWS == 1 {
                        axpy_block::<S, ROWS, 8>(s, a, b, c, ldc, i, j, [None; 8])
                    } else {
                        axpy_block::<S, ROWS, 4>(s, a, b, c, ldc, i, j, [None; 4])
                    }
                };
                j += w * l;
            }
        }
        while j + 2 * l <= n {
            // SAFETY: rows i..i+ROWS ≤ m, columns j..j+2·LANES ≤ n: inside
            // A, B and C (checked by `gemm`).
            unsafe { axpy_block::<S, ROWS, 2>(s, a, b, c, ldc, i, j, [None, None]) };
            j += 2 * l;
        }
        if j + l <= n {
            // SAFETY: as above, with columns j..j+LANES ≤ n.
            unsafe { axpy_block::<S, ROWS, 1>(s, a, b, c, ldc, i, j, [None]) };
            j += l;
        }
        if j < n {
            let mask = s.first(n - j);
            // SAFETY: as above; the mask enables columns j..n only, n − j <
            // LANES.
            unsafe { axpy_block::<S, ROWS, 1>(s, a, b, c, ldc, i, j, [Some(mask)]) };
        }
    }

    /// `C[i.., j..] += A[i.., ..] · B[.., j..]` for ROWS rows and W
    /// registers of columns from `j`, register `w` with lanes `lanes[w]`:
    /// each row of B loaded once and multiplied by every row's element.
    ///
    /// # Safety
    /// Rows `i..i+ROWS` of A and C exist, and the lanes of the W registers
    /// from column `j` lie inside B's and C's rows.
    #[inline(always)]
    unsafe fn axpy_block<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
        ldc: usize,
        i: usize,
        j: usize,
        lanes: [Option<S::Mask>; W],
    ) {
        let mut acc = [[s.zero(); W]; ROWS];
        for p in 0..a.cols {
            // SAFETY: row p < k of B and rows i..i+ROWS of A exist, and the
            // registers' lanes from column j lie inside B's rows (the
            // caller's).
            unsafe {
                let bp = b.data.as_ptr().add(p * b.row_stride + j);
                let mut bv = [s.zero(); W];
                for (w, bv_w) in bv.iter_mut().enumerate() {
                    *bv_w = load(s, lanes[w], bp.add(w * S::LANES));
                }
                fmadd_rows(
                    s,
                    &mut acc,
                    |r| {
                        *a.data
                            .get_unchecked((i + r) * a.row_stride + p * a.col_stride)
                    },
                    bv,
                );
            }
        }
        let cp = c.as_mut_ptr();
        // SAFETY: rows i..i+ROWS of C exist and the registers' lanes from
        // column j lie inside them (the caller's).
        unsafe {
            add_into(
                s,
                &acc,
                |r, w| cp.add((i + r) * ldc + j + w * S::LANES),
                lanes,
            )
        };
    }

    /// A's rows and Bᵀ's rows contiguous: MR × 4 dot products at a time,
    /// each with `LANES` partial sums. The last `k % LANES` terms of each
    /// go, with `MASK_TAIL`, into the partial sums through masked loads,
    /// and without it, one by one onto the sum of the lanes.
    #[inline(always)]
    fn dot<S: Simd, const MR: usize, const MASK_TAIL: bool>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        c: &mut [f32],
    ) {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let body = k / S::LANES * S::LANES;
        for i in (0..m).step_by(MR) {
            let rows = (m - i).min(MR);
            for j in (0..n).step_by(4) {
                let cols = (n - j).min(4);
                // rows and columns past the end repeat the last one; their
                // sums are computed and dropped
                let ar: [usize; MR] =
                    core::array::from_fn(|r| (i + r.min(rows - 1)) * a.row_stride);
                let bc: [usize; 4] = core::array::from_fn(|t| (j + t.min(cols - 1)) * b.col_stride);
                let mut acc = [[s.zero(); 4]; MR];
                let mut p = 0;
                while p < body {
                    // SAFETY: p + LANES ≤ k, and ar/bc start rows of A and
                    // Bᵀ that lie inside the views.
                    unsafe { dot_block(s, a, b, &ar, &bc, p, None, &mut acc) };
                    p += S::LANES;
                }
                if MASK_TAIL && p < k {
                    let mask = s.first(k - p);
                    // SAFETY: as above, the mask enabling lanes p..k only.
                    unsafe { dot_block(s, a, b, &ar, &bc, p, Some(mask), &mut acc) };
                }
                for r in 0..rows {
                    for t in 0..cols {
                        let mut sum = s.sum(acc[r][t]);
                        if !MASK_TAIL {
                            for q in body..k {
                                sum = madd::<true>(sum, a.data[ar[r] + q], b.data[bc[t] + q]);
                            }
                        }
                        c[(i + r) * n + j + t] += sum;
                    }
                }
            }
        }
    }

    /// `acc[r][t] += A[ar[r] + p..] · Bᵀ[bc[t] + p..]`, lane by lane, over
    /// one register of lanes `lanes`.
    ///
    /// # Safety
    /// Those lanes from `ar[r] + p` and `bc[t] + p` lie inside A's and B's
    /// data.
    #[inline(always)]
    unsafe fn dot_block<S: Simd, const MR: usize>(
        s: S,
        a: Mat<'_>,
        b: Mat<'_>,
        ar: &[usize; MR],
        bc: &[usize; 4],
        p: usize,
        lanes: Option<S::Mask>,
        acc: &mut [[S::V; 4]; MR],
    ) {
        // SAFETY: the lanes read from `ar[r] + p` and `bc[t] + p` lie inside
        // A's and B's data (the caller's).
        unsafe {
            let mut x = [s.zero(); MR];
            for (x_r, &ar_r) in x.iter_mut().zip(ar) {
                *x_r = load(s, lanes, a.data.as_ptr().add(ar_r + p));
            }
            for (t, &bc_t) in bc.iter().enumerate() {
                let y = load(s, lanes, b.data.as_ptr().add(bc_t + p));
                for (acc_r, &x_r) in acc.iter_mut().zip(&x) {
                    acc_r[t] = s.fmadd(x_r, y, acc_r[t]);
                }
            }
        }
    }

    /// [`super::gemm_conv`] in blocks of 8 rows of A: for AVX-512's 32
    /// registers (16 accumulators).
    #[inline(always)]
    ///
    /// # Safety
    /// As [`conv_axpy_rows`].
    pub unsafe fn conv<S: Simd>(
        s: S,
        a: Mat<'_>,
        padded: &[f32],
        rows: ConvRows,
        cols: Columns,
        c: *mut f32,
        onto: Onto<'_>,
        runs: core::ops::Range<usize>,
    ) {
        in_row_blocks!(
            a.rows,
            [8, 7, 6, 5, 4, 3, 2, 1],
            conv_axpy_rows(s, a, padded, rows, cols, c, onto, runs.clone())
        );
    }

    /// [`super::gemm_conv`] for AVX2's 16 registers: ⌈m / 6⌉ blocks of
    /// rows of A as even as can be (12 accumulators), each in a function of
    /// its own ([`Simd::apart`]), as in [`packed`].
    #[inline(always)]
    ///
    /// # Safety
    /// As [`conv_axpy_rows`].
    pub unsafe fn conv_narrow<S: Simd>(
        s: S,
        a: Mat<'_>,
        padded: &[f32],
        rows: ConvRows,
        cols: Columns,
        c: *mut f32,
        onto: Onto<'_>,
        runs: core::ops::Range<usize>,
    ) {
        even_row_blocks::<6>(a.rows, |n, i| {
            s.apart(
                #[inline(always)]
                || match n {
                    1 => conv_axpy_rows::<S, 1>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                    2 => conv_axpy_rows::<S, 2>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                    3 => conv_axpy_rows::<S, 3>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                    4 => conv_axpy_rows::<S, 4>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                    5 => conv_axpy_rows::<S, 5>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                    _ => conv_axpy_rows::<S, 6>(s, a, padded, rows, cols, c, onto, runs.clone(), i),
                },
            )
        });
    }

    /// Calls `f(rows, first row)` for `⌈m / MR⌉` blocks of rows as even as
    /// can be: 16 rows as 6 + 5 + 5, not 6 + 6 + 4, whose last block has
    /// too few accumulators to hide the latency of its multiply-adds.
    #[inline(always)]
    fn even_row_blocks<const MR: usize>(m: usize, mut f: impl FnMut(usize, usize)) {
        let blocks = m.div_ceil(MR);
        let mut i = 0;
        for block in 0..blocks {
            let rows = m / blocks + usize::from(block < m % blocks);
            f(rows, i);
            i += rows;
        }
    }

    /// [`super::gemm_conv_lanes`]: each output row in blocks of up to 12
    /// positions, one register of output channels each.
    ///
    /// # Safety
    /// As [`lanes_block`].
    #[inline(always)]
    pub unsafe fn conv_lanes<S: Simd>(
        s: S,
        w_t: &[f32],
        padded: &[f32],
        rows: ConvRows,
        (oh, ow): (usize, usize),
        c: *mut f32,
        onto: Onto<'_>,
    ) {
        for oy in 0..oh {
            // SAFETY: as promised by the caller.
            unsafe {
                in_row_blocks!(
                    ow,
                    [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
                    lanes_block(s, w_t, padded, rows, (oy, ow), c, onto)
                );
            }
        }
    }

    /// Positions `ox..ox+N` of output row `oy`, all `LANES` output
    /// channels: `C[p, ..] = onto + Σ_k Patches[k, p] · Wᵀ[k, ..]`, each
    /// input value broadcast against a row of `Wᵀ` (`[K, LANES]`), the
    /// patch rows in the order [`ConvRun::sum`] walks them, so that every
    /// value is the same sum as there.
    ///
    /// # Safety
    /// `w_t` holds `K · LANES` floats; every patch row's offset plus the
    /// positions lies inside `padded`; `c` is valid for writing `LANES`
    /// floats at each position `oy · ow + ox + j`; the bias, scale and
    /// shift hold `LANES` floats.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn lanes_block<S: Simd, const N: usize>(
        s: S,
        w_t: &[f32],
        padded: &[f32],
        rows: ConvRows,
        (oy, ow): (usize, usize),
        c: *mut f32,
        onto: Onto<'_>,
        ox: usize,
    ) {
        let l = S::LANES;
        // SAFETY: as promised by the caller.
        unsafe {
            let mut acc = [[s.zero(); 1]; N];
            let mut w = w_t.as_ptr();
            let mut plane = padded.as_ptr().add(oy * rows.row + ox);
            for _ in 0..rows.channels {
                let mut row = plane;
                for _ in 0..rows.kh {
                    for v in 0..rows.kw {
                        let x = row.add(v);
                        fmadd_rows(s, &mut acc, |j| *x.add(j), [s.load(w)]);
                        w = w.add(l);
                    }
                    row = row.wrapping_add(rows.row);
                }
                plane = plane.wrapping_add(rows.plane);
            }
            let at = |j: usize, _| c.add((oy * ow + ox + j) * l);
            let lanes = [None];
            let vector = |v: &[f32]| s.load(v.as_ptr());
            match onto {
                Onto::C => add_into(s, &acc, at, lanes),
                Onto::Bias(bias) => store_onto(s, &acc, at, lanes, |_| vector(bias)),
                Onto::Zero => store_onto(s, &acc, at, lanes, |_| s.zero()),
                Onto::Affine { scale, shift, relu } => {
                    store_affine(s, &acc, at, lanes, |_| (vector(scale), vector(shift)), relu)
                }
            }
        }
    }

    /// [`super::gemm_conv_weight`] in blocks of 8 patch rows: for
    /// AVX-512's 32 registers.
    #[inline(always)]
    pub fn conv_weight<S: Simd>(
        s: S,
        padded: &[f32],
        rows: ConvRows,
        out: (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
    ) {
        in_row_blocks!(
            rows.channels * rows.kh * rows.kw,
            [8, 7, 6, 5, 4, 3, 2, 1],
            conv_weight_rows(s, padded, rows, out, b, n, c)
        );
    }

    /// [`super::gemm_conv_weight`] for AVX2's 16 registers: even blocks of
    /// at most 6 patch rows, each in a function of its own.
    #[inline(always)]
    pub fn conv_weight_narrow<S: Simd>(
        s: S,
        padded: &[f32],
        rows: ConvRows,
        out: (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
    ) {
        let k = rows.channels * rows.kh * rows.kw;
        even_row_blocks::<6>(k, |m, i| {
            s.apart(
                #[inline(always)]
                || match m {
                    1 => conv_weight_rows::<S, 1>(s, padded, rows, out, b, n, c, i),
                    2 => conv_weight_rows::<S, 2>(s, padded, rows, out, b, n, c, i),
                    3 => conv_weight_rows::<S, 3>(s, padded, rows, out, b, n, c, i),
                    4 => conv_weight_rows::<S, 4>(s, padded, rows, out, b, n, c, i),
                    5 => conv_weight_rows::<S, 5>(s, padded, rows, out, b, n, c, i),
                    _ => conv_weight_rows::<S, 6>(s, padded, rows, out, b, n, c, i),
                },
            )
        });
    }

    /// [`super::gemm_conv`]: the axpy kernel with B's row `(c, u, v)` read
    /// from the padded input at its offset, two runs of (at most) `LANES`
    /// columns at a time, one register each; whole runs with plain loads
    /// and stores, a ragged pair with masked ones. Only the runs `runs`
    /// (from an even one), so that threads can share the columns.
    ///
    /// # Safety
    /// `c` points to C, `a.rows` rows of `cols.width()`, and `gemm_conv`'s
    /// checks hold; no other thread writes the columns of `runs`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn conv_axpy_rows<S: Simd, const ROWS: usize>(
        s: S,
        a: Mat<'_>,
        padded: &[f32],
        rows: ConvRows,
        cols: Columns,
        c: *mut f32,
        onto: Onto<'_>,
        runs: core::ops::Range<usize>,
        i: usize,
    ) {
        assert_eq!(cols.run(), S::LANES, "runs of one register");
        let (halves, ldc, l) = (runs.end.min(cols.halves()), cols.width(), S::LANES);
        let mut h = runs.start;
        while h < halves {
            let (src0, dst0, len0) = cols.half(h, rows.row);
            let (src1, dst1, len1) = if h + 1 < halves {
                cols.half(h + 1, rows.row)
            } else {
                (0, 0, 0)
            };
            let run = ConvRun {
                src: [src0, src1],
                dst: [dst0, dst1],
                ldc,
                i,
            };
            // SAFETY: rows i..i+ROWS of A and C exist; the lanes enabled
            // are the runs' columns only, which lie inside C's rows and,
            // read from every patch row's offset, inside `padded` (checked
            // by `gemm_conv`); masked-off lanes touch no memory.
            unsafe {
                if len0 == l && len1 == l {
                    run.add::<S, ROWS>(s, a, padded, rows, c, onto, [None, None]);
                } else {
                    let lanes = [Some(s.first(len0)), Some(s.first(len1))];
                    run.add::<S, ROWS>(s, a, padded, rows, c, onto, lanes);
                }
            }
            h += 2;
        }
    }

    /// Two runs of columns of [`conv_axpy_rows`]: where they start in the
    /// padded grid and in C.
    #[derive(Clone, Copy)]
    struct ConvRun {
        src: [usize; 2],
        dst: [usize; 2],
        ldc: usize,
        i: usize,
    }

    impl ConvRun {
        /// `C[i..i+ROWS, runs] = onto + A[i..i+ROWS, ..] · Patches[.., runs]`.
        ///
        /// # Safety
        /// Rows `i..i+ROWS` of A and C (and of the bias) exist; the lanes
        /// `lanes[w]` of run `w` lie inside C's rows and, from every patch
        /// row's offset, inside `padded`.
        #[allow(clippy::too_many_arguments)]
        #[inline(always)]
        unsafe fn add<S: Simd, const ROWS: usize>(
            self,
            s: S,
            a: Mat<'_>,
            padded: &[f32],
            rows: ConvRows,
            c: *mut f32,
            onto: Onto<'_>,
            lanes: [Option<S::Mask>; 2],
        ) {
            let i = self.i;
            // SAFETY: as promised by the caller.
            unsafe {
                let ap = a.data.as_ptr().add(i * a.row_stride);
                // A's element (i + r, p): with rows contiguous (as the
                // layers' weights are), from a pointer to each row, with
                // no multiplication per element
                let acc = if a.col_stride == 1 {
                    let row: [*const f32; ROWS] =
                        core::array::from_fn(|r| ap.add(r * a.row_stride));
                    self.sum::<S, ROWS>(s, padded, rows, lanes, |r, p| *row[r].add(p))
                } else {
                    let (rs, cs) = (a.row_stride, a.col_stride);
                    self.sum::<S, ROWS>(s, padded, rows, lanes, |r, p| *ap.add(r * rs + p * cs))
                };
                let (dst, ldc) = (self.dst, self.ldc);
                let at = |r: usize, w: usize| c.add((i + r) * ldc + dst[w]);
                match onto {
                    Onto::C => add_into(s, &acc, at, lanes),
                    Onto::Bias(bias) => {
                        store_onto(s, &acc, at, lanes, |r| s.splat(*bias.get_unchecked(i + r)))
                    }
                    Onto::Zero => store_onto(s, &acc, at, lanes, |_| s.zero()),
                    Onto::Affine { scale, shift, relu } => {
                        let affine = |r: usize| {
                            let (a, b) = (scale.get_unchecked(i + r), shift.get_unchecked(i + r));
                            (s.splat(*a), s.splat(*b))
                        };
                        store_affine(s, &acc, at, lanes, affine, relu)
                    }
                }
            }
        }

        /// `Σ_p x(r, p) · Patches[p, runs]` for ROWS rows, in registers,
        /// the patch rows walked channel by channel, kernel row by kernel
        /// row.
        ///
        /// # Safety
        /// `x` is valid for rows `0..ROWS` and every patch row `p`; the
        /// lanes `lanes[w]` of run `w` lie inside `padded` from every patch
        /// row's offset.
        #[inline(always)]
        unsafe fn sum<S: Simd, const ROWS: usize>(
            self,
            s: S,
            padded: &[f32],
            rows: ConvRows,
            lanes: [Option<S::Mask>; 2],
            x: impl Fn(usize, usize) -> f32,
        ) -> [[S::V; 2]; ROWS] {
            // 3×3 unrolled: ResNet-20's convs ran 9–15 % faster in the
            // network (`cargo bench --bench inference`); unrolled 5×5 ran
            // LeNet-5's first conv (one input channel) at 37 GFLOP/s
            // instead of 48, and its second no faster
            // SAFETY: as promised by the caller.
            unsafe {
                if rows.kh == 3 && rows.kw == 3 {
                    self.sum_window::<S, ROWS, 3, 3>(s, padded, rows, lanes, x)
                } else {
                    self.sum_window::<S, ROWS, 0, 0>(s, padded, rows, lanes, x)
                }
            }
        }

        /// [`ConvRun::sum`] for a `KH × KW` window known when compiling
        /// (its taps unrolled), or any window when `KH = KW = 0`.
        ///
        /// # Safety
        /// As [`ConvRun::sum`]; a nonzero `KH × KW` is the window's.
        #[inline(always)]
        unsafe fn sum_window<S: Simd, const ROWS: usize, const KH: usize, const KW: usize>(
            self,
            s: S,
            padded: &[f32],
            rows: ConvRows,
            lanes: [Option<S::Mask>; 2],
            x: impl Fn(usize, usize) -> f32,
        ) -> [[S::V; 2]; ROWS] {
            let (kh, kw) = if KH == 0 {
                (rows.kh, rows.kw)
            } else {
                (KH, KW)
            };
            let mut acc = [[s.zero(); 2]; ROWS];
            let mut p = 0;
            let mut plane = padded.as_ptr();
            for _ in 0..rows.channels {
                let mut row = plane;
                for _ in 0..kh {
                    for v in 0..kw {
                        // SAFETY: as promised by the caller.
                        let bv = unsafe {
                            let bp = row.add(v);
                            [
                                load(s, lanes[0], bp.add(self.src[0])),
                                load(s, lanes[1], bp.add(self.src[1])),
                            ]
                        };
                        fmadd_rows(s, &mut acc, |r| x(r, p), bv);
                        p += 1;
                    }
                    row = row.wrapping_add(rows.row);
                }
                plane = plane.wrapping_add(rows.plane);
            }
            acc
        }
    }

    /// [`super::gemm_conv_weight`]: blocks of ROWS patch rows × two
    /// registers of columns of C (one where the columns left fit one),
    /// each patch element broadcast against a row of B; whole registers
    /// with plain loads and stores, the last columns masked.
    #[inline(always)]
    fn conv_weight_rows<S: Simd, const ROWS: usize>(
        s: S,
        padded: &[f32],
        rows: ConvRows,
        out: (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
        i: usize,
    ) {
        let l = S::LANES;
        let mut offsets = [0; ROWS];
        for (r, offset) in offsets.iter_mut().enumerate() {
            *offset = rows.patch_offset(i + r);
        }
        let mut j = 0;
        while j < n {
            let width = (n - j).min(2 * l);
            // SAFETY: patch rows i..i+ROWS exist and each reads at most
            // (OH − 1)·WP + OW floats from its offset, inside `padded`; B has
            // OH·OW rows of n, C has K rows of n, and the lanes enabled are
            // columns j..j+width ≤ n only (checked by `gemm_conv_weight`).
            unsafe {
                let grid_row = rows.row;
                if width == 2 * l {
                    weight_block::<S, ROWS, 2>(
                        s,
                        padded,
                        grid_row,
                        &offsets,
                        out,
                        b,
                        n,
                        c,
                        i,
                        j,
                        [None, None],
                    );
                } else if width <= l {
                    // one register: a second, all lanes off, still cost its
                    // multiply-adds (LeNet-5's second conv, 16 channels:
                    // half of them)
                    let lanes = [(width < l).then(|| s.first(width))];
                    weight_block::<S, ROWS, 1>(
                        s, padded, grid_row, &offsets, out, b, n, c, i, j, lanes,
                    );
                } else {
                    let lanes = [Some(s.first(l)), Some(s.first(width - l))];
                    weight_block::<S, ROWS, 2>(
                        s, padded, grid_row, &offsets, out, b, n, c, i, j, lanes,
                    );
                }
            }
            j += 2 * l;
        }
    }

    /// `C[i..i+ROWS, j..j+W·LANES] += Patches[i..i+ROWS, ..] · B[.., j..]`
    /// over the lanes `lanes` of W registers, the patch rows read from
    /// `offsets` in the padded input, `OW` of each grid row `grid_row` wide.
    ///
    /// # Safety
    /// As [`conv_weight_rows`] checks: every patch row's `OH` grid rows lie
    /// inside `padded`, and the lanes of B's and C's registers inside their
    /// rows.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn weight_block<S: Simd, const ROWS: usize, const W: usize>(
        s: S,
        padded: &[f32],
        grid_row: usize,
        offsets: &[usize; ROWS],
        (oh, ow): (usize, usize),
        b: &[f32],
        n: usize,
        c: &mut [f32],
        i: usize,
        j: usize,
        lanes: [Option<S::Mask>; W],
    ) {
        let l = S::LANES;
        // SAFETY: as promised by the caller.
        unsafe {
            let mut acc = [[s.zero(); W]; ROWS];
            let mut bp = b.as_ptr().add(j);
            for y in 0..oh {
                // each patch row's grid row y, walked along x
                let mut pa = [padded.as_ptr(); ROWS];
                for (pa_r, &offset) in pa.iter_mut().zip(offsets) {
                    *pa_r = pa_r.add(offset + y * grid_row);
                }
                for _ in 0..ow {
                    // lanes past the end of a row of B are masked off,
                    // never dereferenced
                    let bv: [S::V; W] =
                        core::array::from_fn(|w| load(s, lanes[w], bp.wrapping_add(w * l)));
                    let x = |r: usize| {
                        let v = *pa[r];
                        pa[r] = pa[r].add(1);
                        v
                    };
                    fmadd_rows(s, &mut acc, x, bv);
                    bp = bp.wrapping_add(n);
                }
            }
            let cp = c.as_mut_ptr();
            // lanes past the end of a row of C are masked off, never
            // dereferenced
            let at = |r: usize, w: usize| cp.add((i + r) * n + j).wrapping_add(w * l);
            add_into(s, &acc, at, lanes);
        }
    }
}

/// Rows of B (columns of A) in a packed block at most: `k` is split into
/// `⌈k / KC⌉` blocks as even as can be.
const KC: usize = 256;

/// Rows of A a block of the packed product runs against each panel of B
/// before the next panel.
const MC: usize = 72;

/// Floats of packed B each thread keeps: `kc` rows of as many panels as
/// fit.
const PACKED_LEN: usize = 32 * 1024;

/// The packed B of [`x86::packed`]; see the module docs.
struct PackedB([f32; PACKED_LEN]);

thread_local! {
    /// Packed B, made with the thread (a constant, zero, with nothing to
    /// drop: no allocation, ever) and reused by every product on it.
    static PACKED_B: core::cell::RefCell<PackedB> =
        const { core::cell::RefCell::new(PackedB([0.0; PACKED_LEN])) };
}

/// Columns of B per panel in the vectorised axpy kernels: a panel of
/// `k × width` floats stays within about 256 KB (L2), so each row block
/// reads it from cache; a multiple of 32, the widest column block.
fn panel_width(k: usize) -> usize {
    ((65_536 / k.max(1)) / 32).max(1) * 32
}

/// Columns of B that [`gemm_in_place_b`] reads per panel on this CPU:
/// two vector registers (32 with AVX-512, 16 otherwise).
pub fn panel_columns() -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        return 32;
    }
    16
}

/// `c[m × n] = a · b`, stored in rows `ldc` floats apart, with B `[k × n]`
/// read in place from rows `ldb` floats apart: no packing, for a B its
/// maker lays out as the microkernel reads it. `ldb` is at least `n`
/// rounded up to [`panel_columns`]; the columns between are read and their
/// products dropped.
///
/// # Panics
/// If a matrix is smaller than its sizes say.
pub fn gemm_in_place_b(
    a: Mat<'_>,
    (b, ldb): (&[f32], usize),
    (c, ldc): (&mut [f32], usize),
    n: usize,
) {
    let (m, k) = (a.rows, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    let width = n.div_ceil(panel_columns()) * panel_columns();
    assert!(ldb >= width && ldc >= n, "gemm_in_place_b: rows too short");
    assert!(
        k == 0 || product_of(&[k - 1, ldb]).and_then(|r| r.checked_add(width)) <= Some(b.len()),
        "gemm_in_place_b: B out of bounds"
    );
    assert!(
        product_of(&[m - 1, ldc]).and_then(|r| r.checked_add(n)) <= Some(c.len()),
        "gemm_in_place_b: C out of bounds"
    );
    assert!(a.in_bounds(), "gemm_in_place_b: A out of bounds");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        #[target_feature(enable = "avx512f")]
        fn run(a: Mat<'_>, b: (&[f32], usize), c: (&mut [f32], usize), n: usize) {
            // SAFETY: the sizes are checked by the caller.
            unsafe { x86::in_place_b::<_, 6, 2>(x86::Avx512::new(), a, b, c, n) }
        }
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { run(a, (b, ldb), (c, ldc), n) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn run(a: Mat<'_>, b: (&[f32], usize), c: (&mut [f32], usize), n: usize) {
            // SAFETY: the sizes are checked by the caller.
            unsafe { x86::in_place_b::<_, 6, 2>(x86::Avx2::new(), a, b, c, n) }
        }
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { run(a, (b, ldb), (c, ldc), n) };
        return;
    }
    for i in 0..m {
        let c = &mut c[i * ldc..][..n];
        c.fill(0.0);
        for p in 0..k {
            let x = a.data[i * a.row_stride + p * a.col_stride];
            c.iter_mut()
                .zip(&b[p * ldb..][..n])
                .for_each(|(c, b)| *c = x.mul_add(*b, *c));
        }
    }
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
    /// are inside it, `None` where that overflows (a window of no rows
    /// needs nothing).
    fn checked_needed(&self, n: usize) -> Option<usize> {
        let last = |count: usize, stride: usize| count.saturating_sub(1).checked_mul(stride);
        last(self.channels, self.plane)?
            .checked_add(last(self.kh, self.row)?)?
            .checked_add(self.kw.saturating_sub(1))?
            .checked_add(n)
    }

    /// Patch rows: `channels · KH · KW`, `None` where it overflows.
    fn count(&self) -> Option<usize> {
        product_of(&[self.channels, self.kh, self.kw])
    }
}

/// Whether [`gemm_conv`] has a fast kernel on this CPU (AVX-512, or AVX2
/// with FMA); without one, callers should copy the patches out (im2col)
/// and use [`gemm`].
pub fn conv_rows_fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
            || (std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Columns a run of [`gemm_conv`]'s kernel on this CPU covers: one vector
/// register, 16 with AVX-512 and 8 with AVX2 (16 for the portable loops,
/// to which it makes no difference).
pub fn conv_run() -> usize {
    #[cfg(target_arch = "x86_64")]
    if !std::is_x86_feature_detected!("avx512f") && conv_rows_fast() {
        return 8;
    }
    16
}

/// Whether [`gemm`] packs B on this CPU (AVX2 and FMA without AVX-512): a
/// product `A · B` is then fastest with the small operand as B, and A·Bᵀ
/// with both rows contiguous runs as dot products instead.
pub fn packs_b() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && !std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which positions of the padded grid a [`gemm_conv`] computes, and where
/// in C they go; the kernel works through them in runs of `run` columns
/// (one vector register, [`conv_run`]).
#[derive(Clone, Copy, Debug)]
pub enum Columns {
    /// The first `n` positions of the grid, C's columns one for one: rows
    /// as wide as the padded input, the last `KW − 1` of each past the
    /// real output (the caller drops them).
    Wide { n: usize, run: usize },
    /// Only the real output, `oh` rows of `ow`, written densely: C has
    /// `oh · ow` columns and nothing is computed to be dropped.
    Rows { oh: usize, ow: usize, run: usize },
}

impl Columns {
    /// The cheaper way for this CPU's kernel ([`conv_run`]) to compute an
    /// output of `oh × ow` on a grid with rows `grid_row` wide.
    pub fn for_grid(oh: usize, ow: usize, grid_row: usize) -> Columns {
        Self::for_grid_in_runs(oh, ow, grid_row, conv_run())
    }

    /// The cheaper way to compute an output of `oh × ow` on a grid with
    /// rows `grid_row` wide in runs of `run` columns: `Rows` costs
    /// `oh · ⌈ow / run⌉` runs and `Wide` about `oh · grid_row / run`; on a
    /// tie `Rows`, which also writes the output in place. (With runs of
    /// 16, VGG-mini's 16-wide maps on 18-wide grids take 8 runs a row pair
    /// instead of 9, and LeNet-5's second conv, 10 wide on a 14-wide grid,
    /// stays `Wide`; with runs of 8, ResNet-20's 32-, 16- and 8-wide maps
    /// are all `Rows`, every run whole.)
    pub fn for_grid_in_runs(oh: usize, ow: usize, grid_row: usize, run: usize) -> Columns {
        if ow.div_ceil(run) * run <= grid_row {
            Columns::Rows { oh, ow, run }
        } else {
            Columns::Wide {
                n: oh * grid_row,
                run,
            }
        }
    }

    /// Columns of C.
    ///
    /// # Panics
    /// If that overflows `usize`.
    pub fn width(&self) -> usize {
        self.checked_width()
            .expect("conv columns: the output's size overflows usize")
    }

    fn checked_width(&self) -> Option<usize> {
        match *self {
            Columns::Wide { n, .. } => Some(n),
            Columns::Rows { oh, ow, .. } => oh.checked_mul(ow),
        }
    }

    /// Columns of a run.
    pub fn run(&self) -> usize {
        match *self {
            Columns::Wide { run, .. } | Columns::Rows { run, .. } => run,
        }
    }

    /// Number of runs the kernel works through.
    fn halves(&self) -> usize {
        match *self {
            Columns::Wide { n, run } => n.div_ceil(run),
            Columns::Rows { oh, ow, run } => oh * ow.div_ceil(run),
        }
    }

    /// Run `h`: its first position in the grid, its first column in C,
    /// its length.
    #[inline(always)]
    fn half(&self, h: usize, grid_row: usize) -> (usize, usize, usize) {
        match *self {
            Columns::Wide { n, run } => (run * h, run * h, (n - run * h).min(run)),
            Columns::Rows { ow, run, .. } => {
                let per_row = ow.div_ceil(run);
                let (y, x) = (h / per_row, (h % per_row) * run);
                (y * grid_row + x, y * ow + x, (ow - x).min(run))
            }
        }
    }

    /// Floats past a patch row's offset the runs read, `None` where that
    /// overflows.
    fn reach(&self, grid_row: usize) -> Option<usize> {
        match *self {
            Columns::Wide { n, .. } => Some(n),
            Columns::Rows { oh, ow, .. } if oh > 0 => {
                (oh - 1).checked_mul(grid_row)?.checked_add(ow)
            }
            Columns::Rows { .. } => Some(0),
        }
    }
}

/// C of a product that threads share, each writing columns of its own.
#[derive(Clone, Copy)]
struct Out(*mut f32);

// SAFETY: the threads write disjoint columns through it, and the product
// that made it waits for them all.
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

impl Out {
    /// The pointer (a method, so that closures capture the `Sync` whole).
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// What a [`gemm_conv`] product starts from in C.
#[derive(Clone, Copy, Debug)]
pub enum Onto<'a> {
    /// C's own values: the product is added to them.
    C,
    /// Row `i`'s bias, `bias[i]`: C is overwritten, never read (no pass
    /// filling it first).
    Bias(&'a [f32]),
    /// Zero: C is overwritten, never read.
    Zero,
    /// Row `i` of the product times `scale[i]` plus `shift[i]`, then
    /// `max(·, 0)` when `relu`: C is overwritten, never read. Inference
    /// through a conv's bias, a batch norm and a ReLU while the product is
    /// in registers.
    Affine {
        scale: &'a [f32],
        shift: &'a [f32],
        relu: bool,
    },
}

/// `c[m × cols] = onto + a[m × K] · B`, where B's rows are the patch rows
/// `rows` reads in place from `padded` (`K = channels·KH·KW`) at the
/// positions `cols` picks.
pub fn gemm_conv(
    a: Mat<'_>,
    padded: &[f32],
    rows: ConvRows,
    cols: Columns,
    c: &mut [f32],
    onto: Onto<'_>,
) {
    let k = rows
        .count()
        .expect("gemm_conv: the patch rows overflow usize");
    assert_eq!(
        a.cols, k,
        "gemm_conv: A has {} columns for {k} patch rows",
        a.cols
    );
    if let Columns::Rows { ow, .. } = cols {
        assert!(ow <= rows.row, "gemm_conv: output wider than the grid");
    }
    assert!(
        cols.reach(rows.row)
            .and_then(|reach| rows.checked_needed(reach))
            .is_some_and(|needed| padded.len() >= needed),
        "gemm_conv: padded input too small"
    );
    assert!(
        cols.checked_width()
            .and_then(|width| width.checked_mul(a.rows))
            .is_some_and(|len| c.len() >= len),
        "gemm_conv: output too small"
    );
    assert!(a.rows == 0 || a.in_bounds(), "gemm_conv: A out of bounds");
    match onto {
        Onto::Bias(bias) => assert!(bias.len() >= a.rows, "gemm_conv: bias too short"),
        Onto::Affine { scale, shift, .. } => assert!(
            scale.len() >= a.rows && shift.len() >= a.rows,
            "gemm_conv: scale or shift too short"
        ),
        Onto::C | Onto::Zero => {}
    }
    #[cfg(target_arch = "x86_64")]
    {
        type Kernel = unsafe fn(
            Mat<'_>,
            &[f32],
            ConvRows,
            Columns,
            *mut f32,
            Onto<'_>,
            core::ops::Range<usize>,
        );
        let kernel: Option<Kernel> = if std::is_x86_feature_detected!("avx512f") && cols.run() == 16
        {
            Some(conv_avx512)
        } else if std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && cols.run() == 8
        {
            Some(conv_avx2_fma)
        } else {
            None
        };
        if let Some(kernel) = kernel {
            // the runs in pairs, shared out among the threads of a team
            // lent to this one (one sample's inference on several threads),
            // each writing its own columns of C: in chunks of pairs that
            // each thread takes as it comes for more, because the caller,
            // whose caches hold the padded input, got through an even half
            // sooner (`perf`: the team's thread spent 35 % longer on its
            // half). ResNet-20, one sample on two threads, 400 runs four
            // times on a machine whose second core is shared: with even
            // halves, 10th percentiles 945–980 µs (1,011–1,745 on one
            // thread); in chunks, 748–1,163 (1,023–1,054 on one).
            let (runs, out) = (cols.halves(), Out(c.as_mut_ptr()));
            let pairs = runs.div_ceil(2);
            let next = core::sync::atomic::AtomicUsize::new(0);
            crate::team::split(&|_, n| {
                let chunk = if n == 1 {
                    pairs
                } else {
                    (pairs / (4 * n)).max(1)
                };
                loop {
                    let p = next.fetch_add(chunk, core::sync::atomic::Ordering::Relaxed);
                    if p >= pairs {
                        break;
                    }
                    let mine = 2 * p..(2 * (p + chunk)).min(runs);
                    // SAFETY: the CPU has the kernel's unit (checked
                    // above), `gemm_conv`'s checks hold, and each chunk of
                    // runs goes to one thread.
                    unsafe { kernel(a, padded, rows, cols, out.get(), onto, mine) };
                }
            });
            return;
        }
    }
    conv_portable(a, padded, rows, cols, c, onto);
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
    let k = rows
        .count()
        .expect("gemm_conv_weight: the patch rows overflow usize");
    if k == 0 || oh == 0 || ow == 0 || n == 0 {
        return;
    }
    assert!(
        ow <= rows.row,
        "gemm_conv_weight: output wider than the grid"
    );
    let reach = Columns::Rows { oh, ow, run: 1 }.reach(rows.row);
    assert!(
        reach
            .and_then(|reach| rows.checked_needed(reach))
            .is_some_and(|needed| padded.len() >= needed),
        "gemm_conv_weight: padded input too small"
    );
    assert!(
        product_of(&[oh, ow, n]).is_some_and(|len| b.len() >= len),
        "gemm_conv_weight: B too small"
    );
    assert!(
        product_of(&[k, n]).is_some_and(|len| c.len() >= len),
        "gemm_conv_weight: output too small"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { conv_weight_avx512(padded, rows, (oh, ow), b, n, c) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { conv_weight_avx2_fma(padded, rows, (oh, ow), b, n, c) };
        return;
    }
    conv_weight_portable(padded, rows, (oh, ow), b, n, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
/// [`gemm_conv`]'s runs `runs` with the AVX-512 kernels.
///
/// # Safety
/// As `x86::conv_axpy_rows`.
unsafe fn conv_avx512(
    a: Mat<'_>,
    padded: &[f32],
    rows: ConvRows,
    cols: Columns,
    c: *mut f32,
    onto: Onto<'_>,
    runs: core::ops::Range<usize>,
) {
    // SAFETY: as promised by the caller.
    unsafe { x86::conv(x86::Avx512::new(), a, padded, rows, cols, c, onto, runs) };
}

/// `c[p, ..16] = onto + Σ_k Patches[k, p] · w_t[k, ..16]` for the
/// output positions `p` of an `oh × ow` map (`c` is `[oh·ow, 16]`, the
/// output transposed), the patch rows read in place from `padded` as by
/// [`gemm_conv`], with AVX-512: the 16 output channels on the lanes of one
/// register, so that no lane computes a column to be dropped (a 10-wide
/// output on a 14-wide grid wastes 4 of every 14 of [`gemm_conv`]'s
/// columns). Each value is the same sum, term for term, as
/// [`gemm_conv`]'s. Returns false, doing nothing, where the CPU lacks
/// AVX-512.
///
/// # Panics
/// If a slice is smaller than the sizes say.
pub fn gemm_conv_lanes(
    w_t: &[f32],
    padded: &[f32],
    rows: ConvRows,
    (oh, ow): (usize, usize),
    c: &mut [f32],
    onto: Onto<'_>,
) {
    const LANES: usize = 16;
    let k = rows
        .count()
        .expect("gemm_conv_lanes: the patch rows overflow usize");
    assert!(
        ow <= rows.row,
        "gemm_conv_lanes: output wider than the grid"
    );
    assert!(
        product_of(&[k, LANES]).is_some_and(|len| w_t.len() >= len),
        "gemm_conv_lanes: weights too small"
    );
    let reach = Columns::Rows { oh, ow, run: 1 }.reach(rows.row);
    assert!(
        reach
            .and_then(|reach| rows.checked_needed(reach))
            .is_some_and(|needed| padded.len() >= needed),
        "gemm_conv_lanes: padded input too small"
    );
    assert!(
        product_of(&[oh, ow, LANES]).is_some_and(|len| c.len() >= len),
        "gemm_conv_lanes: output too small"
    );
    match onto {
        Onto::Bias(bias) => assert!(bias.len() >= LANES, "gemm_conv_lanes: bias too short"),
        Onto::Affine { scale, shift, .. } => assert!(
            scale.len() >= LANES && shift.len() >= LANES,
            "gemm_conv_lanes: scale or shift too short"
        ),
        Onto::C | Onto::Zero => {}
    }
    assert!(has_conv_lanes(), "gemm_conv_lanes: the CPU lacks AVX-512");
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX-512F (checked just above), and the sizes were
    // checked against the slices.
    unsafe {
        conv_lanes_avx512(w_t, padded, rows, (oh, ow), c.as_mut_ptr(), onto)
    };
}

/// Whether [`gemm_conv_lanes`] runs on this CPU: it needs AVX-512.
pub fn has_conv_lanes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
/// [`gemm_conv_lanes`] with AVX-512.
///
/// # Safety
/// As `x86::lanes_block`.
unsafe fn conv_lanes_avx512(
    w_t: &[f32],
    padded: &[f32],
    rows: ConvRows,
    out: (usize, usize),
    c: *mut f32,
    onto: Onto<'_>,
) {
    // SAFETY: as promised by the caller.
    unsafe { x86::conv_lanes(x86::Avx512::new(), w_t, padded, rows, out, c, onto) };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn conv_weight_avx512(
    padded: &[f32],
    rows: ConvRows,
    out: (usize, usize),
    b: &[f32],
    n: usize,
    c: &mut [f32],
) {
    x86::conv_weight(x86::Avx512::new(), padded, rows, out, b, n, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
/// [`gemm_conv`]'s runs `runs` with the AVX2 and FMA kernels.
///
/// # Safety
/// As `x86::conv_axpy_rows`.
unsafe fn conv_avx2_fma(
    a: Mat<'_>,
    padded: &[f32],
    rows: ConvRows,
    cols: Columns,
    c: *mut f32,
    onto: Onto<'_>,
    runs: core::ops::Range<usize>,
) {
    // SAFETY: as promised by the caller.
    unsafe { x86::conv_narrow(x86::Avx2::new(), a, padded, rows, cols, c, onto, runs) };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn conv_weight_avx2_fma(
    padded: &[f32],
    rows: ConvRows,
    out: (usize, usize),
    b: &[f32],
    n: usize,
    c: &mut [f32],
) {
    x86::conv_weight_narrow(x86::Avx2::new(), padded, rows, out, b, n, c);
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
fn conv_portable(
    a: Mat<'_>,
    padded: &[f32],
    rows: ConvRows,
    cols: Columns,
    c: &mut [f32],
    onto: Onto<'_>,
) {
    let (k, ldc) = (rows.channels * rows.kh * rows.kw, cols.width());
    for i in 0..a.rows {
        let c = &mut c[i * ldc..(i + 1) * ldc];
        match onto {
            Onto::C => {}
            Onto::Bias(bias) => c.fill(bias[i]),
            Onto::Zero | Onto::Affine { .. } => c.fill(0.0),
        }
        for p in 0..k {
            let x = a.data[i * a.row_stride + p * a.col_stride];
            let src = &padded[rows.patch_offset(p)..];
            for h in 0..cols.halves() {
                let (s, d, len) = cols.half(h, rows.row);
                c[d..][..len]
                    .iter_mut()
                    .zip(&src[s..s + len])
                    .for_each(|(c, s)| *c += x * s);
            }
        }
        if let Onto::Affine { scale, shift, relu } = onto {
            for h in 0..cols.halves() {
                let (_, d, len) = cols.half(h, rows.row);
                for v in &mut c[d..][..len] {
                    *v = affine(*v, (scale[i], shift[i]), relu);
                }
            }
        }
    }
}

/// `v·a + b` rounded once, then clamped at zero when `relu` (a NaN passes
/// through, as the ReLU layer lets it): [`Onto::Affine`] one value at a
/// time, outside the vector kernels.
#[inline(always)]
pub fn affine(v: f32, (a, b): (f32, f32), relu: bool) -> f32 {
    let v = v.mul_add(a, b);
    if relu && v < 0.0 {
        0.0
    } else {
        v
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

    /// `L` lanes in plain Rust with the vector units' semantics (fused
    /// multiply-adds; masked-off lanes read as zero and left untouched), so
    /// that each unit's kernels, with their blocking, masks and edges, run
    /// on any x86-64 CPU, including the AVX-512 ones where the CPU has no
    /// AVX-512.
    #[cfg(target_arch = "x86_64")]
    #[derive(Clone, Copy)]
    struct Emulated<const L: usize>;

    #[cfg(target_arch = "x86_64")]
    impl<const L: usize> x86::Simd for Emulated<L> {
        type V = [f32; L];
        type Mask = u32;
        const LANES: usize = L;
        fn zero(self) -> [f32; L] {
            [0.0; L]
        }
        fn splat(self, x: f32) -> [f32; L] {
            [x; L]
        }
        fn fmadd(self, a: [f32; L], b: [f32; L], c: [f32; L]) -> [f32; L] {
            core::array::from_fn(|l| a[l].mul_add(b[l], c[l]))
        }
        fn add(self, a: [f32; L], b: [f32; L]) -> [f32; L] {
            core::array::from_fn(|l| a[l] + b[l])
        }
        fn max(self, a: [f32; L], b: [f32; L]) -> [f32; L] {
            // as `maxps`: the second operand unless the first is greater
            core::array::from_fn(|l| if a[l] > b[l] { a[l] } else { b[l] })
        }
        fn apart<R>(self, f: impl FnOnce() -> R) -> R {
            f()
        }
        fn sum(self, v: [f32; L]) -> f32 {
            v.iter().sum()
        }
        fn first(self, n: usize) -> u32 {
            assert!(n <= L, "mask of {n} lanes out of {L}");
            ((1u64 << n) - 1) as u32
        }
        unsafe fn load(self, p: *const f32) -> [f32; L] {
            // SAFETY: the caller's: p is valid for reading L floats.
            core::array::from_fn(|l| unsafe { *p.add(l) })
        }
        unsafe fn store(self, p: *mut f32, v: [f32; L]) {
            for (l, v) in v.into_iter().enumerate() {
                // SAFETY: the caller's: p is valid for writing L floats.
                unsafe { *p.add(l) = v };
            }
        }
        unsafe fn load_masked(self, mask: u32, p: *const f32) -> [f32; L] {
            core::array::from_fn(|l| {
                if mask >> l & 1 == 1 {
                    // SAFETY: the caller's: p is valid for reading the lanes
                    // of the mask, the only ones read.
                    unsafe { *p.add(l) }
                } else {
                    0.0
                }
            })
        }
        unsafe fn store_masked(self, mask: u32, p: *mut f32, v: [f32; L]) {
            for (l, v) in v.into_iter().enumerate() {
                if mask >> l & 1 == 1 {
                    // SAFETY: the caller's: p is valid for writing the lanes
                    // of the mask, the only ones written.
                    unsafe { *p.add(l) = v };
                }
            }
        }
    }

    type Path = fn(Mat<'_>, Mat<'_>, &mut [f32]);

    /// The kernels this CPU can run, by name: the portable kernels, each
    /// vector unit's kernels on emulated lanes, and the vector units the
    /// CPU has.
    fn paths() -> Vec<(&'static str, Path)> {
        let mut paths: Vec<(&'static str, Path)> =
            vec![("portable", |a, b, c| product::<false>(a, b, c))];
        #[cfg(target_arch = "x86_64")]
        {
            paths.push(("avx2 kernels, emulated lanes", |a, b, c| {
                x86::product_narrow(Emulated::<8>, a, b, c, true, &mut vec![0.0; PACKED_LEN])
            }));
            paths.push(("avx512 kernels, emulated lanes", |a, b, c| {
                x86::product_wide(Emulated::<16>, a, b, c)
            }));
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                paths.push(("avx2+fma", |a, b, c| {
                    let mut buf = vec![0.0; PACKED_LEN];
                    // SAFETY: the CPU has AVX2 and FMA (checked above).
                    unsafe { gemm_avx2_fma(a, b, c, true, &mut buf) }
                }));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked above).
                paths.push(("avx512", |a, b, c| unsafe { gemm_avx512(a, b, c) }));
            }
        }
        paths
    }

    // Sizes whose products wrap around `usize`: each used to pass its
    // check with a small wrapped value and send the kernel past the data
    // (a segfault); each must be refused with a panic instead.

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "gemm: output too small")]
    fn an_output_size_that_wraps_is_refused() {
        // 2^60 rows (all on one row of data) × 16 columns: m·n wraps to 0
        let (a, b) = ([1.0f32], [1.0f32; 16]);
        let a = Mat {
            data: &a,
            rows: 1 << 60,
            cols: 1,
            row_stride: 0,
            col_stride: 1,
        };
        gemm(a, Mat::new(&b, 1, 16), &mut [], false);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "gemm: B out of bounds")]
    fn an_operand_whose_last_index_wraps_is_refused() {
        // B's last element at 2^63 · 2, which wraps to 0
        let k = (1usize << 63) + 1;
        let (a, b) = ([1.0f32], [1.0f32]);
        let a = Mat {
            data: &a,
            rows: 1,
            cols: k,
            row_stride: 0,
            col_stride: 0,
        };
        let b = Mat {
            data: &b,
            rows: k,
            cols: 1,
            row_stride: 2,
            col_stride: 1,
        };
        gemm(a, b, &mut [0.0], false);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "gemm_conv: padded input too small")]
    fn a_padded_input_whose_size_wraps_is_refused() {
        // channel planes 2^62 apart: the last of 5 at 2^64, wrapped to 0
        let rows = ConvRows {
            channels: 5,
            kh: 1,
            kw: 1,
            plane: 1 << 62,
            row: 8,
        };
        let (a, padded, mut c) = ([1.0f32; 5], [1.0f32; 8], [0.0f32; 8]);
        let cols = Columns::Wide {
            n: 8,
            run: conv_run(),
        };
        gemm_conv(Mat::new(&a, 1, 5), &padded, rows, cols, &mut c, Onto::Zero);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "gemm_conv_weight: padded input too small")]
    fn a_weight_gradient_whose_input_size_wraps_is_refused() {
        let rows = ConvRows {
            channels: 5,
            kh: 1,
            kw: 1,
            plane: 1 << 62,
            row: 8,
        };
        let (padded, b, mut c) = ([1.0f32; 8], [1.0f32; 8], [0.0f32; 5]);
        gemm_conv_weight(&padded, rows, (1, 8), &b, 1, &mut c);
    }

    #[test]
    fn every_layout_and_awkward_size_matches_the_reference() {
        // the last three span several column panels of the axpy kernels,
        // blocks of k and, the last, blocks of rows of the packed kernel;
        // the three before them one and two rows (alone, or the last of a
        // block of eight) in the axpy kernels' wider blocks, then their
        // narrower ones and a masked tail
        let sizes = [
            (1, 1, 1),
            (3, 5, 7),
            (4, 9, 16),
            (5, 8, 17),
            (6, 25, 784),
            (16, 150, 100),
            (65, 63, 15),
            (2, 400, 120),
            (1, 130, 300),
            (2, 64, 700),
            (9, 50, 260),
            (7, 300, 500),
            (13, 1000, 70),
            (150, 40, 50),
        ];
        // Miri (`tools/miri.sh`) runs a thousand times slower: the small ones
        let sizes = if cfg!(miri) { &sizes[..4] } else { &sizes[..] };
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
    fn products_with_b_in_place_match_the_reference_and_stay_in_their_columns() {
        // (m, k, n): one register a row or less in the last panel (8×8
        // conv outputs, 16 tiles), two, several panels; rows in blocks
        // of 1 to 8
        let sizes: [(usize, usize, usize); 9] = [
            (1, 1, 1),
            (5, 3, 7),
            (16, 16, 16),
            (13, 16, 9),
            (64, 64, 16),
            (9, 7, 17),
            (16, 16, 32),
            (12, 5, 40),
            (64, 32, 64),
        ];
        let sizes = if cfg!(miri) { &sizes[..3] } else { &sizes[..] };
        for (t, &(m, k, n)) in sizes.iter().enumerate() {
            let width = n.div_ceil(panel_columns()) * panel_columns();
            let (ldb, ldc) = (width + 3, n + 5);
            let a_data = random_vec(m * k, 200 + t as u64);
            let b_data = random_vec(k * ldb, 300 + t as u64);
            let a = Mat::new(&a_data, m, k);
            let b = Mat {
                data: &b_data,
                rows: k,
                cols: n,
                row_stride: ldb,
                col_stride: 1,
            };
            let want = reference(a, b);
            let mut c = vec![f32::NAN; m * ldc];
            gemm_in_place_b(a, (&b_data, ldb), (&mut c, ldc), n);
            let what = format!("{m}x{k}x{n}");
            for i in 0..m {
                assert_close(&c[i * ldc..][..n], &want[i * n..][..n], 1e-5, &what);
                // the columns past n are not written
                assert!(
                    c[i * ldc + n..][..ldc - n].iter().all(|v| v.is_nan()),
                    "{what}"
                );
            }
        }
    }

    /// 16 output channels on the lanes: the same values, bit for bit, as
    /// the kernel with positions on the lanes (both on emulated lanes, and
    /// this CPU's where it has AVX-512), for every way of storing.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn channels_on_lanes_match_the_implicit_kernel_bit_for_bit() {
        // (channels, kh, kw, hp, wp): LeNet-5's second conv; a row of 28
        // in blocks of 12, 12 and 4; one output row of 3
        for (ch, kh, kw, hp, wp) in [(6, 5, 5, 14, 14), (3, 3, 3, 9, 30), (2, 3, 3, 3, 5)] {
            let rows = ConvRows {
                channels: ch,
                kh,
                kw,
                plane: hp * wp,
                row: wp,
            };
            let (k, m, oh, ow) = (ch * kh * kw, 16, hp - kh + 1, wp - kw + 1);
            let n = oh * wp;
            let padded = random_vec(rows.checked_needed(n).unwrap(), 1);
            let w = random_vec(m * k, 2);
            let w_t: Vec<f32> = (0..k * m).map(|i| w[(i % m) * k + i / m]).collect();
            let bias: Vec<f32> = (0..m).map(|i| i as f32 * 0.3 - 2.5).collect();
            let scale: Vec<f32> = (0..m).map(|i| 0.5 + i as f32 * 0.25).collect();
            let start = random_vec(m * n, 3);
            let ontos = [
                ("zero", Onto::Zero),
                ("onto C", Onto::C),
                ("bias", Onto::Bias(&bias)),
                (
                    "affine",
                    Onto::Affine {
                        scale: &scale,
                        shift: &bias,
                        relu: false,
                    },
                ),
                (
                    "affine, relu",
                    Onto::Affine {
                        scale: &scale,
                        shift: &bias,
                        relu: true,
                    },
                ),
            ];
            for (name, onto) in ontos {
                let what = format!("{ch}x{kh}x{kw} on {hp}x{wp}, {name}");
                let mut wide = start.clone();
                let cols = Columns::Wide { n, run: 16 };
                // SAFETY: `wide` holds C and `padded` every run's reach.
                unsafe {
                    let runs = 0..cols.halves();
                    let a = Mat::new(&w, m, k);
                    x86::conv(
                        Emulated::<16>,
                        a,
                        &padded,
                        rows,
                        cols,
                        wide.as_mut_ptr(),
                        onto,
                        runs,
                    );
                }
                // C transposed: position-major, the real columns only
                let at = |o: usize, p: usize| (p / ow) * wp + p % ow + o * n;
                let want: Vec<u32> = (0..oh * ow * m)
                    .map(|i| wide[at(i % m, i / m)].to_bits())
                    .collect();
                let mut lanes = vec![f32::NAN; oh * ow * m];
                if let Onto::C = onto {
                    lanes = (0..oh * ow * m).map(|i| start[at(i % m, i / m)]).collect();
                }
                let before = lanes.clone();
                // SAFETY: as `gemm_conv_lanes` checks.
                unsafe {
                    x86::conv_lanes(
                        Emulated::<16>,
                        &w_t,
                        &padded,
                        rows,
                        (oh, ow),
                        lanes.as_mut_ptr(),
                        onto,
                    )
                };
                let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&lanes), want, "{what}, emulated lanes");
                if has_conv_lanes() {
                    let mut c = before;
                    gemm_conv_lanes(&w_t, &padded, rows, (oh, ow), &mut c, onto);
                    assert_eq!(bits(&c), want, "{what}, this CPU's");
                }
            }
        }
    }

    #[test]
    fn implicit_conv_products_match_explicit_patches() {
        // (channels, kh, kw, hp, wp, m): the patch rows of a padded input;
        // under Miri the small ones
        let cases = [
            (1, 5, 5, 32, 32, 6),
            (3, 3, 3, 34, 34, 32),
            (2, 2, 3, 5, 7, 3),
            (6, 5, 5, 14, 14, 16),
            (1, 1, 1, 1, 1, 1),
            // output widths of 16, 32 and 33: whole, paired and ragged runs
            (4, 3, 3, 18, 18, 9),
            (2, 3, 3, 6, 34, 8),
            (2, 3, 3, 5, 35, 3),
            // 8 and 13 wide: one run of 8, a whole and a ragged one; 16
            // rows as 6 + 5 + 5
            (16, 3, 3, 10, 10, 16),
            (3, 3, 3, 8, 15, 7),
        ];
        let small = |&&(ch, kh, kw, hp, wp, m): &&(usize, usize, usize, usize, usize, usize)| {
            !cfg!(miri) || ch * kh * kw * hp * wp * m <= 2000
        };
        for &(ch, kh, kw, hp, wp, m) in cases.iter().filter(small) {
            let rows = ConvRows {
                channels: ch,
                kh,
                kw,
                plane: hp * wp,
                row: wp,
            };
            let k = ch * kh * kw;
            let n = (hp - kh + 1) * wp;
            let padded = random_vec(rows.checked_needed(n).unwrap(), 1);
            // the patch matrix, copied out
            let patches: Vec<f32> = (0..k)
                .flat_map(|p| padded[rows.patch_offset(p)..][..n].to_vec())
                .collect();
            let what = format!("{ch}x{kh}x{kw} on {hp}x{wp}, {m} rows");

            let w = random_vec(m * k, 2);
            let want = reference(Mat::new(&w, m, k), Mat::new(&patches, k, n));
            // every run length and kernel: this CPU's, the portable loops,
            // and each vector unit's kernels on emulated lanes
            let (oh, ow) = (hp - kh + 1, wp - kw + 1);
            let dense: Vec<f32> = (0..m)
                .flat_map(|i| {
                    let row = &want[i * n..(i + 1) * n];
                    (0..oh).flat_map(move |y| row[y * wp..y * wp + ow].to_vec())
                })
                .map(|v| v + 1.0)
                .collect();
            let a = Mat::new(&w, m, k);
            let bias: Vec<f32> = (0..m).map(|i| i as f32 - 2.5).collect();
            let this_cpu = |cols: Columns, c: &mut [f32], onto: Onto<'_>| {
                gemm_conv(a, &padded, rows, cols, c, onto)
            };
            let portable = |cols: Columns, c: &mut [f32], onto: Onto<'_>| {
                conv_portable(a, &padded, rows, cols, c, onto)
            };
            #[cfg(target_arch = "x86_64")]
            let emulated = |cols: Columns, c: &mut [f32], onto: Onto<'_>| {
                // in two parts, as two threads would share the runs out
                let half = cols.halves().div_ceil(4) * 2;
                for runs in [0..half, half..cols.halves()] {
                    // SAFETY: `c` holds C (the tests size it) and the
                    // padded input every run reads.
                    unsafe {
                        if cols.run() == 16 {
                            x86::conv(
                                Emulated::<16>,
                                a,
                                &padded,
                                rows,
                                cols,
                                c.as_mut_ptr(),
                                onto,
                                runs,
                            );
                        } else {
                            x86::conv_narrow(
                                Emulated::<8>,
                                a,
                                &padded,
                                rows,
                                cols,
                                c.as_mut_ptr(),
                                onto,
                                runs,
                            );
                        }
                    }
                }
            };
            type Run<'a> = &'a dyn Fn(Columns, &mut [f32], Onto<'_>);
            let paths: Vec<(&str, Run)> = vec![
                ("this CPU's", &this_cpu),
                ("portable", &portable),
                #[cfg(target_arch = "x86_64")]
                ("emulated lanes", &emulated),
            ];
            for run in [8, 16] {
                for (path, conv) in &paths {
                    let what = format!("{what}, runs of {run}, {path}");
                    // the whole grid, stored over what is there
                    let wide = Columns::Wide { n, run };
                    let mut c = vec![f32::NAN; m * n];
                    conv(wide, &mut c, Onto::Zero);
                    assert_close(&c, &want, 1e-5, &what);
                    let mut c = vec![f32::NAN; m * n];
                    conv(wide, &mut c, Onto::Bias(&bias));
                    let want_bias: Vec<f32> = want
                        .iter()
                        .enumerate()
                        .map(|(j, v)| v + bias[j / n])
                        .collect();
                    assert_close(&c, &want_bias, 1e-5, &format!("{what}, bias"));
                    // scaled, shifted and clamped at zero (inference
                    // through batch norm and ReLU)
                    let scale: Vec<f32> = (0..m).map(|i| 0.5 + i as f32 * 0.25).collect();
                    for relu in [false, true] {
                        let mut c = vec![f32::NAN; m * n];
                        let onto = Onto::Affine {
                            scale: &scale,
                            shift: &bias,
                            relu,
                        };
                        conv(wide, &mut c, onto);
                        let want_affine: Vec<f32> = want
                            .iter()
                            .enumerate()
                            .map(|(j, v)| v * scale[j / n] + bias[j / n])
                            .map(|v| if relu { v.max(0.0) } else { v })
                            .collect();
                        let what = format!("{what}, affine, relu {relu}");
                        assert_close(&c, &want_affine, 1e-5, &what);
                    }

                    // only the real output positions, written densely,
                    // added to what is there
                    let cols = Columns::Rows { oh, ow, run };
                    let mut c = vec![1.0; m * oh * ow];
                    conv(cols, &mut c, Onto::C);
                    assert_close(&c, &dense, 1e-5, &format!("{what}, rows"));
                }
            }
        }
    }

    #[test]
    fn runs_fit_the_kernel_and_cover_the_output() {
        // runs of 8: every ResNet-20 map is computed in place, whole runs
        for (ow, grid) in [(32, 34), (16, 18), (8, 10)] {
            let cols = Columns::for_grid_in_runs(ow, ow, grid, 8);
            assert!(matches!(cols, Columns::Rows { .. }), "{ow} on {grid}");
            assert_eq!(cols.halves() * 8, ow * ow, "{ow} on {grid}");
        }
        // runs of 16: an 8-wide map would waste half of each run in place
        assert!(matches!(
            Columns::for_grid_in_runs(8, 8, 10, 16),
            Columns::Wide { n: 80, run: 16 }
        ));
        // LeNet-5's second conv, 10 wide on a 14-wide grid: 10 runs of 16
        // or 18 of 8 on the grid, against 10 or 20 in place
        assert!(matches!(
            Columns::for_grid_in_runs(10, 10, 14, 16),
            Columns::Wide { n: 140, run: 16 }
        ));
        assert!(matches!(
            Columns::for_grid_in_runs(10, 10, 14, 8),
            Columns::Wide { n: 140, run: 8 }
        ));
        assert!(conv_run() == 8 || conv_run() == 16);
    }

    #[test]
    fn implicit_weight_products_match_explicit_patches() {
        // (channels, kh, kw, hp, wp, n): the patch rows of a padded input,
        // `OW = WP − KW + 1` columns of each grid row, times B[P, n]; under
        // Miri the small ones
        let cases = [
            (1, 5, 5, 32, 32, 6),
            (3, 3, 3, 34, 34, 32),
            (2, 2, 3, 5, 7, 3),
            (6, 5, 5, 14, 14, 16),
            (4, 3, 3, 10, 10, 64),
            (3, 3, 2, 6, 9, 40),
            // with 16 lanes: two registers, then one whole; two, the
            // second masked
            (2, 3, 3, 8, 9, 48),
            (1, 2, 2, 5, 6, 24),
            (1, 1, 1, 1, 1, 1),
        ];
        let small = |&&(ch, kh, kw, hp, wp, n): &&(usize, usize, usize, usize, usize, usize)| {
            !cfg!(miri) || ch * kh * kw * hp * wp * n <= 2000
        };
        for &(ch, kh, kw, hp, wp, n) in cases.iter().filter(small) {
            let rows = ConvRows {
                channels: ch,
                kh,
                kw,
                plane: hp * wp,
                row: wp,
            };
            let (k, oh, ow) = (ch * kh * kw, hp - kh + 1, wp - kw + 1);
            let padded = random_vec(rows.checked_needed((oh - 1) * wp + ow).unwrap(), 3);
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
            #[cfg(target_arch = "x86_64")]
            {
                let mut c = vec![1.0; k * n];
                x86::conv_weight(Emulated::<16>, &padded, rows, (oh, ow), &b, n, &mut c);
                assert_close(&c, &want_plus, 1e-5, &format!("{what}, 16 emulated lanes"));
                let mut c = vec![1.0; k * n];
                x86::conv_weight(Emulated::<8>, &padded, rows, (oh, ow), &b, n, &mut c);
                assert_close(&c, &want_plus, 1e-5, &format!("{what}, 8 emulated lanes"));
                let mut c = vec![1.0; k * n];
                x86::conv_weight_narrow(Emulated::<8>, &padded, rows, (oh, ow), &b, n, &mut c);
                assert_close(&c, &want_plus, 1e-5, &format!("{what}, 8 lanes, narrow"));
            }
        }
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let mut c = vec![5.0; 6];
        gemm(Mat::new(&[], 2, 0), Mat::new(&[], 0, 3), &mut c, false);
        assert_eq!(c, vec![0.0; 6]);
    }
}
