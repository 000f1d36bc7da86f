//! ir → tokens: the network struct and its `Network` impl, as glue that
//! calls the const-generic layers of `nn_runtime` through `::nn::__private`.
//! Every size is a literal computed here; no loop over elements is emitted.

use crate::ir::{self, Fill, Init, Kind};
use crate::shape::Shape;
use crate::{ast, check, fallback};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The whole pipeline: parse → check → expand (or fallback).
pub fn network(input: TokenStream) -> TokenStream {
    let ast: ast::Network = match syn::parse2(input) {
        Ok(ast) => ast,
        Err(e) => return e.to_compile_error(),
    };
    let ident = ast.ident.clone();
    let vis = ast.vis.clone();
    let attrs = ast.attrs.clone();
    let checked = check::check(ast);
    match (checked.network, checked.errors.finish()) {
        (Some(ir), Ok(())) => expand(&ir),
        (_, Err(e)) => fallback::expand(&attrs, &vis, &ident, checked.input, checked.output, e),
        (None, Ok(())) => unreachable!("check returns a network or errors"),
    }
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// `n` as a typenum unsigned: `UInt<UInt<UTerm, B1>, B0>` for 2.
pub fn typenum(n: usize) -> TokenStream {
    if n == 0 {
        quote!(::nn::__private::typenum::UTerm)
    } else {
        let high = typenum(n >> 1);
        let bit = if n & 1 == 1 {
            quote!(::nn::__private::typenum::B1)
        } else {
            quote!(::nn::__private::typenum::B0)
        };
        quote!(::nn::__private::typenum::UInt<#high, #bit>)
    }
}

fn dims(shape: &Shape) -> TokenStream {
    let d = shape.dims().into_iter().map(lit);
    quote!([#(#d),*])
}

fn init_tokens(init: Init) -> TokenStream {
    let v = match init {
        Init::Default => format_ident!("Default"),
        Init::He => format_ident!("He"),
        Init::Xavier => format_ident!("Xavier"),
        Init::Lecun => format_ident!("Lecun"),
    };
    quote!(::nn::__private::Init::#v)
}

/// The runtime type of a layer, or `None` for `flatten` (a view: it shares
/// its input's slot and does nothing).
fn layer_type(layer: &ir::Layer) -> Option<TokenStream> {
    let image = |s: Shape| match s {
        Shape::Image { c, h, w } => (lit(c), lit(h), lit(w)),
        _ => unreachable!("checked: windows run on images"),
    };
    let n = lit(layer.input.len());
    Some(match &layer.kind {
        Kind::Conv { window, bias, .. } => {
            let (c, h, w) = image(layer.input);
            let (oc, oh, ow) = image(layer.output);
            let (kh, kw, sh, sw, pt, pl) = window_lits(window);
            quote!(::nn::__private::Conv2d<#c, #h, #w, #oc, #oh, #ow, #kh, #kw, #sh, #sw, #pt, #pl, #bias>)
        }
        Kind::MaxPool { window } => {
            let (c, h, w) = image(layer.input);
            let (_, oh, ow) = image(layer.output);
            let (kh, kw, sh, sw, pt, pl) = window_lits(window);
            quote!(::nn::__private::MaxPool2d<#c, #h, #w, #oh, #ow, #kh, #kw, #sh, #sw, #pt, #pl>)
        }
        Kind::AvgPool { window } => {
            let (c, h, w) = image(layer.input);
            let (_, oh, ow) = image(layer.output);
            let (kh, kw, sh, sw, pt, pl) = window_lits(window);
            let (pb, pr) = (lit(window.pad.1), lit(window.pad.3));
            quote!(::nn::__private::AvgPool2d<#c, #h, #w, #oh, #ow, #kh, #kw, #sh, #sw, #pt, #pl, #pb, #pr>)
        }
        Kind::GlobalAvgPool => {
            let Shape::Image { c, h, w } = layer.input else {
                unreachable!("checked: image input")
            };
            let (c, hw) = (lit(c), lit(h * w));
            quote!(::nn::__private::GlobalAvgPool<#c, #hw>)
        }
        Kind::Flatten => return None,
        Kind::Dense { out, bias, .. } => {
            let o = lit(*out);
            quote!(::nn::__private::Dense<#n, #o, #bias>)
        }
        Kind::Relu => quote!(::nn::__private::Relu<#n>),
        Kind::Sigmoid => quote!(::nn::__private::Sigmoid<#n>),
        Kind::Tanh => quote!(::nn::__private::Tanh<#n>),
        Kind::Softmax => quote!(::nn::__private::Softmax<#n>),
        Kind::LeakyRelu { slope } => {
            let bits = Literal::u32_suffixed(slope.to_bits());
            quote!(::nn::__private::LeakyRelu<#n, #bits>)
        }
        Kind::Prelu => {
            let (c, plane) = match layer.input {
                Shape::Image { c, h, w } => (c, h * w),
                other => (other.len(), 1),
            };
            let (c, plane) = (lit(c), lit(plane));
            quote!(::nn::__private::Prelu<#c, #plane>)
        }
    })
}

fn window_lits(w: &ir::Window) -> (Literal, Literal, Literal, Literal, Literal, Literal) {
    (
        lit(w.kernel.0),
        lit(w.kernel.1),
        lit(w.stride.0),
        lit(w.stride.1),
        lit(w.pad.0),
        lit(w.pad.2),
    )
}

pub fn expand(net: &ir::Network) -> TokenStream {
    let ir::Network {
        attrs,
        vis,
        ident,
        input,
        layers,
    } = net;
    let output = net.output();
    let name_str = ident.to_string();

    // activation slots (per-sample offsets): slot 0 is the input
    let mut slot = (0usize, input.len());
    let mut next_offset = input.len();
    // parameter offsets
    let mut param_offset = 0usize;

    let mut forward = Vec::new();
    let mut backward = Vec::new();
    let mut scratch = Vec::new();
    let mut init = Vec::new();
    let mut infos = Vec::new();
    let mut tensors = Vec::new();
    for layer in layers {
        let params_here: usize = layer.params();
        let (p0, p1) = (param_offset, param_offset + params_here);
        for t in &layer.tensors {
            let len: usize = t.shape.iter().product();
            let (a, b) = (lit(param_offset), lit(param_offset + len));
            let full = format!("{}.{}", layer.name, t.suffix);
            let shape = t.shape.iter().map(|&d| lit(d));
            let len_lit = lit(len);
            tensors.push(quote! {
                ::nn::__private::TensorInfo { name: #full, shape: &[#(#shape),*], offset: #a, len: #len_lit }
            });
            match t.fill {
                Fill::Normal {
                    init: scheme,
                    fan_in,
                    fan_out,
                } => {
                    let scheme = init_tokens(scheme);
                    let (fi, fo) = (lit(fan_in), lit(fan_out));
                    init.push(quote!(#scheme.fill(&mut params[#a..#b], #fi, #fo, rng);));
                }
                Fill::Constant(v) => init.push(quote!(params[#a..#b].fill(#v);)),
                Fill::Zeros => {}
            }
            param_offset += len;
        }

        let in_slot = slot;
        let out_slot = match layer.kind {
            Kind::Flatten => (in_slot.0, layer.output.len()),
            _ => {
                let s = (next_offset, layer.output.len());
                next_offset += s.1;
                s
            }
        };
        slot = out_slot;
        if let Some(ty) = layer_type(layer) {
            let (io, il, oo, ol) = (
                lit(in_slot.0),
                lit(in_slot.1),
                lit(out_slot.0),
                lit(out_slot.1),
            );
            let (p0, p1) = (lit(p0), lit(p1));
            forward.push(quote! {{
                let (x, y) = ::nn::__private::split_slots(acts, batch * #io, batch * #il, batch * #oo, batch * #ol);
                <#ty as ::nn::__private::Layer>::forward(batch, &params[#p0..#p1], x, y, scratch);
            }});
            // the first layer's input gradient is the network's: skipped
            // when nothing asks for it
            let call = if backward.is_empty() {
                quote! {
                    if input_grad {
                        <#ty as ::nn::__private::Layer>::backward(batch, &params[#p0..#p1], x, y, dy, dx, &mut grads[#p0..#p1], scratch);
                    } else {
                        <#ty as ::nn::__private::Layer>::backward_params(batch, &params[#p0..#p1], x, y, dy, dx, &mut grads[#p0..#p1], scratch);
                    }
                }
            } else {
                quote! {
                    <#ty as ::nn::__private::Layer>::backward(batch, &params[#p0..#p1], x, y, dy, dx, &mut grads[#p0..#p1], scratch);
                }
            };
            backward.push(quote! {{
                let x = &acts[batch * #io..batch * (#io + #il)];
                let y = &acts[batch * #oo..batch * (#oo + #ol)];
                let (dy, dx) = ::nn::__private::split_slots(d_acts, batch * #oo, batch * #ol, batch * #io, batch * #il);
                #call
            }});
            scratch.push(quote!(<#ty as ::nn::__private::Layer>::SCRATCH));
        }

        let ir::Layer {
            name,
            description,
            output,
            macs,
            receptive_field: [rh, rw],
            strategy,
            ..
        } = layer;
        let out_dims = output.dims().into_iter().map(lit);
        let (params_lit, macs_lit, rh, rw) = (lit(params_here), lit(*macs), lit(*rh), lit(*rw));
        infos.push(quote! {
            ::nn::__private::LayerInfo {
                name: #name,
                kind: #description,
                output_shape: &[#(#out_dims),*],
                params: #params_lit,
                macs: #macs_lit,
                receptive_field: [#rh, #rw],
                strategy: #strategy,
            }
        });
    }
    backward.reverse();

    let input_dims = dims(input);
    let output_dims = dims(&output);
    let input_rank = lit(input.dims().len());
    let output_rank = lit(output.dims().len());
    let (in_len, out_len) = (lit(input.len()), lit(output.len()));
    let param_count = lit(param_offset);
    let acts_per_sample = lit(next_offset);
    let output_offset = lit(slot.0);
    let (in_ty, out_ty) = (typenum(input.len()), typenum(output.len()));
    let rng_used = if init.is_empty() {
        quote!(let _ = rng;)
    } else {
        quote!()
    };

    quote! {
        #(#attrs)*
        #vis struct #ident {
            __state: ::nn::__private::State,
        }

        impl #ident {
            /// Shape of one input sample.
            pub const INPUT_SHAPE: [usize; #input_rank] = #input_dims;
            /// Shape of one output sample.
            pub const OUTPUT_SHAPE: [usize; #output_rank] = #output_dims;
            /// Floats per input sample.
            pub const INPUT_LEN: usize = #in_len;
            /// Floats per output sample.
            pub const OUTPUT_LEN: usize = #out_len;
            /// Learnable parameters.
            pub const PARAM_COUNT: usize = #param_count;
            /// Bytes of the parameters.
            pub const PARAM_BYTES: usize = #param_count * 4;
            /// Bytes of training workspace per sample (activations and their gradients).
            pub const WORKSPACE_BYTES_PER_SAMPLE: usize = 2 * #acts_per_sample * 4;

            /// A network with parameters drawn from `seed`, in training mode.
            pub fn new(seed: u64) -> Self {
                <Self as ::nn::__private::Network>::with_seed(seed)
            }

            /// The summary table: per layer its output shape, parameters,
            /// multiply-adds and receptive field.
            pub fn summary() -> ::nn::__private::Summary {
                <Self as ::nn::__private::Network>::summary()
            }
        }

        impl ::nn::__private::TakesInput<#in_len> for #ident {}

        impl ::nn::__private::Network for #ident {
            type InputLen = #in_ty;
            type OutputLen = #out_ty;
            const NAME: &'static str = #name_str;
            const INPUT_SHAPE: &'static [usize] = &#input_dims;
            const OUTPUT_SHAPE: &'static [usize] = &#output_dims;
            const INPUT_LEN: usize = #in_len;
            const OUTPUT_LEN: usize = #out_len;
            const PARAM_COUNT: usize = #param_count;
            const ACTIVATIONS_PER_SAMPLE: usize = #acts_per_sample;
            const OUTPUT_OFFSET: usize = #output_offset;
            const SCRATCH_LEN: usize = ::nn::__private::max_of(&[0 #(, #scratch)*]);
            const LAYERS: &'static [::nn::__private::LayerInfo] = &[#(#infos),*];
            const TENSORS: &'static [::nn::__private::TensorInfo] = &[#(#tensors),*];

            fn from_state(state: ::nn::__private::State) -> Self {
                #ident { __state: state }
            }
            fn state(&self) -> &::nn::__private::State {
                &self.__state
            }
            fn state_mut(&mut self) -> &mut ::nn::__private::State {
                &mut self.__state
            }
            fn init_params(params: &mut [f32], rng: &mut ::nn::__private::ChaCha8Rng) {
                #rng_used
                #(#init)*
            }
            fn forward_layers(batch: usize, params: &[f32], acts: &mut [f32], scratch: &mut [f32]) {
                #(#forward)*
            }
            fn backward_layers(batch: usize, params: &[f32], acts: &[f32], d_acts: &mut [f32], grads: &mut [f32], scratch: &mut [f32], input_grad: bool) {
                let _ = input_grad;
                #(#backward)*
            }
        }
    }
}
