//! Adam and AdamW: PyTorch's `torch.optim.Adam`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.Adam.html>) and
//! `torch.optim.AdamW`
//! (<https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html>),
//! after Kingma and Ba, "Adam" (2014), Loshchilov and Hutter, "Decoupled
//! Weight Decay Regularization" (2017), and for `amsgrad` Reddi, Kale and
//! Kumar, "On the Convergence of Adam and Beyond" (2018).
//!
//! For weights `w`, gradient `g`, learning rate `η`, betas `β₁, β₂`, weight
//! decay `λ` and `ε`, step `t` (from 1) computes
//!
//! ```text
//! w ← w·(1 − η·λ)                      AdamW: decoupled weight decay
//! g ← g + λ·w                          Adam: L2 penalty on the gradient
//! m ← m + (1 − β₁)·(g − m)             first moment, = β₁·m + (1 − β₁)·g
//! v ← β₂·v + (1 − β₂)·g²               second moment
//! v̂ ← max(v̂, v)                        amsgrad only; v̂ replaces v below
//! w ← w − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```
//!
//! `m`, `v` and `v̂` start at zero. The bias corrections `1 − βᵗ` and the
//! step size `η/(1 − β₁ᵗ)` are computed in `f64`, as PyTorch computes them
//! from Python floats, and `ε` is added after the second moment's bias
//! correction, as in PyTorch.

use super::{lerp, non_negative, Rule};

/// What Adam and AdamW share: the configuration, the moments and the step.
#[derive(Clone, Debug)]
struct Moments {
    kind: &'static str,
    lr: f32,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// AdamW's decay of the weights instead of Adam's L2 term.
    decoupled: bool,
    amsgrad: bool,
    steps: u64,
    /// `m`, the first moment.
    exp_avg: Vec<f32>,
    /// `v`, the second moment.
    exp_avg_sq: Vec<f32>,
    /// `v̂`, the running maximum of `v`; allocated only with amsgrad.
    max_exp_avg_sq: Vec<f32>,
}

impl Moments {
    fn new(kind: &'static str, lr: f32, weight_decay: f64, decoupled: bool) -> Self {
        Moments {
            kind,
            lr: super::learning_rate(kind, lr),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled,
            amsgrad: false,
            steps: 0,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
            max_exp_avg_sq: Vec::new(),
        }
    }

    fn set_betas(&mut self, beta1: f64, beta2: f64) {
        assert!(
            (0.0..1.0).contains(&beta1),
            "{}: invalid beta1 {beta1}",
            self.kind
        );
        assert!(
            (0.0..1.0).contains(&beta2),
            "{}: invalid beta2 {beta2}",
            self.kind
        );
        self.beta1 = beta1;
        self.beta2 = beta2;
    }
}

impl Rule for Moments {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn steps(&mut self) -> &mut u64 {
        &mut self.steps
    }

    fn buffers(&mut self) -> impl Iterator<Item = (&'static str, &mut Vec<f32>)> {
        let amsgrad = self.amsgrad;
        [
            Some(("exp_avg", &mut self.exp_avg)),
            Some(("exp_avg_sq", &mut self.exp_avg_sq)),
            amsgrad.then_some(("max_exp_avg_sq", &mut self.max_exp_avg_sq)),
        ]
        .into_iter()
        .flatten()
    }

