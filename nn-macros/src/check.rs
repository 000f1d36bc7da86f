//! The checker: walks the items in order, lets each layer's module read its
//! arguments and infer its shape ([`crate::layers`]), and checks what spans
//! the whole network: the input shape, names, asserted shapes, totals and
//! receptive fields. Every error is collected before giving up, so
//! independent mistakes are reported in one compile. After a failed layer
//! the shape is unknown (or the layer's asserted `=> [..]` shape, if it has
//! one) and the layers below skip their shape checks, so one root cause
//! gives one error.

use crate::ast;
use crate::diagnostics::{Errors, Message};
use crate::ir::{self, Header, Window};
use crate::layers::{self, Cx};
use crate::shape::{self, Shape, MAX_DIM, MAX_LEN};
use proc_macro2::Span;
use quote::format_ident;
use syn::Ident;

/// What checking gives: the header, and the network if it is sound.
pub struct Checked {
    pub header: Header,
    pub result: Result<ir::Network, Failed>,
}

/// The errors, and the input and output shapes as far as they are known
/// (for the stub the expansion emits beside the errors).
pub struct Failed {
    pub errors: syn::Error,
    pub input: Option<Shape>,
    pub output: Option<Shape>,
}

pub fn check(net: ast::Network) -> Checked {
    let mut errors = Errors::default();
    let input = check_shape_lit(&net.input, "input shape", None, &mut errors);
    if net.items.is_empty() {
        let input_line = input.map(|i| format!("the network's input is {i}"));
        let mut m = Message::new("", format!("network `{}` has no layers", net.ident))
            .help("add at least one layer, for example `flatten, dense(10)`");
        if let Some(line) = input_line {
            m = m.formula(line);
        }
        errors.push(net.brace_span, m);
    }
    check_names(&net.items, &mut errors);

    let mut walk = Walk {
        shape: input,
        flat_from: None,
        field: Field {
            h: (1, 1),
            w: (1, 1),
        },
        net_input: input,
        layers: Vec::new(),
    };
    for (index, item) in net.items.iter().enumerate() {
        walk.item(index, item, &mut errors);
    }
    if let (Some(input), true) = (input, errors.is_empty()) {
        check_totals(&net.ident, input, &walk.layers, &mut errors);
    }
    let header = Header {
        attrs: net.attrs,
        vis: net.vis,
        ident: net.ident,
    };
    let result = match (errors.finish(), input) {
        (Ok(()), Some(input)) if walk.layers.len() == net.items.len() => Ok(ir::Network {
            input,
            layers: walk.layers,
        }),
        (result, _) => Err(Failed {
            // a layer is missing only after an error
            errors: result.err().unwrap_or_else(|| {
                syn::Error::new(header.ident.span(), "network could not be checked")
            }),
            input,
            output: walk.shape,
        }),
    };
    Checked { header, result }
}

/// The walk down the items: the shape so far and what the layers need to
/// know about where they stand.
struct Walk {
    /// The current shape, `None` after a failed layer without assertion.
    shape: Option<Shape>,
    /// Which layer made the shape flat (`None`: the declared input).
    flat_from: Option<String>,
    field: Field,
    net_input: Option<Shape>,
    layers: Vec<ir::Layer>,
}

impl Walk {
    fn item(&mut self, index: usize, item: &ast::Item, errors: &mut Errors) {
        let name = item
            .name
            .as_ref()
            .map_or_else(|| index.to_string(), |n| n.to_string());
        let head = match &item.name {
            Some(n) => format!("{} `{}`", item.layer.kind, n),
            None => item.layer.kind.to_string(),
        };
        let spec = layers::parse(&item.layer, &head, errors);
        let layer = match (spec, self.shape) {
            (Some(spec), Some(input)) => {
                let cx = Cx {
                    head: &head,
                    span: item.layer.kind.span(),
                    kind: item.layer.kind.to_string(),
                    input,
                    flat_from: self.flat_from.as_deref(),
                    ident: format_ident!("__Layer{}", index),
                };
                spec.infer(&cx, errors)
            }
            _ => None,
        };
        let out_shape = layer.map(|mut layer| {
            layer.name = name;
            let whole = self.net_input.unwrap_or(layer.input);
            layer.receptive_field = self.field.update(layer.window, layer.output, whole);
            if matches!(layer.output, Shape::Flat(_)) && !matches!(layer.input, Shape::Flat(_)) {
                self.flat_from = Some(item.layer.kind.to_string());
            }
            let output = layer.output;
            self.layers.push(layer);
            output
        });
        self.shape = match &item.assert {
            Some(lit) => {
                let asserted =
                    check_shape_lit(lit, "asserted shape", Some((&head, out_shape)), errors);
                if let (Some(want), Some(got)) = (asserted, out_shape) {
                    if want != got {
                        let mut m = Message::new(
                            &head,
                            format!("output is {got}, but `=> {want}` was asserted"),
                        )
                        .help(format!("write `=> {got}`, or change the layer"));
                        if let Some(input) = self.shape {
                            m = m.input(input);
                        }
                        errors.push(lit.span, m);
                    }
                }
                // carry on from the asserted shape so later layers are checked
                out_shape.or(asserted)
            }
            None => out_shape,
        };
    }
}

