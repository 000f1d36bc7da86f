//! `batch_norm(momentum = 0.1, eps = 1e-5)`: per channel on `[C, H, W]`,
//! per feature on `[N]` (PyTorch's `BatchNorm2d` / `BatchNorm1d`).
//! Parameters `weight` (1) and `bias` (0); buffers `running_mean` (0),
//! `running_var` (1) and `num_batches_tracked` (0); runs as `nn_runtime`'s
//! `BatchNorm`.

use super::{lit, Cx, Spec};
use crate::args::Args;
use crate::ast;
use crate::diagnostics::{Errors, Message};
use crate::ir::{self, Fill, Runtime, Tensor};
use crate::shape::Shape;
use proc_macro2::Literal;
use quote::quote;

struct BatchNorm {
    momentum: f32,
    eps: f32,
}

pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let usage = "`batch_norm` or `batch_norm(momentum = 0.1, eps = 1e-5)`";
    let a = Args::read(layer, head, &[], &["momentum", "eps"], usage, errors);
    let momentum = match a.get("momentum") {
        None => Some(0.1),
        Some(v) => a.number(
            v,
            "`momentum`",
            (|m| (0.0..=1.0).contains(&m), "between 0 and 1"),
            "PyTorch's default is `momentum = 0.1`: running = 0.9·running + 0.1·batch",
            errors,
        ),
    };
    let eps = match a.get("eps") {
        None => Some(1e-5),
        Some(v) => a.number(
            v,
            "`eps`",
            (|e| e > 0.0 && e < 1.0, "above 0 and below 1"),
            "PyTorch's default is `eps = 1e-5`",
            errors,
        ),
    };
    Some(Box::new(BatchNorm {
        momentum: momentum? as f32,
        eps: eps? as f32,
    }))
}

impl Spec for BatchNorm {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (c, plane) = match cx.input {
            Shape::Image { c, h, w } => (c, h * w),
            Shape::Flat(n) => (n, 1),
            Shape::Seq { t, f } => {
                let problem = format!(
                    "normalises per channel of [C, H, W] or per feature of [N], got the sequence {}",
                    cx.input
                );
                errors.push(
                    cx.span,
                    Message::new(cx.head, problem).input(cx.input).help(format!(
                        "add `flatten` before it to normalise each of the {} values, \
                         or declare a {t}x{f} image as `[1, {t}, {f}]`",
                        t * f
                    )),
                );
                return None;
            }
        };
        let tensors = vec![
            Tensor::new("weight", vec![c], Fill::Constant(1.0)),
            Tensor::new("bias", vec![c], Fill::Zeros),
        ];
        let mut count = Tensor::new("num_batches_tracked", vec![], Fill::Zeros);
        count.count = true;
        let buffers = vec![
            Tensor::new("running_mean", vec![c], Fill::Zeros),
            Tensor::new("running_var", vec![c], Fill::Constant(1.0)),
            count,
        ];
        // the named buffers, then the batch's mean and 1/std for backward
        let buffer_len = 4 * c + 1;
        let (momentum, eps) = (
            Literal::u32_suffixed(self.momentum.to_bits()),
            Literal::u32_suffixed(self.eps.to_bits()),
        );
        let (cl, pl) = (lit(c), lit(plane));
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::BatchNorm<#cl, #pl, #momentum, #eps>),
            items: quote!(),
        };
        let mut description = "batch_norm".to_string();
        if self.momentum != 0.1 {
            description += &format!(" momentum {}", self.momentum);
        }
        if self.eps != 1e-5 {
            description += &format!(" eps {}", self.eps);
        }
        let layer = ir::Layer::new(cx.input, cx.input, description, runtime);
        // per value: a multiply and an add (in evaluation)
        Some(
            layer
                .tensors(tensors)
                .buffers(buffers, buffer_len)
                .macs(cx.input.len())
                .fuse(ir::Fuse::Norm),
        )
    }
}
