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
use crate::layers::{self, block, Cx};
use crate::shape::{self, Shape, MAX_DIM, MAX_LEN};
use proc_macro2::Span;
use std::cell::Cell;
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
    let ids = Cell::new(0);
    let mut walk = Walk {
        shape: input,
        flat_from: None,
        at_input: true,
        field: Field {
            h: (1, 1),
            w: (1, 1),
        },
        net_input: input,
        nodes: Vec::new(),
        prefix: String::new(),
        ids: &ids,
        failed: false,
    };
    walk.items(&net.items, &mut errors);
    if let (Some(input), true) = (input, errors.is_empty()) {
        check_totals(&net.ident, input, &walk.nodes, &mut errors);
    }
    let header = Header {
        attrs: net.attrs,
        vis: net.vis,
        ident: net.ident,
    };
    let result = match (errors.finish(), input) {
        (Ok(()), Some(input)) if !walk.failed => Ok(ir::Network {
            input,
            nodes: walk.nodes,
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

/// The walk down a list of items (the network's, or a branch's): the shape
/// so far and what the layers need to know about where they stand.
struct Walk<'a> {
    /// The current shape, `None` after a failed layer without assertion.
    shape: Option<Shape>,
    /// Which layer made the shape flat (`None`: the declared input).
    flat_from: Option<String>,
    /// No item came before this one: its input is the network's own (in a
    /// branch, the branch's block is the network's first item).
    at_input: bool,
    field: Field,
    net_input: Option<Shape>,
    nodes: Vec<ir::Node>,
    /// The path of the list: `""` at the top, `"5.0."` in branch 0 of item 5.
    prefix: String,
    /// Numbers the layers, however nested.
    ids: &'a Cell<usize>,
    /// An item could not be checked.
    failed: bool,
}

impl<'a> Walk<'a> {
    fn items(&mut self, items: &[ast::Item], errors: &mut Errors) {
        check_names(items, errors);
        for (index, item) in items.iter().enumerate() {
            self.item(index, item, errors);
        }
    }

    /// A walk of one branch of a block that starts where this one stands.
    fn branch(&self, prefix: String) -> Walk<'a> {
        Walk {
            shape: self.shape,
            flat_from: self.flat_from.clone(),
            at_input: self.at_input,
            field: self.field,
            net_input: self.net_input,
            nodes: Vec::new(),
            prefix,
            ids: self.ids,
            failed: false,
        }
    }

    fn item(&mut self, index: usize, item: &ast::Item, errors: &mut Errors) {
        let name = item
            .name
            .as_ref()
            .map_or_else(|| index.to_string(), |n| n.to_string());
        let name = format!("{}{name}", self.prefix);
        let head = match &item.name {
            Some(n) => format!("{} `{}`", item.layer.kind, n),
            None => item.layer.kind.to_string(),
        };
        let node = if block::is_block(&item.layer) {
            self.block(name, &head, item, errors).map(ir::Node::Block)
        } else {
            self.layer(name, &head, item, errors).map(ir::Node::Layer)
        };
        if node.is_none() {
            self.failed = true;
        }
        self.at_input = false;
        let out_shape = node.map(|node| {
            let output = node.output();
            self.nodes.push(node);
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

impl Walk<'_> {
    fn layer(
        &mut self,
        name: String,
        head: &str,
        item: &ast::Item,
        errors: &mut Errors,
    ) -> Option<ir::Layer> {
        let spec = layers::parse(&item.layer, head, errors);
        let id = self.ids.get();
        self.ids.set(id + 1);
        let mut layer = match (spec, self.shape) {
            (Some(spec), Some(input)) => {
                let cx = Cx {
                    head,
                    span: item.layer.kind.span(),
                    kind: item.layer.kind.to_string(),
                    input,
                    flat_from: self.flat_from.as_deref(),
                    at_input: self.at_input,
                    id,
                };
                spec.infer(&cx, errors)?
            }
            _ => return None,
        };
        layer.name = name;
        let whole = self.net_input.unwrap_or(layer.input);
        layer.receptive_field = self.field.update(layer.window, layer.output, whole);
        if matches!(layer.output, Shape::Flat(_)) && !matches!(layer.input, Shape::Flat(_)) {
            self.flat_from = Some(item.layer.kind.to_string());
        }
        Some(layer)
    }

    /// A block: each branch walked from the block's input, then merged.
    /// Errors inside the branches are found even when the block's input is
    /// not known.
    fn block(
        &mut self,
        name: String,
        head: &str,
        item: &ast::Item,
        errors: &mut Errors,
    ) -> Option<ir::Block> {
        let form = block::parse(&item.layer, head, errors)?;
        let mut branches = Vec::new();
        let mut fields = Vec::new();
        let mut sound = true;
        for (b, branch) in form.branches.iter().enumerate() {
            let mut walk = self.branch(format!("{name}.{b}."));
            walk.items(branch.items, errors);
            sound &= !walk.failed && walk.shape.is_some();
            fields.push(walk.field);
            branches.push(ir::Branch {
                name: format!("{name}.{b}"),
                output: walk.shape.unwrap_or(Shape::Flat(0)),
                nodes: walk.nodes,
            });
        }
        let input = self.shape?;
        if !sound {
            return None;
        }
        let outputs: Vec<Shape> = branches.iter().map(|b| b.output).collect();
        let kind = item.layer.kind.to_string();
        let output = block::merge(&form, &outputs, (head, &kind, input), errors)?;
        self.field = fields.iter().fold(fields[0], |a, f| a.max(*f));
        let whole = self.net_input.unwrap_or(input);
        let receptive_field = self.field.update(None, output, whole);
        if matches!(output, Shape::Flat(_)) && !matches!(input, Shape::Flat(_)) {
            self.flat_from = Some(kind.clone());
        }
        Some(ir::Block {
            name,
            kind,
            merge: form.merge,
            output,
            branches,
            macs: 0,
            receptive_field,
        })
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
fn check_totals(ident: &Ident, input: Shape, nodes: &[ir::Node], errors: &mut Errors) {
    let params = nodes
        .iter()
        .try_fold(0usize, |acc, n| acc.checked_add(n.params()));
    let acts = nodes
        .iter()
        .try_fold(input.len(), |acc, n| acc.checked_add(n.activations()));
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

/// A shape literal as a [`Shape`]: rank 1–3, no zero, at most [`MAX_LEN`]
/// values, and for the input, no dimension above [`MAX_DIM`]. For an
/// asserted shape, `layer` gives the layer's head and real output.
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
    // the input's dimensions are limited; a layer's output (a flatten's)
    // may be a longer vector, so an asserted shape is held to the total
    if let Some((_, span)) = lit.dims.iter().find(|d| d.0 > MAX_DIM && layer.is_none()) {
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
#[derive(Clone, Copy)]
struct Field {
    h: (usize, usize),
    w: (usize, usize),
}

impl Field {
    /// The larger of two branches' fields (and jumps), axis by axis.
    fn max(self, other: Field) -> Field {
        let m = |a: (usize, usize), b: (usize, usize)| (a.0.max(b.0), a.1.max(b.1));
        Field {
            h: m(self.h, other.h),
            w: m(self.w, other.w),
        }
    }

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
