//! What to emit when checking failed: the errors, and a stub of the network
//! type with the same items (bodies `unreachable!()`), so the user sees only
//! the real errors and not "no function `new`" follow-ups.

use crate::expand::typenum;
use crate::shape::Shape;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Ident, Visibility};

pub fn expand(
    attrs: &[Attribute],
    vis: &Visibility,
    ident: &Ident,
    input: Option<Shape>,
    output: Option<Shape>,
    errors: syn::Error,
) -> TokenStream {
    let errors = errors.to_compile_error();
    let in_len = input.map_or(0, |s| s.len());
    let out_len = output.map_or(0, |s| s.len());
    let (in_ty, out_ty) = (typenum(in_len), typenum(out_len));
    let name = ident.to_string();
    let takes_input =
        input.map(|_| quote!(impl ::nn::__private::TakesInput<#in_len> for #ident {}));
    quote! {
        #takes_input

        #errors

        #(#attrs)*
        #vis struct #ident {
            __state: ::nn::__private::State,
        }

        impl #ident {
            pub const INPUT_LEN: usize = #in_len;
            pub const OUTPUT_LEN: usize = #out_len;
            pub const PARAM_COUNT: usize = 0;
            pub const PARAM_BYTES: usize = 0;
            pub const WORKSPACE_BYTES_PER_SAMPLE: usize = 0;
            pub fn new(_seed: u64) -> Self {
                ::core::unreachable!()
            }
            pub fn summary() -> ::nn::__private::Summary {
                ::core::unreachable!()
            }
        }

        impl ::nn::__private::Network for #ident {
            type InputLen = #in_ty;
            type OutputLen = #out_ty;
            const NAME: &'static str = #name;
            const INPUT_SHAPE: &'static [usize] = &[];
            const OUTPUT_SHAPE: &'static [usize] = &[];
            const INPUT_LEN: usize = #in_len;
            const OUTPUT_LEN: usize = #out_len;
            const PARAM_COUNT: usize = 0;
            const ACTIVATIONS_PER_SAMPLE: usize = 0;
            const OUTPUT_OFFSET: usize = 0;
            const SCRATCH_LEN: usize = 0;
            const LAYERS: &'static [::nn::__private::LayerInfo] = &[];
            const TENSORS: &'static [::nn::__private::TensorInfo] = &[];
            fn from_state(_: ::nn::__private::State) -> Self {
                ::core::unreachable!()
            }
            fn state(&self) -> &::nn::__private::State {
                ::core::unreachable!()
            }
            fn state_mut(&mut self) -> &mut ::nn::__private::State {
                ::core::unreachable!()
            }
            fn init_params(_: &mut [f32], _: &mut ::nn::__private::ChaCha8Rng) {
                ::core::unreachable!()
            }
            fn forward_layers(_: usize, _: &[f32], _: &mut [f32], _: &mut [f32]) {
                ::core::unreachable!()
            }
            fn backward_layers(_: usize, _: &[f32], _: &[f32], _: &mut [f32], _: &mut [f32], _: &mut [f32], _: bool) {
                ::core::unreachable!()
            }
        }
    }
}
