//! Max and average pooling over `KH × KW` windows with stride and padding,
//! PyTorch's `MaxPool2d` and `AvgPool2d` (`count_include_pad = True`), and
//! global average pooling.
//!
//! Layouts: input `[B, C, H, W]`, output `[B, C, OH, OW]`. The geometry is
//! the convolution's ([`Geometry`], with `oc == c`).
//!
//! - Max: padding counts as −∞; the gradient goes to the first maximum of each
//!   window in row-major order; a NaN in a window is its maximum (PyTorch's). Backward finds that maximum again from the
//!   saved input, so forward keeps no argmax cache.
//! - Average: the window sum divided by the window's size clipped to the
//!   padded input `[−PT, H + PB) × [−PL, W + PR)`; that is `KH·KW` except for
//!   the last partial window of `round = ceil` (PyTorch's `ceil_mode`).
//!   (<https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html>)

pub use super::conv2d::Geometry;

/// The window of output `(i, j)`, clipped to the input: rows `y0..y1`,
/// columns `x0..x1`.
#[inline(always)]
fn window(g: &Geometry, i: usize, j: usize) -> (usize, usize, usize, usize) {
    let ys = (i * g.sh) as isize - g.pt as isize;
    let xs = (j * g.sw) as isize - g.pl as isize;
    let y0 = ys.max(0) as usize;
    let x0 = xs.max(0) as usize;
    let y1 = ((ys + g.kh as isize).max(0) as usize).min(g.h);
    let x1 = ((xs + g.kw as isize).max(0) as usize).min(g.w);
    (y0, y1, x0, x1)
}

/// Index (in the plane) of the first maximum of window `(i, j)`.
#[inline(always)]
fn argmax(g: &Geometry, plane: &[f32], i: usize, j: usize) -> Option<usize> {
    let (y0, y1, x0, x1) = window(g, i, j);
    let mut best: Option<(usize, f32)> = None;
    for y in y0..y1 {
        for x in x0..x1 {
            let v = plane[y * g.w + x];
            // PyTorch's rule: a NaN counts as the maximum (the last NaN wins)
            if best.is_none_or(|(_, b)| v > b || v.is_nan()) {
                best = Some((y * g.w + x, v));
            }
        }
    }
    best.map(|(k, _)| k)
}

/// Whether every window lies inside the input (no padding reached), so the
/// loops need no clipping.
#[inline(always)]
fn interior(g: &Geometry) -> bool {
    g.pt == 0 && g.pl == 0 && (g.oh - 1) * g.sh + g.kh <= g.h && (g.ow - 1) * g.sw + g.kw <= g.w
}

/// Index of the first maximum (a NaN counts as the maximum, the last NaN
/// winning, as in PyTorch) of the window at `base` (top-left element) of a
/// plane `w` wide, the window inside. The maximum comes first, then a
/// backwards scan keeps the earliest position holding it, with selects
/// rather than branches: random data makes branches mispredict.
#[inline(always)]
fn argmax_inside(g: &Geometry, plane: &[f32], base: usize) -> usize {
    let m = max_inside(g, plane, base);
    let mut best = base;
    if m.is_nan() {
        for u in 0..g.kh {
            for v in 0..g.kw {
                if plane[base + u * g.w + v].is_nan() {
                    best = base + u * g.w + v;
                }
            }
        }
        return best;
    }
    for u in (0..g.kh).rev() {
        for v in (0..g.kw).rev() {
            let k = base + u * g.w + v;
            best = if plane[k] == m { k } else { best };
        }
    }
    best
}

/// The maximum of the window at `base` (a NaN is the maximum), with
/// selects rather than branches: random data makes branches mispredict.
#[inline(always)]
fn max_inside(g: &Geometry, plane: &[f32], base: usize) -> f32 {
    let mut best = plane[base];
    for u in 0..g.kh {
        for &x in &plane[base + u * g.w..base + u * g.w + g.kw] {
            best = if x > best || x.is_nan() { x } else { best };
        }
    }
    best
}

/// Max pooling forward: `y[c, i, j] = max` over the window; overwrites `output`.
#[inline(always)]
pub fn max_forward(g: &Geometry, batch: usize, input: &[f32], output: &mut [f32]) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let inside = interior(g);
    for p in 0..batch * g.c {
        let plane = &input[p * hw..(p + 1) * hw];
        let out = &mut output[p * ohw..(p + 1) * ohw];
        for i in 0..g.oh {
            for j in 0..g.ow {
                out[i * g.ow + j] = if inside {
                    max_inside(g, plane, i * g.sh * g.w + j * g.sw)
                } else {
                    argmax(g, plane, i, j).map_or(f32::NEG_INFINITY, |k| plane[k])
                };
            }
        }
    }
}

