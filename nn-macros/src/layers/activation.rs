//! Activations, each keeping its input's shape: `relu`, `sigmoid`, `tanh`,
//! `leaky_relu(A = 0.01)`, `prelu` (a learnable slope per channel, or per
//! feature of `[N]`, starting at 0.25) and `softmax` (on `[N]` only). They
//! run as `nn_runtime`'s `Relu`, `Sigmoid`, … over `N` values per sample.

use super::{lit, no_arguments, Cx, Spec};
use crate::args::Args;
use crate::ast::{self, Value};
use crate::diagnostics::{Errors, Message};
use crate::ir::{self, Fill, Runtime, Tensor};
use crate::shape::Shape;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// An activation without parameters or arguments.
#[derive(Clone, Copy)]
enum Plain {
    Relu,
    Sigmoid,
    Tanh,
    Softmax,
}

fn plain(
    layer: &ast::Layer,
    head: &str,
    which: Plain,
    errors: &mut Errors,
) -> Option<Box<dyn Spec>> {
    no_arguments(layer, head, errors);
    Some(Box::new(which))
}

pub fn parse_relu(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    plain(layer, head, Plain::Relu, errors)
}

pub fn parse_sigmoid(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    plain(layer, head, Plain::Sigmoid, errors)
}

pub fn parse_tanh(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    plain(layer, head, Plain::Tanh, errors)
}

pub fn parse_softmax(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    plain(layer, head, Plain::Softmax, errors)
}

/// A layer over `n` values per sample that keeps the shape.
fn same_shape(cx: &Cx, description: String, ty: TokenStream) -> ir::Layer {
    let runtime = Runtime::Layer {
        ty,
        items: quote!(),
    };
    ir::Layer::new(cx.input, cx.input, description, runtime)
}

impl Spec for Plain {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let n = lit(cx.input.len());
        let (name, ty) = match self {
            Plain::Relu => ("relu", quote!(::nn::__private::Relu<#n>)),
            Plain::Sigmoid => ("sigmoid", quote!(::nn::__private::Sigmoid<#n>)),
            Plain::Tanh => ("tanh", quote!(::nn::__private::Tanh<#n>)),
            Plain::Softmax => {
                cx.flat(errors)?;
                ("softmax", quote!(::nn::__private::Softmax<#n>))
            }
        };
        let layer = same_shape(cx, name.into(), ty).strided();
        // sigmoid, tanh and softmax differentiate through their output;
        // the first three can overwrite their input (softmax, over a few
        // values at the end of a network, keeps a slot of its own)
        Some(match self {
            Plain::Relu => layer.fuse(ir::Fuse::Relu).in_place(),
            Plain::Sigmoid | Plain::Tanh => layer.reads_output().reads_no_input().in_place(),
            Plain::Softmax => layer.reads_output().reads_no_input(),
        })
    }
}

struct LeakyRelu(f32);

pub fn parse_leaky_relu(
    layer: &ast::Layer,
    head: &str,
    errors: &mut Errors,
) -> Option<Box<dyn Spec>> {
    let usage = "`leaky_relu` or `leaky_relu(0.1)`";
    let a = Args::read(layer, head, &["A"], &[], usage, errors);
    let Some(v) = a.positional.first() else {
        return Some(Box::new(LeakyRelu(0.01)));
    };
    let slope = match v {
        Value::Float { value, .. } => Some(*value),
        Value::Int { value, .. } => Some(*value as f64),
        _ => None,
    };
    match slope {
        Some(s) if s.is_finite() && s.abs() <= 1e6 => Some(Box::new(LeakyRelu(s as f32))),
        Some(_) => {
            let problem = format!("the negative slope {} is out of range", v.text());
            a.bad(
                v,
                problem,
                "write a slope such as `leaky_relu(0.1)`",
                errors,
            );
            None
        }
        None => {
            let problem = format!("the negative slope must be a number, got {}", v.text());
            a.bad(v, problem, "write `leaky_relu(0.1)`", errors);
            None
        }
    }
}

impl Spec for LeakyRelu {
    fn infer(&self, cx: &Cx, _: &mut Errors) -> Option<ir::Layer> {
        let n = lit(cx.input.len());
        // const generics cannot be floats: the slope goes as its bits
        let bits = Literal::u32_suffixed(self.0.to_bits());
        let ty = quote!(::nn::__private::LeakyRelu<#n, #bits>);
        Some(same_shape(cx, format!("leaky_relu {}", self.0), ty).strided())
    }
}

struct Prelu;

pub fn parse_prelu(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    no_arguments(layer, head, errors);
    Some(Box::new(Prelu))
}

impl Spec for Prelu {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (channels, plane) = match cx.input {
            Shape::Image { c, h, w } => (c, h * w),
            Shape::Flat(n) => (n, 1),
            Shape::Seq { .. } => {
                let problem = format!("takes [C, H, W] or [N], got the sequence {}", cx.input);
                errors.push(
                    cx.span,
                    Message::new(cx.head, problem)
                        .input(cx.input)
                        .help("add `flatten` before it"),
                );
                return None;
            }
        };
        let tensors = vec![Tensor::new("weight", vec![channels], Fill::Constant(0.25))];
        let (c, plane) = (lit(channels), lit(plane));
        let ty = quote!(::nn::__private::Prelu<#c, #plane>);
        Some(same_shape(cx, "prelu".into(), ty).tensors(tensors))
    }
}
