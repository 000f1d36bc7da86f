//! The blocks: `add { [..], [..], .. }` sums its branches, `concat { .. }`
//! joins them on channels, `residual { .. }` is `add { [..], [] }`. Every
//! branch sees the block's input; `[]` is the identity. This module reads a
//! block's form and applies the merge's shape rule; the checker walks the
//! branches' items like the network's own.

use crate::ast::{self, Body, Item};
use crate::diagnostics::{Errors, Message};
use crate::ir::Merge;
use crate::shape::{Shape, MAX_DIM};
use proc_macro2::Span;

/// The block kinds.
pub const KINDS: &[&str] = &["add", "concat", "residual"];

/// A block's branches as written: their items and where they are.
pub struct Form<'a> {
    pub merge: Merge,
    pub branches: Vec<BranchForm<'a>>,
}

pub struct BranchForm<'a> {
    pub items: &'a [Item],
    /// The brackets; for `residual`'s implicit identity, the keyword.
    pub span: Span,
    /// `[]`, or `residual`'s shortcut.
    pub identity: bool,
}

/// Whether `layer` is a block (a block kind, or any kind with braces).
pub fn is_block(layer: &ast::Layer) -> bool {
    KINDS.contains(&layer.kind.to_string().as_str())
}

/// Reads a block's form: its kind, no arguments, and branches that fit it.
pub fn parse<'a>(layer: &'a ast::Layer, head: &str, errors: &mut Errors) -> Option<Form<'a>> {
    let kind = layer.kind.to_string();
    let example = match kind.as_str() {
        "add" => "`add { [conv(16, kernel = 3, pad = 1)], [] }`",
        "concat" => "`concat { [conv(8, kernel = 1)], [conv(8, kernel = 3, pad = 1)] }`",
        _ => "`residual { conv(16, kernel = 3, pad = 1), relu }`",
    };
    if let Some(arg) = layer.args.first() {
        let at = arg.key.as_ref().map_or(arg.value.span(), |k| k.span());
        errors.push(
            at,
            Message::new(head, format!("`{kind}` takes no arguments"))
                .help(format!("write its branches in braces: {example}")),
        );
        return None;
    }
    let Some(block) = &layer.block else {
        errors.push(
            layer.kind.span(),
            Message::new(
                head,
                format!("`{kind}` is a block and needs its branches in braces"),
            )
            .help(format!("write {example}")),
        );
        return None;
    };
    let branch = |b: &'a ast::Branch| BranchForm {
        items: &b.items,
        span: b.span,
        identity: b.items.is_empty(),
    };
    let (merge, branches) = match (kind.as_str(), &block.body) {
        ("residual", Body::Items(items)) if !items.is_empty() => {
            let body = BranchForm {
                items,
                span: block.span,
                identity: false,
            };
            let shortcut = BranchForm {
                items: &[],
                span: layer.kind.span(),
                identity: true,
            };
            (Merge::Add, vec![body, shortcut])
        }
        ("residual", Body::Items(_)) => {
            errors.push(
                block.span,
                Message::new(head, "`residual` has no layers")
                    .help(format!("write its layers in the braces: {example}")),
            );
            return None;
        }
        ("residual", Body::Branches(_)) => {
            errors.push(
                block.span,
                Message::new(
                    head,
                    "`residual` takes layers, not branches: the shortcut is implied",
                )
                .help("write `residual { conv(..), .. }`, or `add { [..], [..] }` for a block with its own shortcut"),
            );
            return None;
        }
        (_, Body::Items(items)) if items.is_empty() => {
            errors.push(
                block.span,
                Message::new(head, format!("`{kind}` has no branches"))
                    .help(format!("write {example}")),
            );
            return None;
        }
        (_, Body::Items(_)) => {
            errors.push(
                block.span,
                Message::new(
                    head,
                    format!("`{kind}` takes branches in brackets, one per path"),
                )
                .help(format!("write {example}")),
            );
            return None;
        }
        ("add", Body::Branches(b)) => (Merge::Add, b.iter().map(branch).collect()),
        (_, Body::Branches(b)) => (Merge::Concat, b.iter().map(branch).collect()),
    };
    if branches.len() < 2 {
        errors.push(
            block.span,
            Message::new(
                head,
                format!("`{kind}` has one branch; it needs at least two to merge"),
            )
            .help("write the branch's layers without the block, or add a branch (`[]` is the identity)"),
        );
        return None;
    }
    if branches.iter().all(|b| b.identity) {
        errors.push(
            block.span,
            Message::new(head, format!("every branch of `{kind}` is empty (`[]`)"))
                .help("give at least one branch layers; `[]` is the identity"),
        );
        return None;
    }
    Some(Form { merge, branches })
}

/// `[16, 8, 8]`, or `[16, 8, 8] (identity)`.
fn shown(shape: Shape, identity: bool) -> String {
    if identity {
        format!("{shape} (identity)")
    } else {
        shape.to_string()
    }
}

