//! `dropout(P)`, `0 ≤ P < 1`: zeroes each value with probability `P` in
//! training and scales the rest by `1/(1 − P)`; the identity in evaluation.
//! Runs as `nn_runtime`'s `Dropout`, keyed by the layer's place so that
//! each dropout draws its own mask.

use super::{lit, Cx, Spec};
use crate::args::Args;
use crate::ast;
use crate::diagnostics::Errors;
use crate::ir::{self, Runtime};
use proc_macro2::Literal;
use quote::quote;

struct Dropout(f32);

pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let usage = "`dropout(0.5)`";
    let a = Args::read(layer, head, &["P"], &[], usage, errors);
    let what = "the drop probability";
    let v = a.required_positional(what, usage, errors)?;
    let p = a.number(
        v,
        what,
        (|p| (0.0..1.0).contains(&p), "in [0, 1)"),
        "write the probability of zeroing a value, such as `dropout(0.5)`; 1 would zero everything",
        errors,
    )?;
    // a probability that rounds to 1 in f32 would divide by 0
    let p32 = p as f32;
    if p32 >= 1.0 {
        let problem = format!("{what} {} rounds to 1", v.text());
        a.bad(v, problem, "use a probability below 0.99999994", errors);
        return None;
    }
    Some(Box::new(Dropout(p32)))
}

impl Spec for Dropout {
    fn infer(&self, cx: &Cx, _: &mut Errors) -> Option<ir::Layer> {
        let n = lit(cx.input.len());
        let bits = Literal::u32_suffixed(self.0.to_bits());
        let key = Literal::u64_suffixed(cx.id as u64);
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::Dropout<#n, #bits, #key>),
            items: quote!(),
        };
        let description = format!("dropout {}", self.0);
        Some(ir::Layer::new(cx.input, cx.input, description, runtime).reads_no_input())
    }
}
