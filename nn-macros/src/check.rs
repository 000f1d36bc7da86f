//! Walks the ast, infers every shape with [`crate::shape`], attaches spans
//! and collects every error before giving up, so independent mistakes are
//! reported in one compile. After a failed layer the shape is unknown (or
//! the layer's asserted `=> [..]` shape, if it has one) and the layers below
//! skip their shape checks, so one root cause gives one error.

use crate::args::{self, message, Errors, Pad, Spec};
use crate::ast;
use crate::ir::{self, Fill, Kind, Tensor, Window};
use crate::shape::{self, Axis, Dir, Round, Shape, WindowError, MAX_DIM, MAX_LEN};
use proc_macro2::Span;
use syn::Ident;

/// What checking gives: the network if it is sound, the errors, and the
/// input and output shapes as far as they are known (for the fallback).
pub struct Checked {
    pub network: Option<ir::Network>,
    pub errors: Errors,
    pub input: Option<Shape>,
    pub output: Option<Shape>,
}

pub fn check(net: ast::Network) -> Checked {
    let mut errors = Errors::default();
    let input = check_shape_lit(&net.input, "input shape", None, &mut errors);

    if net.items.is_empty() {
        let input_line = input.map(|i| format!("the network's input is {i}"));
        errors.push(
            net.brace_span,
            message(
                "",
                &format!("network `{}` has no layers", net.ident),
                input_line.as_deref(),
                None,
                Some("add at least one layer, for example `flatten, dense(10)`"),
            ),
        );
    }
    check_names(&net.items, &mut errors);

    let mut layers = Vec::new();
    let mut shape = input;
    // which layer made the shape flat (`None`: the declared input)
    let mut flat_from: Option<String> = None;
    let mut field = Field {
        h: (1, 1),
        w: (1, 1),
    };
    for (index, item) in net.items.iter().enumerate() {
        let name = item
            .name
            .as_ref()
            .map_or_else(|| index.to_string(), |n| n.to_string());
        let head = match &item.name {
            Some(n) => format!("{} `{}`", item.layer.kind, n),
            None => item.layer.kind.to_string(),
        };
        let spec = args::parse_layer(&item.layer, &head, &mut errors);
        let layer = match (spec, shape) {
            (Some(spec), Some(input_shape)) => infer(
                &item.layer,
                &head,
                spec,
                input_shape,
                flat_from.as_deref(),
                &mut errors,
            ),
            _ => None,
        };
        let out_shape = layer.map(|mut layer| {
            layer.name = name;
            layer.receptive_field =
                field.update(&layer.kind, layer.output, input.unwrap_or(layer.input));
            let output = layer.output;
            if matches!(output, Shape::Flat(_)) && !matches!(layer.input, Shape::Flat(_)) {
                flat_from = Some(item.layer.kind.to_string());
            }
            layers.push(layer);
            output
        });
        shape = match &item.assert {
            Some(lit) => {
                let asserted =
                    check_shape_lit(lit, "asserted shape", Some((&head, out_shape)), &mut errors);
                if let (Some(want), Some(got)) = (asserted, out_shape) {
                    if want != got {
                        errors.push(
                            lit.span,
                            message(
                                &head,
                                &format!("output is {got}, but `=> {want}` was asserted"),
                                None,
                                shape,
                                Some(&format!("write `=> {got}`, or change the layer")),
                            ),
                        );
                    }
                }
                // carry on from the asserted shape so later layers are checked
                out_shape.or(asserted)
            }
            None => out_shape,
        };
    }

    if let (Some(input), true) = (input, errors.is_empty()) {
        check_totals(&net, input, &layers, &mut errors);
    }
    let output = shape;
    if !errors.is_empty() || layers.len() != net.items.len() {
        return Checked {
            network: None,
            errors,
            input,
            output,
        };
    }
    let input = input.expect("no errors means the input shape was valid");
    let network = ir::Network {
        attrs: net.attrs,
        vis: net.vis,
        ident: net.ident,
        input,
        layers,
    };
    Checked {
        network: Some(network),
        errors,
        input: Some(input),
        output,
    }
}

