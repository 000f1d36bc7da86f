//! `max_pool(K, stride = K, pad = 0, round = …)` and `avg_pool(…)`:
//! `[C, H, W] → [C, H', W']`; `global_avg_pool`: `[C, H, W] → [C]`. They run
//! as `nn_runtime`'s `MaxPool2d`, `AvgPool2d` and `GlobalAvgPool`.

use super::window::{geometry_items, window_text, WindowSpec};
use super::{lit, no_arguments, Cx, Spec};
use crate::args::{Args, Pad};
use crate::ast;
use crate::diagnostics::{Errors, Message};
use crate::ir::{self, Runtime};
use crate::shape::{Round, Shape};
use proc_macro2::Span;
use quote::quote;

/// The most positions a max pool's window may have for the pool to save
/// each maximum's position rather than read its input back in backward
/// (`nn_runtime`'s `pool::MAX_SAVED_WINDOW`).
const MAX_SAVED_WINDOW: usize = 255;

struct Pool {
    max: bool,
    kernel: (usize, usize),
    kernel_at: (Span, Span),
    stride: (usize, usize),
    pad: Pad,
    round: Round,
    pad_at: Option<(Span, Span)>,
}

pub fn parse_max(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    parse(layer, head, true, errors)
}

pub fn parse_avg(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    parse(layer, head, false, errors)
}

fn parse(layer: &ast::Layer, head: &str, max: bool, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let kind = &layer.kind;
    let example = format!("write `{kind}(2)` or `{kind}((2, 3))`");
    let usage = format!("`{kind}(2)` or `{kind}((2, 3), stride = 2)`");
    let keys = ["stride", "pad", "round"];
    let a = Args::read(layer, head, &["K"], &keys, &usage, errors);
    let kernel = a
        .required_positional("the window size", &format!("`{kind}(2)`"), errors)
        .and_then(|v| {
            a.pair(v, "the window", &example, errors)
                .map(|k| (k, v.range()))
        });
    let stride = match (a.get("stride"), kernel) {
        (Some(v), _) => a.pair(
            v,
            "stride",
            "write `stride = 2` or `stride = (2, 1)`",
            errors,
        ),
        // the stride defaults to the window
        (None, k) => k.map(|k| k.0),
    };
    let pad = a.pad(errors);
    let round = a.round(pad, errors);
    let (kernel, kernel_at) = kernel?;
    Some(Box::new(Pool {
        max,
        kernel,
        kernel_at,
        stride: stride?,
        pad: pad?,
        round: round?,
        pad_at: a.get("pad").map(|v| v.range()),
    }))
}

impl Spec for Pool {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (c, h, w) = cx.image(errors)?;
        let (kernel, half) = (self.kernel, (self.kernel.0 / 2, self.kernel.1 / 2));
        // PyTorch's rule: a window holds mostly input
        if let Pad::Explicit(t, b, l, r) = self.pad {
            let sides = [(t, kernel.0), (b, kernel.0), (l, kernel.1), (r, kernel.1)];
            if let Some((p, k)) = sides.into_iter().find(|(p, k)| *p > k / 2) {
                let problem = format!(
                    "padding {p} is more than half the window {k}: windows would hold mostly padding"
                );
                let help = format!(
                    "use a padding of at most {} (PyTorch's rule for pools)",
                    k / 2
                );
                errors.push_range(
                    self.pad_at.unwrap_or((cx.span, cx.span)),
                    Message::new(cx.head, problem).input(cx.input).help(help),
                );
                return None;
            }
        }
        let ws = WindowSpec {
            noun: "window",
            kernel,
            kernel_at: self.kernel_at,
            stride: self.stride,
            pad: self.pad,
            round: self.round,
            out_channels: c,
            max_pad: Some(half),
        };
        let r = ws.resolve(cx.head, cx.span, cx.input, (h, w), errors)?;
        let name = if self.max { "max_pool" } else { "avg_pool" };
        let description = window_text(name, &r.window, kernel, self.round);
        let (ident, items) = geometry_items((c, h, w), (c, r.oh, r.ow), &r.window);
        let output = Shape::Image {
            c,
            h: r.oh,
            w: r.ow,
        };
        if !self.max {
            let ty = quote!(::nn::__private::AvgPool2d<#ident>);
            let runtime = Runtime::Layer { ty, items };
            let layer = ir::Layer::new(cx.input, output, description, runtime);
            return Some(layer.window(r.window).reads_no_input());
        }
        let ty = quote!(::nn::__private::MaxPool2d<#ident>);
        let with_relu = [
            quote!(::nn::__private::MaxPool2d<#ident, true>),
            quote!(::nn::__private::MaxPool2d<#ident, true, true>),
        ];
        let runtime = Runtime::Layer { ty, items };
        let layer = ir::Layer::new(cx.input, output, description, runtime)
            .window(r.window)
            .takes_relu(with_relu);
        // a byte per output for its maximum's position, in floats
        Some(if kernel.0 * kernel.1 <= MAX_SAVED_WINDOW {
            layer.saved(output.len().div_ceil(4)).reads_no_input()
        } else {
            layer
        })
    }
}

struct GlobalAvgPool;

pub fn parse_global_avg(
    layer: &ast::Layer,
    head: &str,
    errors: &mut Errors,
) -> Option<Box<dyn Spec>> {
    no_arguments(layer, head, errors);
    Some(Box::new(GlobalAvgPool))
}

impl Spec for GlobalAvgPool {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (c, h, w) = cx.image(errors)?;
        let (cl, hw) = (lit(c), lit(h * w));
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::GlobalAvgPool<#cl, #hw>),
            items: quote!(),
        };
        let description = "global_avg_pool".to_string();
        let layer = ir::Layer::new(cx.input, Shape::Flat(c), description, runtime);
        Some(layer.reads_no_input())
    }
}
