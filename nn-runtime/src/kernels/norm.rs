//! Batch normalisation over `[B, C, P]`: `C` channels of `P = H·W` values
//! per sample (`P = 1` for the features of `[N]`), PyTorch's
//! `BatchNorm2d` / `BatchNorm1d`.
//!
//! - Training: each channel is normalised with the batch's mean and biased
//!   variance over its `B·P` values, `y = γ·(x − μ)/√(σ² + ε) + β`, and the
//!   running statistics move towards the batch's: `r ← (1 − m)·r + m·s`,
//!   with the unbiased variance `σ²·n/(n − 1)`.
//! - Evaluation: the running statistics take the batch's place.
//!
//! Both compute `y = x·α + β'` with `α = γ/√(σ² + ε)` and `β' = β − μ·α`,
//! as PyTorch's CPU kernel does. Means and variances are summed in `f64`
//! over `f32` partial sums of each plane: a channel can hold millions of
//! values (64 samples of 112×112), where a single `f32` sum would lose
//! digits.

use super::{lanes, sum, SUM_LANES};

/// Per-channel statistics the forward pass leaves for backward.
pub struct Saved<'a> {
    pub mean: &'a [f32],
    pub invstd: &'a [f32],
}

/// Running statistics: mean, variance and the number of batches seen.
pub struct Running<'a> {
    pub mean: &'a mut [f32],
    pub var: &'a mut [f32],
    pub count: &'a mut f32,
}

/// The `B` planes of channel `ch` in `x [B, C, P]`.
#[inline(always)]
fn planes(x: &[f32], c: usize, p: usize, batch: usize, ch: usize) -> impl Iterator<Item = &[f32]> {
    (0..batch).map(move |s| &x[(s * c + ch) * p..(s * c + ch + 1) * p])
}

