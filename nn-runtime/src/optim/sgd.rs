//! Stochastic gradient descent, with optional momentum, dampening, Nesterov
//! momentum and L2 weight decay: PyTorch's `torch.optim.SGD`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>).
//!
//! For weights `w`, gradient `g`, learning rate `η`, momentum `μ`,
//! dampening `τ` and weight decay `λ`, step `t` computes
//!
//! ```text
//! g ← g + λ·w                         (if λ ≠ 0)
//! v ← g                               (t = 1)
//! v ← μ·v + (1 − τ)·g                 (t > 1)          (if μ ≠ 0)
//! g ← g + μ·v  (Nesterov)   or   g ← v                 (if μ ≠ 0)
//! w ← w − η·g
//! ```
//!
//! The velocity `v` is PyTorch's: it accumulates gradients, and the learning
//! rate multiplies it at the update (not Sutskever's `v ← μ·v − η·g`).
//! Nesterov momentum needs `μ > 0` and `τ = 0`, as in PyTorch.

use super::{non_negative, Rule};

const KIND: &str = "sgd";

/// Stochastic gradient descent with PyTorch's momentum (see the module
/// docs for the update rule). Defaults are `torch.optim.SGD`'s: no momentum,
/// no dampening, no Nesterov, no weight decay.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::optim::{Optimizer, Sgd};
///
/// let mut opt = Sgd::new(0.5).momentum(0.5).nesterov(true);
/// let mut w = [1.0f32, -1.0];
/// opt.step(&mut w, &[1.0, -2.0]);
/// // first step: v = g, Nesterov direction g + 0.5·v = 1.5·g, w − 0.5·1.5·g
/// assert_eq!(w, [0.25, 0.5]);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    lr: f32,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    steps: u64,
    /// `v`, one per parameter; allocated only with momentum.
    momentum_buffer: Vec<f32>,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd {
            lr: super::learning_rate(KIND, lr),
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            steps: 0,
            momentum_buffer: Vec::new(),
        }
    }

    /// Momentum `μ` (default 0: none).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = non_negative(KIND, "momentum", momentum);
        self
    }

    /// Dampening `τ` of the gradient added to the velocity (default 0).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Nesterov momentum (default off); needs momentum > 0 and no dampening.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// L2 penalty `λ` added to the gradient as `λ·w` (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = non_negative(KIND, "weight decay", weight_decay);
        self
    }
}

optimizer!(Sgd);

impl Rule for Sgd {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&mut self) -> &mut u64 {
        &mut self.steps
    }

    fn buffers(&mut self) -> impl Iterator<Item = (&'static str, &mut Vec<f32>)> {
        let momentum = self.momentum != 0.0;
        momentum
            .then_some(("momentum_buffer", &mut self.momentum_buffer))
            .into_iter()
    }

    #[inline(always)]
    fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        assert!(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "sgd: Nesterov momentum requires a momentum and zero dampening"
        );
        let first = self.steps == 1;
        // PyTorch's scalars, rounded to f32 as its kernels round them
        let neg_lr = -self.lr;
        let lambda = self.weight_decay as f32;
        let mu = self.momentum as f32;
        let one_minus_tau = (1.0 - self.dampening) as f32;

        if self.momentum == 0.0 {
            for (w, &g) in params.iter_mut().zip(grads) {
                // weight decay: g + λ·w
                let g = if lambda != 0.0 {
                    w.mul_add(lambda, g)
                } else {
                    g
                };
                // descent: w − η·g
                *w = g.mul_add(neg_lr, *w);
            }
            return;
        }
        for ((w, &g), v) in params.iter_mut().zip(grads).zip(&mut self.momentum_buffer) {
            // weight decay: g + λ·w
            let g = if lambda != 0.0 {
                w.mul_add(lambda, g)
            } else {
                g
            };
            // velocity: g at the first step, then μ·v + (1 − τ)·g
            *v = if first {
                g
            } else {
                g.mul_add(one_minus_tau, *v * mu)
            };
            // direction: Nesterov's g + μ·v, or v
            let d = if self.nesterov { v.mul_add(mu, g) } else { *v };
            // descent: w − η·d
            *w = d.mul_add(neg_lr, *w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Optimizer;

    #[test]
    fn defaults_are_pytorchs() {
        let opt = Sgd::new(0.1);
        assert_eq!(opt.momentum, 0.0);
        assert_eq!(opt.dampening, 0.0);
        assert!(!opt.nesterov);
        assert_eq!(opt.weight_decay, 0.0);
    }

    #[test]
    fn plain_step_by_hand() {
        // w − η·g with exact binary fractions: 1 − 0.5·0.25, −2 − 0.5·(−1)
        let mut w = [1.0f32, -2.0];
        Sgd::new(0.5).step(&mut w, &[0.25, -1.0]);
        assert_eq!(w, [0.875, -1.5]);
    }

    #[test]
    fn momentum_steps_by_hand() {
        // μ = 0.5, τ = 0.5, η = 0.25: v₁ = g₁ = 1, w₁ = 2 − 0.25 = 1.75;
        // v₂ = 0.5·1 + 0.5·3 = 2, w₂ = 1.75 − 0.5 = 1.25
        let mut opt = Sgd::new(0.25).momentum(0.5).dampening(0.5);
        let mut w = [2.0f32];
        opt.step(&mut w, &[1.0]);
        assert_eq!(w, [1.75]);
        opt.step(&mut w, &[3.0]);
        assert_eq!(w, [1.25]);
    }

    #[test]
    fn nesterov_and_weight_decay_by_hand() {
        // λ = 0.5: g = 1 + 0.5·2 = 2; v = 2; d = g + μ·v = 2 + 0.5·2 = 3;
        // w = 2 − 0.25·3 = 1.25
        let mut opt = Sgd::new(0.25)
            .momentum(0.5)
            .nesterov(true)
            .weight_decay(0.5);
        let mut w = [2.0f32];
        opt.step(&mut w, &[1.0]);
        assert_eq!(w, [1.25]);
    }

    #[test]
    fn weight_decay_with_momentum_like_pytorch() {
        // torch.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=5e-4),
        // three steps; PyTorch 2.15's float32 weights after each, bit for bit
        let mut opt = Sgd::new(0.1).momentum(0.9).weight_decay(5e-4);
        let mut w = [1.0f32, -2.0, 0.5, 3.0];
        let grads = [
            [0.25, -0.5, 1.0, 0.0],
            [0.125, 0.75, -1.0, 2.0],
            [-0.375, 0.0, 0.5, -1.5],
        ];
        let want: [[u32; 4]; 3] = [
            [0x3f79_9653, 0xbff9_9653, 0x3ecc_c986, 0x403f_fd8b],
            [0x3f70_9a6c, 0xbffd_6738, 0x3ed1_e2ac, 0x4033_2c13],
            [0x3f72_1b07, 0xc000_6997, 0x3ebc_dd05, 0x4031_3a0f],
        ];
        for (g, want) in grads.iter().zip(want) {
            opt.step(&mut w, g);
            assert_eq!(w.map(f32::to_bits), want, "{w:?}");
        }
    }

    #[test]
    #[should_panic(expected = "Nesterov momentum requires a momentum and zero dampening")]
    fn nesterov_without_momentum_panics() {
        Sgd::new(0.1).nesterov(true).step(&mut [0.0], &[1.0]);
    }
}
