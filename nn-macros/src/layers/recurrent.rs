//! `rnn(HIDDEN)`, `lstm(HIDDEN)` and `gru(HIDDEN)`, with `seq = last`
//! (the default) or `seq = all`, `in = F` and `init`: `[T, F] → [HIDDEN]`
//! (the state after the last step) or `[T, HIDDEN]` (after every step).
//! Parameters `weight_ih_l0 [G·H, F]`, `weight_hh_l0 [G·H, H]`,
//! `bias_ih_l0 [G·H]` and `bias_hh_l0 [G·H]`, PyTorch's names and layouts
//! (`G` = 1, 4 and 3 gates); runs as `nn_runtime`'s `Recurrent`.

use super::{lit, Cx, Spec};
use crate::args::Args;
use crate::ast;
use crate::diagnostics::{Errors, Message};
use crate::ir::{self, Fill, Init, Runtime, Tensor};
use crate::shape::Shape;
use proc_macro2::Span;
use quote::quote;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Rnn,
    Lstm,
    Gru,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cell::Rnn => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }

    /// Floats per sample the runtime layer keeps for backward: the larger
    /// of what forward keeps and backward works in, one step's worth
    /// (`nn_runtime`'s `recurrent::saved_len`; the generated code asserts
    /// that they agree).
    fn saved(self, t: usize, f: usize, h: usize) -> Option<usize> {
        let forward = match self {
            Cell::Rnn => t.checked_mul(h)?,
            Cell::Lstm => t.checked_mul(6 * h)?,
            Cell::Gru => t.checked_mul(5 * h)?.checked_add(3 * h)?,
        };
        let gh = self.gates() * h;
        let backward = match self {
            Cell::Rnn => gh + h,
            Cell::Lstm => gh + 2 * h,
            Cell::Gru => 2 * gh + h,
        }
        .checked_add(f)?;
        Some(forward.max(backward))
    }
}

struct Recurrent {
    cell: Cell,
    hidden: usize,
    all: bool,
    in_f: Option<(usize, (Span, Span))>,
    init: Init,
}

fn parse(cell: Cell, layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let name = cell.name();
    let usage = format!("`{name}(HIDDEN)` or `{name}(HIDDEN, seq = all)`");
    let keys = ["seq", "in", "init"];
    let a = Args::read(layer, head, &["HIDDEN"], &keys, &usage, errors);
    let what = "the hidden size";
    let hidden = a
        .required_positional(what, &format!("`{name}(64)`"), errors)
        .and_then(|v| a.int(v, what, 1, errors));
    let aliases = [("first", "last"), ("every", "all"), ("sequence", "all")];
    let seq = a.word("seq", &["last", "all"], &aliases, errors);
    let (in_f, init) = (a.in_size(errors), a.init(errors));
    Some(Box::new(Recurrent {
        cell,
        hidden: hidden?,
        all: seq?.is_some_and(|s| s == "all"),
        in_f: in_f?,
        init: init?,
    }))
}

pub fn parse_rnn(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    parse(Cell::Rnn, layer, head, errors)
}

pub fn parse_lstm(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    parse(Cell::Lstm, layer, head, errors)
}

pub fn parse_gru(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    parse(Cell::Gru, layer, head, errors)
}

impl Recurrent {
    /// `[T, F]`, or an error that says how to get a sequence.
    fn sequence(&self, cx: &Cx, errors: &mut Errors) -> Option<(usize, usize)> {
        let kind = &cx.kind;
        let help = match (cx.input, cx.flat_from) {
            (Shape::Seq { t, f }, _) => return Some((t, f)),
            (Shape::Image { c: 1, h, w }, _) if cx.at_input => format!(
                "to read each image as a sequence of its {h} rows of {w} values, \
                 declare the input as `[{h}, {w}]`"
            ),
            (Shape::Flat(n), None) if cx.at_input => {
                format!("declare the input as [T, F], steps of features, such as `[{n}, 1]`")
            }
            (Shape::Image { .. }, _) if cx.at_input => {
                "a recurrent layer reads steps of features: declare the input as [T, F]".into()
            }
            (Shape::Image { .. }, _) | (Shape::Flat(_), None) => {
                "a recurrent layer reads steps of features: declare the network's input as \
                 [T, F], and put the recurrent layers before any that make an image or a flat \
                 vector of it"
                    .into()
            }
            (Shape::Flat(_), Some(prev @ ("rnn" | "lstm" | "gru"))) => format!(
                "the sequence ended at the `{prev}` before it, whose `seq = last` passes on its \
                 last state only: give it `seq = all` to pass on every step as [T, HIDDEN]"
            ),
            (Shape::Flat(_), Some(prev)) => {
                format!("move `{kind}` before `{prev}`, which makes the input flat")
            }
        };
        let what = match cx.input {
            Shape::Image { .. } => "the image",
            _ => "the flat",
        };
        errors.push(
            cx.span,
            Message::new(
                cx.head,
                format!("needs a sequence [T, F] input, got {what} {}", cx.input),
            )
            .input(cx.input)
            .help(help),
        );
        None
    }
}

impl Spec for Recurrent {
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer> {
        let (t, f) = self.sequence(cx, errors)?;
        cx.check_in(self.in_f, f, "features per step", errors)?;
        let (cell, h) = (self.cell, self.hidden);
        let gh = cell.gates() * h;
        cx.tensor_len(&[gh, f], "weight_ih", errors)?;
        cx.tensor_len(&[gh, h], "weight_hh", errors)?;
        let output = if self.all {
            cx.tensor_len(&[t, h], "output per sample", errors)?;
            Shape::Seq { t, f: h }
        } else {
            Shape::Flat(h)
        };
        let Some(saved) = cell.saved(t, f, h).filter(|&s| s <= crate::shape::MAX_LEN) else {
            errors.push(
                cx.span,
                Message::new(
                    cx.head,
                    format!(
                        "its states at every step would hold more than {} values a sample",
                        crate::shape::MAX_LEN
                    ),
                )
                .input(cx.input),
            );
            return None;
        };
        let normal = |fan_in| Fill::Normal {
            init: self.init,
            fan_in,
            fan_out: gh,
        };
        let tensors = vec![
            Tensor::new("weight_ih_l0", vec![gh, f], normal(f)),
            Tensor::new("weight_hh_l0", vec![gh, h], normal(h)),
            Tensor::new("bias_ih_l0", vec![gh], Fill::Zeros),
            Tensor::new("bias_hh_l0", vec![gh], Fill::Zeros),
        ];
        // both products at every step; saturating: the checker bounds the
        // totals, not this count
        let macs = t.saturating_mul(gh).saturating_mul(f + h);
        let name = cell.name();
        let steps = if self.all { "every step" } else { "last step" };
        let description = format!("{name} {h}, {steps}");
        let kind = match cell {
            Cell::Rnn => quote!(Rnn),
            Cell::Lstm => quote!(Lstm),
            Cell::Gru => quote!(Gru),
        };
        let (tl, fl, hl, all) = (lit(t), lit(f), lit(h), self.all);
        let runtime = Runtime::Layer {
            ty: quote!(::nn::__private::Recurrent<::nn::__private::#kind, #tl, #fl, #hl, #all>),
            items: quote!(),
        };
        let layer = ir::Layer::new(cx.input, output, description, runtime);
        // inference keeps both weights transposed (`Layer::PREPARED`)
        let prepared = gh * (f + h);
        let layer = layer.tensors(tensors).macs(macs).saved(saved);
        Some(layer.prepared(prepared))
    }
}
