//! Reading a layer's arguments, before any shape is known: which layer it
//! is, its positional and `key = value` arguments, their types and ranges.
//! Every problem becomes one spanned error in the house format.

use crate::ast::{self, Value};
use crate::ir::Init;
use crate::shape::{self, Round, Shape, MAX_DIM};
use proc_macro2::{Span, TokenStream, TokenTree};
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

/// Continuation lines of a message; rustc indents them under the text
/// after `error: `, which puts them where SPEC §6 shows them.
const INDENT: &str = "\n  ";

/// Collects errors; `finish` combines them into one.
#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, message: String) {
        self.0.push(syn::Error::new(span, message));
    }

    /// An error underlining everything from `start` to `end` (`-1`, say),
    /// which a single span cannot do on stable.
    pub fn push_range(&mut self, (start, end): (Span, Span), message: String) {
        let tokens: TokenStream = [
            TokenTree::from(Ident::new("start", start)),
            TokenTree::from(Ident::new("end", end)),
        ]
        .into_iter()
        .collect();
        self.0.push(syn::Error::new_spanned(tokens, message));
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

/// A message in the house format: `head: problem`; the formula; the input
/// shape the layer saw; `= help:`. An empty `head` gives no prefix.
pub fn message(
    head: &str,
    problem: &str,
    formula: Option<&str>,
    input: Option<Shape>,
    help: Option<&str>,
) -> String {
    let mut m = if head.is_empty() {
        problem.to_string()
    } else {
        format!("{head}: {problem}")
    };
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

/// `a`, `a or b`, `a, b or c`, each in backticks.
pub fn choice_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// A layer with its arguments read, before shapes are known.
pub enum Spec {
    Conv {
        out: usize,
        kernel: (usize, usize),
        kernel_at: (Span, Span),
        stride: (usize, usize),
        pad: Pad,
        round: Round,
        in_c: Option<(usize, (Span, Span))>,
        bias: bool,
        init: Init,
    },
    Pool {
        max: bool,
        kernel: (usize, usize),
        kernel_at: (Span, Span),
        stride: (usize, usize),
        pad: Pad,
        round: Round,
        pad_at: Option<(Span, Span)>,
    },
    GlobalAvgPool,
    Flatten,
    Dense {
        out: usize,
        in_n: Option<(usize, (Span, Span))>,
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
pub enum Pad {
    Explicit(usize, usize, usize, usize),
    Same,
    Valid,
}

/// Arguments of one layer, sorted into positional and keyed, with unknown
/// and duplicate keys reported.
struct Args<'a> {
    head: &'a str,
    kind: &'a Ident,
    positional: Vec<&'a Value>,
    keyed: Vec<(&'a Ident, &'a Value)>,
    /// An error about the argument list itself was reported: "missing"
    /// errors would only repeat it.
    failed: bool,
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
            failed: false,
        };
        let kind = layer.kind.to_string();
        let mut keyed_seen = false;
        for arg in &layer.args {
            match &arg.key {
                None if keyed_seen => {
                    errors.push_range(
                        arg.value.range(),
                        message(
                            head,
                            "positional arguments come before `key = value` ones",
                            None,
                            None,
                            Some(&format!("write {usage}")),
                        ),
                    );
                    args.failed = true;
                    args.positional.push(&arg.value);
                }
                None if args.positional.len() >= positional.len() => {
                    let (problem, help) = if positional.is_empty() {
                        let help = if kind == "relu" {
                            format!(
                                "for a negative slope, write `leaky_relu({})`",
                                arg.value.text()
                            )
                        } else {
                            format!("write {usage}")
                        };
                        (format!("`{kind}` takes no positional argument"), help)
                    } else {
                        (
                            format!(
                                "too many positional arguments; `{kind}` takes {}",
                                positional.join(", ")
                            ),
                            format!("write {usage}"),
                        )
                    };
                    errors.push_range(
                        arg.value.range(),
                        message(head, &problem, None, None, Some(&help)),
                    );
                    args.failed = true;
                }
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
                            format!("`{kind}` takes no `key = value` arguments")
                        } else {
                            format!("`{kind}` takes {}", choice_list(keys))
                        };
                        errors.push(key.span(), message(head, &problem, None, None, Some(&help)));
                        args.failed = true;
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

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.keyed.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn key_span(&self, key: &str) -> Option<Span> {
        self.keyed
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(k, _)| k.span())
    }

    fn missing(&self, what: &str, usage: &str, errors: &mut Errors) {
        if !self.failed {
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
    }

    fn bad(&self, value: &Value, problem: String, help: &str, errors: &mut Errors) {
        errors.push_range(
            value.range(),
            message(self.head, &problem, None, None, Some(help)),
        );
    }

    /// A whole number in `min..=MAX_DIM`.
    fn int(&self, value: &Value, what: &str, min: i128, errors: &mut Errors) -> Option<usize> {
        let help = if min == 0 {
            "use a whole number, 0 or more".to_string()
        } else {
            format!("use a whole number of at least {min}")
        };
        let bound = if min == 0 {
            "0 or more".to_string()
        } else {
            format!("at least {min}")
        };
        match value {
            Value::Int { value: v, .. } if *v > MAX_DIM as i128 => {
                self.bad(
                    value,
                    format!("{what} {} is out of range", value.text()),
                    &format!("use at most {MAX_DIM}"),
                    errors,
                );
                None
            }
            Value::Int { value: v, .. } if *v < min => {
                self.bad(
                    value,
                    format!("{what} must be {bound}, got {v}"),
                    &help,
                    errors,
                );
                None
            }
            Value::Int { value: v, .. } => Some(*v as usize),
            _ => {
                self.bad(
                    value,
                    format!("{what} must be a whole number, got {}", value.text()),
                    &help,
                    errors,
                );
                None
            }
        }
    }

    /// `K` or `(KH, KW)`; `example` is the help (`write ...`).
    fn pair(
        &self,
        value: &Value,
        what: &str,
        example: &str,
        errors: &mut Errors,
    ) -> Option<(usize, usize)> {
        match value {
            Value::Tuple { items, .. } if items.len() == 2 => {
                let a = self.int(&items[0], what, 1, errors);
                let b = self.int(&items[1], what, 1, errors);
                Some((a?, b?))
            }
            Value::Tuple { items, .. } => {
                self.bad(
                    value,
                    format!("{what} takes 1 or 2 numbers, got {}", items.len()),
                    example,
                    errors,
                );
                None
            }
            _ => self.int(value, what, 1, errors).map(|k| (k, k)),
        }
    }

    fn pad(&self, errors: &mut Errors) -> Option<Pad> {
        let help = "`pad` takes P, (PH, PW), (TOP, BOTTOM, LEFT, RIGHT), `same` or `valid`";
        let Some(value) = self.get("pad") else {
            return Some(Pad::Explicit(0, 0, 0, 0));
        };
        let num = |v: &Value, errors: &mut Errors| self.int(v, "padding", 0, errors);
        match value {
            Value::Tuple { items, .. } if items.len() == 2 => {
                let (h, w) = (num(&items[0], errors), num(&items[1], errors));
                Some(Pad::Explicit(h?, h?, w?, w?))
            }
            Value::Tuple { items, .. } if items.len() == 4 => {
                let v: Vec<Option<usize>> = items.iter().map(|i| num(i, errors)).collect();
                Some(Pad::Explicit(v[0]?, v[1]?, v[2]?, v[3]?))
            }
            Value::Tuple { items, .. } => {
                self.bad(
                    value,
                    format!("`pad` takes 1, 2 or 4 numbers, got {}", items.len()),
                    help,
                    errors,
                );
                None
            }
            Value::Word(w) if w == "same" => Some(Pad::Same),
            Value::Word(w) if w == "valid" => Some(Pad::Valid),
            Value::Word(w) => {
                let near = shape::nearest(&w.to_string(), &["same", "valid"])
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.bad(
                    value,
                    format!("`pad = {w}` is not known{near}"),
                    help,
                    errors,
                );
                None
            }
            _ => num(value, errors).map(|p| Pad::Explicit(p, p, p, p)),
        }
    }

    fn word(
        &self,
        key: &str,
        choices: &[&str],
        aliases: &[(&str, &str)],
        errors: &mut Errors,
    ) -> Option<Option<String>> {
        let Some(value) = self.get(key) else {
            return Some(None);
        };
        let help = format!("`{key}` takes {}", choice_list(choices));
        match value {
            Value::Word(w) if choices.contains(&w.to_string().as_str()) => {
                Some(Some(w.to_string()))
            }
            Value::Word(w) => {
                let w = w.to_string();
                let near = aliases
                    .iter()
                    .find(|(alias, _)| *alias == w)
                    .map(|(_, real)| *real)
                    .or_else(|| shape::nearest(&w, choices))
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                self.bad(
                    value,
                    format!("`{key} = {w}` is not known{near}"),
                    &help,
                    errors,
                );
                None
            }
            _ => {
                self.bad(
                    value,
                    format!("`{key}` takes a word, got {}", value.text()),
                    &help,
                    errors,
                );
                None
            }
        }
    }

    fn bias(&self, errors: &mut Errors) -> Option<bool> {
        self.word("bias", &["true", "false"], &[], errors)
            .map(|w| w.is_none_or(|w| w == "true"))
    }

    /// `round`, which only means something with numeric padding.
    fn round(&self, pad: Option<Pad>, errors: &mut Errors) -> Option<Round> {
        let round = self.word("round", &["floor", "ceil"], &[("exact", "floor")], errors)?;
        let word = match pad {
            Some(Pad::Same) => Some(("same", "`pad = same` always gives ceil(H / S) rows")),
            Some(Pad::Valid) => Some(("valid", "`pad = valid` always drops the remainder")),
            _ => None,
        };
        if let (Some(r), Some((pad_word, why))) = (&round, word) {
            let span = self.key_span("round").unwrap_or_else(|| self.kind.span());
            errors.push(
                span,
                message(
                    self.head,
                    &format!("`round = {r}` has no effect with `pad = {pad_word}`"),
                    None,
                    None,
                    Some(&format!("remove `round`: {why}")),
                ),
            );
            return None;
        }
        Some(match round.as_deref() {
            Some("floor") => Round::Floor,
            Some("ceil") => Round::Ceil,
            _ => Round::Exact,
        })
    }

    fn init(&self, errors: &mut Errors) -> Option<Init> {
        let aliases = [
            ("kaiming", "he"),
            ("glorot", "xavier"),
            ("normal", "default"),
        ];
        self.word(
            "init",
            &["he", "xavier", "lecun", "default"],
            &aliases,
            errors,
        )
        .map(|w| match w.as_deref() {
            Some("he") => Init::He,
            Some("xavier") => Init::Xavier,
            Some("lecun") => Init::Lecun,
            _ => Init::Default,
        })
    }

    fn in_size(&self, errors: &mut Errors) -> Option<Option<(usize, (Span, Span))>> {
        match self.get("in") {
            None => Some(None),
            Some(v) => self.int(v, "`in`", 1, errors).map(|n| Some((n, v.range()))),
        }
    }

    fn required_positional(
        &self,
        what: &str,
        example: &str,
        errors: &mut Errors,
    ) -> Option<&'a Value> {
        let first = self.positional.first().copied();
        if first.is_none() {
            self.missing(what, example, errors);
        }
        first
    }
}

/// `conv(6, kernel = 5)` from what the user wrote, for "write ..." helps.
fn conv_usage(layer: &ast::Layer) -> String {
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

/// Reads a layer's arguments (shape-independent checks).
pub fn parse_layer(layer: &ast::Layer, head: &str, errors: &mut Errors) -> Option<Spec> {
    let kind = layer.kind.to_string();
    if layer.block.is_some() {
        let problem = if LATER.contains(&kind.as_str()) {
            format!("`{kind}` blocks are not available in this version")
        } else {
            format!("`{kind}` does not take a `{{ ... }}` block")
        };
        let help = (!LATER.contains(&kind.as_str())).then_some("remove the braces");
        errors.push(layer.kind.span(), message(head, &problem, None, None, help));
        return None;
    }
    let simple = |errors: &mut Errors, spec: Spec| {
        Args::read(layer, head, &[], &[], &format!("`{kind}`"), errors);
        Some(spec)
    };
    match kind.as_str() {
        "conv" => {
            let usage = conv_usage(layer);
            let a = Args::read(
                layer,
                head,
                &["OUT"],
                &["kernel", "stride", "pad", "in", "bias", "round", "init"],
                &usage,
                errors,
            );
            let out = a
                .required_positional("the number of output channels", &usage, errors)
                .and_then(|v| a.int(v, "the number of output channels", 1, errors));
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
            Some(Spec::Conv {
                out: out?,
                kernel,
                kernel_at,
                stride: stride?,
                pad: pad?,
                round: round?,
                in_c: in_c?,
                bias: bias?,
                init: init?,
            })
        }
        "max_pool" | "avg_pool" => {
            let example = format!("write `{kind}(2)` or `{kind}((2, 3))`");
            let usage = format!("`{kind}(2)` or `{kind}((2, 3), stride = 2)`");
            let a = Args::read(
                layer,
                head,
                &["K"],
                &["stride", "pad", "round"],
                &usage,
                errors,
            );
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
                (None, k) => k.map(|k| k.0),
            };
            let pad = a.pad(errors);
            let round = a.round(pad, errors);
            let (kernel, kernel_at) = kernel?;
            let pad_at = a.get("pad").map(|v| v.range());
            Some(Spec::Pool {
                max: kind == "max_pool",
                kernel,
                kernel_at,
                stride: stride?,
                pad: pad?,
                round: round?,
                pad_at,
            })
        }
        "dense" => {
            let a = Args::read(
                layer,
                head,
                &["OUT"],
                &["in", "bias", "init"],
                "`dense(OUT)`",
                errors,
            );
            let out = a
                .required_positional("the number of outputs", "`dense(10)`", errors)
                .and_then(|v| a.int(v, "the number of outputs", 1, errors));
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
            let Some(v) = a.positional.first() else {
                return Some(Spec::LeakyRelu(0.01));
            };
            let slope = match v {
                Value::Float { value, .. } => Some(*value),
                Value::Int { value, .. } => Some(*value as f64),
                _ => None,
            };
            match slope {
                Some(s) if s.is_finite() && s.abs() <= 1e6 => Some(Spec::LeakyRelu(s as f32)),
                Some(_) => {
                    a.bad(
                        v,
                        format!("the negative slope {} is out of range", v.text()),
                        "write a slope such as `leaky_relu(0.1)`",
                        errors,
                    );
                    None
                }
                None => {
                    a.bad(
                        v,
                        format!("the negative slope must be a number, got {}", v.text()),
                        "write `leaky_relu(0.1)`",
                        errors,
                    );
                    None
                }
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
            let (problem, help) = match shape::nearest(other, LAYERS) {
                Some(near) => (
                    format!("unknown layer `{other}`; did you mean `{near}`?"),
                    None,
                ),
                None => (
                    format!("unknown layer `{other}`"),
                    Some(format!("known layers: {}", LAYERS.join(", "))),
                ),
            };
            errors.push(
                layer.kind.span(),
                message("", &problem, None, None, help.as_deref()),
            );
            None
        }
    }
}
