//! The `network!` macro of `nn`: parse → infer shapes → check → expand.
//! See the `nn` crate for the language; `SPEC.md` is the contract.

mod args;
mod ast;
mod check;
mod expand;
mod fallback;
mod ir;
mod parse;
mod shape;
#[cfg(test)]
mod tests;

/// Defines a network whose shapes are checked at compile time.
/// Documented in the `nn` crate, which re-exports it.
#[proc_macro]
pub fn network(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::network(input.into()).into()
}
