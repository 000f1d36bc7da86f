//! What the user wrote: the syntax tree of a `network!` invocation. Every
//! node keeps the tokens (or spans) it came from, so checks can point at the
//! exact argument that is wrong.

use proc_macro2::Span;
use syn::{Attribute, Ident, Visibility};

/// `#[attrs] vis struct Name<[dims]> { items }`
pub struct Network {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub input: ShapeLit,
    pub items: Vec<Item>,
    /// The `{ ... }` of the item list, for "no layers".
    pub brace_span: Span,
}

/// `[1, 28, 28]`: numbers with their spans, and the bracket's span.
pub struct ShapeLit {
    pub dims: Vec<(u64, Span)>,
    pub span: Span,
}

/// `[name:] layer [=> [shape]]`
pub struct Item {
    pub name: Option<Ident>,
    pub layer: Layer,
    pub assert: Option<ShapeLit>,
}

/// `kind`, `kind(args)` or a block `kind { ... }`.
pub struct Layer {
    pub kind: Ident,
    pub args: Vec<Arg>,
    pub block: Option<Block>,
}

/// The `{ ... }` of a block.
pub struct Block {
    /// The braces.
    pub span: Span,
    pub body: Body,
}

/// What a block's braces hold.
pub enum Body {
    /// `[items], [items], ...` (`add`, `concat`).
    Branches(Vec<Branch>),
    /// Items without brackets (`residual`); also an empty `{}`.
    Items(Vec<Item>),
}

/// `[items]`; `[]` is the identity.
pub struct Branch {
    pub items: Vec<Item>,
    /// The brackets.
    pub span: Span,
}

/// `value` or `key = value`.
pub struct Arg {
    pub key: Option<Ident>,
    pub value: Value,
}

/// An argument value: a number, a word, or a parenthesised tuple. Numbers
/// keep the span of their first and last token (`-` and the literal), so an
/// error can underline `-1` whole.
#[derive(Clone)]
pub enum Value {
    /// A whole number; too large to parse becomes `i128::MAX` (out of range).
    Int {
        value: i128,
        span: Span,
        end: Span,
    },
    Float {
        value: f64,
        span: Span,
        end: Span,
    },
    Word(Ident),
    Tuple {
        items: Vec<Value>,
        span: Span,
    },
}

impl Value {
    /// Span of the first token.
    pub fn span(&self) -> Span {
        match self {
            Value::Int { span, .. } | Value::Float { span, .. } | Value::Tuple { span, .. } => {
                *span
            }
            Value::Word(ident) => ident.span(),
        }
    }

    /// Spans of the first and last token.
    pub fn range(&self) -> (Span, Span) {
        match self {
            Value::Int { span, end, .. } | Value::Float { span, end, .. } => (*span, *end),
            other => (other.span(), other.span()),
        }
    }

    /// The value as the user wrote it, for messages.
    pub fn text(&self) -> String {
        match self {
            Value::Int { value, .. } if *value == i128::MAX => "a number too large".into(),
            Value::Int { value, .. } => value.to_string(),
            Value::Float { value, .. } => format!("{value:?}"),
            Value::Word(w) => format!("`{w}`"),
            Value::Tuple { items, .. } => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| v.text().trim_matches('`').to_string())
                    .collect();
                format!("({})", parts.join(", "))
            }
        }
    }
}
