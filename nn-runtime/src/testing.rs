//! Helpers for numerical tests: closeness with a useful failure message,
//! central finite differences, and seeded random data.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

/// Asserts `|got − want| ≤ rel · |want| + rel · mean|want|` for every element.
///
/// The second term keeps the check relative for elements that cancel to
/// almost zero: their rounding error is set by the magnitude of the terms
/// that cancelled, which the tensor's mean magnitude stands for.
/// Panics with the first mismatching index, both values and the largest
/// difference.
pub fn assert_close(got: &[f32], want: &[f32], rel: f64, what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: length {} vs expected {}",
        got.len(),
        want.len()
    );
    let scale = want.iter().map(|w| w.abs() as f64).sum::<f64>() / want.len().max(1) as f64;
    let mut first = None;
    let mut max_diff = 0.0f64;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let diff = (g as f64 - w as f64).abs();
        let ok = diff <= rel * (w.abs() as f64 + scale);
        if !ok || g.is_nan() != w.is_nan() {
            first.get_or_insert((i, g, w));
        }
        if diff > max_diff {
            max_diff = diff;
        }
    }
    if let Some((i, g, w)) = first {
        panic!("{what}: element {i} is {g}, expected {w} (max |diff| {max_diff:e}, rel tol {rel:e}, mean |expected| {scale:e})");
    }
}

/// Checks an analytic gradient against central finite differences of
/// `loss` (computed in f64) at every element of `x`, with step 1e-3 and
/// tolerance `1e-2 · max(|numeric|, |analytic|) + 1e-3`.
pub fn grad_check(x: &[f32], analytic: &[f32], loss: impl FnMut(&[f32]) -> f64, what: &str) {
    let all: Vec<usize> = (0..x.len()).collect();
    grad_check_at(x, analytic, &all, loss, what);
}

/// [`grad_check`] at the given indices only.
pub fn grad_check_at(
    x: &[f32],
    analytic: &[f32],
    indices: &[usize],
    mut loss: impl FnMut(&[f32]) -> f64,
    what: &str,
) {
    assert_eq!(x.len(), analytic.len(), "{what}: gradient length");
    let mut xp = x.to_vec();
    for &i in indices {
        let numeric = central_difference(&mut xp, i, &mut loss);
        check_one(numeric, analytic[i], i, what);
    }
}

const STEP: f32 = 1e-3;

fn central_difference(xp: &mut [f32], i: usize, loss: &mut impl FnMut(&[f32]) -> f64) -> f64 {
    let orig = xp[i];
    xp[i] = orig + STEP;
    let up = loss(xp);
    let h_up = (xp[i] - orig) as f64;
    xp[i] = orig - STEP;
    let down = loss(xp);
    let h_down = (orig - xp[i]) as f64;
    xp[i] = orig;
    (up - down) / (h_up + h_down)
}

fn check_one(numeric: f64, analytic: f32, i: usize, what: &str) {
    let a = analytic as f64;
    let tol = 1e-2 * numeric.abs().max(a.abs()) + 1e-3;
    assert!(
        (numeric - a).abs() <= tol,
        "{what}: gradient at {i} is {a}, finite differences give {numeric}"
    );
}

/// Finite-difference check for piecewise functions (ReLU, max pooling).
///
/// The central difference is the mean of the gradient over `[x − h, x + h]`.
/// Where the analytic gradient (from `grad`) is the same at `x − h`, `x` and
/// `x + h`, it must match as in [`grad_check`]. Where it changes, a kink lies
/// within the step, and the difference must lie between the smallest and
/// largest of the three (within the same tolerance). At most `max_kinked`
/// (a fraction) of the indices may have such a change: a backward whose
/// gradients jump everywhere fails that. Returns how many indices had one.
pub fn grad_check_piecewise(
    x: &[f32],
    indices: &[usize],
    mut loss: impl FnMut(&[f32]) -> f64,
    mut grad: impl FnMut(&[f32]) -> Vec<f32>,
    what: &str,
    max_kinked: f64,
) -> usize {
    let analytic = grad(x);
    assert_eq!(x.len(), analytic.len(), "{what}: gradient length");
    let mut xp = x.to_vec();
    let mut kinked = 0;
    for &i in indices {
        let a = analytic[i] as f64;
        let orig = xp[i];
        let (mut lo, mut hi) = (a, a);
        for delta in [STEP, -STEP] {
            xp[i] = orig + delta;
            let g = grad(&xp)[i] as f64;
            lo = lo.min(g);
            hi = hi.max(g);
        }
        xp[i] = orig;
        let numeric = central_difference(&mut xp, i, &mut loss);
        let tol = 1e-2 * numeric.abs().max(lo.abs()).max(hi.abs()) + 1e-3;
        if hi - lo <= tol {
            check_one(numeric, a as f32, i, what);
        } else {
            kinked += 1;
            assert!(
                numeric >= lo - tol && numeric <= hi + tol,
                "{what}: at {i} the gradient goes from {lo} to {hi} within the step, finite differences give {numeric}"
            );
        }
    }
    assert!(
        kinked as f64 <= max_kinked * indices.len() as f64,
        "{what}: {kinked} of {} indices have a kink within the step",
        indices.len()
    );
    kinked
}

/// `n` standard-normal values from a seed.
pub fn random_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// `n` distinct values in (−1, 1), none of them 0 (a seeded shuffle of
/// `(2k + 1)/n − 1`, spaced `2/n` apart), for tests of kinks such as ReLU at 0
/// or max pooling, where ties or near-ties would make finite differences
/// meaningless.
pub fn distinct_vec(n: usize, seed: u64) -> Vec<f32> {
    use rand::seq::SliceRandom;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v: Vec<f32> = (0..n)
        .map(|k| ((2 * k + 1) as f64 / n as f64 - 1.0) as f32)
        .collect();
    if n % 2 == 1 {
        // the middle value would be 0
        v[n / 2] = 1.0;
    }
    v.shuffle(&mut rng);
    v
}

/// A fresh directory `{prefix}-{process id}-{name}` under the system's
/// temporary directory, removed (with its contents) when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str, name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The whole number in environment variable `name`, or `default` when it
/// is unset or not one (the fuzz tests' case counts and seeds).
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
