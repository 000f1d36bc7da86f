//! Parameter initialisation (`init = ...` in the language).
//!
//! Weights are drawn from a normal distribution with mean 0 and a standard
//! deviation set by the layer's fan-in (and fan-out for Xavier); biases start
//! at 0 and PReLU slopes at 0.25. Draws come from a ChaCha8 generator seeded
//! by the network's seed, so a seed gives the same network on every machine.

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// How a layer's weights are drawn (`init = ...` in the DSL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// `N(0, 1/fan_in)`: the project's default (standard deviation 1/√fan_in).
    Default,
    /// He (Kaiming) normal: standard deviation √(2/fan_in), for ReLU networks.
    He,
    /// Xavier (Glorot) normal: standard deviation √(2/(fan_in + fan_out)).
    Xavier,
    /// LeCun normal: standard deviation √(1/fan_in).
    Lecun,
}

impl Init {
    /// The standard deviation for a layer with these fans.
    pub fn std(self, fan_in: usize, fan_out: usize) -> f32 {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        (match self {
            Init::Default | Init::Lecun => 1.0 / fi.sqrt(),
            Init::He => (2.0 / fi).sqrt(),
            Init::Xavier => (2.0 / (fi + fo)).sqrt(),
        }) as f32
    }

    /// Fills `weights` with draws for a layer with these fans.
    pub fn fill(self, weights: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut ChaCha8Rng) {
        let normal = Normal::new(0.0f32, self.std(fan_in, fan_out))
            .expect("standard deviation is finite and positive");
        weights.iter_mut().for_each(|w| *w = normal.sample(rng));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_have_the_requested_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (init, want) in [
            (Init::Default, 0.05f64),
            (Init::He, 0.0707),
            (Init::Xavier, 0.0632),
            (Init::Lecun, 0.05),
        ] {
            let mut w = vec![0.0; 40_000];
            init.fill(&mut w, 400, 100, &mut rng);
            let mean = w.iter().map(|&v| v as f64).sum::<f64>() / w.len() as f64;
            let std =
                (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
            assert!(mean.abs() < 0.002, "{init:?}: mean {mean}");
            assert!(
                (std - want).abs() < 0.02 * want,
                "{init:?}: std {std}, want {want}"
            );
        }
    }
}
