//! Max and average pooling over `KH × KW` windows with stride and padding,
//! PyTorch's `MaxPool2d` and `AvgPool2d` (`count_include_pad = True`), and
//! global average pooling.
//!
//! Layouts: input `[B, C, H, W]`, output `[B, C, OH, OW]`. The geometry is
//! the convolution's ([`Geometry`], with `oc == c`).
//!
//! - Max: padding counts as −∞; the gradient goes to the first maximum of each
//!   window in row-major order; a NaN in a window is its maximum (PyTorch's).
//!   Where a window has at most [`MAX_SAVED_WINDOW`] positions, forward
//!   saves each maximum's position as a byte ([`max_forward_saving`]) and
//!   backward reads that rather than the input, which need not be kept
//!   (and where the windows tile the input, stores every input gradient
//!   rather than adding into zeros); otherwise backward finds the maximum
//!   again from the input. A pool may
//!   apply the ReLU before it (`relu(max x) = max relu(x)`, first maximum
//!   and gradient alike), so that the values before that ReLU are not kept
//!   either.
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

/// The most positions a window may have for [`max_forward_saving`]: each
/// is a byte, and [`NO_GRADIENT`] is the byte of an output whose gradient
/// goes nowhere.
pub const MAX_SAVED_WINDOW: usize = 255;

/// The saved byte of an output whose gradient goes nowhere: the ReLU the
/// pool applies gave 0 (or NaN), whose gradient is 0.
pub const NO_GRADIENT: u8 = u8::MAX;

/// Whether a pool of `g` saves its maxima's positions
/// ([`max_forward_saving`]).
pub const fn saves_argmax(g: &Geometry) -> bool {
    g.kh * g.kw <= MAX_SAVED_WINDOW
}

/// ReLU as `relu` applies it (a NaN passes, as in PyTorch), or nothing.
#[inline(always)]
fn relu_if(relu: bool, y: f32) -> f32 {
    if relu && y < 0.0 {
        0.0
    } else {
        y
    }
}

/// Max pooling forward ([`max_forward_relu`]), the ReLU before the pool
/// applied to each maximum when `relu`, that saves for backward each
/// output's window position of its first maximum (`u · KW + v`, `u` and `v`
/// counted from the window's padded corner) as a byte: sample `n`'s at
/// `positions[n · stride ..]`, channel after channel; [`NO_GRADIENT`] where
/// the ReLU gave a value not above 0. Needs [`saves_argmax`].
#[inline(always)]
pub fn max_forward_saving(
    g: &Geometry,
    relu: bool,
    batch: usize,
    input: &[f32],
    output: &mut [f32],
    (positions, stride): (&mut [u8], usize),
) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let inside = interior(g);
    for p in 0..batch * g.c {
        let (n, c) = (p / g.c, p % g.c);
        let plane = &input[p * hw..(p + 1) * hw];
        let out = &mut output[p * ohw..(p + 1) * ohw];
        let at = &mut positions[n * stride + c * ohw..][..ohw];
        for i in 0..g.oh {
            let (out, at) = (&mut out[i * g.ow..][..g.ow], &mut at[i * g.ow..][..g.ow]);
            if inside {
                first_max_row(g, plane, i, out, at);
            } else {
                for j in 0..g.ow {
                    (out[j], at[j]) = match argmax(g, plane, i, j) {
                        Some(k) => {
                            let (y, x) = (k / g.w + g.pt - i * g.sh, k % g.w + g.pl - j * g.sw);
                            (plane[k], (y * g.kw + x) as u8)
                        }
                        None => (f32::NEG_INFINITY, NO_GRADIENT),
                    };
                }
            }
            if relu {
                for (y, a) in out.iter_mut().zip(at.iter_mut()) {
                    // the ReLU passes a gradient only above 0 (not at 0 or
                    // NaN); masks, as in `first_max_row`
                    let passes = ((*y > 0.0) as u8).wrapping_neg();
                    *a = (*a & passes) | (NO_GRADIENT & !passes);
                    let zero = ((*y < 0.0) as u32).wrapping_neg();
                    *y = f32::from_bits(y.to_bits() & !zero);
                }
            }
        }
    }
}