/// Max pooling backward: *accumulates* each `dy` into `d_input` at its
/// window's first maximum.
#[inline(always)]
pub fn max_backward(
    g: &Geometry,
    batch: usize,
    input: &[f32],
    d_output: &[f32],
    d_input: &mut [f32],
) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let inside = interior(g);
    for p in 0..batch * g.c {
        let plane = &input[p * hw..(p + 1) * hw];
        let dy = &d_output[p * ohw..(p + 1) * ohw];
        let dx = &mut d_input[p * hw..(p + 1) * hw];
        for i in 0..g.oh {
            for j in 0..g.ow {
                let k = if inside {
                    Some(argmax_inside(g, plane, i * g.sh * g.w + j * g.sw))
                } else {
                    argmax(g, plane, i, j)
                };
                if let Some(k) = k {
                    dx[k] += dy[i * g.ow + j];
                }
            }
        }
    }
}

/// The divisor of window `(i, j)`: its size clipped to the padded input.
#[inline(always)]
fn divisor(g: &Geometry, pb: usize, pr: usize, i: usize, j: usize) -> f32 {
    let ys = (i * g.sh) as isize - g.pt as isize;
    let xs = (j * g.sw) as isize - g.pl as isize;
    let ye = (ys + g.kh as isize).min((g.h + pb) as isize);
    let xe = (xs + g.kw as isize).min((g.w + pr) as isize);
    ((ye - ys) * (xe - xs)) as f32
}

/// Average pooling forward (`count_include_pad`); overwrites `output`.
/// `pb`, `pr` are the bottom and right padding.
#[inline(always)]
pub fn avg_forward(
    g: &Geometry,
    pb: usize,
    pr: usize,
    batch: usize,
    input: &[f32],
    output: &mut [f32],
) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    for p in 0..batch * g.c {
        let plane = &input[p * hw..(p + 1) * hw];
        let out = &mut output[p * ohw..(p + 1) * ohw];
        for i in 0..g.oh {
            for j in 0..g.ow {
                let (y0, y1, x0, x1) = window(g, i, j);
                let mut s = 0.0;
                for y in y0..y1 {
                    for x in x0..x1 {
                        s += plane[y * g.w + x];
                    }
                }
                out[i * g.ow + j] = s / divisor(g, pb, pr, i, j);
            }
        }
    }
}

/// Average pooling backward: *accumulates* `dy / divisor` into every input
/// element of the window.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn avg_backward(
    g: &Geometry,
    pb: usize,
    pr: usize,
    batch: usize,
    d_output: &[f32],
    d_input: &mut [f32],
) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    for p in 0..batch * g.c {
        let dy = &d_output[p * ohw..(p + 1) * ohw];
        let dx = &mut d_input[p * hw..(p + 1) * hw];
        for i in 0..g.oh {
            for j in 0..g.ow {
                let (y0, y1, x0, x1) = window(g, i, j);
                let share = dy[i * g.ow + j] / divisor(g, pb, pr, i, j);
                for y in y0..y1 {
                    for x in x0..x1 {
                        dx[y * g.w + x] += share;
                    }
                }
            }
        }
    }
}

/// Global average pooling forward: `[B, C, H, W]` → `[B, C]` (`hw = H·W`).
#[inline(always)]
pub fn global_avg_forward(c: usize, hw: usize, batch: usize, input: &[f32], output: &mut [f32]) {
    for p in 0..batch * c {
        output[p] = super::sum(&input[p * hw..(p + 1) * hw]) / hw as f32;
    }
}