fn check_names(items: &[ast::Item], errors: &mut Errors) {
    let mut seen: Vec<(&Ident, usize)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(name) = &item.name else { continue };
        match seen.iter().find(|(n, _)| *n == name) {
            Some((_, first)) => errors.push(
                name.span(),
                message(
                    &format!("{} `{}`", item.layer.kind, name),
                    &format!("the name `{name}` is already used by item {first}"),
                    None,
                    None,
                    Some("give each layer its own name (names key the saved weights)"),
                ),
            ),
            None => seen.push((name, index)),
        }
    }
}

/// Parameters and activations must fit the generated code's buffers.
fn check_totals(net: &ast::Network, input: Shape, layers: &[ir::Layer], errors: &mut Errors) {
    let params = layers
        .iter()
        .try_fold(0usize, |acc, l| acc.checked_add(l.params()));
    let acts = layers
        .iter()
        .try_fold(input.len(), |acc, l| acc.checked_add(l.output.len()));
    for (what, total) in [("parameters", params), ("activations per sample", acts)] {
        if total.is_none_or(|t| t > MAX_LEN) {
            errors.push(
                net.ident.span(),
                message(
                    &format!("network `{}`", net.ident),
                    &format!("has more than {MAX_LEN} {what}"),
                    None,
                    None,
                    Some("use fewer or smaller layers"),
                ),
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
            message(
                &head,
                &format!("{what} {shown} {problem}"),
                None,
                None,
                Some(&help),
            ),
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
    fn update(&mut self, kind: &Kind, output: Shape, net_input: Shape) -> [usize; 2] {
        let whole = match net_input {
            Shape::Image { h, w, .. } => [h, w],
            Shape::Seq { t, f } => [t, f],
            Shape::Flat(n) => [1, n],
        };
        if let Kind::Conv { window, .. } | Kind::MaxPool { window } | Kind::AvgPool { window } =
            kind
        {
            self.h = shape::receptive(self.h, window.kernel.0, window.stride.0);
            self.w = shape::receptive(self.w, window.kernel.1, window.stride.1);
        }
        match output {
            Shape::Image { .. } => [self.h.0.min(whole[0]), self.w.0.min(whole[1])],
            _ => whole,
        }
    }
}

/// `5x5`
fn kernel_text(k: (usize, usize)) -> String {
    format!("{}x{}", k.0, k.1)
}

fn pad_text(p: (usize, usize, usize, usize)) -> String {
    if p.0 == p.1 && p.1 == p.2 && p.2 == p.3 {
        p.0.to_string()
    } else if p.0 == p.1 && p.2 == p.3 {
        format!("({}, {})", p.0, p.2)
    } else {
        format!("({}, {}, {}, {})", p.0, p.1, p.2, p.3)
    }
}

fn window_text(name: &str, w: &Window, default_stride: (usize, usize), round: Round) -> String {
    let mut s = format!("{name} {}", kernel_text(w.kernel));
    if w.stride != default_stride {
        let stride = if w.stride.0 == w.stride.1 {
            w.stride.0.to_string()
        } else {
            format!("({}, {})", w.stride.0, w.stride.1)
        };
        s.push_str(&format!(" stride {stride}"));
    }
    if w.pad != (0, 0, 0, 0) {
        s.push_str(&format!(" pad {}", pad_text(w.pad)));
    }
    match round {
        Round::Exact => {}
        Round::Floor => s.push_str(" floor"),
        Round::Ceil => s.push_str(" ceil"),
    }
    s
}

/// A conv's or pool's window, as the checks need it.
struct WindowSpec {
    /// `conv` or `max_pool`/`avg_pool`: "kernel" or "window" in messages.
    noun: &'static str,
    kernel: (usize, usize),
    kernel_at: (Span, Span),
    stride: (usize, usize),
    pad: Pad,
    round: Round,
    out_channels: usize,
    /// Largest padding a side may have (pools: half the window, PyTorch's rule).
    max_pad: Option<(usize, usize)>,
}

/// Resolves padding and rounding and computes the output size on both
/// axes; a window that does not fit, or drops input, is one error.
fn resolve_window(
    head: &str,
    span: Span,
    input: Shape,
    (h, w): (usize, usize),
    ws: &WindowSpec,
    errors: &mut Errors,
) -> Option<(Window, usize, usize, Round)> {
    let (pads, round) = match ws.pad {
        Pad::Explicit(t, b, l, r) => ((t, b, l, r), ws.round),
        Pad::Same => {
            let (t, b) = shape::same_padding(h, ws.kernel.0, ws.stride.0);
            let (l, r) = shape::same_padding(w, ws.kernel.1, ws.stride.1);
            ((t, b, l, r), Round::Floor)
        }
        Pad::Valid => ((0, 0, 0, 0), Round::Floor),
    };
    let ax_h = Axis {
        size: h,
        kernel: ws.kernel.0,
        stride: ws.stride.0,
        before: pads.0,
        after: pads.1,
    };
    let ax_w = Axis {
        size: w,
        kernel: ws.kernel.1,
        stride: ws.stride.1,
        before: pads.2,
        after: pads.3,
    };
    let results = [
        shape::window_out(Dir::Height, ax_h, round),
        shape::window_out(Dir::Width, ax_w, round),
    ];
    let errs: Vec<&WindowError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    if errs
        .iter()
        .any(|e| matches!(e, WindowError::TooLarge { .. }))
    {
        let (ph, pw) = (h + pads.0 + pads.1, w + pads.2 + pads.3);
        let padded = if pads == (0, 0, 0, 0) {
            "input"
        } else {
            "padded input"
        };
        let formula = match errs.as_slice() {
            [WindowError::TooLarge { axis: a, .. }, WindowError::TooLarge { axis: b, .. }] => format!(
                "the window must fit the padded input: {} + {} + {} < {} (height), {} + {} + {} < {} (width)",
                a.size, a.before, a.after, a.kernel, b.size, b.before, b.after, b.kernel
            ),
            _ => errs.iter().filter(|e| matches!(e, WindowError::TooLarge { .. })).map(|e| e.formula()).collect::<Vec<_>>().join("; "),
        };
        let need = ws
            .kernel
            .0
            .saturating_sub(h)
            .max(ws.kernel.1.saturating_sub(w))
            .div_ceil(2);
        let keep = if ws.max_pad.is_none_or(|(mh, mw)| need <= mh.min(mw)) {
            format!(", or pad = {need} to keep this {}", ws.noun)
        } else {
            String::new()
        };
        errors.push_range(
            ws.kernel_at,
            message(
                head,
                &format!(
                    "{} {} does not fit the {}x{} {padded}",
                    kernel_text(ws.kernel),
                    ws.noun,
                    ph,
                    pw
                ),
                Some(&formula),
                Some(input),
                Some(&format!("use a {} of at most {}x{}{keep}", ws.noun, ph, pw)),
            ),
        );
        return None;
    }
    if !errs.is_empty() {
        let (problem, formula) = match errs.as_slice() {
            // the same numbers on both axes: say it once
            [WindowError::Drops {
                axis: a,
                remainder: r,
                ..
            }, WindowError::Drops {
                axis: b,
                remainder: s,
                ..
            }] if a == b && r == s => {
                let span = a.size + a.before + a.after - a.kernel;
                let n = errs[0].dropped();
                let unused = if n == 1 {
                    "the last input row and column".to_string()
                } else {
                    format!("the last {n} input rows and columns")
                };
                (
                    format!("output height and width ({} + {} + {} − {}) / {} + 1 leave {unused} unused ({span} mod {} = {r})", a.size, a.before, a.after, a.kernel, a.stride, a.stride),
                    format!("{} (and likewise for the width)", errs[0].formula()),
                )
            }
            _ => (
                errs.iter()
                    .map(|e| e.problem())
                    .collect::<Vec<_>>()
                    .join("; "),
                errs.iter()
                    .map(|e| e.formula())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        let help = drop_help(ax_h, ax_w, ws, pads);
        errors.push(
            span,
            message(head, &problem, Some(&formula), Some(input), Some(&help)),
        );
        return None;
    }
    let (oh, ow) = (results[0].clone().ok()?, results[1].clone().ok()?);
    Some((
        Window {
            kernel: ws.kernel,
            stride: ws.stride,
            pad: pads,
        },
        oh,
        ow,
        round,
    ))
}

/// The help of a window that drops input: the smallest padding that keeps
/// it (symmetric when both axes need it and that works, else on the bottom
/// or right of the failing axis only), `pad = same`, and `round = floor`.
fn drop_help(
    ax_h: Axis,
    ax_w: Axis,
    ws: &WindowSpec,
    pads: (usize, usize, usize, usize),
) -> String {
    let fits = |a: Axis| shape::window_out(Dir::Height, a, Round::Exact).ok();
    let allowed = |p: usize, axis: usize| {
        ws.max_pad
            .is_none_or(|m| p <= if axis == 0 { m.0 } else { m.1 })
    };
    let shape_of = |oh: usize, ow: usize| Shape::Image {
        c: ws.out_channels,
        h: oh,
        w: ow,
    };
    let (h_bad, w_bad) = (fits(ax_h).is_none(), fits(ax_w).is_none());
    let limit = ws
        .kernel
        .0
        .max(ws.kernel.1)
        .max(ws.stride.0)
        .max(ws.stride.1);
    let mut fix = None;
    if h_bad && w_bad && pads == (0, 0, 0, 0) {
        fix = (1..=limit).find_map(|p| {
            let oh = fits(Axis {
                before: p,
                after: p,
                ..ax_h
            })?;
            let ow = fits(Axis {
                before: p,
                after: p,
                ..ax_w
            })?;
            (allowed(p, 0) && allowed(p, 1))
                .then(|| format!("pad = {p} gives {}", shape_of(oh, ow)))
        });
    }
    if fix.is_none() {
        let extra = |a: Axis, axis: usize| {
            (1..=limit).find(|e| {
                allowed(a.after + e, axis)
                    && fits(Axis {
                        after: a.after + e,
                        ..a
                    })
                    .is_some()
            })
        };
        let eh = if h_bad { extra(ax_h, 0) } else { Some(0) };
        let ew = if w_bad { extra(ax_w, 1) } else { Some(0) };
        if let (Some(eh), Some(ew)) = (eh, ew) {
            let p = (pads.0, pads.1 + eh, pads.2, pads.3 + ew);
            let oh = fits(Axis { after: p.1, ..ax_h }).unwrap_or(0);
            let ow = fits(Axis { after: p.3, ..ax_w }).unwrap_or(0);
            fix = Some(format!("pad = {} gives {}", pad_text(p), shape_of(oh, ow)));
        }
    }
    let same = shape_of(
        ax_h.size.div_ceil(ws.stride.0),
        ax_w.size.div_ceil(ws.stride.1),
    );
    let mut help = fix.map(|f| format!("{f}; ")).unwrap_or_default();
    help.push_str(&format!(
        "pad = same gives {same}; round = floor drops the rest on purpose"
    ));
    help
}

/// Infers the output shape and builds the ir layer (name and receptive
/// field are filled in by the caller). `flat_from` names the layer that made
/// a flat input flat (`None`: the network was declared flat).
fn infer(
    layer: &ast::Layer,
    head: &str,
    spec: Spec,
    input: Shape,
    flat_from: Option<&str>,
    errors: &mut Errors,
) -> Option<ir::Layer> {
    let span = layer.kind.span();
    let kind_name = layer.kind.to_string();
    let needs_image = |errors: &mut Errors| -> Option<(usize, usize, usize)> {
        let (problem, help) = match input {
            Shape::Image { c, h, w } => return Some((c, h, w)),
            Shape::Flat(n) => {
                let help = match flat_from {
                    Some("flatten") => format!("move `{kind_name}` before `flatten`"),
                    Some(other) => {
                        format!("move `{kind_name}` before `{other}`, which makes the input flat")
                    }
                    None => image_guess(n).map_or_else(
                        || "declare the network's input as [C, H, W]".to_string(),
                        |g| {
                            format!("if the input is an image, declare it as [C, H, W], e.g. `{g}`")
                        },
                    ),
                };
                (
                    format!("needs a [C, H, W] input, got the flat {input}"),
                    help,
                )
            }
            Shape::Seq { t, f } => (
                format!("needs a [C, H, W] input, got the sequence {input}"),
                format!("if the input is a {t}x{f} image, declare it as `[1, {t}, {f}]`"),
            ),
        };
        errors.push(
            span,
            message(head, &problem, None, Some(input), Some(&help)),
        );
        None
    };
    let needs_flat = |errors: &mut Errors| -> Option<usize> {
        match input {
            Shape::Flat(n) => Some(n),
            _ => {
                errors.push(
                    span,
                    message(
                        head,
                        &format!("needs a flat input, got {input}"),
                        None,
                        Some(input),
                        Some(&format!(
                            "add `flatten` before it, which gives [{}]",
                            input.len()
                        )),
                    ),
                );
                None
            }
        }
    };
    let too_big = |errors: &mut Errors| {
        errors.push(
            span,
            message(
                head,
                &format!("the layer has more than {MAX_LEN} parameters or outputs"),
                None,
                Some(input),
                None,
            ),
        );
    };
    let base = |kind: Kind,
                output: Shape,
                tensors: Vec<Tensor>,
                macs: usize,
                description: String,
                strategy: &'static str| ir::Layer {
        name: String::new(),
        kind,
        input,
        output,
        tensors,
        macs,
        receptive_field: [0, 0],
        description,
        strategy,
    };
    match spec {
        Spec::Conv {
            out,
            kernel,
            kernel_at,
            stride,
            pad,
            round,
            in_c,
            bias,
            init,
        } => {
            let (c, h, w) = needs_image(errors)?;
            if let Some((n, at)) = in_c {
                if n != c {
                    errors.push_range(
                        at,
                        message(
                            head,
                            &format!("`in = {n}` but the input has {c} channels"),
                            None,
                            Some(input),
                            Some(&format!("write `in = {c}`, or remove `in`")),
                        ),
                    );
                    return None;
                }
            }
            let ws = WindowSpec {
                noun: "kernel",
                kernel,
                kernel_at,
                stride,
                pad,
                round,
                out_channels: out,
                max_pad: None,
            };
            let (window, oh, ow, round) = resolve_window(head, span, input, (h, w), &ws, errors)?;
            let output = Shape::Image {
                c: out,
                h: oh,
                w: ow,
            };
            let patch = c * kernel.0 * kernel.1;
            let (Some(_), Some(_), Some(macs)) = (
                shape::product(&[out, oh, ow]),
                shape::product(&[out, patch]),
                shape::product(&[out, oh, ow, patch]),
            ) else {
                too_big(errors);
                return None;
            };
            let mut tensors = vec![Tensor {
                suffix: "weight",
                shape: vec![out, c, kernel.0, kernel.1],
                fill: Fill::Normal {
                    init,
                    fan_in: patch,
                    fan_out: out * kernel.0 * kernel.1,
                },
            }];
            if bias {
                tensors.push(Tensor {
                    suffix: "bias",
                    shape: vec![out],
                    fill: Fill::Zeros,
                });
            }
            let mut desc = window_text("conv", &window, (1, 1), round);
            if !bias {
                desc.push_str(" no bias");
            }
            // stride 1: the patches are read in place from a padded copy of the
            // input (on CPUs with AVX-512; elsewhere the runtime copies them
            // out), and so are the weight gradient's from 16 output channels
            // on (`nn_runtime::kernels::conv2d::IMPLICIT_WEIGHT_GRAD_MIN_OC`)
            let strategy = match (window.stride, out >= 16) {
                ((1, 1), true) => "implicit gemm",
                ((1, 1), false) => "implicit gemm, dW im2col",
                _ => "im2col + gemm",
            };
            Some(base(
                Kind::Conv { window, bias },
                output,
                tensors,
                macs,
                desc,
                strategy,
            ))
        }
        Spec::Pool {
            max,
            kernel,
            kernel_at,
            stride,
            pad,
            round,
            pad_at,
        } => {
            let (c, h, w) = needs_image(errors)?;
            let half = (kernel.0 / 2, kernel.1 / 2);
            if let Pad::Explicit(t, b, l, r) = pad {
                if let Some((p, k)) = [(t, kernel.0), (b, kernel.0), (l, kernel.1), (r, kernel.1)]
                    .into_iter()
                    .find(|(p, k)| *p > k / 2)
                {
                    let problem = format!("padding {p} is more than half the window {k}: windows would hold mostly padding");
                    let help = format!(
                        "use a padding of at most {} (PyTorch's rule for pools)",
                        k / 2
                    );
                    errors.push_range(
                        pad_at.unwrap_or((span, span)),
                        message(head, &problem, None, Some(input), Some(&help)),
                    );
                    return None;
                }
            }
            let ws = WindowSpec {
                noun: "window",
                kernel,
                kernel_at,
                stride,
                pad,
                round,
                out_channels: c,
                max_pad: Some(half),
            };
            let (window, oh, ow, round) = resolve_window(head, span, input, (h, w), &ws, errors)?;
            let name = if max { "max_pool" } else { "avg_pool" };
            let desc = window_text(name, &window, kernel, round);
            let kind = if max {
                Kind::MaxPool { window }
            } else {
                Kind::AvgPool { window }
            };
            Some(base(
                kind,
                Shape::Image { c, h: oh, w: ow },
                vec![],
                0,
                desc,
                "direct",
            ))
        }
        Spec::GlobalAvgPool => {
            let (c, _, _) = needs_image(errors)?;
            Some(base(
                Kind::GlobalAvgPool,
                Shape::Flat(c),
                vec![],
                0,
                "global_avg_pool".into(),
                "direct",
            ))
        }
        Spec::Flatten => Some(base(
            Kind::Flatten,
            Shape::Flat(input.len()),
            vec![],
            0,
            "flatten".into(),
            "view",
        )),
        Spec::Dense {
            out,
            in_n,
            bias,
            init,
        } => {
            let n = needs_flat(errors)?;
            if let Some((given, at)) = in_n {
                if given != n {
                    errors.push_range(
                        at,
                        message(
                            head,
                            &format!("`in = {given}` but the input has {n} features"),
                            None,
                            Some(input),
                            Some(&format!("write `in = {n}`, or remove `in`")),
                        ),
                    );
                    return None;
                }
            }
            let Some(macs) = shape::product(&[out, n]) else {
                too_big(errors);
                return None;
            };
            let mut tensors = vec![Tensor {
                suffix: "weight",
                shape: vec![out, n],
                fill: Fill::Normal {
                    init,
                    fan_in: n,
                    fan_out: out,
                },
            }];
            if bias {
                tensors.push(Tensor {
                    suffix: "bias",
                    shape: vec![out],
                    fill: Fill::Zeros,
                });
            }
            let desc = if bias { "dense" } else { "dense no bias" };
            Some(base(
                Kind::Dense { out, bias },
                Shape::Flat(out),
                tensors,
                macs,
                desc.into(),
                "gemm",
            ))
        }
        Spec::Relu => Some(base(Kind::Relu, input, vec![], 0, "relu".into(), "direct")),
        Spec::LeakyRelu(slope) => Some(base(
            Kind::LeakyRelu { slope },
            input,
            vec![],
            0,
            format!("leaky_relu {slope}"),
            "direct",
        )),
        Spec::Prelu => {
            let channels = match input {
                Shape::Image { c, .. } => c,
                Shape::Flat(n) => n,
                Shape::Seq { .. } => {
                    errors.push(
                        span,
                        message(
                            head,
                            &format!("takes [C, H, W] or [N], got the sequence {input}"),
                            None,
                            Some(input),
                            Some("add `flatten` before it"),
                        ),
                    );
                    return None;
                }
            };
            let tensors = vec![Tensor {
                suffix: "weight",
                shape: vec![channels],
                fill: Fill::Constant(0.25),
            }];
            Some(base(
                Kind::Prelu,
                input,
                tensors,
                0,
                "prelu".into(),
                "direct",
            ))
        }
        Spec::Sigmoid => Some(base(
            Kind::Sigmoid,
            input,
            vec![],
            0,
            "sigmoid".into(),
            "direct",
        )),
        Spec::Tanh => Some(base(Kind::Tanh, input, vec![], 0, "tanh".into(), "direct")),
        Spec::Softmax => {
            needs_flat(errors)?;
            Some(base(
                Kind::Softmax,
                input,
                vec![],
                0,
                "softmax".into(),
                "direct",
            ))
        }
    }
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
