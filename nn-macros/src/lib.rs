//! The `network!` macro of `nn`: parse → check → expand.
//!
//! - `ast.rs`, `parse.rs`: what the user wrote, with its spans.
//! - `args.rs`: reading a layer's arguments before shapes are known.
//! - `layers/`: one module per layer family: its arguments, its shape rule
//!   and errors, and the runtime type it expands to.
//! - `check.rs`: the walk over the items (names, asserted shapes, totals,
//!   receptive fields), which gives an `ir::Network` or the errors.
//! - `diagnostics.rs`: the error collector and the message format.
//! - `shape.rs`: pure shape arithmetic.
//! - `expand.rs`: the generated struct and its passes (or, after errors, a
//!   stub of the same items).
//!
//! The language is documented in the `nn` crate (`nn::dsl`).

#![warn(missing_docs)]

mod args;
mod ast;
mod check;
mod diagnostics;
mod expand;
mod ir;
mod layers;
mod parse;
mod plan;
mod shape;
#[cfg(test)]
mod tests;

/// Defines a network whose shapes are checked at compile time.
///
/// ```text
/// network := attr* vis "struct" NAME "<" shape ">" "{" items? "}"
/// item    := (NAME ":")? layer ("=>" shape)?
/// layer   := KIND ("(" args? ")")?
/// arg     := (KEY "=")? value
/// ```
///
/// For example `network! { pub struct Tiny<[1, 8, 8]> { conv(4, kernel = 3),
/// relu, flatten, dense(10) } }` expands to `pub struct Tiny`, its constants
/// (`INPUT_SHAPE`, `PARAM_COUNT`, ...), `Tiny::new(seed)`, `Tiny::summary()`,
/// and the hidden impl behind `nn::Network` whose forward pass calls
/// `Conv2d<__Layer0, true>::forward` (a type holding the conv's geometry:
/// `[1, 8, 8]` to `[4, 6, 6]`, 3x3, stride 1), then `Relu<144>`, then
/// `Dense<144, 10, true>` (`flatten` is a view), and whose backward pass
/// calls them in reverse. The language, its shape rules and the generated
/// API are documented in `nn::dsl`.
#[proc_macro]
pub fn network(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::network(input.into()).into()
}
