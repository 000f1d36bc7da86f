//! `dense(OUT, in = N, bias = true, init = …)`: `[N] → [OUT]`, weight
//! `[OUT, N]` and bias `[OUT]`; runs as `nn_runtime`'s `Dense`.

use super::{lit, weight_and_bias, Cx, Spec};
use crate::args::Args;
use crate::ast;
use crate::diagnostics::Errors;
use crate::ir::{self, Init, Runtime};
use crate::shape::Shape;
use proc_macro2::Span;
use quote::quote;

struct Dense {
    out: usize,
    in_n: Option<(usize, (Span, Span))>,
    bias: bool,
    init: Init,
}

pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let keys = ["in", "bias", "init"];
    let a = Args::read(layer, head, &["OUT"], &keys, "`dense(OUT)`", errors);
    let what = "the number of outputs";
    let out = a
        .required_positional(what, "`dense(10)`", errors)
        .and_then(|v| a.int(v, what, 1, errors));
    let (in_n, bias, init) = (a.in_size(errors), a.bias(errors), a.init(errors));
    Some(Box::new(Dense {
        out: out?,
        in_n: in_n?,
        bias: bias?,
        init: init?,
    }))
}

impl Spec for Dense {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let n = cx.flat(errors)?;
        cx.check_in(self.in_n, n, "features", errors)?;
        let out = self.out;
        let macs = cx.tensor_len(&[out, n], "weight", errors)?;
        let tensors = weight_and_bias(vec![out, n], self.init, (n, out), self.bias);
        let description = if self.bias { "dense" } else { "dense no bias" };
        let (nl, ol, bias) = (lit(n), lit(out), self.bias);
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::Dense<#nl, #ol, #bias>),
            items: quote!(),
        };
        let layer = ir::Layer::new(cx.input, Shape::Flat(out), description.into(), runtime);
        Some(layer.tensors(tensors).macs(macs))
    }
}