/// Global average pooling backward: *accumulates* `dy / (H·W)` everywhere.
#[inline(always)]
pub fn global_avg_backward(
    c: usize,
    hw: usize,
    batch: usize,
    d_output: &[f32],
    d_input: &mut [f32],
) {
    for p in 0..batch * c {
        let share = d_output[p] / hw as f32;
        d_input[p * hw..(p + 1) * hw]
            .iter_mut()
            .for_each(|d| *d += share);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, distinct_vec, grad_check};

    fn geom(
        c: usize,
        h: usize,
        w: usize,
        oh: usize,
        ow: usize,
        k: (usize, usize),
        s: (usize, usize),
        p: (usize, usize),
    ) -> Geometry {
        Geometry {
            c,
            h,
            w,
            oc: c,
            oh,
            ow,
            kh: k.0,
            kw: k.1,
            sh: s.0,
            sw: s.1,
            pt: p.0,
            pb: 0,
            pl: p.1,
            pr: 0,
        }
    }

    /// (geometry, bottom pad, right pad)
    fn cases() -> Vec<(Geometry, usize, usize)> {
        vec![
            (geom(3, 7, 7, 3, 3, (3, 3), (2, 2), (0, 0)), 0, 0),
            (geom(2, 6, 6, 3, 3, (3, 3), (2, 2), (1, 1)), 1, 1),
            // ceil mode: 7 → 4 with a last partial window
            (geom(2, 7, 7, 4, 4, (2, 2), (2, 2), (0, 0)), 0, 0),
            (geom(2, 6, 9, 3, 3, (2, 3), (2, 3), (0, 0)), 0, 0),
            (geom(1, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0)), 0, 0),
        ]
    }

    #[test]
    fn max_pool_forward_by_hand() {
        // [1, 4, 4], 2×2 stride 2: the maximum of each quadrant
        let g = geom(1, 4, 4, 2, 2, (2, 2), (2, 2), (0, 0));
        let x: Vec<f32> = (0..16).map(|v| ((v * 7) % 16) as f32).collect();
        let mut y = vec![0.0; 4];
        max_forward(&g, 1, &x, &mut y);
        // rows [0 7 14 5] [12 3 10 1] [8 15 6 13] [4 11 2 9]
        assert_eq!(y, vec![12.0, 14.0, 15.0, 13.0]);
    }

    #[test]
    fn max_pool_gradient_goes_to_first_maximum() {
        let g = geom(1, 2, 2, 1, 1, (2, 2), (1, 1), (0, 0));
        let mut dx = vec![0.0; 4];
        max_backward(&g, 1, &[1.0, 3.0, 3.0, 2.0], &[5.0], &mut dx);
        assert_eq!(dx, vec![0.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn max_pool_propagates_nan() {
        let g = geom(1, 2, 2, 1, 1, (2, 2), (1, 1), (0, 0));
        let mut y = [0.0];
        max_forward(&g, 1, &[1.0, f32::NAN, 3.0, 2.0], &mut y);
        assert!(y[0].is_nan());
    }

    #[test]
    fn avg_pool_ceil_divides_by_clipped_window() {
        // [1, 3, 3], 2×2 stride 2, ceil: the last window holds one column/row
        let g = geom(1, 3, 3, 2, 2, (2, 2), (2, 2), (0, 0));
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut y = vec![0.0; 4];
        avg_forward(&g, 0, 0, 1, &x, &mut y);
        assert_eq!(y, vec![3.0, 4.5, 7.5, 9.0]);
    }

    #[test]
    fn pools_match_finite_differences() {
        for (t, (g, pb, pr)) in cases().into_iter().enumerate() {
            let batch = 2;
            let n_in = batch * g.c * g.h * g.w;
            let n_out = batch * g.c * g.oh * g.ow;
            let x = distinct_vec(n_in, 100 + t as u64);
            let dy = distinct_vec(n_out, 200 + t as u64);
            let loss_of =
                |y: &[f32]| -> f64 { y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum() };

            let mut dx = vec![0.0; n_in];
            max_backward(&g, batch, &x, &dy, &mut dx);
            grad_check(
                &x,
                &dx,
                |x| {
                    let mut y = vec![0.0; n_out];
                    max_forward(&g, batch, x, &mut y);
                    loss_of(&y)
                },
                &format!("max {g:?}"),
            );

            let mut dx = vec![0.0; n_in];
            avg_backward(&g, pb, pr, batch, &dy, &mut dx);
            grad_check(
                &x,
                &dx,
                |x| {
                    let mut y = vec![0.0; n_out];
                    avg_forward(&g, pb, pr, batch, x, &mut y);
                    loss_of(&y)
                },
                &format!("avg {g:?}"),
            );
        }
    }

    #[test]
    fn global_avg_pool_forward_and_gradient() {
        let (c, hw, batch) = (3, 20, 2);
        let x = distinct_vec(batch * c * hw, 7);
        let mut y = vec![0.0; batch * c];
        global_avg_forward(c, hw, batch, &x, &mut y);
        let want: Vec<f32> = x
            .chunks(hw)
            .map(|p| p.iter().sum::<f32>() / hw as f32)
            .collect();
        assert_close(&y, &want, 1e-6, "global avg");
        let dy = distinct_vec(batch * c, 8);
        let mut dx = vec![0.0; x.len()];
        global_avg_backward(c, hw, batch, &dy, &mut dx);
        grad_check(
            &x,
            &dx,
            |x| {
                let mut y = vec![0.0; batch * c];
                global_avg_forward(c, hw, batch, x, &mut y);
                y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
            },
            "global avg",
        );
    }
}