/// The first maxima of output row `i`'s windows (inside the input) into
/// `out`, and their positions in the window (`u · KW + v`) into `at`, as
/// [`argmax_inside`] finds them: a value replaces the best so far if it is
/// greater (so the first of equal maxima stays) or NaN (so the last NaN
/// wins, and nothing but a NaN replaces one). One window position at a
/// time across the row, so that the selects go across outputs, in vectors;
/// a window at a time, they compiled to branches that random data
/// mispredicts (LeNet-5's training took a third longer).
#[inline(always)]
fn first_max_row(g: &Geometry, plane: &[f32], i: usize, out: &mut [f32], at: &mut [u8]) {
    let top = i * g.sh * g.w;
    for j in 0..g.ow {
        out[j] = plane[top + j * g.sw];
        at[j] = 0;
    }
    for u in 0..g.kh {
        for v in 0..g.kw {
            if u == 0 && v == 0 {
                continue;
            }
            let (pos, corner) = ((u * g.kw + v) as u8, top + u * g.w + v);
            for j in 0..g.ow {
                let x = plane[corner + j * g.sw];
                // masks rather than `if`, which compiled to branches
                let take = ((x > out[j]) | x.is_nan()) as u32;
                let mask = take.wrapping_neg();
                let best = (x.to_bits() & mask) | (out[j].to_bits() & !mask);
                out[j] = f32::from_bits(best);
                at[j] = (pos & mask as u8) | (at[j] & !(mask as u8));
            }
        }
    }
}

/// Max pooling backward from the positions [`max_forward_saving`] saved:
/// *accumulates* each `dy` into `d_input` at its window's first maximum.
#[inline(always)]
pub fn max_backward_saved(
    g: &Geometry,
    batch: usize,
    (positions, stride): (&[u8], usize),
    d_output: &[f32],
    d_input: &mut [f32],
) {
    let inside = interior(g);
    let saved = (positions, stride);
    for_saved_planes(
        g,
        batch,
        saved,
        d_output,
        d_input,
        #[inline(always)]
        |at, dy, dx| {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let (pos, d) = (at[i * g.ow + j], dy[i * g.ow + j]);
                    let (pos, d) = if inside {
                        // no branch on `NO_GRADIENT`, which a ReLU gives
                        // about half the outputs at random: its 0 goes to
                        // the window's corner, inside the input
                        let keep = ((pos != NO_GRADIENT) as u32).wrapping_neg();
                        (
                            (pos as u32 & keep) as usize,
                            f32::from_bits(d.to_bits() & keep),
                        )
                    } else if pos == NO_GRADIENT {
                        continue;
                    } else {
                        (pos as usize, d)
                    };
                    let (u, v) = (pos / g.kw, pos % g.kw);
                    let (y, x) = (i * g.sh + u - g.pt, j * g.sw + v - g.pl);
                    dx[y * g.w + x] += d;
                }
            }
        },
    );
}

/// `f(positions, dy, dx)` for each sample's channel in turn: the positions
/// [`max_forward_saving`] saved for it, and its planes of the output's and
/// the input's gradients. The callers mark their closures
/// `#[inline(always)]`: left as calls, compiled without the vector
/// instructions of the layer's pass, they made LeNet-5's training take half
/// as long again (17 k images/s rather than 25 k).
#[inline(always)]
fn for_saved_planes(
    g: &Geometry,
    batch: usize,
    (positions, stride): (&[u8], usize),
    d_output: &[f32],
    d_input: &mut [f32],
    mut f: impl FnMut(&[u8], &[f32], &mut [f32]),
) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    for p in 0..batch * g.c {
        let (n, c) = (p / g.c, p % g.c);
        let at = &positions[n * stride + c * ohw..][..ohw];
        let dy = &d_output[p * ohw..(p + 1) * ohw];
        let dx = &mut d_input[p * hw..(p + 1) * hw];
        f(at, dy, dx);
    }
}

/// Max pooling forward, `y[c, i, j] = max` over the window (overwriting
/// `output`), with `relu` the ReLU before the pool applied to each maximum
/// as it is stored.
#[inline(always)]
pub fn max_forward_relu(g: &Geometry, relu: bool, batch: usize, input: &[f32], output: &mut [f32]) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let inside = interior(g);
    for p in 0..batch * g.c {
        let plane = &input[p * hw..(p + 1) * hw];
        let out = &mut output[p * ohw..(p + 1) * ohw];
        for i in 0..g.oh {
            for j in 0..g.ow {
                let m = if inside {
                    max_inside(g, plane, i * g.sh * g.w + j * g.sw)
                } else {
                    argmax(g, plane, i, j).map_or(f32::NEG_INFINITY, |k| plane[k])
                };
                out[i * g.ow + j] = relu_if(relu, m);
            }
        }
    }
}