    #[inline(always)]
    fn update(&mut self, params: &mut [f32], grads: &[f32]) {
        // per-step scalars in f64, as PyTorch computes them from Python floats
        let t = self.steps as f64;
        let lr = self.lr as f64;
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.powf(0.5);
        // …rounded to f32 as PyTorch's kernels round them
        let neg_step_size = (-step_size) as f32;
        let bc2_sqrt = bias_correction2_sqrt as f32;
        let decay = (1.0 - lr * self.weight_decay) as f32;
        let lambda = self.weight_decay as f32;
        let one_minus_beta1 = (1.0 - self.beta1) as f32;
        let beta2 = self.beta2 as f32;
        let one_minus_beta2 = (1.0 - self.beta2) as f32;
        let eps = self.eps as f32;
        let decoupled = self.decoupled && self.weight_decay != 0.0;
        let l2 = !self.decoupled && self.weight_decay != 0.0;
        let amsgrad = self.amsgrad;

        for (i, (w, &g)) in params.iter_mut().zip(grads).enumerate() {
            // AdamW's decoupled weight decay: w·(1 − η·λ)
            if decoupled {
                *w *= decay;
            }
            // Adam's L2 penalty: g + λ·w
            let g = if l2 { w.mul_add(lambda, g) } else { g };
            // first moment: m + (1 − β₁)·(g − m)
            let m = &mut self.exp_avg[i];
            *m = lerp(*m, g, one_minus_beta1);
            // second moment: β₂·v + (1 − β₂)·g²
            let v = &mut self.exp_avg_sq[i];
            *v = (one_minus_beta2 * g).mul_add(g, *v * beta2);
            // amsgrad: the largest second moment so far
            let v = if amsgrad {
                let v_max = &mut self.max_exp_avg_sq[i];
                *v_max = v_max.max(*v);
                *v_max
            } else {
                *v
            };
            // denominator: √v / √(1 − β₂ᵗ) + ε
            let denom = v.sqrt() / bc2_sqrt + eps;
            // descent: w − η/(1 − β₁ᵗ)·m / denom, as PyTorch's addcdiv
            *w += (neg_step_size * *m) / denom;
        }
    }
}

/// Adam with bias correction (see the module docs for the update rule).
/// Defaults are `torch.optim.Adam`'s: betas (0.9, 0.999), `eps` 1e-8,
/// `weight_decay` 0 (an L2 term added to the gradient), no amsgrad.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::optim::{Adam, Optimizer};
///
/// let mut opt = Adam::new(0.001).eps(1e-7);
/// let mut w = [1.0f32, 1.0];
/// opt.step(&mut w, &[0.5, -4.0]);
/// // the first step moves every weight by η against the gradient's sign
/// assert!((w[0] - 0.999).abs() < 1e-6 && (w[1] - 1.001).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adam(Moments);

/// AdamW: Adam with decoupled weight decay (see the module docs for the
/// update rule). Defaults are `torch.optim.AdamW`'s: betas (0.9, 0.999),
/// `eps` 1e-8, `weight_decay` 0.01, no amsgrad.
///
/// # Examples
///
/// ```
/// # extern crate nn_runtime as nn;
/// use nn::optim::{AdamW, Optimizer};
///
/// let mut opt = AdamW::new(0.01).weight_decay(0.1);
/// let mut w = [2.0f32];
/// opt.step(&mut w, &[0.0]);
/// // a zero gradient leaves only the decay: w·(1 − 0.01·0.1)
/// assert_eq!(w, [2.0 * 0.999]);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW(Moments);

impl Adam {
    /// Adam with learning rate `lr` (PyTorch's default is 0.001).
    pub fn new(lr: f32) -> Self {
        Adam(Moments::new("adam", lr, 0.0, false))
    }
}

impl AdamW {
    /// AdamW with learning rate `lr` (PyTorch's default is 0.001).
    pub fn new(lr: f32) -> Self {
        AdamW(Moments::new("adamw", lr, 0.01, true))
    }
}

/// The options of Adam and AdamW, and their [`Optimizer`](super::Optimizer)
/// impl: the same but for what the weight decay means, which
/// `$weight_decay` documents.
macro_rules! options {
    ($ty:ident, $weight_decay:literal) => {
        impl $ty {
            /// Decay rates `β₁, β₂` of the first and second moments
            /// (default 0.9, 0.999).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.0.set_betas(beta1, beta2);
                self
            }

            /// `ε` added to the bias-corrected root of the second moment
            /// (default 1e-8).
            pub fn eps(mut self, eps: f64) -> Self {
                self.0.eps = non_negative(self.0.kind, "eps", eps);
                self
            }

            #[doc = $weight_decay]
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.0.weight_decay = non_negative(self.0.kind, "weight decay", weight_decay);
                self
            }

            /// AMSGrad: normalise by the largest second moment seen so far
            /// (default off).
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.0.amsgrad = amsgrad;
                self
            }
        }

        optimizer!($ty.0);
    };
}

