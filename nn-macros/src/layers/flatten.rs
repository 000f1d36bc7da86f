//! `flatten`: `[C, H, W]` or `[T, F]` → `[C·H·W]`, a view of the same
//! memory (nothing runs).

use super::{no_arguments, Cx, Spec};
use crate::ast;
use crate::diagnostics::Errors;
use crate::ir::{self, Runtime};
use crate::shape::Shape;

struct Flatten;

pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    no_arguments(layer, head, errors);
    Some(Box::new(Flatten))
}

impl Spec for Flatten {
    fn infer(&self, cx: &Cx, _: &mut Errors) -> Option<ir::Layer> {
        let output = Shape::Flat(cx.input.len());
        Some(ir::Layer::new(
            cx.input,
            output,
            "flatten".into(),
            Runtime::View,
        ))
    }
}