/// Whether the windows of `g` tile its input: each input value in exactly
/// one window (stride = window, no padding, nothing left over), so that
/// [`max_backward_saved_store`] writes every input gradient.
pub const fn tiles(g: &Geometry) -> bool {
    g.pt == 0
        && g.pl == 0
        && g.pb == 0
        && g.pr == 0
        && g.sh == g.kh
        && g.sw == g.kw
        && g.oh * g.kh == g.h
        && g.ow * g.kw == g.w
}

/// [`max_backward_saved`] for windows that [`tiles`] the input, *storing*
/// every input gradient (`dy` at each maximum, 0 elsewhere) rather than
/// adding into a gradient zeroed first: one pass of writes, row after row
/// of the input.
#[inline(always)]
pub fn max_backward_saved_store(
    g: &Geometry,
    batch: usize,
    (positions, stride): (&[u8], usize),
    d_output: &[f32],
    d_input: &mut [f32],
) {
    let saved = (positions, stride);
    for_saved_planes(
        g,
        batch,
        saved,
        d_output,
        d_input,
        #[inline(always)]
        |at, dy, dx| {
            for i in 0..g.oh {
                let (at, dy) = (&at[i * g.ow..][..g.ow], &dy[i * g.ow..][..g.ow]);
                for u in 0..g.kh {
                    let row = &mut dx[(i * g.kh + u) * g.w..][..g.w];
                    for j in 0..g.ow {
                        for v in 0..g.kw {
                            // a mask rather than `if`: no branch
                            let here = ((at[j] as usize == u * g.kw + v) as u32).wrapping_neg();
                            row[j * g.kw + v] = f32::from_bits(dy[j].to_bits() & here);
                        }
                    }
                }
            }
        },
    );
}

