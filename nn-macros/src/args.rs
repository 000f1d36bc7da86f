//! Reading a layer's arguments, before any shape is known: positional and
//! `key = value` arguments, their types and ranges, and the argument forms
//! several layers share (`pad`, `round`, `bias`, `init`, `in`). Every
//! problem becomes one spanned error; the layer modules in
//! [`crate::layers`] say which arguments each layer takes.

use crate::ast::{self, Value};
use crate::diagnostics::{choice_list, nearest, Errors, Message};
use crate::ir::Init;
use crate::shape::{Round, MAX_DIM};
use proc_macro2::Span;
use syn::Ident;

#[derive(Clone, Copy)]
pub enum Pad {
    Explicit(usize, usize, usize, usize),
    Same,
    Valid,
}

/// Arguments of one layer, sorted into positional and keyed, with unknown
/// and duplicate keys reported.
pub struct Args<'a> {
    head: &'a str,
    kind: &'a Ident,
    pub positional: Vec<&'a Value>,
    keyed: Vec<(&'a Ident, &'a Value)>,
    /// An error about the argument list itself was reported: "missing"
    /// errors would only repeat it.
    failed: bool,
}

impl<'a> Args<'a> {
    pub fn read(
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
                        Message::new(head, "positional arguments come before `key = value` ones")
                            .help(format!("write {usage}")),
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
                    errors.push_range(arg.value.range(), Message::new(head, problem).help(help));
                    args.failed = true;
                }
                None => args.positional.push(&arg.value),
                Some(key) => {
                    keyed_seen = true;
                    let k = key.to_string();
                    if !keys.contains(&k.as_str()) {
                        let problem = match nearest(&k, keys) {
                            Some(near) => format!("unknown argument `{k}`; did you mean `{near}`?"),
                            None => format!("unknown argument `{k}`"),
                        };
                        let help = if keys.is_empty() {
                            format!("`{kind}` takes no `key = value` arguments")
                        } else {
                            format!("`{kind}` takes {}", choice_list(keys))
                        };
                        errors.push(key.span(), Message::new(head, problem).help(help));
                        args.failed = true;
                    } else if args.keyed.iter().any(|(seen, _)| *seen == key) {
                        errors.push(
                            key.span(),
                            Message::new(head, format!("`{k}` is given twice"))
                                .help("keep one of them"),
                        );
                    } else {
                        args.keyed.push((key, &arg.value));
                    }
                }
            }
        }
        args
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.keyed.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.keyed
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(k, _)| k.span())
    }

    pub fn missing(&self, what: &str, usage: &str, errors: &mut Errors) {
        if !self.failed {
            errors.push(
                self.kind.span(),
                Message::new(self.head, format!("missing {what}")).help(format!("write {usage}")),
            );
        }
    }

    pub fn bad(&self, value: &Value, problem: String, help: &str, errors: &mut Errors) {
        errors.push_range(value.range(), Message::new(self.head, problem).help(help));
    }

    /// A whole number in `min..=MAX_DIM`.
    pub fn int(&self, value: &Value, what: &str, min: i128, errors: &mut Errors) -> Option<usize> {
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

    /// A number (whole or not) for which `ok` holds; otherwise an error
    /// that says `what` must be `bound`.
    pub fn number(
        &self,
        value: &Value,
        what: &str,
        (ok, bound): (fn(f64) -> bool, &str),
        help: &str,
        errors: &mut Errors,
    ) -> Option<f64> {
        let v = match value {
            Value::Float { value, .. } => *value,
            Value::Int { value, .. } => *value as f64,
            _ => {
                let problem = format!("{what} must be a number, got {}", value.text());
                self.bad(value, problem, help, errors);
                return None;
            }
        };
        if v.is_finite() && ok(v) {
            return Some(v);
        }
        let problem = format!("{what} must be {bound}, got {}", value.text());
        self.bad(value, problem, help, errors);
        None
    }

    /// `K` or `(KH, KW)`; `example` is the help (`write ...`).
    pub fn pair(
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

    pub fn pad(&self, errors: &mut Errors) -> Option<Pad> {
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
                let near = nearest(&w.to_string(), &["same", "valid"])
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

    pub fn word(
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
                    .or_else(|| nearest(&w, choices))
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

    pub fn bias(&self, errors: &mut Errors) -> Option<bool> {
        self.word("bias", &["true", "false"], &[], errors)
            .map(|w| w.is_none_or(|w| w == "true"))
    }

    /// `round`, which only means something with numeric padding.
    pub fn round(&self, pad: Option<Pad>, errors: &mut Errors) -> Option<Round> {
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
                Message::new(
                    self.head,
                    format!("`round = {r}` has no effect with `pad = {pad_word}`"),
                )
                .help(format!("remove `round`: {why}")),
            );
            return None;
        }
        Some(match round.as_deref() {
            Some("floor") => Round::Floor,
            Some("ceil") => Round::Ceil,
            _ => Round::Exact,
        })
    }

    pub fn init(&self, errors: &mut Errors) -> Option<Init> {
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

    pub fn in_size(&self, errors: &mut Errors) -> Option<Option<(usize, (Span, Span))>> {
        match self.get("in") {
            None => Some(None),
            Some(v) => self.int(v, "`in`", 1, errors).map(|n| Some((n, v.range()))),
        }
    }

    pub fn required_positional(
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
