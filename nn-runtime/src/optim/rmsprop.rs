//! RMSprop: PyTorch's `torch.optim.RMSprop`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html>),
//! after Hinton's lecture notes (Coursera "Neural Networks for Machine
//! Learning", lecture 6e) and, for the centered form, Graves (2013).
//!
//! For weights `w`, gradient `g`, learning rate `η`, smoothing `α`,
//! weight decay `λ`, momentum `μ` and `ε`, each step computes
//!
//! ```text
//! g ← g + λ·w                          (if λ ≠ 0)
//! s ← α·s + (1 − α)·g²                 mean square
//! m ← m + (1 − α)·(g − m)              mean, centered only
//! d = √(s − m²) + ε   (centered)   or   d = √s + ε
//! b ← μ·b + g/d,  w ← w − η·b          (if μ > 0)
//! w ← w − η·g/d                        (otherwise)
//! ```
//!
//! `s`, `m` and `b` start at zero. `ε` is added outside the square root, as
//! PyTorch does (some other libraries add it inside).

use super::{lerp, non_negative, Rule};

const KIND: &str = "rmsprop";

/// RMSprop (see the module docs for the update rule). Defaults are
/// `torch.optim.RMSprop`'s: `alpha` 0.99, `eps` 1e-8, `weight_decay` 0,
/// `momentum` 0, not centered.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::optim::{Optimizer, RmsProp};
///
/// let mut opt = RmsProp::new(0.01).alpha(0.75);
/// let mut w = [1.0f32];
/// opt.step(&mut w, &[2.0]);
/// // s = 0.25·4 = 1, w = 1 − 0.01 · 2 / (1 + 1e-8)
/// assert_eq!(w, [0.98]);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    lr: f32,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    steps: u64,
    /// `s`, the running mean of squared gradients.
    square_avg: Vec<f32>,
    /// `b`, allocated only with momentum.
    momentum_buffer: Vec<f32>,
    /// `m`, the running mean of gradients; allocated only when centered.
    grad_avg: Vec<f32>,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` (PyTorch's default is 0.01).
    pub fn new(lr: f32) -> Self {
        RmsProp {
            lr: super::learning_rate(KIND, lr),
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            steps: 0,
            square_avg: Vec::new(),
            momentum_buffer: Vec::new(),
            grad_avg: Vec::new(),
        }
    }

    /// Smoothing constant `α` of the running means (default 0.99).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = non_negative(KIND, "alpha", alpha);
        self
    }

    /// `ε` added to the root mean square (default 1e-8).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = non_negative(KIND, "eps", eps);
        self
    }

    /// L2 penalty `λ` added to the gradient as `λ·w` (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = non_negative(KIND, "weight decay", weight_decay);
        self
    }

    /// Momentum `μ` (default 0: none).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = non_negative(KIND, "momentum", momentum);
        self
    }

    /// Centered RMSprop: normalises by an estimate of the gradient's
    /// variance, `s − m²`, instead of its mean square (default off).
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
}

optimizer!(RmsProp);

impl Rule for RmsProp {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&mut self) -> &mut u64 {
        &mut self.steps
    }

    fn buffers(&mut self) -> impl Iterator<Item = (&'static str, &mut Vec<f32>)> {
        let (momentum, centered) = (self.momentum > 0.0, self.centered);
        [
            Some(("square_avg", &mut self.square_avg)),
            momentum.then_some(("momentum_buffer", &mut self.momentum_buffer)),
            centered.then_some(("grad_avg", &mut self.grad_avg)),
        ]
        .into_iter()
        .flatten()
    }

    #[inline(always)]
    fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        // PyTorch's scalars, rounded to f32 as its kernels round them
        let neg_lr = -self.lr;
        let lambda = self.weight_decay as f32;
        let alpha = self.alpha as f32;
        let one_minus_alpha = (1.0 - self.alpha) as f32;
        let eps = self.eps as f32;
        let mu = self.momentum as f32;
        let (centered, with_momentum) = (self.centered, self.momentum > 0.0);

        for (i, (w, &g)) in params.iter_mut().zip(grads).enumerate() {
            // weight decay: g + λ·w
            let g = if lambda != 0.0 {
                w.mul_add(lambda, g)
            } else {
                g
            };
            // mean square: α·s + (1 − α)·g²
            let s = &mut self.square_avg[i];
            *s = (one_minus_alpha * g).mul_add(g, *s * alpha);
            // root mean square, centered on the running mean m when asked
            let rms = if centered {
                let m = &mut self.grad_avg[i];
                // running mean: m + (1 − α)·(g − m)
                *m = lerp(*m, g, one_minus_alpha);
                // variance estimate: s − m²
                (-*m).mul_add(*m, *s).sqrt()
            } else {
                s.sqrt()
            };
            // denominator: rms + ε
            let d = rms + eps;
            if with_momentum {
                let b = &mut self.momentum_buffer[i];
                // velocity: μ·b + g/d
                *b = *b * mu + g / d;
                // descent: w − η·b
                *w = b.mul_add(neg_lr, *w);
            } else {
                // descent: w − η·g/d, as PyTorch's addcdiv (−η·g first)
                *w += (neg_lr * g) / d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Optimizer;

    #[test]
    fn defaults_are_pytorchs() {
        let opt = RmsProp::new(0.01);
        assert_eq!(opt.alpha, 0.99);
        assert_eq!(opt.eps, 1e-8);
        assert_eq!(opt.weight_decay, 0.0);
        assert_eq!(opt.momentum, 0.0);
        assert!(!opt.centered);
    }

    #[test]
    fn centered_momentum_steps_by_hand() {
        // η = 0.5, α = 0.5, μ = 0.5, ε = 0, exact binary arithmetic:
        // t = 1: g = 2, s = 0.5·4 = 2, m = 1, d = √(2 − 1) = 1,
        //        b = 2, w = 1 − 0.5·2 = 0
        // t = 2: g = −2, s = 1 + 2 = 3, m = 0.5 − 1 = −0.5, d = √(3 − 0.25),
        //        b = 1 − 2/d, w = −0.5·b
        let mut opt = RmsProp::new(0.5)
            .alpha(0.5)
            .momentum(0.5)
            .centered(true)
            .eps(0.0);
        let mut w = [1.0f32];
        opt.step(&mut w, &[2.0]);
        assert_eq!(w, [0.0]);
        opt.step(&mut w, &[-2.0]);
        let want = -0.5 * (1.0 - 2.0 / 2.75f64.sqrt());
        assert!((w[0] as f64 - want).abs() < 1e-7, "{} vs {want}", w[0]);
    }
}
