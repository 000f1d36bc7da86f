//! `impl Parse` for the language. Plain syntax errors are syn's own.
//!
//! Grammar:
//! ```text
//! network := attr* vis "struct" IDENT "<" shape ">" "{" items? "}"
//! items   := item ("," item)* ","?
//! item    := (IDENT ":")? layer ("=>" shape)?
//! layer   := IDENT ("(" args? ")")? ("{" block "}")?
//! block   := branch ("," branch)* ","? | items?
//! branch  := "[" items? "]"
//! args    := arg ("," arg)* ","?
//! arg     := (IDENT "=")? value
//! value   := "-"? INT | "-"? FLOAT | IDENT | "true" | "false" | "(" value ("," value)* ","? ")"
//! shape   := "[" INT ("," INT)* ","? "]"
//! ```

use crate::ast::{Arg, Block, Body, Branch, Item, Layer, Network, ShapeLit, Value};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Attribute, Ident, Lit, Token, Visibility};

impl Parse for Network {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident: Ident = input.parse()?;
        input.parse::<Token![<]>()?;
        let shape: ShapeLit = input.parse()?;
        input.parse::<Token![>]>()?;
        let content;
        let brace = braced!(content in input);
        let items = comma_separated(&content)?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the network's `{ ... }`"));
        }
        Ok(Network {
            attrs,
            vis,
            ident,
            input: shape,
            items,
            brace_span: brace.span.join(),
        })
    }
}

impl Parse for ShapeLit {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        let bracket = bracketed!(content in input);
        let mut dims = Vec::new();
        while !content.is_empty() {
            let lit: syn::LitInt = content.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "a shape is a list of whole numbers, like `[1, 28, 28]`",
                )
            })?;
            // syn reads `-4` as one literal: not a size, and not to be
            // wrapped around into 18446744073709551612
            if lit.base10_digits().starts_with('-') {
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "a shape's dimensions are whole numbers of at least 1, not {}",
                        lit.base10_digits()
                    ),
                ));
            }
            dims.push((lit.base10_parse::<u64>().unwrap_or(u64::MAX), lit.span()));
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(ShapeLit {
            dims,
            span: bracket.span.join(),
        })
    }
}

impl Parse for Item {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name =
            if input.peek(Ident::peek_any) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
                let name = input.call(Ident::parse_any)?;
                input.parse::<Token![:]>()?;
                Some(name)
            } else {
                None
            };
        let layer = input.parse()?;
        let assert = if input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Item {
            name,
            layer,
            assert,
        })
    }
}

impl Parse for Layer {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let kind = input.call(Ident::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer, like `conv(16, kernel = 3)` or `relu`",
            )
        })?;
        let mut args = Vec::new();
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            args = comma_separated(&content)?;
        }
        let block = if input.peek(syn::token::Brace) {
            let content;
            let brace = braced!(content in input);
            let body = if content.peek(syn::token::Bracket) {
                Body::Branches(comma_separated(&content)?)
            } else {
                Body::Items(comma_separated(&content)?)
            };
            Some(Block {
                span: brace.span.join(),
                body,
            })
        } else {
            None
        };
        Ok(Layer { kind, args, block })
    }
}

impl Parse for Branch {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        let bracket = bracketed!(content in input);
        Ok(Branch {
            items: comma_separated(&content)?,
            span: bracket.span.join(),
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = if input.peek(Ident::peek_any)
            && input.peek2(Token![=])
            && !input.peek2(Token![==])
            && !input.peek2(Token![=>])
        {
            let key = input.call(Ident::parse_any)?;
            input.parse::<Token![=]>()?;
            Some(key)
        } else {
            None
        };
        Ok(Arg {
            key,
            value: input.parse()?,
        })
    }
}

impl Parse for Value {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let items = comma_separated(&content)?;
            return Ok(Value::Tuple {
                items,
                span: paren.span.join(),
            });
        }
        let neg = if input.peek(Token![-]) {
            Some(input.parse::<Token![-]>()?.span)
        } else {
            None
        };
        // syn reads `-1` as one literal, so `--1` would be minus minus one
        if let (Some(span), true) = (neg, input.peek(Token![-])) {
            return Err(syn::Error::new(
                span,
                "a number takes one minus sign at most",
            ));
        }
        if input.peek(Lit) {
            let lit: Lit = input.parse()?;
            let end = lit.span();
            let span = neg.unwrap_or(end);
            let sign = if neg.is_some() { -1 } else { 1 };
            return match lit {
                // a number too large for any layer is kept as out of range,
                // so it gets the argument's own message instead of syn's
                Lit::Int(i) => Ok(Value::Int {
                    value: sign * i.base10_parse::<i128>().unwrap_or(i128::MAX),
                    span,
                    end,
                }),
                Lit::Float(f) => Ok(Value::Float {
                    value: sign as f64 * f.base10_parse::<f64>()?,
                    span,
                    end,
                }),
                Lit::Bool(b) if neg.is_none() => Ok(Value::Word(Ident::new(
                    if b.value { "true" } else { "false" },
                    b.span,
                ))),
                other => Err(syn::Error::new(
                    other.span(),
                    "expected a number, a word such as `same`, or a tuple such as `(3, 5)`",
                )),
            };
        }
        if neg.is_none() && input.peek(Ident::peek_any) {
            return Ok(Value::Word(input.call(Ident::parse_any)?));
        }
        Err(input.error("expected a number, a word such as `same`, or a tuple such as `(3, 5)`"))
    }
}

/// `a, b, c` with an optional trailing comma (syn's `Punctuated`).
fn comma_separated<T: Parse>(content: ParseStream) -> syn::Result<Vec<T>> {
    Ok(Punctuated::<T, Token![,]>::parse_terminated(content)?
        .into_iter()
        .collect())
}
