//! The layer kinds: one module per family, each owning its arguments, its
//! shape rule and errors, and the runtime type it expands to.
//!
//! A layer module provides a `parse` function per kind (in [`KINDS`]) that
//! reads the arguments before any shape is known and returns a [`Spec`];
//! [`Spec::infer`] then checks the input shape and gives the [`ir::Layer`]
//! with its output shape, parameter tensors, multiply-adds and the runtime
//! type (`::nn::__private::Conv2d<…>`, say). The checker (`check.rs`) only
//! walks the items; the expansion (`expand.rs`) only wires slots and calls.

mod activation;
pub mod block;
mod conv;
mod dense;
mod dropout;
mod flatten;
mod norm;
mod pool;
mod recurrent;
mod window;

use crate::args::Args;
use crate::ast;
use crate::diagnostics::{choice_list, nearest, Errors, Message};
use crate::ir::{self, Fill, Init, Tensor};
use crate::shape::{self, Shape, MAX_LEN};
use proc_macro2::{Literal, Span};

/// A layer kind: its name in the language and how its arguments are read.
pub struct Kind {
    pub name: &'static str,
    pub parse: fn(&ast::Layer, &str, &mut Errors) -> Option<Box<dyn Spec>>,
}

/// Every layer kind of this version.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "conv",
        parse: conv::parse,
    },
    Kind {
        name: "max_pool",
        parse: pool::parse_max,
    },
    Kind {
        name: "avg_pool",
        parse: pool::parse_avg,
    },
    Kind {
        name: "global_avg_pool",
        parse: pool::parse_global_avg,
    },
    Kind {
        name: "flatten",
        parse: flatten::parse,
    },
    Kind {
        name: "dense",
        parse: dense::parse,
    },
    Kind {
        name: "relu",
        parse: activation::parse_relu,
    },
    Kind {
        name: "leaky_relu",
        parse: activation::parse_leaky_relu,
    },
    Kind {
        name: "prelu",
        parse: activation::parse_prelu,
    },
    Kind {
        name: "sigmoid",
        parse: activation::parse_sigmoid,
    },
    Kind {
        name: "tanh",
        parse: activation::parse_tanh,
    },
    Kind {
        name: "softmax",
        parse: activation::parse_softmax,
    },
    Kind {
        name: "batch_norm",
        parse: norm::parse,
    },
    Kind {
        name: "dropout",
        parse: dropout::parse,
    },
    Kind {
        name: "rnn",
        parse: recurrent::parse_rnn,
    },
    Kind {
        name: "lstm",
        parse: recurrent::parse_lstm,
    },
    Kind {
        name: "gru",
        parse: recurrent::parse_gru,
    },
];

/// The names of [`KINDS`] and of the blocks.
pub fn names() -> Vec<&'static str> {
    KINDS
        .iter()
        .map(|k| k.name)
        .chain(block::KINDS.iter().copied())
        .collect()
}

/// A layer with its arguments read, waiting for its input shape.
pub trait Spec {
    /// The layer for this input, or `None` after pushing the errors.
    fn infer(&self, cx: &Cx, errors: &mut Errors) -> Option<ir::Layer>;
}

/// Reads an item's layer: its kind and arguments (shape-independent checks).
pub fn parse(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Box<dyn Spec>> {
    let kind = layer.kind.to_string();
    if let Some(block) = &layer.block {
        let message = Message::new(head, format!("`{kind}` does not take a `{{ ... }}` block"))
            .help(format!(
                "remove the braces; the blocks are {}",
                choice_list(block::KINDS)
            ));
        errors.push(block.span, message);
        return None;
    }
    if let Some(k) = KINDS.iter().find(|k| k.name == kind) {
        return (k.parse)(layer, head, errors);
    }
    let names = names();
    let message = match nearest(&kind, &names) {
        Some(near) => Message::new(
            "",
            format!("unknown layer `{kind}`; did you mean `{near}`?"),
        ),
        None => Message::new("", format!("unknown layer `{kind}`"))
            .help(format!("known layers: {}", names.join(", "))),
    };
    errors.push(layer.kind.span(), message);
    None
}

/// A layer that takes no arguments: reports any it was given.
fn no_arguments(layer: &ast::Layer, head: &str, errors: &mut Errors) {
    Args::read(layer, head, &[], &[], &format!("`{}`", layer.kind), errors);
}

/// What a layer's shape rule sees: its input and where it stands.
pub struct Cx<'a> {
    /// ``conv `c2` `` or `conv`: the start of every message.
    pub head: &'a str,
    /// The layer keyword, where shape errors point.
    pub span: Span,
    /// The layer keyword as written.
    pub kind: String,
    pub input: Shape,
    /// The layer that made a flat input flat (`None`: declared flat, or
    /// flat from the layers' start, as after a `dense` on a flat input).
    pub flat_from: Option<&'a str>,
    /// Its input is the network's own: no item comes before it.
    pub at_input: bool,
    /// A number of its own among the network's layers, however nested.
    pub id: usize,
}