/// `Σ(x − m)²` over a plane, in [`SUM_LANES`] partial sums.
#[inline(always)]
fn plane_squares(row: &[f32], m: f32) -> f32 {
    let mut acc = [0.0f32; SUM_LANES];
    let chunks = row.chunks_exact(SUM_LANES);
    let tail: f32 = chunks.remainder().iter().map(|v| (v - m) * (v - m)).sum();
    for chunk in chunks {
        let chunk = lanes(chunk);
        for i in 0..SUM_LANES {
            let d = chunk[i] - m;
            acc[i] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σdy` and `Σdy·(x − m)` over a plane, in [`SUM_LANES`] partial sums each.
#[inline(always)]
fn plane_grad_sums(x: &[f32], dy: &[f32], m: f32) -> (f32, f32) {
    let (mut acc, mut acc_xc) = ([0.0f32; SUM_LANES], [0.0f32; SUM_LANES]);
    let (xc, dc) = (x.chunks_exact(SUM_LANES), dy.chunks_exact(SUM_LANES));
    let tail: f32 = dc.remainder().iter().sum();
    let tail_xc: f32 = xc
        .remainder()
        .iter()
        .zip(dc.remainder())
        .map(|(v, d)| d * (v - m))
        .sum();
    for (xs, ds) in xc.zip(dc) {
        let (xs, ds) = (lanes(xs), lanes(ds));
        for i in 0..SUM_LANES {
            acc[i] += ds[i];
            acc_xc[i] += ds[i] * (xs[i] - m);
        }
    }
    (
        acc.iter().sum::<f32>() + tail,
        acc_xc.iter().sum::<f32>() + tail_xc,
    )
}

/// The mean and biased variance of channel `ch` (two passes, so that a
/// large mean does not cancel the variance's digits).
#[inline(always)]
fn channel_stats(x: &[f32], c: usize, p: usize, batch: usize, ch: usize) -> (f64, f64) {
    let n = (batch * p) as f64;
    // `for` loops rather than `map(..).sum()`, whose `fold` was left as a
    // call, compiled without AVX2
    let mut total = 0.0f64;
    for row in planes(x, c, p, batch, ch) {
        total += sum(row) as f64;
    }
    let mean = total / n;
    let m = mean as f32;
    let mut sq = 0.0f64;
    for row in planes(x, c, p, batch, ch) {
        sq += plane_squares(row, m) as f64;
    }
    (mean, sq / n)
}

/// `y = x·α + β'` on channel `ch`.
#[inline(always)]
fn transform(
    x: &[f32],
    y: &mut [f32],
    (c, p, batch, ch): (usize, usize, usize, usize),
    alpha: f32,
    shift: f32,
) {
    for s in 0..batch {
        let at = (s * c + ch) * p;
        for (o, &v) in y[at..at + p].iter_mut().zip(&x[at..at + p]) {
            *o = v * alpha + shift;
        }
    }
}

/// Training forward: normalises with the batch's statistics, keeps them
/// in `saved` (mean and `1/√(σ² + ε)`) and updates `running`. With one
/// value per channel (a batch of one `[N]` sample) the output is `β` and
/// the running statistics are left as they are, where PyTorch refuses to
/// train.
#[inline(always)]
pub fn train_forward(
    (c, p, batch): (usize, usize, usize),
    (gamma, beta): (&[f32], &[f32]),
    (momentum, eps): (f32, f32),
    x: &[f32],
    y: &mut [f32],
    running: Running<'_>,
    saved_mean: &mut [f32],
    saved_invstd: &mut [f32],
) {
    let n = batch * p;
    for ch in 0..c {
        let (mean, var) = channel_stats(x, c, p, batch, ch);
        let invstd = 1.0 / (var + eps as f64).sqrt();
        saved_mean[ch] = mean as f32;
        saved_invstd[ch] = invstd as f32;
        let alpha = gamma[ch] * invstd as f32;
        transform(
            x,
            y,
            (c, p, batch, ch),
            alpha,
            beta[ch] - mean as f32 * alpha,
        );
        if n > 1 {
            let m = momentum;
            let unbiased = var * n as f64 / (n - 1) as f64;
            running.mean[ch] = (1.0 - m) * running.mean[ch] + m * mean as f32;
            running.var[ch] = (1.0 - m) * running.var[ch] + m * unbiased as f32;
        }
    }
    if n > 1 {
        *running.count += 1.0;
    }
}

/// `1/√(var + ε)` of a running variance, as PyTorch computes it.
#[inline(always)]
pub fn running_invstd(var: f32, eps: f32) -> f32 {
    1.0 / (var + eps).sqrt()
}

/// Evaluation forward: normalises with the running statistics.
#[inline(always)]
pub fn eval_forward(
    (c, p, batch): (usize, usize, usize),
    (gamma, beta): (&[f32], &[f32]),
    eps: f32,
    (running_mean, running_var): (&[f32], &[f32]),
    x: &[f32],
    y: &mut [f32],
) {
    for ch in 0..c {
        let (alpha, shift) = eval_affine(
            (gamma[ch], beta[ch]),
            eps,
            (running_mean[ch], running_var[ch]),
        );
        transform(x, y, (c, p, batch, ch), alpha, shift);
    }
}

/// Evaluation as `y = x·α + β'` on one channel: `(α, β')` from γ, β and the
/// running statistics.
#[inline(always)]
pub fn eval_affine((gamma, beta): (f32, f32), eps: f32, (mean, var): (f32, f32)) -> (f32, f32) {
    let alpha = gamma * running_invstd(var, eps);
    (alpha, beta - mean * alpha)
}

/// Backward on channel statistics `(mean, invstd)`: *accumulates* into
/// `d_gamma`, `d_beta` and, when given, `d_input` (or stores into it, when
/// `store`). With `batch_stats` the
/// statistics were the batch's own (training), so the gradient also flows
/// through them: `dx = γ·invstd·(dy − Σdy/n − x̂·Σ(dy·x̂)/n)`; otherwise
/// they were constants and `dx = γ·invstd·dy`.
#[inline(always)]
pub fn backward(
    (c, p, batch): (usize, usize, usize),
    gamma: &[f32],
    stats: Saved<'_>,
    batch_stats: bool,
    (x, dy): (&[f32], &[f32]),
    (mut d_input, store): (Option<&mut [f32]>, bool),
    (d_gamma, d_beta): (&mut [f32], &mut [f32]),
) {
    let n = (batch * p) as f64;
    for ch in 0..c {
        let (mean, invstd) = (stats.mean[ch], stats.invstd[ch]);
        let (mut sum_dy, mut sum_dy_xc) = (0.0f64, 0.0f64);
        for (xr, dr) in planes(x, c, p, batch, ch).zip(planes(dy, c, p, batch, ch)) {
            let (dy_sum, dy_xc_sum) = plane_grad_sums(xr, dr, mean);
            sum_dy += dy_sum as f64;
            sum_dy_xc += dy_xc_sum as f64;
        }
        d_gamma[ch] += (sum_dy_xc * invstd as f64) as f32;
        d_beta[ch] += sum_dy as f32;
        let Some(dx) = d_input.as_deref_mut() else {
            continue;
        };
        let scale = gamma[ch] * invstd;
        // dx = scale·dy − a − x·b, with the constants per channel
        let (a, b) = if batch_stats {
            let k = sum_dy_xc * (invstd as f64).powi(2) / n;
            let mean_dy = sum_dy / n;
            (
                (scale as f64 * (mean_dy - mean as f64 * k)) as f32,
                (scale as f64 * k) as f32,
            )
        } else {
            (0.0, 0.0)
        };
        for s in 0..batch {
            let at = (s * c + ch) * p;
            let rows = dx[at..at + p].iter_mut().zip(&dy[at..at + p]);
            if store {
                for ((d, &g), &v) in rows.zip(&x[at..at + p]) {
                    *d = scale * g - a - v * b;
                }
            } else {
                for ((d, &g), &v) in rows.zip(&x[at..at + p]) {
                    *d += scale * g - a - v * b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_close;

    fn draw(n: usize, seed: u32) -> Vec<f32> {
        // a small deterministic generator: no dependency on rand's streams
        let mut z = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) + 1;
        (0..n)
            .map(|_| {
                z ^= z << 13;
                z ^= z >> 7;
                z ^= z << 17;
                ((z >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect()
    }

    /// The textbook formulas in f64, one value at a time.
    fn reference(
        c: usize,
        p: usize,
        batch: usize,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
    ) -> Vec<f32> {
        let mut y = vec![0.0; x.len()];
        for ch in 0..c {
            let idx: Vec<usize> = (0..batch)
                .flat_map(|s| (0..p).map(move |i| (s * c + ch) * p + i))
                .collect();
            let n = idx.len() as f64;
            let mean = idx.iter().map(|&i| x[i] as f64).sum::<f64>() / n;
            let var = idx
                .iter()
                .map(|&i| (x[i] as f64 - mean).powi(2))
                .sum::<f64>()
                / n;
            for &i in &idx {
                let xhat = (x[i] as f64 - mean) / (var + 1e-5).sqrt();
                y[i] = (gamma[ch] as f64 * xhat + beta[ch] as f64) as f32;
            }
        }
        y
    }

    #[test]
    fn training_forward_matches_the_formula_and_updates_the_running_statistics() {
        let (c, p, batch) = (3, 37, 4);
        let x: Vec<f32> = draw(c * p * batch, 1)
            .iter()
            .map(|v| v * 3.0 + 100.0)
            .collect();
        let (gamma, beta) = (draw(c, 2), draw(c, 3));
        let (mut rm, mut rv, mut count) = (vec![0.5; c], vec![2.0; c], 3.0);
        let (mut sm, mut si) = (vec![0.0; c], vec![0.0; c]);
        let mut y = vec![0.0; x.len()];
        let running = Running {
            mean: &mut rm,
            var: &mut rv,
            count: &mut count,
        };
        train_forward(
            (c, p, batch),
            (&gamma, &beta),
            (0.1, 1e-5),
            &x,
            &mut y,
            running,
            &mut sm,
            &mut si,
        );
        assert_close(&y, &reference(c, p, batch, &x, &gamma, &beta), 1e-4, "y");
        assert_eq!(count, 4.0);
        for ch in 0..c {
            let vals: Vec<f64> = (0..batch)
                .flat_map(|s| x[(s * c + ch) * p..(s * c + ch + 1) * p].to_vec())
                .map(f64::from)
                .collect();
            let n = vals.len() as f64;
            let mean = vals.iter().sum::<f64>() / n;
            let unbiased = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(
                (rm[ch] as f64 - (0.9 * 0.5 + 0.1 * mean)).abs() < 1e-4,
                "running mean"
            );
            assert!(
                (rv[ch] as f64 - (0.9 * 2.0 + 0.1 * unbiased)).abs() < 1e-4,
                "running var"
            );
            assert!((sm[ch] as f64 - mean).abs() < 1e-4);
        }
    }

    #[test]
    fn one_value_per_channel_leaves_the_running_statistics() {
        let (mut rm, mut rv, mut count) = (vec![0.5; 2], vec![2.0; 2], 0.0);
        let (mut sm, mut si) = (vec![0.0; 2], vec![0.0; 2]);
        let mut y = vec![9.0; 2];
        let running = Running {
            mean: &mut rm,
            var: &mut rv,
            count: &mut count,
        };
        let (gamma, beta) = ([1.0, 2.0], [0.25, -0.5]);
        train_forward(
            (2, 1, 1),
            (&gamma, &beta),
            (0.1, 1e-5),
            &[3.0, 4.0],
            &mut y,
            running,
            &mut sm,
            &mut si,
        );
        assert_eq!(y, [0.25, -0.5]);
        assert_eq!((rm, rv, count), (vec![0.5; 2], vec![2.0; 2], 0.0));
    }

    /// Finite differences of `Σ y·g` in f64 around the f32 point.
    #[test]
    fn training_backward_matches_finite_differences() {
        let (c, p, batch) = (2, 37, 3); // 37: a whole chunk of lanes and a tail
        let x = draw(c * p * batch, 4);
        let g = draw(x.len(), 5);
        let (gamma, beta) = (draw(c, 6), draw(c, 7));
        let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| -> f64 {
            reference(c, p, batch, x, gamma, beta)
                .iter()
                .zip(&g)
                .map(|(y, g)| *y as f64 * *g as f64)
                .sum()
        };
        let (mut rm, mut rv, mut count) = (vec![0.0; c], vec![1.0; c], 0.0);
        let (mut sm, mut si) = (vec![0.0; c], vec![0.0; c]);
        let mut y = vec![0.0; x.len()];
        let running = Running {
            mean: &mut rm,
            var: &mut rv,
            count: &mut count,
        };
        train_forward(
            (c, p, batch),
            (&gamma, &beta),
            (0.1, 1e-5),
            &x,
            &mut y,
            running,
            &mut sm,
            &mut si,
        );
        // backward into dx (stored when `store`), dγ and dβ
        let run = |dx: &mut [f32], store: bool, dg: &mut [f32], db: &mut [f32]| {
            let saved = Saved {
                mean: &sm,
                invstd: &si,
            };
            let d_input = (Some(dx), store);
            backward(
                (c, p, batch),
                &gamma,
                saved,
                true,
                (&x, &g),
                d_input,
                (dg, db),
            );
        };
        let mut dx = vec![0.0; x.len()];
        let (mut dg, mut db) = (vec![0.0; c], vec![0.0; c]);
        run(&mut dx, false, &mut dg, &mut db);
        // stored over stale values: the same input gradient
        let mut stored = vec![f32::NAN; x.len()];
        run(&mut stored, true, &mut vec![0.0; c], &mut vec![0.0; c]);
        assert_eq!(stored, dx);
        let h = 1e-2f32;
        let numeric = |f: &dyn Fn(f32) -> f64| (f(h) - f(-h)) / (2.0 * h as f64);
        for i in 0..x.len() {
            let d = numeric(&|e| {
                let mut x2 = x.clone();
                x2[i] += e;
                loss(&x2, &gamma, &beta)
            });
            assert!(
                (dx[i] as f64 - d).abs() < 2e-3 * (1.0 + d.abs()),
                "dx[{i}] {} vs {d}",
                dx[i]
            );
        }
        for ch in 0..c {
            let d = numeric(&|e| {
                let mut g2 = gamma.clone();
                g2[ch] += e;
                loss(&x, &g2, &beta)
            });
            assert!((dg[ch] as f64 - d).abs() < 2e-3 * (1.0 + d.abs()), "dgamma");
            let d = numeric(&|e| {
                let mut b2 = beta.clone();
                b2[ch] += e;
                loss(&x, &gamma, &b2)
            });
            assert!((db[ch] as f64 - d).abs() < 2e-3 * (1.0 + d.abs()), "dbeta");
        }
    }
}
