//! `conv(OUT, kernel = K, stride = 1, pad = 0, in = C, bias = true,
//! round = …, init = …)`: `[C, H, W] → [OUT, H', W']`, weight
//! `[OUT, C, KH, KW]` and bias `[OUT]`; runs as `nn_runtime`'s `Conv2d`.

use super::window::{geometry_items, window_text, WindowSpec};
use super::{weight_and_bias, Cx, Spec};
use crate::args::{Args, Pad};
use crate::ast::{self, Value};
use crate::diagnostics::Errors;
use crate::ir::{self, Init, Runtime};
use crate::shape::{Round, Shape, MAX_DIM};
use proc_macro2::Span;
use quote::quote;

struct Conv {
    out: usize,
    kernel: (usize, usize),
    kernel_at: (Span, Span),
    stride: (usize, usize),
    pad: Pad,
    round: Round,
    in_c: Option<(usize, (Span, Span))>,
    bias: bool,
    init: Init,
}

pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let usage = usage(layer);
    let keys = ["kernel", "stride", "pad", "in", "bias", "round", "init"];
    let a = Args::read(layer, head, &["OUT"], &keys, &usage, errors);
    let what = "the number of output channels";
    let out = a
        .required_positional(what, &usage, errors)
        .and_then(|v| a.int(v, what, 1, errors));
    let kernel = match a.get("kernel") {
        Some(v) => a
            .pair(
                v,
                "kernel",
                "write `kernel = 3` or `kernel = (3, 5)`",
                errors,
            )
            .map(|k| (k, v.range())),
        None => {
            a.missing("`kernel`", &usage, errors);
            None
        }
    };
    let stride = a.get("stride").map_or(Some((1, 1)), |v| {
        a.pair(
            v,
            "stride",
            "write `stride = 2` or `stride = (2, 1)`",
            errors,
        )
    });
    let pad = a.pad(errors);
    let (round, in_c, bias, init) = (
        a.round(pad, errors),
        a.in_size(errors),
        a.bias(errors),
        a.init(errors),
    );
    let (kernel, kernel_at) = kernel?;
    Some(Box::new(Conv {
        out: out?,
        kernel,
        kernel_at,
        stride: stride?,
        pad: pad?,
        round: round?,
        in_c: in_c?,
        bias: bias?,
        init: init?,
    }))
}

/// `conv(6, kernel = 5)` from what the user wrote, for "write ..." helps.
fn usage(layer: &ast::Layer) -> String {
    let int = |v: &Value| match v {
        Value::Int { value, .. } if *value >= 1 && *value <= MAX_DIM as i128 => {
            Some(value.to_string())
        }
        _ => None,
    };
    let mut positional = layer
        .args
        .iter()
        .filter(|a| a.key.is_none())
        .filter_map(|a| int(&a.value));
    let out = positional.next().unwrap_or_else(|| "16".into());
    let kernel = layer
        .args
        .iter()
        .find(|a| a.key.as_ref().is_some_and(|k| k == "kernel"))
        .and_then(|a| int(&a.value))
        .or_else(|| positional.next())
        .unwrap_or_else(|| "3".into());
    format!("`conv({out}, kernel = {kernel})`")
}

impl Spec for Conv {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (c, h, w) = cx.image(errors)?;
        cx.check_in(self.in_c, c, "channels", errors)?;
        let ws = WindowSpec {
            noun: "kernel",
            kernel: self.kernel,
            kernel_at: self.kernel_at,
            stride: self.stride,
            pad: self.pad,
            round: self.round,
            out_channels: self.out,
            max_pad: None,
        };
        let r = ws.resolve(cx.head, cx.span, cx.input, (h, w), errors)?;
        let (out, (kh, kw)) = (self.out, self.kernel);
        let patch = c * kh * kw;
        cx.tensor_len(&[out, r.oh, r.ow], "output", errors)?;
        cx.tensor_len(&[out, patch], "weight", errors)?;
        // no limit of their own: each factor is at most 2^31 above, so the
        // count (at most 2^62) is exact in the kernels' `usize`
        let macs = (out * r.oh * r.ow).saturating_mul(patch);
        let tensors = weight_and_bias(
            vec![out, c, kh, kw],
            self.init,
            (patch, out * kh * kw),
            self.bias,
        );
        let mut description = window_text("conv", &r.window, (1, 1), self.round);
        if !self.bias {
            description.push_str(" no bias");
        }
        let (ident, items) = geometry_items((c, h, w), (out, r.oh, r.ow), &r.window);
        let bias = self.bias;
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::Conv2d<#ident, #bias>),
            items,
        };
        let output = Shape::Image {
            c: out,
            h: r.oh,
            w: r.ow,
        };
        Some(
            ir::Layer::new(cx.input, output, description, runtime)
                .tensors(tensors)
                .prepared(winograd_kernels((c, out), self.kernel, self.stride))
                .macs(macs)
                .window(r.window)
                .fuse(ir::Fuse::Conv)
                .strided(),
        )
    }
}

/// Floats of the kernels the runtime's conv transforms once for Winograd's
/// F(2×2, 3×3) (`nn_runtime`'s `winograd::applies`: 3×3, stride 1, at
/// least 16 channels in and out): 16 per kernel, else none.
fn winograd_kernels(
    (c, out): (usize, usize),
    kernel: (usize, usize),
    stride: (usize, usize),
) -> usize {
    const MIN_CHANNELS: usize = 16;
    if kernel == (3, 3) && stride == (1, 1) && c >= MIN_CHANNELS && out >= MIN_CHANNELS {
        16 * out * c
    } else {
        0
    }
}