options!(
    Adam,
    "L2 penalty `λ` added to the gradient as `λ·w` (default 0)."
);
options!(
    AdamW,
    "Decoupled weight decay `λ`: each step first scales the weights by \
     `1 − η·λ` (default 0.01)."
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Optimizer;

    #[test]
    fn defaults_are_pytorchs() {
        for (m, wd, decoupled) in [
            (Adam::new(1e-3).0, 0.0, false),
            (AdamW::new(1e-3).0, 0.01, true),
        ] {
            assert_eq!((m.beta1, m.beta2), (0.9, 0.999));
            assert_eq!(m.eps, 1e-8);
            assert_eq!(m.weight_decay, wd);
            assert_eq!(m.decoupled, decoupled);
            assert!(!m.amsgrad);
        }
    }

    #[test]
    fn two_steps_by_hand() {
        // β₁ = β₂ = 0.5, ε = 0, η = 0.5, exact binary arithmetic:
        // t = 1: m = 0.5·2 = 1, v = 0.5·4 = 2, step size 0.5/0.5 = 1,
        //        denom = √2/√0.5 = 2, w = 1 − 1·1/2 = 0.5
        // t = 2: g = −2, m = 0.5 − 1 = −0.5, v = 1 + 2 = 3,
        //        step size 0.5/0.75, denom = √3/√0.75 = 2, w = 0.5 + (2/3)·0.25
        let mut opt = Adam::new(0.5).betas(0.5, 0.5).eps(0.0);
        let mut w = [1.0f32];
        opt.step(&mut w, &[2.0]);
        assert_eq!(w, [0.5]);
        opt.step(&mut w, &[-2.0]);
        let want = 0.5 + 0.5 / 0.75 * 0.25;
        assert!((w[0] as f64 - want).abs() < 1e-7, "{} vs {want}", w[0]);
    }

    #[test]
    fn weight_decay_by_hand() {
        // β₁ = β₂ = 0.5, ε = 0, η = 0.25, so the first step moves w by η
        // against the sign of the gradient that enters the moments.
        // Adam, λ = 0.5: g = 1 + 0.5·2 = 2, w = 2 − 0.25
        let mut w = [2.0f32];
        let mut adam = Adam::new(0.25).betas(0.5, 0.5).weight_decay(0.5).eps(0.0);
        adam.step(&mut w, &[1.0]);
        assert_eq!(w, [1.75]);
        // AdamW, λ = 0.5: w·(1 − 0.25·0.5) = 1.75, g = 1, w = 1.75 − 0.25
        let mut w = [2.0f32];
        let mut adamw = AdamW::new(0.25).betas(0.5, 0.5).weight_decay(0.5).eps(0.0);
        adamw.step(&mut w, &[1.0]);
        assert_eq!(w, [1.5]);
    }

    #[test]
    fn amsgrad_by_hand() {
        // β₁ = β₂ = 0.5, ε = 0, η = 1; a large then a small gradient:
        // t = 1: m = 2, v = v̂ = 8, step size 2, denom = √8/√0.5 = 4, w = −1
        // t = 2: g = 0, m = 1, v = 4, v̂ = 8, step size 1/0.75,
        //        denom = √8/√0.75, w = −1 − (4/3)·√0.75/√8
        let mut opt = Adam::new(1.0).betas(0.5, 0.5).eps(0.0).amsgrad(true);
        let mut w = [0.0f32];
        opt.step(&mut w, &[4.0]);
        assert_eq!(w, [-1.0]);
        opt.step(&mut w, &[0.0]);
        let want = -1.0 - 4.0 / 3.0 * 0.75f64.sqrt() / 8f64.sqrt();
        assert!((w[0] as f64 - want).abs() < 1e-7, "{} vs {want}", w[0]);
    }
}
