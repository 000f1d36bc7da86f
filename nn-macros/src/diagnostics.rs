//! Everything about telling the user what is wrong: the error collector,
//! the message format, lists of choices and "did you mean" suggestions.
//!
//! A message reads, in this order: ``<layer> `<name>`: <problem>``; the
//! formula with the user's numbers; the input shape the layer saw;
//! `= help: <a concrete fix>`. Stable proc macros cannot emit real
//! `note:`/`help:` lines, so these are continuation lines of one error,
//! which rustc prints indented under `error: `.

use crate::shape::Shape;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::Ident;

/// Continuation lines of a message; rustc indents them under the text
/// after `error: `.
const INDENT: &str = "\n  ";

/// One error message, built in the house format.
pub struct Message {
    head: String,
    problem: String,
    formula: Vec<String>,
    /// The input shape, and whose it is (`layer`, `block`).
    input: Option<(Shape, &'static str)>,
    help: Option<String>,
}

impl Message {
    /// ``head: problem``; an empty `head` gives no prefix.
    pub fn new(head: &str, problem: impl Into<String>) -> Self {
        Message {
            head: head.to_string(),
            problem: problem.into(),
            formula: Vec::new(),
            input: None,
            help: None,
        }
    }

    /// The rule with the user's numbers; each call adds a line.
    pub fn formula(mut self, formula: impl Into<String>) -> Self {
        self.formula.push(formula.into());
        self
    }

    /// The input shape the layer saw.
    pub fn input(mut self, input: Shape) -> Self {
        self.input = Some((input, "layer"));
        self
    }

    /// The input shape a block's branches saw.
    pub fn block_input(mut self, input: Shape) -> Self {
        self.input = Some((input, "block"));
        self
    }

    /// A concrete fix.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn render(&self) -> String {
        let mut m = if self.head.is_empty() {
            self.problem.clone()
        } else {
            format!("{}: {}", self.head, self.problem)
        };
        for f in &self.formula {
            m.push_str(INDENT);
            m.push_str(f);
        }
        if let Some((i, whose)) = self.input {
            m.push_str(&format!("{INDENT}this {whose}'s input is {i}"));
        }
        if let Some(h) = &self.help {
            m.push_str(&format!("{INDENT}= help: {h}"));
        }
        m
    }
}

/// Collects errors; [`Errors::finish`] combines them into one, so that
/// independent mistakes are reported in one compile.
#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    /// An error at `span`.
    pub fn push(&mut self, span: Span, message: Message) {
        self.0.push(syn::Error::new(span, message.render()));
    }

    /// An error underlining everything from `start` to `end` (`-1`, say),
    /// which a single span cannot do on stable.
    pub fn push_range(&mut self, (start, end): (Span, Span), message: Message) {
        let tokens: TokenStream = [
            TokenTree::from(Ident::new("start", start)),
            TokenTree::from(Ident::new("end", end)),
        ]
        .into_iter()
        .collect();
        self.0
            .push(syn::Error::new_spanned(tokens, message.render()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All errors as one, or `Ok` if there were none.
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

/// `a`, `a or b`, `a, b or c`, each in backticks.
pub fn choice_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The closest of `known` to `word`, if it is close enough to be a typo
/// (case and underscores ignored).
pub fn nearest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let squash = |s: &str| s.replace('_', "").to_lowercase();
    let w = squash(word);
    known
        .iter()
        .map(|k| (edit_distance(&w, &squash(k)), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_typos() {
        assert_eq!(
            nearest("maxpool", &["max_pool", "avg_pool", "conv"]),
            Some("max_pool")
        );
        assert_eq!(
            nearest("Conv", &["max_pool", "avg_pool", "conv"]),
            Some("conv")
        );
        assert_eq!(nearest("lstm", &["max_pool", "avg_pool", "conv"]), None);
        assert_eq!(edit_distance("kernal", "kernel"), 1);
    }

    #[test]
    fn message_lines_in_order() {
        let m = Message::new("conv `c2`", "it is wrong")
            .formula("a = b")
            .input(Shape::Flat(3))
            .help("do this");
        assert_eq!(
            m.render(),
            "conv `c2`: it is wrong\n  a = b\n  this layer's input is [3]\n  = help: do this"
        );
        assert_eq!(Message::new("", "bare").render(), "bare");
    }

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(choice_list(&[]), "");
        assert_eq!(choice_list(&["a"]), "`a`");
        assert_eq!(choice_list(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
