//! Adagrad: PyTorch's `torch.optim.Adagrad`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html>),
//! after Duchi, Hazan and Singer, "Adaptive Subgradient Methods" (2011).
//!
//! For weights `w`, gradient `g`, learning rate `η`, learning-rate decay
//! `δ`, weight decay `λ` and `ε`, step `t` (from 1) computes
//!
//! ```text
//! g  ← g + λ·w                        (if λ ≠ 0)
//! η_t = η / (1 + (t − 1)·δ)
//! s  ← s + g²                         (s starts at the initial accumulator value)
//! w  ← w − η_t · g / (√s + ε)
//! ```
//!
//! `η_t` is computed in `f64`, as PyTorch computes it from Python floats.

use super::{non_negative, Rule};

const KIND: &str = "adagrad";

/// Adagrad (see the module docs for the update rule). Defaults are
/// `torch.optim.Adagrad`'s: `lr_decay` 0, `weight_decay` 0,
/// `initial_accumulator_value` 0, `eps` 1e-10.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::optim::{Adagrad, Optimizer};
///
/// let mut opt = Adagrad::new(0.5);
/// let mut w = [1.0f32];
/// opt.step(&mut w, &[2.0]);
/// // s = 4, w = 1 − 0.5 · 2 / (2 + 1e-10)
/// assert_eq!(w, [0.5]);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    lr: f32,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    steps: u64,
    /// `s`, the running sum of squared gradients.
    sum: Vec<f32>,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` (PyTorch's default is 0.01).
    pub fn new(lr: f32) -> Self {
        Adagrad {
            lr: super::learning_rate(KIND, lr),
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            steps: 0,
            sum: Vec::new(),
        }
    }

    /// Learning-rate decay `δ`: step `t` uses `η / (1 + (t − 1)·δ)`
    /// (default 0).
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        self.lr_decay = non_negative(KIND, "lr_decay", lr_decay);
        self
    }

    /// L2 penalty `λ` added to the gradient as `λ·w` (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = non_negative(KIND, "weight decay", weight_decay);
        self
    }

    /// Starting value of the squared-gradient sum `s` (default 0).
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        self.initial_accumulator_value = non_negative(KIND, "initial accumulator value", value);
        self
    }

    /// `ε` added to `√s` (default 1e-10).
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = non_negative(KIND, "eps", eps);
        self
    }
}

optimizer!(Adagrad);

impl Rule for Adagrad {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn steps(&mut self) -> &mut u64 {
        &mut self.steps
    }

    fn buffers(&mut self) -> impl Iterator<Item = (&'static str, &mut Vec<f32>)> {
        [("sum", &mut self.sum)].into_iter()
    }

    fn initial_value(&self) -> f32 {
        self.initial_accumulator_value as f32
    }

    #[inline(always)]
    fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        // decayed learning rate η_t, in f64 like PyTorch's Python arithmetic
        let t = self.steps as f64;
        let clr = self.lr as f64 / (1.0 + (t - 1.0) * self.lr_decay);
        let neg_clr = (-clr) as f32;
        let lambda = self.weight_decay as f32;
        let eps = self.eps as f32;

        for ((w, &g), s) in params.iter_mut().zip(grads).zip(&mut self.sum) {
            // weight decay: g + λ·w
            let g = if lambda != 0.0 {
                w.mul_add(lambda, g)
            } else {
                g
            };
            // squared-gradient sum: s + g²
            *s = g.mul_add(g, *s);
            // denominator: √s + ε
            let std = s.sqrt() + eps;
            // descent: w − η_t·g / (√s + ε), as PyTorch's addcdiv (−η_t·g first)
            *w += (neg_clr * g) / std;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Optimizer;

    #[test]
    fn defaults_are_pytorchs() {
        let opt = Adagrad::new(0.01);
        assert_eq!(opt.lr_decay, 0.0);
        assert_eq!(opt.weight_decay, 0.0);
        assert_eq!(opt.initial_accumulator_value, 0.0);
        assert_eq!(opt.eps, 1e-10);
    }

    #[test]
    fn steps_by_hand() {
        // η = 1, δ = 1, λ = 0.5, s₀ = 7, ε = 0, starting at w = 0:
        // t = 1: g = 3 + 0.5·0 = 3, s = 7 + 9 = 16, η₁ = 1, w = 0 − 3/4 = −0.75
        // t = 2: g = 2 + 0.5·(−0.75) = 1.625, s = 16 + 2.640625 = 18.640625,
        //        η₂ = 1/2, w = −0.75 − 0.5·1.625/√18.640625
        let mut opt = Adagrad::new(1.0)
            .lr_decay(1.0)
            .weight_decay(0.5)
            .initial_accumulator_value(7.0)
            .eps(0.0);
        let mut w = [0.0f32];
        opt.step(&mut w, &[3.0]);
        assert_eq!(w, [-0.75]);
        opt.step(&mut w, &[2.0]);
        let want = -0.75 - 0.5 * 1.625 / 18.640625f64.sqrt();
        assert!((w[0] as f64 - want).abs() < 1e-7, "{} vs {want}", w[0]);
    }
}