/// Max pooling backward: *accumulates* each `dy` into `d_input` at its
/// window's first maximum; with `relu` (the pool applied the ReLU before
/// it), only where that maximum is above 0.
#[inline(always)]
pub fn max_backward(
    g: &Geometry,
    relu: bool,
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
                if let Some(k) = k.filter(|&k| !relu || plane[k] > 0.0) {
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

    /// Max pooling forward: `y[c, i, j] = max` over the window; overwrites
    /// `output`.
    fn max_forward(g: &Geometry, batch: usize, input: &[f32], output: &mut [f32]) {
        max_forward_relu(g, false, batch, input, output)
    }

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
        max_backward(&g, false, 1, &[1.0, 3.0, 3.0, 2.0], &[5.0], &mut dx);
        assert_eq!(dx, vec![0.0, 5.0, 0.0, 0.0]);
    }

    #[test]
    fn max_pool_propagates_nan() {
        let g = geom(1, 2, 2, 1, 1, (2, 2), (1, 1), (0, 0));
        let mut y = [0.0];
        max_forward(&g, 1, &[1.0, f32::NAN, 3.0, 2.0], &mut y);
        assert!(y[0].is_nan());
    }

    /// ReLU then max pooling, and their gradient, the way PyTorch runs
    /// them: two layers, the ReLU's input kept.
    fn relu_then_max(g: &Geometry, batch: usize, x: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let r: Vec<f32> = x.iter().map(|&v| if v < 0.0 { 0.0 } else { v }).collect();
        let mut y = vec![0.0; dy.len()];
        max_forward(g, batch, &r, &mut y);
        let mut dr = vec![0.0; x.len()];
        max_backward(g, false, batch, &r, dy, &mut dr);
        let dx = dr
            .iter()
            .zip(x)
            .map(|(&d, &v)| if v > 0.0 { d } else { 0.0 })
            .collect();
        (y, dx)
    }

    /// The saved positions give the outputs and gradients the input gives,
    /// bit for bit, with and without the ReLU before the pool (and so does
    /// the unsaved path with it), in every geometry, on values with ties,
    /// zeros, negatives and a NaN.
    #[test]
    fn saved_positions_give_what_the_input_gives() {
        let mut extra = cases();
        // a ReLU'd window of zeros and one where the first maximum is not the
        // top-left value
        extra.push((geom(1, 4, 4, 2, 2, (2, 2), (2, 2), (0, 0)), 0, 0));
        for (t, (g, _, _)) in extra.into_iter().enumerate() {
            assert!(saves_argmax(&g));
            let batch = 3;
            let (n_in, ohw) = (batch * g.c * g.h * g.w, g.oh * g.ow);
            let n_out = batch * g.c * ohw;
            let mut x = distinct_vec(n_in, 300 + t as u64);
            // ties and zeros: every fifth value rounded to a few levels
            for (k, v) in x.iter_mut().enumerate() {
                if k % 5 == 0 {
                    *v = (*v * 2.0).round() / 2.0;
                }
            }
            x[n_in / 2] = f32::NAN;
            let dy = distinct_vec(n_out, 400 + t as u64);
            // a stride that is not the sample's own length
            let stride = g.c * ohw + 3;
            for relu in [false, true] {
                let mut y = vec![0.0; n_out];
                let mut at = vec![0u8; batch * stride];
                max_forward_saving(&g, relu, batch, &x, &mut y, (&mut at, stride));
                let mut dx = vec![0.0; n_in];
                max_backward_saved(&g, batch, (&at, stride), &dy, &mut dx);
                let (want_y, want_dx) = if relu {
                    relu_then_max(&g, batch, &x, &dy)
                } else {
                    let mut y = vec![0.0; n_out];
                    max_forward(&g, batch, &x, &mut y);
                    let mut dx = vec![0.0; n_in];
                    max_backward(&g, false, batch, &x, &dy, &mut dx);
                    (y, dx)
                };
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                // a zero's sign may differ: the ReLU after the maximum keeps
                // the maximum's −0, the one before it may give +0 first
                let same = |a: &[f32], b: &[f32]| {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| x == y || x.to_bits() == y.to_bits())
                };
                assert!(
                    same(&y, &want_y),
                    "{g:?} relu {relu}: {y:?} against {want_y:?}"
                );
                assert_eq!(bits(&dx), bits(&want_dx), "{g:?} relu {relu}: gradients");

                // the path that reads the input back
                let mut y = vec![0.0; n_out];
                max_forward_relu(&g, relu, batch, &x, &mut y);
                let mut dx = vec![0.0; n_in];
                max_backward(&g, relu, batch, &x, &dy, &mut dx);
                assert!(same(&y, &want_y), "{g:?} relu {relu}: unsaved outputs");
                assert_eq!(
                    bits(&dx),
                    bits(&want_dx),
                    "{g:?} relu {relu}: unsaved gradients"
                );
            }
        }
    }

    #[test]
    fn a_stored_gradient_is_the_one_added_into_zeros() {
        let mut tiled = 0;
        for (g, _, _) in cases() {
            if !tiles(&g) {
                continue;
            }
            tiled += 1;
            let batch = 2;
            let (n_in, n_out) = (batch * g.c * g.h * g.w, batch * g.c * g.oh * g.ow);
            let x = distinct_vec(n_in, 31);
            let dy = distinct_vec(n_out, 32);
            let stride = g.c * g.oh * g.ow;
            for relu in [false, true] {
                let (mut y, mut at) = (vec![0.0; n_out], vec![0u8; batch * stride]);
                max_forward_saving(&g, relu, batch, &x, &mut y, (&mut at, stride));
                let mut added = vec![0.0; n_in];
                max_backward_saved(&g, batch, (&at, stride), &dy, &mut added);
                let mut stored = vec![f32::NAN; n_in];
                max_backward_saved_store(&g, batch, (&at, stride), &dy, &mut stored);
                assert_eq!(stored, added, "{g:?} relu {relu}");
            }
        }
        assert!(tiled >= 2, "the cases hold {tiled} tiling geometries");
    }

    #[test]
    fn a_relu_zero_window_passes_no_gradient() {
        // windows: [-1 0; -2 -3] and [2 -1; 2 5]
        let g = geom(1, 2, 4, 1, 2, (2, 2), (2, 2), (0, 0));
        let x = [-1.0, 0.0, 2.0, -1.0, -2.0, -3.0, 2.0, 5.0];
        let (mut y, mut at) = ([9.0; 2], [0u8; 2]);
        max_forward_saving(&g, true, 1, &x, &mut y, (&mut at, 2));
        assert_eq!(y, [0.0, 5.0]);
        assert_eq!(at, [NO_GRADIENT, 3]);
        let mut dx = [0.0; 8];
        max_backward_saved(&g, 1, (&at, 2), &[7.0, 11.0], &mut dx);
        assert_eq!(dx, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 11.0]);
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
            max_backward(&g, false, batch, &x, &dy, &mut dx);
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

            // the ReLU before the pool, applied by it, from saved positions
            let mut dx = vec![0.0; n_in];
            let stride = g.c * g.oh * g.ow;
            let mut at = vec![0u8; batch * stride];
            let mut y = vec![0.0; n_out];
            max_forward_saving(&g, true, batch, &x, &mut y, (&mut at, stride));
            max_backward_saved(&g, batch, (&at, stride), &dy, &mut dx);
            grad_check(
                &x,
                &dx,
                |x| {
                    let mut y = vec![0.0; n_out];
                    max_forward_relu(&g, true, batch, x, &mut y);
                    loss_of(&y)
                },
                &format!("relu and max {g:?}"),
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
