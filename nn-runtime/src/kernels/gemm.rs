//! The one place that calls `matrixmultiply::sgemm`.
//!
//! `C[m×n] = α·op(A)[m×k] · op(B)[k×n] + β·C`, with every matrix given by a
//! slice and its row and column strides, so transposes cost nothing.
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
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    assert!(a.last_index() < a.data.len(), "gemm: A out of bounds");
    assert!(b.last_index() < b.data.len(), "gemm: B out of bounds");
    let beta = if accumulate { 1.0 } else { 0.0 };
    // SAFETY: the asserts above check that every element sgemm reads from A
    // and B lies inside its slice and that C holds m·n elements with row
    // stride n; the strides fit in isize because the slices exist.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: Mat<'_>, b: Mat<'_>) -> Vec<f32> {
        let mut c = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut s = 0.0;
                for p in 0..a.cols {
                    s += a.data[i * a.row_stride + p * a.col_stride]
                        * b.data[p * b.row_stride + j * b.col_stride];
                }
                c[i * b.cols + j] = s;
            }
        }
        c
    }

    #[test]
    fn matches_naive_with_transposes_and_accumulation() {
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (6, 25, 784), (65, 63, 17)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0)
                .collect();
            let am = Mat::new(&a, m, k);
            let bt_data: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
            let bt = Mat::new(&bt_data, n, k).t();
            let want = naive(am, Mat::new(&b, k, n));
            let mut c = vec![1.0; m * n];
            gemm(am, bt, &mut c, true);
            for (x, w) in c.iter().zip(&want) {
                assert!(
                    (x - (w + 1.0)).abs() <= 1e-4 * (1.0 + w.abs()),
                    "{x} vs {}",
                    w + 1.0
                );
            }
            gemm(am, bt, &mut c, false);
            for (x, w) in c.iter().zip(&want) {
                assert!((x - w).abs() <= 1e-4 * (1.0 + w.abs()), "{x} vs {w}");
            }
        }
    }
}