fn check_names(items: &[ast::Item], errors: &mut Errors) {
    let mut seen: Vec<(&Ident, usize)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(name) = &item.name else { continue };
        match seen.iter().find(|(n, _)| *n == name) {
            Some((_, first)) => errors.push(
                name.span(),
                Message::new(
                    &format!("{} `{}`", item.layer.kind, name),
                    format!("the name `{name}` is already used by item {first}"),
                )
                .help("give each layer its own name (names key the saved weights)"),
            ),
            None => seen.push((name, index)),
        }
    }
}

/// Parameters and activations must fit the generated code's buffers.
fn check_totals(ident: &Ident, input: Shape, layers: &[ir::Layer], errors: &mut Errors) {
    let params = layers
        .iter()
        .try_fold(0usize, |acc, l| acc.checked_add(l.params()));
    let acts = layers
        .iter()
        .try_fold(input.len(), |acc, l| acc.checked_add(l.output.len()));
    for (what, total) in [("parameters", params), ("activations per sample", acts)] {
        if total.is_none_or(|t| t > MAX_LEN) {
            errors.push(
                ident.span(),
                Message::new(
                    &format!("network `{ident}`"),
                    format!("has more than {MAX_LEN} {what}"),
                )
                .help("use fewer or smaller layers"),
            );
        }
    }
}

/// A shape literal as a [`Shape`]: rank 1–3, no zero, no huge dimension.
/// For an asserted shape, `layer` gives the layer's head and real output.
fn check_shape_lit(
    lit: &ast::ShapeLit,
    what: &str,
    layer: Option<(&str, Option<Shape>)>,
    errors: &mut Errors,
) -> Option<Shape> {
    let dims: Vec<u64> = lit.dims.iter().map(|d| d.0).collect();
    let shown = format!(
        "[{}]",
        dims.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let (head, help) = match layer {
        Some((head, Some(got))) => (
            head.to_string(),
            format!("the layer gives {got}: write `=> {got}`"),
        ),
        Some((head, None)) => (
            head.to_string(),
            "write [C, H, W], [T, F] or [N]".to_string(),
        ),
        None => (
            String::new(),
            "write [C, H, W] for images (`[1, 28, 28]`), [T, F] for sequences or [N] for vectors"
                .to_string(),
        ),
    };
    let mut fail = |span: Span, problem: String| {
        errors.push(
            span,
            Message::new(&head, format!("{what} {shown} {problem}")).help(&help),
        );
        None
    };
    if dims.is_empty() || dims.len() > 3 {
        return fail(
            lit.span,
            format!("has {} dimensions; expected 1, 2 or 3", dims.len()),
        );
    }
    if let Some((i, (_, span))) = lit.dims.iter().enumerate().find(|(_, d)| d.0 == 0) {
        return fail(
            *span,
            format!("has a 0 as dimension {i}; every dimension must be at least 1"),
        );
    }
    if let Some((_, span)) = lit.dims.iter().find(|d| d.0 > MAX_DIM) {
        return fail(*span, format!("has a dimension larger than {MAX_DIM}"));
    }
    let d: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    if shape::product(&d).is_none() {
        let total: u128 = dims.iter().map(|&d| d as u128).product();
        let factors = dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("·");
        return fail(
            lit.span,
            format!("has {factors} = {total} elements; at most {MAX_LEN}"),
        );
    }
    Some(match d[..] {
        [n] => Shape::Flat(n),
        [t, f] => Shape::Seq { t, f },
        [c, h, w] => Shape::Image { c, h, w },
        _ => unreachable!("rank checked above"),
    })
}

/// Receptive field along both axes: (field, jump).
struct Field {
    h: (usize, usize),
    w: (usize, usize),
}

impl Field {
    fn update(&mut self, window: Option<Window>, output: Shape, net_input: Shape) -> [usize; 2] {
        let whole = match net_input {
            Shape::Image { h, w, .. } => [h, w],
            Shape::Seq { t, f } => [t, f],
            Shape::Flat(n) => [1, n],
        };
        if let Some(window) = window {
            self.h = shape::receptive(self.h, window.kernel.0, window.stride.0);
            self.w = shape::receptive(self.w, window.kernel.1, window.stride.1);
        }
        match output {
            Shape::Image { .. } => [self.h.0.min(whole[0]), self.w.0.min(whole[1])],
            _ => whole,
        }
    }
}
