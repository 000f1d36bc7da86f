//! Dropout's mask, drawn from a counter-based hash rather than a stream.
//!
//! Each value's draw is a function of the pass's key, the layer's key, the
//! sample's index in the mini-batch and the value's index, so backward
//! recomputes the mask instead of storing it (no buffer, no allocation), a
//! mini-batch split across threads draws what it would draw whole, and a
//! resumed run draws what an unbroken one would. The hash is SplitMix64's
//! finaliser, which passes BigCrush as a counter-based generator; its top
//! 24 bits give a uniform `f32` in `[0, 1)`.

/// SplitMix64's finaliser.
#[inline(always)]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of one sample's draws in one layer of one pass.
#[inline(always)]
pub fn sample_key(pass: u64, layer: u64, sample: usize) -> u64 {
    mix(pass ^ mix(layer.wrapping_add(0x9e37_79b9_7f4a_7c15)) ^ mix(sample as u64).rotate_left(17))
}

/// Whether value `i` of the sample keyed `key` is kept, with drop
/// probability `p`.
#[inline(always)]
pub fn kept(key: u64, i: usize, p: f32) -> bool {
    let bits = mix(key.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    ((bits >> 40) as f32) * (1.0 / (1u64 << 24) as f32) >= p
}

/// PyTorch's scale of the kept values, `1/(1 − p)` in `f32`.
#[inline(always)]
pub fn scale(p: f32) -> f32 {
    1.0 / (1.0 - p)
}

/// `y = x·mask·scale` (training) on one sample; with `accumulate`,
/// `y += x·mask·scale` (the backward pass, `x` being `dy`).
#[inline(always)]
pub fn apply(key: u64, p: f32, x: &[f32], y: &mut [f32], accumulate: bool) {
    let s = scale(p);
    for (i, (o, &v)) in y.iter_mut().zip(x).enumerate() {
        let m = if kept(key, i, p) { v * s } else { 0.0 };
        if accumulate {
            *o += m;
        } else {
            *o = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_fraction_is_one_minus_p_within_the_binomial_bounds() {
        for p in [0.1f32, 0.5, 0.9] {
            let n = 200_000;
            let kept_count = (0..n)
                .filter(|&i| kept(sample_key(7, 3, i / 1000), i % 1000, p))
                .count();
            let expected = n as f64 * (1.0 - p as f64);
            let sd = (n as f64 * p as f64 * (1.0 - p as f64)).sqrt();
            assert!(
                (kept_count as f64 - expected).abs() < 5.0 * sd,
                "p = {p}: {kept_count} kept of {n}"
            );
        }
    }

    #[test]
    fn keys_differ_by_pass_layer_and_sample() {
        let masks = |key: u64| (0..256).map(|i| kept(key, i, 0.5)).collect::<Vec<_>>();
        let base = masks(sample_key(1, 2, 3));
        assert_eq!(base, masks(sample_key(1, 2, 3)));
        for other in [
            sample_key(2, 2, 3),
            sample_key(1, 3, 3),
            sample_key(1, 2, 4),
        ] {
            let same = base
                .iter()
                .zip(masks(other))
                .filter(|(a, b)| **a == *b)
                .count();
            // independent masks agree on about half of 256 values
            assert!((96..=160).contains(&same), "{same} of 256 agree");
        }
    }

    #[test]
    fn kept_values_are_scaled_and_backward_uses_the_same_mask() {
        let x: Vec<f32> = (0..1000).map(|i| i as f32 + 1.0).collect();
        let mut y = vec![0.0; 1000];
        apply(11, 0.25, &x, &mut y, false);
        let mut dx = vec![1.0; 1000];
        apply(11, 0.25, &x, &mut dx, true);
        for i in 0..1000 {
            if y[i] == 0.0 {
                assert_eq!(dx[i], 1.0);
            } else {
                assert_eq!(y[i], x[i] * (1.0 / 0.75f32));
                assert_eq!(dx[i], 1.0 + y[i]);
            }
        }
    }
}
