//! Walks the ast, infers every shape with [`crate::shape`], attaches spans
//! and collects every error before giving up, so independent mistakes are
//! reported in one compile. After a failed layer the shape is unknown (or
//! the layer's asserted `=> [..]` shape, if it has one) and the layers below
//! skip their shape checks, so one root cause gives one error.

use crate::ast;
use crate::ir::{self, Fill, Init, Kind, Tensor, Window};
use crate::shape::{self, Axis, Dir, Round, Shape, WindowError, MAX_DIM};
use proc_macro2::Span;
use syn::Ident;

/// The layers this version implements, for "did you mean".
pub const LAYERS: &[&str] = &[
    "conv",
    "max_pool",
    "avg_pool",
    "global_avg_pool",
    "flatten",
    "dense",
    "relu",
    "leaky_relu",
    "prelu",
    "sigmoid",
    "tanh",
    "softmax",
];

/// Layers of the SPEC that this version does not build yet.
const LATER: &[&str] = &["batch_norm", "dropout", "rnn", "concat", "add", "residual"];

/// Indentation of a message's continuation lines, under the text after `error: `.
const INDENT: &str = "\n         ";

/// Collects errors; `finish` combines them into one.
#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, message: String) {
        self.0.push(syn::Error::new(span, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        let mut it = self.0.into_iter();
        match it.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in it {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}

/// A message in the house format: what is wrong; the formula; the input
/// shape the layer saw; `= help:`.
fn message(
    head: &str,
    problem: &str,
    formula: Option<&str>,
    input: Option<Shape>,
    help: Option<&str>,
) -> String {
    let mut m = format!("{head}: {problem}");
    if let Some(f) = formula {
        m.push_str(INDENT);
        m.push_str(f);
    }
    if let Some(i) = input {
        m.push_str(&format!("{INDENT}this layer's input is {i}"));
    }
    if let Some(h) = help {
        m.push_str(&format!("{INDENT}= help: {h}"));
    }
    m
}

/// The checked network, or every error found.
pub fn check(net: ast::Network) -> (Option<ir::Network>, Errors, Option<Shape>, Option<Shape>) {
    let mut errors = Errors::default();
    let input = check_input(&net.input, &mut errors);

    if net.items.is_empty() {
        errors.push(
            net.brace_span,
            message(
                &format!("network `{}`", net.ident),
                "has no layers",
                None,
                input,
                Some("add at least one layer, for example `flatten, dense(10)`"),
            ),
        );
    }

    // duplicate names
    let mut seen: Vec<(&Ident, usize)> = Vec::new();
    for (index, item) in net.items.iter().enumerate() {
        if let Some(name) = &item.name {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                errors.push(
                    name.span(),
                    message(
                        &format!("{} `{}`", item.layer.kind, name),
                        &format!("the name `{name}` is already used by item {first}"),
                        None,
                        None,
                        Some("give each layer its own name (names key the saved weights)"),
                    ),
                );
            } else {
                seen.push((name, index));
            }
        }
    }

    let mut layers = Vec::new();
    let mut shape = input;
    let mut rf = Field {
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
        let spec = parse_layer(&item.layer, &head, &mut errors);
        let out = match (spec, shape) {
            (Some(spec), Some(input_shape)) => {
                infer(&item.layer, &head, spec, input_shape, &mut errors).map(|l| (l, input_shape))
            }
            _ => None,
        };
        let out_shape = match out {
            Some((built, input_shape)) => {
                let output = built.output;
                let receptive_field = rf.update(&built.kind, output, input.unwrap_or(input_shape));
                layers.push(ir::Layer {
                    name,
                    input: input_shape,
                    receptive_field,
                    ..built
                });
                Some(output)
            }
            None => None,
        };
        shape = match (&item.assert, out_shape) {
            (Some(a), Some(got)) => {
                if let Some(want) = check_shape_lit(a, "asserted shape", &mut errors) {
                    if want != got {
                        errors.push(
                            a.span,
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
                Some(got)
            }
            // carry on from the asserted shape so later layers are checked
            (Some(a), None) => check_shape_lit(a, "asserted shape", &mut Errors::default()),
            (None, out) => out,
        };
    }

    let output = shape;
    if !errors.is_empty() || layers.len() != net.items.len() {
        return (None, errors, input, output);
    }
    let input = input.expect("no errors means the input shape was valid");
    (
        Some(ir::Network {
            attrs: net.attrs,
            vis: net.vis,
            ident: net.ident,
            input,
            layers,
        }),
        errors,
        Some(input),
        output,
    )
}

fn check_input(lit: &ast::ShapeLit, errors: &mut Errors) -> Option<Shape> {
    check_shape_lit(lit, "input shape", errors)
}

/// A shape literal as a [`Shape`]: rank 1–3, no zero, no huge dimension.
fn check_shape_lit(lit: &ast::ShapeLit, what: &str, errors: &mut Errors) -> Option<Shape> {
    let dims: Vec<u64> = lit.dims.iter().map(|d| d.0).collect();
    let shown = format!(
        "[{}]",
        dims.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let help =
        "write [C, H, W] for images (`[1, 28, 28]`), [T, F] for sequences or [N] for vectors";
    if dims.is_empty() || dims.len() > 3 {
        errors.push(
            lit.span,
            message(
                what,
                &format!("{shown} has {} dimensions; expected 1, 2 or 3", dims.len()),
                None,
                None,
                Some(help),
            ),
        );
        return None;
    }
    if let Some((i, (_, span))) = lit.dims.iter().enumerate().find(|(_, d)| d.0 == 0) {
        errors.push(
            *span,
            message(
                what,
                &format!("dimension {i} of {shown} is 0"),
                None,
                None,
                Some("every dimension must be at least 1"),
            ),
        );
        return None;
    }
    if let Some((_, span)) = lit.dims.iter().find(|d| d.0 > MAX_DIM) {
        errors.push(
            *span,
            message(
                what,
                &format!("{shown} has a dimension larger than {MAX_DIM}"),
                None,
                None,
                None,
            ),
        );
        return None;
    }
    let d: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    if shape::product(&d).is_none() {
        errors.push(
            lit.span,
            message(
                what,
                &format!("{shown} has more than {} elements", shape::MAX_LEN),
                None,
                None,
                None,
            ),
        );
        return None;
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
        match kind {
            Kind::Conv { window, .. } | Kind::MaxPool { window } | Kind::AvgPool { window } => {
                self.h = shape::receptive(self.h, window.kernel.0, window.stride.0);
                self.w = shape::receptive(self.w, window.kernel.1, window.stride.1);
            }
            _ => {}
        }
        match output {
            Shape::Image { .. } => [self.h.0.min(whole[0]), self.w.0.min(whole[1])],
            _ => whole,
        }
    }
}

/// A layer with its arguments read, before shapes are known.
enum Spec {
    Conv {
        out: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        pad: Pad,
        round: Round,
        in_c: Option<(usize, Span)>,
        bias: bool,
        init: Init,
    },
    Pool {
        max: bool,
        kernel: (usize, usize),
        stride: (usize, usize),
        pad: Pad,
        round: Round,
        pad_span: Option<Span>,
    },
    GlobalAvgPool,
    Flatten,
    Dense {
        out: usize,
        in_n: Option<(usize, Span)>,
        bias: bool,
        init: Init,
    },
    Relu,
    LeakyRelu(f32),
    Prelu,
    Sigmoid,
    Tanh,
    Softmax,
}

#[derive(Clone, Copy)]
enum Pad {
    Explicit(usize, usize, usize, usize),
    Same,
    Valid,
}

/// Arguments of one layer, sorted into positional and keyed, with unknown
/// and duplicate keys reported.
struct Args<'a> {
    head: &'a str,
    kind: &'a Ident,
    positional: Vec<&'a ast::Value>,
    keyed: Vec<(&'a Ident, &'a ast::Value)>,
}

impl<'a> Args<'a> {
    fn read(
        layer: &'a ast::Layer,
        head: &'a str,
        positional: &[&str],
        keys: &[&str],
        usage: &str,
        errors: &mut Errors,
    ) -> Self {
        let mut args = Args {
            head,
            kind: &layer.kind,
            positional: Vec::new(),
            keyed: Vec::new(),
        };
        let mut keyed_seen = false;
        for arg in &layer.args {
            match &arg.key {
                None if keyed_seen => errors.push(
                    arg.span(),
                    message(
                        head,
                        "positional arguments come before `key = value` ones",
                        None,
                        None,
                        Some(&format!("write {usage}")),
                    ),
                ),
                None if args.positional.len() >= positional.len() => errors.push(
                    arg.span(),
                    message(
                        head,
                        &if positional.is_empty() {
                            format!("`{}` takes no positional argument", layer.kind)
                        } else {
                            format!(
                                "too many positional arguments; `{}` takes {}",
                                layer.kind,
                                positional.join(", ")
                            )
                        },
                        None,
                        None,
                        Some(&format!("write {usage}")),
                    ),
                ),
                None => args.positional.push(&arg.value),
                Some(key) => {
                    keyed_seen = true;
                    let k = key.to_string();
                    if !keys.contains(&k.as_str()) {
                        let problem = match shape::nearest(&k, keys) {
                            Some(near) => format!("unknown argument `{k}`; did you mean `{near}`?"),
                            None => format!("unknown argument `{k}`"),
                        };
                        let help = if keys.is_empty() {
                            format!("`{}` takes no `key = value` arguments", layer.kind)
                        } else {
                            format!(
                                "`{}` takes {}",
                                layer.kind,
                                keys.iter()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        };
                        errors.push(key.span(), message(head, &problem, None, None, Some(&help)));
                    } else if args.keyed.iter().any(|(seen, _)| *seen == key) {
                        errors.push(
                            key.span(),
                            message(
                                head,
                                &format!("`{k}` is given twice"),
                                None,
                                None,
                                Some("keep one of them"),
                            ),
                        );
                    } else {
                        args.keyed.push((key, &arg.value));
                    }
                }
            }
        }
        args
    }

    fn get(&self, key: &str) -> Option<&'a ast::Value> {
        self.keyed.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn span_of(&self, key: &str) -> Option<Span> {
        self.keyed
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(k, _)| k.span())
    }

    fn missing(&self, what: &str, usage: &str, errors: &mut Errors) {
        errors.push(
            self.kind.span(),
            message(
                self.head,
                &format!("missing {what}"),
                None,
                None,
                Some(&format!("write {usage}")),
            ),
        );
    }

    fn bad(&self, value: &ast::Value, problem: String, help: &str, errors: &mut Errors) {
        errors.push(
            value.span(),
            message(self.head, &problem, None, None, Some(help)),
        );
    }

    /// A whole number in `min..=MAX_DIM`.
    fn int(&self, value: &ast::Value, what: &str, min: u64, errors: &mut Errors) -> Option<usize> {
        match value {
            ast::Value::Int { value: v, .. } if *v < min => {
                self.bad(
                    value,
                    format!("{what} must be at least {min}, got {v}"),
                    &format!("use a {what} of {min} or more"),
                    errors,
                );
                None
            }
            ast::Value::Int { value: v, .. } if *v > MAX_DIM => {
                self.bad(
                    value,
                    format!("{what} {v} is out of range"),
                    &format!("use a {what} of at most {MAX_DIM}"),
                    errors,
                );
                None
            }
            ast::Value::Int { value: v, .. } => Some(*v as usize),
            _ => {
                self.bad(
                    value,
                    format!("{what} must be a whole number"),
                    &format!("write a number such as `{}`", min.max(1)),
                    errors,
                );
                None
            }
        }
    }

    /// `K` or `(KH, KW)`.
    fn pair(&self, value: &ast::Value, what: &str, errors: &mut Errors) -> Option<(usize, usize)> {
        match value {
            ast::Value::Tuple { items, .. } if items.len() == 2 => {
                let a = self.int(&items[0], what, 1, errors);
                let b = self.int(&items[1], what, 1, errors);
                Some((a?, b?))
            }
            ast::Value::Tuple { .. } | ast::Value::Float { .. } | ast::Value::Word(_) => {
                self.bad(
                    value,
                    format!("{what} takes `K` or `(KH, KW)`"),
                    &format!("write `{what} = 3` or `{what} = (3, 5)`"),
                    errors,
                );
                None
            }
            ast::Value::Int { .. } => self.int(value, what, 1, errors).map(|k| (k, k)),
        }
    }

    fn pad(&self, errors: &mut Errors) -> Option<Pad> {
        let help = "`pad` takes P, (PH, PW), (TOP, BOTTOM, LEFT, RIGHT), `same` or `valid`";
        let Some(value) = self.get("pad") else {
            return Some(Pad::Explicit(0, 0, 0, 0));
        };
        let num = |v: &ast::Value, errors: &mut Errors| self.int(v, "padding", 0, errors);
        match value {
            ast::Value::Int { .. } => num(value, errors).map(|p| Pad::Explicit(p, p, p, p)),
            ast::Value::Tuple { items, .. } if items.len() == 2 => {
                let (h, w) = (num(&items[0], errors), num(&items[1], errors));
                Some(Pad::Explicit(h?, h?, w?, w?))
            }
            ast::Value::Tuple { items, .. } if items.len() == 4 => {
                let v: Vec<Option<usize>> = items.iter().map(|i| num(i, errors)).collect();
                Some(Pad::Explicit(v[0]?, v[1]?, v[2]?, v[3]?))
            }
            ast::Value::Word(w) if w == "same" => Some(Pad::Same),
            ast::Value::Word(w) if w == "valid" => Some(Pad::Valid),
            _ => {
                self.bad(value, "unknown padding".into(), help, errors);
                None
            }
        }
    }

    fn word(&self, key: &str, choices: &[&str], errors: &mut Errors) -> Option<Option<String>> {
        let Some(value) = self.get(key) else {
            return Some(None);
        };
        let list = choices
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match value {
            ast::Value::Word(w) if choices.contains(&w.to_string().as_str()) => {
                Some(Some(w.to_string()))
            }
            ast::Value::Word(w) => {
                let near = shape::nearest(&w.to_string(), choices)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.bad(
                    value,
                    format!("`{key} = {w}` is not known{near}"),
                    &format!("`{key}` takes {list}"),
                    errors,
                );
                None
            }
            _ => {
                self.bad(
                    value,
                    format!("`{key}` takes a word"),
                    &format!("`{key}` takes {list}"),
                    errors,
                );
                None
            }
        }
    }

    fn bias(&self, errors: &mut Errors) -> Option<bool> {
        self.word("bias", &["true", "false"], errors)
            .map(|w| w.is_none_or(|w| w == "true"))
    }

    fn round(&self, errors: &mut Errors) -> Option<Round> {
        self.word("round", &["floor", "ceil"], errors)
            .map(|w| match w.as_deref() {
                Some("floor") => Round::Floor,
                Some("ceil") => Round::Ceil,
                _ => Round::Exact,
            })
    }

    fn init(&self, errors: &mut Errors) -> Option<Init> {
        self.word("init", &["default", "he", "xavier", "lecun"], errors)
            .map(|w| match w.as_deref() {
                Some("he") => Init::He,
                Some("xavier") => Init::Xavier,
                Some("lecun") => Init::Lecun,
                _ => Init::Default,
            })
    }

    fn in_size(&self, errors: &mut Errors) -> Option<Option<(usize, Span)>> {
        match self.get("in") {
            None => Some(None),
            Some(v) => self
                .int(v, "`in`", 1, errors)
                .map(|n| Some((n, self.span_of("in").unwrap_or_else(|| v.span())))),
        }
    }
}

/// Reads a layer's arguments (shape-independent checks).
fn parse_layer(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Spec> {
    let kind = layer.kind.to_string();
    if let Some(span) = layer.block {
        let problem = if LATER.contains(&kind.as_str()) {
            format!("`{kind}` blocks are not available in this version")
        } else {
            format!("`{kind}` does not take a `{{ ... }}` block")
        };
        errors.push(
            span,
            message(
                head,
                &problem,
                None,
                None,
                Some("write the layers one after another, separated by commas"),
            ),
        );
        return None;
    }
    let simple = |errors: &mut Errors, spec: Spec| {
        Args::read(layer, head, &[], &[], &format!("`{kind}`"), errors);
        Some(spec)
    };
    match kind.as_str() {
        "conv" => {
            let usage = "`conv(OUT, kernel = K)`";
            let a = Args::read(
                layer,
                head,
                &["OUT"],
                &["kernel", "stride", "pad", "in", "bias", "round", "init"],
                usage,
                errors,
            );
            let out = match a.positional.first() {
                Some(v) => a.int(v, "the number of output channels", 1, errors),
                None => {
                    a.missing(
                        "the number of output channels",
                        "`conv(16, kernel = 3)`",
                        errors,
                    );
                    None
                }
            };
            let kernel = match a.get("kernel") {
                Some(v) => a.pair(v, "kernel", errors),
                None => {
                    a.missing("`kernel`", "`conv(OUT, kernel = 3)`", errors);
                    None
                }
            };
            let stride = a
                .get("stride")
                .map_or(Some((1, 1)), |v| a.pair(v, "stride", errors));
            let (pad, round, in_c, bias, init) = (
                a.pad(errors),
                a.round(errors),
                a.in_size(errors),
                a.bias(errors),
                a.init(errors),
            );
            Some(Spec::Conv {
                out: out?,
                kernel: kernel?,
                stride: stride?,
                pad: pad?,
                round: round?,
                in_c: in_c?,
                bias: bias?,
                init: init?,
            })
        }
        "max_pool" | "avg_pool" => {
            let usage = format!("`{kind}(2)` or `{kind}((2, 3), stride = 2)`");
            let a = Args::read(
                layer,
                head,
                &["K"],
                &["stride", "pad", "round"],
                &usage,
                errors,
            );
            let kernel = match a.positional.first() {
                Some(v) => a.pair(v, "kernel", errors),
                None => {
                    a.missing("the window size", &format!("`{kind}(2)`"), errors);
                    None
                }
            };
            let stride = match a.get("stride") {
                Some(v) => a.pair(v, "stride", errors),
                None => kernel,
            };
            let (pad, round) = (a.pad(errors), a.round(errors));
            Some(Spec::Pool {
                max: kind == "max_pool",
                kernel: kernel?,
                stride: stride?,
                pad: pad?,
                round: round?,
                pad_span: a.get("pad").map(|v| v.span()),
            })
        }
        "dense" => {
            let usage = "`dense(OUT)`";
            let a = Args::read(
                layer,
                head,
                &["OUT"],
                &["in", "bias", "init"],
                usage,
                errors,
            );
            let out = match a.positional.first() {
                Some(v) => a.int(v, "the number of outputs", 1, errors),
                None => {
                    a.missing("the number of outputs", "`dense(10)`", errors);
                    None
                }
            };
            let (in_n, bias, init) = (a.in_size(errors), a.bias(errors), a.init(errors));
            Some(Spec::Dense {
                out: out?,
                in_n: in_n?,
                bias: bias?,
                init: init?,
            })
        }
        "leaky_relu" => {
            let a = Args::read(
                layer,
                head,
                &["A"],
                &[],
                "`leaky_relu` or `leaky_relu(0.1)`",
                errors,
            );
            match a.positional.first() {
                None => Some(Spec::LeakyRelu(0.01)),
                Some(v) => match v {
                    ast::Value::Float { value, .. } if value.is_finite() && value.abs() <= 1e6 => {
                        Some(Spec::LeakyRelu(*value as f32))
                    }
                    ast::Value::Int { value, .. } if *value <= 1_000_000 => {
                        Some(Spec::LeakyRelu(*value as f32))
                    }
                    _ => {
                        a.bad(
                            v,
                            "the negative slope must be a number".into(),
                            "write `leaky_relu(0.1)`",
                            errors,
                        );
                        None
                    }
                },
            }
        }
        "global_avg_pool" => simple(errors, Spec::GlobalAvgPool),
        "flatten" => simple(errors, Spec::Flatten),
        "relu" => simple(errors, Spec::Relu),
        "prelu" => simple(errors, Spec::Prelu),
        "sigmoid" => simple(errors, Spec::Sigmoid),
        "tanh" => simple(errors, Spec::Tanh),
        "softmax" => simple(errors, Spec::Softmax),
        later if LATER.contains(&later) => {
            errors.push(
                layer.kind.span(),
                message(
                    head,
                    &format!("`{later}` is not available in this version"),
                    None,
                    None,
                    Some(&format!("available layers: {}", LAYERS.join(", "))),
                ),
            );
            None
        }
        other => {
            let problem = match shape::nearest(other, LAYERS) {
                Some(near) => format!("unknown layer `{other}`; did you mean `{near}`?"),
                None => format!("unknown layer `{other}`"),
            };
            errors.push(
                layer.kind.span(),
                message(
                    other,
                    &problem,
                    None,
                    None,
                    Some(&format!("known layers: {}", LAYERS.join(", "))),
                ),
            );
            None
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
        s.push_str(&format!(
            " stride {}",
            if w.stride.0 == w.stride.1 {
                w.stride.0.to_string()
            } else {
                format!("({}, {})", w.stride.0, w.stride.1)
            }
        ));
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

/// Resolves padding and rounding and computes the output size on both axes,
/// reporting each axis that does not fit.
#[allow(clippy::too_many_arguments)]
fn resolve_window(
    head: &str,
    span: Span,
    input: Shape,
    (h, w): (usize, usize),
    kernel: (usize, usize),
    stride: (usize, usize),
    pad: Pad,
    round: Round,
    out_channels: usize,
    is_pool: bool,
    errors: &mut Errors,
) -> Option<(Window, usize, usize, Round)> {
    let (pads, round) = match pad {
        Pad::Explicit(t, b, l, r) => ((t, b, l, r), round),
        Pad::Same => {
            let (t, b) = shape::same_padding(h, kernel.0, stride.0);
            let (l, r) = shape::same_padding(w, kernel.1, stride.1);
            ((t, b, l, r), Round::Floor)
        }
        Pad::Valid => ((0, 0, 0, 0), Round::Floor),
    };
    let ax_h = Axis {
        size: h,
        kernel: kernel.0,
        stride: stride.0,
        before: pads.0,
        after: pads.1,
    };
    let ax_w = Axis {
        size: w,
        kernel: kernel.1,
        stride: stride.1,
        before: pads.2,
        after: pads.3,
    };
    let oh = shape::window_out(Dir::Height, ax_h, round);
    let ow = shape::window_out(Dir::Width, ax_w, round);
    let shape_with = |oh: usize, ow: usize| Shape::Image {
        c: out_channels,
        h: oh,
        w: ow,
    };
    for err in [oh.as_ref().err(), ow.as_ref().err()].into_iter().flatten() {
        let help = match err {
            WindowError::TooLarge { .. } => {
                let need_h = kernel.0.saturating_sub(h).div_ceil(2);
                let need_w = kernel.1.saturating_sub(w).div_ceil(2);
                format!(
                    "use a kernel of at most {}x{}, or pad = {} to keep this kernel",
                    h + pads.0 + pads.1,
                    w + pads.2 + pads.3,
                    need_h.max(need_w)
                )
            }
            WindowError::Drops { .. } => {
                // smallest symmetric padding that fits both axes
                let limit = kernel.0.max(kernel.1).max(stride.0).max(stride.1);
                let fit = (0..=limit).find_map(|p| {
                    let a = shape::window_out(
                        Dir::Height,
                        Axis {
                            before: p,
                            after: p,
                            ..ax_h
                        },
                        Round::Exact,
                    )
                    .ok()?;
                    let b = shape::window_out(
                        Dir::Width,
                        Axis {
                            before: p,
                            after: p,
                            ..ax_w
                        },
                        Round::Exact,
                    )
                    .ok()?;
                    (!is_pool || p < kernel.0.min(kernel.1)).then_some((p, a, b))
                });
                let same = shape_with(h.div_ceil(stride.0), w.div_ceil(stride.1));
                match fit {
                    Some((p, a, b)) => format!("pad = {p} gives {}; pad = same gives {same}; round = floor drops the rest on purpose", shape_with(a, b)),
                    None => format!("pad = same gives {same}; round = floor drops the rest on purpose"),
                }
            }
        };
        errors.push(
            span,
            message(
                head,
                &err.problem(),
                Some(&err.formula()),
                Some(input),
                Some(&help),
            ),
        );
    }
    let (oh, ow) = (oh.ok()?, ow.ok()?);
    Some((
        Window {
            kernel,
            stride,
            pad: pads,
        },
        oh,
        ow,
        round,
    ))
}

/// Infers the output shape and builds the ir layer (its `input` and
/// `receptive_field` are filled in by the caller).
fn infer(
    layer: &ast::Layer,
    head: &str,
    spec: Spec,
    input: Shape,
    errors: &mut Errors,
) -> Option<ir::Layer> {
    let span = layer.kind.span();
    let kind_name = layer.kind.to_string();
    let needs_image = |errors: &mut Errors| -> Option<(usize, usize, usize)> {
        match input {
            Shape::Image { c, h, w } => Some((c, h, w)),
            Shape::Flat(_) => {
                errors.push(
                    span,
                    message(
                        head,
                        &format!("`{kind_name}` needs a [C, H, W] input, got the flat {input}"),
                        None,
                        Some(input),
                        Some(&format!(
                            "move `{kind_name}` before `flatten`, or use `dense` on flat inputs"
                        )),
                    ),
                );
                None
            }
            Shape::Seq { .. } => {
                errors.push(
                    span,
                    message(
                        head,
                        &format!("`{kind_name}` needs a [C, H, W] input, got the sequence {input}"),
                        None,
                        Some(input),
                        Some("declare the input as [C, H, W] if it is an image"),
                    ),
                );
                None
            }
        }
    };
    let needs_flat = |errors: &mut Errors| -> Option<usize> {
        match input {
            Shape::Flat(n) => Some(n),
            _ => {
                errors.push(
                    span,
                    message(
                        head,
                        &format!("`{kind_name}` needs a flat input, got {input}"),
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
    let too_big = |errors: &mut Errors, what: &str| {
        errors.push(
            span,
            message(
                head,
                &format!("{what} has more than {} elements", shape::MAX_LEN),
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
            stride,
            pad,
            round,
            in_c,
            bias,
            init,
        } => {
            let (c, h, w) = needs_image(errors)?;
            if let Some((n, in_span)) = in_c {
                if n != c {
                    errors.push(
                        in_span,
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
            let (window, oh, ow, round) = resolve_window(
                head,
                span,
                input,
                (h, w),
                kernel,
                stride,
                pad,
                round,
                out,
                false,
                errors,
            )?;
            let output = Shape::Image {
                c: out,
                h: oh,
                w: ow,
            };
            let patch = c * kernel.0 * kernel.1;
            let (Some(_), Some(wlen), Some(macs)) = (
                shape::product(&[out, oh, ow]),
                shape::product(&[out, patch]),
                shape::product(&[out, oh, ow, patch]),
            ) else {
                too_big(errors, "this conv");
                return None;
            };
            let _ = wlen;
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
            Some(base(
                Kind::Conv { window, bias },
                output,
                tensors,
                macs,
                desc,
                "im2col + sgemm",
            ))
        }
        Spec::Pool {
            max,
            kernel,
            stride,
            pad,
            round,
            pad_span,
        } => {
            let (c, h, w) = needs_image(errors)?;
            if let Pad::Explicit(t, b, l, r) = pad {
                let worst = [(t, kernel.0), (b, kernel.0), (l, kernel.1), (r, kernel.1)]
                    .into_iter()
                    .find(|(p, k)| p >= k);
                if let Some((p, k)) = worst {
                    errors.push(
                        pad_span.unwrap_or(span),
                        message(head, &format!("padding {p} is not smaller than the window {k}: some windows would hold only padding"), None, Some(input), Some(&format!("use a padding of at most {}", k - 1))),
                    );
                    return None;
                }
            }
            let (window, oh, ow, round) = resolve_window(
                head,
                span,
                input,
                (h, w),
                kernel,
                stride,
                pad,
                round,
                c,
                true,
                errors,
            )?;
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
            if let Some((given, in_span)) = in_n {
                if given != n {
                    errors.push(
                        in_span,
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
                too_big(errors, "this dense layer");
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
            let desc = if bias {
                "dense".to_string()
            } else {
                "dense no bias".to_string()
            };
            Some(base(
                Kind::Dense { out, bias },
                Shape::Flat(out),
                tensors,
                macs,
                desc,
                "sgemm",
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
                            &format!("`prelu` takes [C, H, W] or [N], got the sequence {input}"),
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