/// The merged shape of branches that all checked out, or an error at the
/// first branch that does not fit.
pub fn merge(
    form: &Form,
    outputs: &[Shape],
    (head, kind, input): (&str, &str, Shape),
    errors: &mut Errors,
) -> Option<Shape> {
    let lines: Vec<String> = outputs
        .iter()
        .zip(&form.branches)
        .enumerate()
        .map(|(i, (o, b))| match kind {
            "residual" if b.identity => format!("the shortcut gives {o} (identity)"),
            "residual" => format!("the layers give {o}"),
            _ => format!("branch {i} gives {}", shown(*o, b.identity)),
        })
        .collect();
    let fail = |errors: &mut Errors, at: usize, problem: String, help: String| {
        let mut m = Message::new(head, problem);
        // a residual's problem already names both shapes
        for line in lines.iter().filter(|_| kind != "residual") {
            m = m.formula(line);
        }
        errors.push(form.branches[at].span, m.block_input(input).help(help));
        None
    };
    let first = outputs[0];
    match form.merge {
        Merge::Add => {
            let Some((at, other)) = outputs
                .iter()
                .enumerate()
                .find(|(_, o)| **o != first)
                .map(|(i, o)| (i, *o))
            else {
                return Some(first);
            };
            let problem = if kind == "residual" {
                format!(
                    "the layers give {first}, but the identity shortcut gives the block's input \
                     {input}; a residual block must keep its input's shape"
                )
            } else {
                format!(
                    "branch {at} gives {other} but branch 0 gives {first}; \
                     `add` sums its branches, so all must give the same shape"
                )
            };
            let help = match projection(input, first) {
                Some(p) if kind == "residual" => format!(
                    "for a shortcut that projects {input} to {first}, write \
                     `add {{ [..the layers..], [{p}] }}`"
                ),
                Some(p) if form.branches[at].identity => {
                    format!("replace the identity `[]` by a projection: `[{p}]`")
                }
                _ => format!("make branch {at} give {first}, or branch 0 give {other}"),
            };
            fail(errors, at, problem, help)
        }
        Merge::Concat => concat(outputs, errors, |errors, at, problem, help| {
            fail(errors, at, problem, help)
        }),
    }
}

/// `concat`'s rule: images of one height and width (channels add up), or
/// flat vectors (lengths add up).
fn concat(
    outputs: &[Shape],
    errors: &mut Errors,
    fail: impl Fn(&mut Errors, usize, String, String) -> Option<Shape>,
) -> Option<Shape> {
    let first = outputs[0];
    let mut total = 0usize;
    for (i, o) in outputs.iter().enumerate() {
        let fits = match (first, *o) {
            (Shape::Image { h, w, .. }, Shape::Image { h: h2, w: w2, c }) if (h, w) == (h2, w2) => {
                total = total.saturating_add(c);
                true
            }
            (Shape::Flat(_), Shape::Flat(n)) => {
                total = total.saturating_add(n);
                true
            }
            _ => false,
        };
        if !fits {
            let (problem, help) = match (first, *o) {
                // a sequence first fails at branch 0 already
                (_, Shape::Seq { .. }) | (Shape::Seq { .. }, _) => (
                    format!(
                        "branch {i} gives the sequence {o}; `concat` joins images on \
                             channels, or flat vectors, not sequences"
                    ),
                    "add `flatten` at the end of every branch, or end each with a \
                         recurrent layer's `seq = last`"
                        .to_string(),
                ),
                (Shape::Image { h, w, .. }, Shape::Image { h: h2, w: w2, .. }) => (
                    format!(
                        "branch {i} gives {h2}x{w2} images but branch 0 gives {h}x{w}; \
                         `concat` joins channels, so every branch needs the same height and width"
                    ),
                    format!(
                        "make branch {i} keep {h}x{w} (stride 1 and `pad = same` keep the size), \
                         or resize branch 0"
                    ),
                ),
                _ => (
                    format!(
                        "branch {i} gives {o} but branch 0 gives {first}; `concat` joins \
                         images of one size on channels, or flat vectors"
                    ),
                    "give every branch the same kind of output (add `flatten` to each, or to none)"
                        .to_string(),
                ),
            };
            return fail(errors, i, problem, help);
        }
    }
    let out = match first {
        Shape::Image { h, w, .. } => Shape::Image { c: total, h, w },
        _ => Shape::Flat(total),
    };
    if total > MAX_DIM as usize || out.len() > crate::shape::MAX_LEN {
        return fail(
            errors,
            0,
            format!(
                "the joined output has {total} channels or features, more than this version allows"
            ),
            format!("keep the channels at most {MAX_DIM}"),
        );
    }
    Some(out)
}

/// A 1×1 conv (with batch norm) or dense layer that takes `from` to `to`,
/// if there is one.
fn projection(from: Shape, to: Shape) -> Option<String> {
    match (from, to) {
        (Shape::Image { h, w, .. }, Shape::Image { c, h: h2, w: w2 }) => (1..=h.max(w))
            .find(|s| h.div_ceil(*s) == h2 && w.div_ceil(*s) == w2)
            .map(|s| {
                let stride = if s > 1 {
                    format!(", stride = {s}")
                } else {
                    String::new()
                };
                format!("conv({c}, kernel = 1{stride}, bias = false), batch_norm")
            }),
        (_, Shape::Flat(n)) if matches!(from, Shape::Flat(_)) => Some(format!("dense({n})")),
        _ => None,
    }
}
