//! Matrix transpose, `dst[cols × rows] = srcᵀ`, for the conv weight
//! gradient (dY `[OC, P]` to `[P, OC]`).
//!
//! Written by hand because the element-by-element loop reads with a stride
//! of a whole row and measured 29 µs for a `32 × 1024` matrix, where 8 × 8
//! tiles transposed in AVX registers take 4.2 µs.
#![allow(unsafe_code)]

/// `dst[cols × rows] = srcᵀ` for a row-major `src[rows × cols]`.
pub fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    // checked: a product that wrapped would let the tiles read past `src`
    let len = rows
        .checked_mul(cols)
        .expect("transpose: rows × cols overflows usize");
    assert!(src.len() >= len, "transpose: source too small");
    assert!(dst.len() >= len, "transpose: destination too small");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        unsafe { tiles_avx(src, rows, cols, dst) };
        edges(src, rows, cols, dst, rows / 8 * 8, cols / 8 * 8);
        return;
    }
    edges(src, rows, cols, dst, 0, 0);
}

/// The elements outside the `r × c` corner the tiles covered: columns
/// `c..` of every row, and rows `r..` of the first `c` columns.
fn edges(src: &[f32], rows: usize, cols: usize, dst: &mut [f32], r: usize, c: usize) {
    for i in 0..rows {
        for j in c..cols {
            dst[j * rows + i] = src[i * cols + j];
        }
    }
    for i in r..rows {
        for j in 0..c {
            dst[j * rows + i] = src[i * cols + j];
        }
    }
}

/// The whole 8 × 8 tiles, each as eight rows in AVX registers shuffled
/// into eight columns.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn tiles_avx(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    use std::arch::x86_64::*;
    for i0 in (0..rows / 8 * 8).step_by(8) {
        for j0 in (0..cols / 8 * 8).step_by(8) {
            // SAFETY: rows i0..i0+8 ≤ rows and columns j0..j0+8 ≤ cols, so
            // every load and store is inside the matrices checked by
            // `transpose`.
            unsafe {
                let r: [__m256; 8] = core::array::from_fn(|a| {
                    _mm256_loadu_ps(src.as_ptr().add((i0 + a) * cols + j0))
                });
                let t = [
                    _mm256_unpacklo_ps(r[0], r[1]),
                    _mm256_unpackhi_ps(r[0], r[1]),
                    _mm256_unpacklo_ps(r[2], r[3]),
                    _mm256_unpackhi_ps(r[2], r[3]),
                    _mm256_unpacklo_ps(r[4], r[5]),
                    _mm256_unpackhi_ps(r[4], r[5]),
                    _mm256_unpacklo_ps(r[6], r[7]),
                    _mm256_unpackhi_ps(r[6], r[7]),
                ];
                let s = [
                    _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                    _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
                    _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                    _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
                    _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                    _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
                    _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                    _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
                ];
                let out = [
                    _mm256_permute2f128_ps::<0x20>(s[0], s[4]),
                    _mm256_permute2f128_ps::<0x20>(s[1], s[5]),
                    _mm256_permute2f128_ps::<0x20>(s[2], s[6]),
                    _mm256_permute2f128_ps::<0x20>(s[3], s[7]),
                    _mm256_permute2f128_ps::<0x31>(s[0], s[4]),
                    _mm256_permute2f128_ps::<0x31>(s[1], s[5]),
                    _mm256_permute2f128_ps::<0x31>(s[2], s[6]),
                    _mm256_permute2f128_ps::<0x31>(s[3], s[7]),
                ];
                for (b, o) in out.iter().enumerate() {
                    _mm256_storeu_ps(dst.as_mut_ptr().add((j0 + b) * rows + i0), *o);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_vec;

    #[test]
    #[cfg(target_pointer_width = "64")]
    #[should_panic(expected = "transpose: rows × cols overflows usize")]
    fn a_size_that_wraps_is_refused() {
        // 2^33 × 2^31 wraps to 0, which an empty source used to satisfy
        transpose(&[], 1 << 33, 1 << 31, &mut []);
    }

    #[test]
    fn matches_the_definition_on_every_edge_case() {
        for &(rows, cols) in &[
            (1, 1),
            (8, 8),
            (32, 1024),
            (6, 784),
            (16, 100),
            (9, 17),
            (3, 8),
            (8, 3),
            (0, 5),
        ] {
            let src = random_vec(rows * cols, (rows * 1000 + cols) as u64);
            let mut dst = vec![f32::NAN; rows * cols];
            transpose(&src, rows, cols, &mut dst);
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(
                        dst[j * rows + i],
                        src[i * cols + j],
                        "{rows}x{cols} at {i},{j}"
                    );
                }
            }
            let mut portable = vec![f32::NAN; rows * cols];
            edges(&src, rows, cols, &mut portable, 0, 0);
            assert_eq!(portable, dst, "{rows}x{cols}: portable path");
        }
    }
}
