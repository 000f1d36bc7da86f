//! ir → tokens: the network struct, its constants and its passes, as glue
//! that calls `nn_runtime`'s layers through `::nn::__private`. Every size is
//! a literal computed by the checker; no loop over elements is emitted.
//!
//! The struct and its items come from one list ([`items`]), filled in from
//! the checked network or, when checking failed, with stubs beside the
//! errors, so that the user sees only the real errors and not "no function
//! `new`" follow-ups, and the two cannot drift apart.

use crate::ast;
use crate::check::{self, Checked};
use crate::ir::{self, Fill, Header, Init, Runtime};
use crate::shape::Shape;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The whole pipeline: parse → check → expand.
pub fn network(input: TokenStream) -> TokenStream {
    let ast: ast::Network = match syn::parse2(input) {
        Ok(ast) => ast,
        Err(e) => return e.to_compile_error(),
    };
    let Checked { header, result } = check::check(ast);
    match result {
        Ok(net) => {
            let body = Body::new(&net);
            items(&header, Some(net.input), Some(net.output()), Some(&body))
        }
        Err(failed) => {
            let errors = failed.errors.to_compile_error();
            let stub = items(&header, failed.input, failed.output, None);
            quote!(#errors #stub)
        }
    }
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// `n` as a typenum unsigned: `UInt<UInt<UTerm, B1>, B0>` for 2.
fn typenum(n: usize) -> TokenStream {
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

fn dims(shape: Option<Shape>) -> (TokenStream, Literal) {
    let d = shape.map_or_else(Vec::new, |s| s.dims());
    let rank = lit(d.len());
    let d = d.into_iter().map(lit);
    (quote!([#(#d),*]), rank)
}

/// What only a sound network has: its layers wired into passes.
struct Body {
    /// The layers' own items (geometry types) and the compile-time checks
    /// that the runtime's layers have the sizes computed here.
    items: Vec<TokenStream>,
    init: Vec<TokenStream>,
    forward: Vec<TokenStream>,
    /// In the order the layers run backward.
    backward: Vec<TokenStream>,
    scratch: Vec<TokenStream>,
    infos: Vec<TokenStream>,
    tensors: Vec<TokenStream>,
    param_count: usize,
    activations_per_sample: usize,
    output_offset: usize,
}

impl Body {
    fn new(net: &ir::Network) -> Self {
        let mut body = Body {
            items: Vec::new(),
            init: Vec::new(),
            forward: Vec::new(),
            backward: Vec::new(),
            scratch: Vec::new(),
            infos: Vec::new(),
            tensors: Vec::new(),
            param_count: 0,
            activations_per_sample: net.input.len(),
            output_offset: 0,
        };
        // activation slots (per-sample offset, length): slot 0 is the input
        let mut slot = (0usize, net.input.len());
        for layer in &net.layers {
            let params = body.add_tensors(layer);
            let out_slot = match layer.runtime {
                Runtime::View => (slot.0, layer.output.len()),
                Runtime::Layer { .. } => {
                    let s = (body.activations_per_sample, layer.output.len());
                    body.activations_per_sample += s.1;
                    s
                }
            };
            if let Runtime::Layer { ty, items } = &layer.runtime {
                body.add_calls(layer, ty, items, params, slot, out_slot);
            }
            body.add_info(layer);
            slot = out_slot;
        }
        body.backward.reverse();
        body.output_offset = slot.0;
        body
    }

    /// The layer's tensors: their names and places, and how they start.
    /// Returns the layer's range in the parameter buffer.
    fn add_tensors(&mut self, layer: &ir::Layer) -> (usize, usize) {
        let start = self.param_count;
        for t in &layer.tensors {
            let len = t.len();
            let (a, b) = (lit(self.param_count), lit(self.param_count + len));
            let name = format!("{}.{}", layer.name, t.suffix);
            let shape = t.shape.iter().map(|&d| lit(d));
            let len_lit = lit(len);
            self.tensors.push(quote! {
                ::nn::__private::TensorInfo { name: #name, shape: &[#(#shape),*], offset: #a, len: #len_lit }
            });
            match t.fill {
                Fill::Normal {
                    init,
                    fan_in,
                    fan_out,
                } => {
                    let scheme = format_ident!(
                        "{}",
                        match init {
                            Init::Default => "Default",
                            Init::He => "He",
                            Init::Xavier => "Xavier",
                            Init::Lecun => "Lecun",
                        }
                    );
                    let (fi, fo) = (lit(fan_in), lit(fan_out));
                    self.init.push(quote! {
                        ::nn::__private::Init::#scheme.fill(&mut params[#a..#b], #fi, #fo, rng);
                    });
                }
                Fill::Constant(v) => self.init.push(quote!(params[#a..#b].fill(#v);)),
                Fill::Zeros => {}
            }
            self.param_count += len;
        }
        (start, self.param_count)
    }

    /// The layer's forward and backward calls on its slots, its scratch,
    /// its items and the check of its sizes against the runtime's.
    fn add_calls(
        &mut self,
        layer: &ir::Layer,
        ty: &TokenStream,
        items: &TokenStream,
        (p0, p1): (usize, usize),
        (io, il): (usize, usize),
        (oo, ol): (usize, usize),
    ) {
        let [io, il, oo, ol, p0, p1] = [io, il, oo, ol, p0, p1].map(lit);
        let layer_trait = quote!(::nn::__private::Layer);
        self.forward.push(quote! {{
            let (x, y) = ::nn::__private::split_slots(acts, batch * #io, batch * #il, batch * #oo, batch * #ol);
            <#ty as #layer_trait>::forward(::nn::__private::Forward {
                pass, params: &params[#p0..#p1], input: x, output: y, scratch,
            });
        }});
        let args = quote! {
            ::nn::__private::Backward {
                pass, params: &params[#p0..#p1], input: x, output: y, d_output: dy,
                d_input: dx, d_params: &mut grads[#p0..#p1], scratch,
            }
        };
        // the first layer's input gradient is the network's: skipped when
        // nothing asks for it
        let call = if self.backward.is_empty() {
            quote! {
                if input_grad {
                    <#ty as #layer_trait>::backward(#args);
                } else {
                    <#ty as #layer_trait>::backward_params(#args);
                }
            }
        } else {
            quote!(<#ty as #layer_trait>::backward(#args);)
        };
        self.backward.push(quote! {{
            let x = &acts[batch * #io..batch * (#io + #il)];
            let y = &acts[batch * #oo..batch * (#oo + #ol)];
            let (dy, dx) = ::nn::__private::split_slots(d_acts, batch * #oo, batch * #ol, batch * #io, batch * #il);
            #call
        }});
        self.scratch.push(quote!(<#ty as #layer_trait>::SCRATCH));
        let (n_in, n_out, n_params) = (
            lit(layer.input.len()),
            lit(layer.output.len()),
            lit(layer.params()),
        );
        let drift = format!(
            "nn: layer `{}`: the runtime layer's sizes differ from the network! macro's; \
             the nn-macros and nn-runtime crates must be the same version",
            layer.name
        );
        self.items.push(quote! {
            #items
            const _: () = ::core::assert!(
                <#ty as #layer_trait>::IN == #n_in
                    && <#ty as #layer_trait>::OUT == #n_out
                    && <#ty as #layer_trait>::PARAMS == #n_params,
                #drift
            );
        });
    }

    /// The layer's row of the summary.
    fn add_info(&mut self, layer: &ir::Layer) {
        let ir::Layer {
            name,
            description,
            output,
            macs,
            receptive_field: [rh, rw],
            ..
        } = layer;
        let strategy = match &layer.runtime {
            Runtime::View => quote!(::nn::__private::Strategy::view),
            Runtime::Layer { ty, .. } => quote!(<#ty as ::nn::__private::Layer>::strategy),
        };
        let out_dims = output.dims().into_iter().map(lit);
        let [params, macs, rh, rw] = [layer.params(), *macs, *rh, *rw].map(lit);
        self.infos.push(quote! {
            ::nn::__private::LayerInfo {
                name: #name,
                kind: #description,
                output_shape: &[#(#out_dims),*],
                params: #params,
                macs: #macs,
                receptive_field: [#rh, #rw],
                strategy_of: #strategy,
            }
        });
    }
}

/// The network's items, with `body` or, without one, stubs.
fn items(
    header: &Header,
    input: Option<Shape>,
    output: Option<Shape>,
    body: Option<&Body>,
) -> TokenStream {
    let Header { attrs, vis, ident } = header;
    let name = ident.to_string();
    let ((input_dims, input_rank), (output_dims, output_rank)) = (dims(input), dims(output));
    let (in_len, out_len) = (input.map_or(0, |s| s.len()), output.map_or(0, |s| s.len()));
    let (in_ty, out_ty) = (typenum(in_len), typenum(out_len));
    let (in_len, out_len) = (lit(in_len), lit(out_len));
    let stub = quote!(::core::unreachable!());
    let fill = |f: &dyn Fn(&Body) -> TokenStream| body.map_or_else(|| stub.clone(), f);
    let (param_count, acts, output_offset) = body.map_or((0, 0, 0), |b| {
        (b.param_count, b.activations_per_sample, b.output_offset)
    });
    let [param_count, acts, output_offset] = [param_count, acts, output_offset].map(lit);
    let layer_items = body.map(|b| &b.items[..]).unwrap_or_default();
    let scratch = body.map(|b| &b.scratch[..]).unwrap_or_default();
    let infos = body.map(|b| &b.infos[..]).unwrap_or_default();
    let tensors = body.map(|b| &b.tensors[..]).unwrap_or_default();
    let init = fill(&|b| {
        let init = &b.init;
        let unused = init.is_empty().then(|| quote!(let _ = rng;));
        quote!(#unused #(#init)*)
    });
    let forward = fill(&|b| {
        let calls = &b.forward;
        quote!(let batch = pass.batch; #(#calls)*)
    });
    let backward = fill(&|b| {
        let calls = &b.backward;
        quote!(let batch = pass.batch; let _ = input_grad; #(#calls)*)
    });
    let inherent = inherent(
        ident,
        (&input_dims, &input_rank, &in_len),
        (&output_dims, &output_rank, &out_len),
        (&param_count, &acts),
        body.is_some(),
    );
    let from_state = fill(&|_| quote!(#ident { __state: state }));
    let state = fill(&|_| quote!(&self.__state));
    let state_mut = fill(&|_| quote!(&mut self.__state));
    // a stub only takes the input it is known to take: no follow-up errors
    let takes_input =
        input.map(|_| quote!(impl ::nn::__private::TakesInput<#in_len> for #ident {}));
    quote! {
        #(#attrs)*
        #vis struct #ident {
            __state: ::nn::__private::State,
        }

        const _: () = {
            #(#layer_items)*

            #inherent

            #takes_input

            #[allow(unreachable_code, unused_variables)]
            impl ::nn::__private::Generated for #ident {
                type In = #in_ty;
                type Out = #out_ty;
                const LAYOUT: ::nn::__private::Layout = ::nn::__private::Layout {
                    name: #name,
                    input_shape: &#input_dims,
                    output_shape: &#output_dims,
                    input_len: #in_len,
                    output_len: #out_len,
                    param_count: #param_count,
                    activations_per_sample: #acts,
                    output_offset: #output_offset,
                    scratch_len: ::nn::__private::max_of(&[0 #(, #scratch)*]),
                    layers: &[#(#infos),*],
                    tensors: &[#(#tensors),*],
                };

                fn from_state(state: ::nn::__private::State) -> Self {
                    #from_state
                }
                fn state(&self) -> &::nn::__private::State {
                    #state
                }
                fn state_mut(&mut self) -> &mut ::nn::__private::State {
                    #state_mut
                }
                fn init_params(params: &mut [f32], rng: &mut ::nn::__private::ChaCha8Rng) {
                    #init
                }
                fn forward_layers(pass: ::nn::__private::Pass, params: &[f32], acts: &mut [f32], scratch: &mut [f32]) {
                    #forward
                }
                fn backward_layers(pass: ::nn::__private::Pass, params: &[f32], acts: &[f32], d_acts: &mut [f32], grads: &mut [f32], scratch: &mut [f32], input_grad: bool) {
                    #backward
                }
            }
        };
    }
}

/// The struct's own constants and functions.
fn inherent(
    ident: &syn::Ident,
    (input_dims, input_rank, in_len): (&TokenStream, &Literal, &Literal),
    (output_dims, output_rank, out_len): (&TokenStream, &Literal, &Literal),
    (param_count, acts): (&Literal, &Literal),
    sound: bool,
) -> TokenStream {
    let stub = quote!(::core::unreachable!());
    let (new, summary) = if sound {
        (
            quote!(<Self as ::nn::__private::Network>::with_seed(seed)),
            quote!(<Self as ::nn::__private::Network>::summary()),
        )
    } else {
        (stub.clone(), stub)
    };
    quote! {
        #[allow(unreachable_code, unused_variables)]
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
            pub const WORKSPACE_BYTES_PER_SAMPLE: usize = 2 * #acts * 4;

            /// A network with parameters drawn from `seed`, in training mode.
            pub fn new(seed: u64) -> Self {
                #new
            }

            /// The summary table: per layer its output shape, parameters,
            /// multiply-adds, receptive field and strategy.
            pub fn summary() -> ::nn::__private::Summary {
                #summary
            }
        }
    }
}
