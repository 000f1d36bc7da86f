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
    const STEP: f32 = 1e-3;
    assert_eq!(x.len(), analytic.len(), "{what}: gradient length");
    let mut xp = x.to_vec();
    for &i in indices {
        let orig = xp[i];
        xp[i] = orig + STEP;
        let up = loss(&xp);
        let h_up = xp[i] - orig;
        xp[i] = orig - STEP;
        let down = loss(&xp);
        let h_down = orig - xp[i];
        xp[i] = orig;
        let numeric = (up - down) / (h_up + h_down) as f64;
        let a = analytic[i] as f64;
        let tol = 1e-2 * numeric.abs().max(a.abs()) + 1e-3;
        assert!(
            (numeric - a).abs() <= tol,
            "{what}: gradient at {i} is {a}, finite differences give {numeric}"
        );
    }
}

/// `n` standard-normal values from a seed.
pub fn random_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// `n` distinct values, none of them 0 (a seeded shuffle of
/// `(k + 0.5) · 0.05 − n/40`), for tests of kinks such as ReLU at 0 or max
/// pooling, where ties or near-ties would make finite differences meaningless.
pub fn distinct_vec(n: usize, seed: u64) -> Vec<f32> {
    use rand::seq::SliceRandom;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v: Vec<f32> = (0..n)
        .map(|k| (k as f32 + 0.5) * 0.05 - n as f32 / 40.0)
        .collect();
    v.shuffle(&mut rng);
    v
}