impl Cx<'_> {
    /// `[C, H, W]`, or an error that says how to get one.
    pub fn image(&self, errors: &mut Errors) -> Option<(usize, usize, usize)> {
        let kind = &self.kind;
        let (problem, help) = match self.input {
            Shape::Image { c, h, w } => return Some((c, h, w)),
            Shape::Flat(n) => {
                let help = match self.flat_from {
                    Some("flatten") => format!("move `{kind}` before `flatten`"),
                    Some(other) => {
                        format!("move `{kind}` before `{other}`, which makes the input flat")
                    }
                    None => image_guess(n).map_or_else(
                        || "declare the network's input as [C, H, W]".to_string(),
                        |g| {
                            format!("if the input is an image, declare it as [C, H, W], e.g. `{g}`")
                        },
                    ),
                };
                (
                    format!("needs a [C, H, W] input, got the flat {}", self.input),
                    help,
                )
            }
            Shape::Seq { t, f } => (
                format!("needs a [C, H, W] input, got the sequence {}", self.input),
                format!("if the input is a {t}x{f} image, declare it as `[1, {t}, {f}]`"),
            ),
        };
        errors.push(
            self.span,
            Message::new(self.head, problem)
                .input(self.input)
                .help(help),
        );
        None
    }

    /// `[N]`, or an error that says to add `flatten`.
    pub fn flat(&self, errors: &mut Errors) -> Option<usize> {
        if let Shape::Flat(n) = self.input {
            return Some(n);
        }
        errors.push(
            self.span,
            Message::new(self.head, format!("needs a flat input, got {}", self.input))
                .input(self.input)
                .help(format!(
                    "add `flatten` before it, which gives [{}]",
                    self.input.len()
                )),
        );
        None
    }

    /// `in = N` given and different from the real `n`: an error.
    pub fn check_in(
        &self,
        given: Option<(usize, (Span, Span))>,
        n: usize,
        what: &str,
        errors: &mut Errors,
    ) -> Option<()> {
        match given {
            Some((g, at)) if g != n => {
                errors.push_range(
                    at,
                    Message::new(
                        self.head,
                        format!("`in = {g}` but the input has {n} {what}"),
                    )
                    .input(self.input)
                    .help(format!("write `in = {n}`, or remove `in`")),
                );
                None
            }
            _ => Some(()),
        }
    }

    /// The size of one of the layer's tensors, `what` (its weight, or its
    /// output per sample), the product of `sizes`: at most [`MAX_LEN`]
    /// floats, or an error that names it.
    pub fn tensor_len(&self, sizes: &[usize], what: &str, errors: &mut Errors) -> Option<usize> {
        let p = shape::product(sizes);
        if p.is_none() {
            let total: u128 = sizes.iter().map(|&s| s as u128).product();
            errors.push(
                self.span,
                Message::new(
                    self.head,
                    format!(
                        "its {what} would hold {total} values; a tensor holds at most {MAX_LEN}"
                    ),
                )
                .input(self.input),
            );
        }
        p
    }
}

/// A weight drawn with `init` and, when `bias`, a zero bias of `out`.
fn weight_and_bias(
    shape: Vec<usize>,
    init: Init,
    (fan_in, fan_out): (usize, usize),
    bias: bool,
) -> Vec<Tensor> {
    let out = shape[0];
    let fill = Fill::Normal {
        init,
        fan_in,
        fan_out,
    };
    let mut tensors = vec![Tensor::new("weight", shape, fill)];
    if bias {
        tensors.push(Tensor::new("bias", vec![out], Fill::Zeros));
    }
    tensors
}

/// An unsuffixed integer literal.
fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// `[1, 28, 28]` for 784, `[3, 32, 32]` for 3072: a square image of 1 or 3
/// channels with `n` values, if there is one.
fn image_guess(n: usize) -> Option<String> {
    let square = |v: usize| {
        let s = (v as f64).sqrt().round() as usize;
        (s > 1 && s * s == v).then_some(s)
    };
    if let Some(s) = square(n) {
        return Some(format!("[1, {s}, {s}]"));
    }
    n.is_multiple_of(3)
        .then(|| square(n / 3))
        .flatten()
        .map(|s| format!("[3, {s}, {s}]"))
}
