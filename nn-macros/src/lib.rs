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
/// and an `impl nn::Network for Tiny` whose forward pass calls
/// `Conv2d<1, 8, 8, 4, 6, 6, 3, 3, 1, 1, 0, 0, true>::forward`, then
/// `Relu<144>`, then `Dense<144, 10, true>` (`flatten` is a view), and whose
/// backward pass calls them in reverse. The language, its shape rules and the
/// generated API are documented in `nn::dsl`.
#[proc_macro]
pub fn network(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::network(input.into()).into()
}
