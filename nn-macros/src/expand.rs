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
use crate::plan;
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

/// A value in the activation buffers: the slots of its values and of its
/// gradient (ids; where each lives is the memory plan's, see [`Body::plan`]),
/// and its length. A view (`flatten`) is its input's value seen with another
/// length.
#[derive(Clone, Copy)]
struct Val {
    act: usize,
    grad: usize,
    len: usize,
    /// Values `at .. at + len` of each sample of `stride` values (a
    /// `concat` branch's part of the block's output), or `at = 0` and
    /// `stride = len`.
    at: usize,
    stride: usize,
}

impl Val {
    /// `len` values at `act` and `grad`, a sample after another.
    fn dense(act: usize, grad: usize, len: usize) -> Self {
        Val {
            act,
            grad,
            len,
            at: 0,
            stride: len,
        }
    }

    /// Slot 0's: the network's input, whose gradient only `backward` wants.
    fn is_input(self) -> bool {
        self.grad == 0
    }

    /// Where the values (`slot` = `act(self.act)`) or their gradients
    /// (`grad(self.grad)`) start in the batch's buffer, and how far they
    /// reach.
    fn span(self, slot: syn::Ident) -> (TokenStream, TokenStream) {
        let (at, stride) = (lit(self.at), lit(self.stride));
        (quote!(batch * #slot + #at), quote!(batch * #stride - #at))
    }
}

/// Where a block would have a branch's last layer put its output: straight
/// into the merged output's values (`act`, for `add`'s first branch), and
/// read its output gradient straight from the merged output's gradient
/// (`grad`, for every branch of `add`, whose gradient is the block's), so
/// that the merge copies nothing.
#[derive(Clone, Copy)]
struct Target {
    act: Option<usize>,
    grad: usize,
    /// For `concat`: the branch's part (`at`) of each sample of the
    /// block's output (`stride` values), where both values and gradient
    /// go; for `add`, 0 and the output's length.
    at: usize,
    stride: usize,
}

/// Which parts of a [`Target`] a branch took.
#[derive(Clone, Copy, Default)]
struct Placed {
    act: bool,
    grad: bool,
}

/// The constant holding slot `id`'s per-sample offset in the values'
/// buffer; each pass defines its own ([`Body::plan`]).
fn act_at(id: usize) -> syn::Ident {
    format_ident!("__A{}", id)
}

/// The constant holding slot `id`'s per-sample offset in the gradients'
/// buffer.
fn grad_at(id: usize) -> syn::Ident {
    format_ident!("__G{}", id)
}

/// One call of the backward pass, the gradient slot it adds into (id and
/// length per sample) and every gradient slot it reads or writes; for a
/// layer, also the call that may store into the slot instead, when it is
/// the first to write it, and whether its layer can
/// (`Layer::STORES_INPUT_GRAD`, a constant of the runtime's).
struct BackwardCall {
    adds_into: (usize, usize),
    touches: Vec<usize>,
    /// The activation slots it reads (its input, output or saved values).
    reads: Vec<usize>,
    call: TokenStream,
    storing: Option<Storing>,
}

struct Storing {
    call: TokenStream,
    stores: TokenStream,
}

/// Sets a gradient slot to zero.
fn zero((id, len): (usize, usize)) -> TokenStream {
    let (a, l) = (grad_at(id), lit(len));
    quote!(d_acts[batch * #a..batch * (#a + #l)].fill(0.0);)
}

/// The backward calls in order, each gradient slot set to zero just before
/// the first call that adds into it, rather than all of them before the
/// pass, so that the slot is in cache when that call adds into it (ResNet-20
/// zeroed 180 MB at batch 64 up front; no change of its step time was
/// measurable on the project's shared machine), and so that a slot the
/// memory plan gives to several values is cleared for each. A layer that can
/// store its input gradient (conv, batch norm, ReLU) stores it when it is
/// the first to write the slot, which is then not zeroed at all.
fn zeroed_backward(calls: &[BackwardCall]) -> Vec<TokenStream> {
    let mut zeroed: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for c in calls {
        let (id, _) = c.adds_into;
        // the network's input gradient only when asked for
        let only_if_asked = |fill: TokenStream| {
            if id == 0 {
                quote!(if input_grad { #fill })
            } else {
                fill
            }
        };
        if zeroed.contains(&id) {
            // already zeroed, and added into since
            out.push(c.call.clone());
        } else if let Some(storing) = &c.storing {
            // the first writer: zeroed only if its layer cannot store
            zeroed.push(id);
            let (fill, stores, call) = (zero(c.adds_into), &storing.stores, &storing.call);
            out.push(only_if_asked(quote!(if !#stores { #fill })));
            out.push(call.clone());
        } else {
            zeroed.push(id);
            out.push(only_if_asked(zero(c.adds_into)));
            out.push(c.call.clone());
        }
    }
    out
}

/// A layer's forward call: its runtime type, its ranges of parameters and
/// buffers, and its input and output.
#[derive(Clone)]
struct Call {
    ty: TokenStream,
    params: (usize, usize),
    buffers: (usize, usize),
    prepared: (usize, usize),
    x: Val,
    y: Val,
}

/// Whether a `concat` branch's last layer writes its part of each sample of
/// the block's output, and reads its part of the gradient, itself: a layer
/// that takes an output stride (`Layer::STRIDED`) and whose backward does
/// not read its output. Otherwise the merge copies.
fn takes_part(nodes: &[ir::Node]) -> bool {
    match nodes.last() {
        Some(ir::Node::Layer(l)) => {
            l.strided && !l.reads_output && matches!(l.runtime, Runtime::Layer { .. })
        }
        _ => false,
    }
}

/// Whether the last of `nodes` (a list's layers up to it) writes its output
/// over its input: it can (`Layer::IN_PLACE`), and its input is the output
/// of the node right before it in the list, whose backward does not read
/// that output, so that nothing else reads it (a list's first node reads
/// the list's input, which a block's other branches or the network's
/// backward also read). A block's output is read back by no backward: the
/// merges' read only its gradient, and a branch's last layer writes into
/// it only if its backward does not read its own output. So the ReLU after
/// a residual block runs over the sum the merge just wrote, rather than
/// into a slot of its own.
fn in_place(nodes: &[ir::Node]) -> bool {
    let is_layer = |n: &ir::Node| matches!(n, ir::Node::Layer(l) if matches!(l.runtime, Runtime::Layer { .. }));
    match nodes {
        [.., before, last @ ir::Node::Layer(layer)] => {
            layer.in_place
                && is_layer(last)
                && match before {
                    ir::Node::Layer(before_layer) => is_layer(before) && !before_layer.reads_output,
                    ir::Node::Block(_) => true,
                }
        }
        _ => false,
    }
}

/// Whether the first of `nodes` is a ReLU that the max pool right after it
/// applies (`MaxPool2d<G, true>`), so that the network does not run it and
/// need not keep the values before it: `relu` and the maximum commute, and
/// give the same gradient.
fn into_pool(nodes: &[ir::Node]) -> bool {
    match nodes {
        [ir::Node::Layer(relu), ir::Node::Layer(pool), ..] => {
            relu.fuse == ir::Fuse::Relu && pool.takes_relu.is_some()
        }
        _ => false,
    }
}

/// How a layer runs: `folded` when a conv before it runs it in inference,
/// `in_place` when it writes its output over its input, `into_pool` when it
/// is a ReLU that the max pool after it applies (it runs nothing), and
/// `with_relu` when it is that max pool: `Some(folded)` with the ReLU's
/// `folded`.
#[derive(Clone, Copy)]
struct How {
    folded: bool,
    in_place: bool,
    into_pool: bool,
    with_relu: Option<bool>,
}

/// The conv at the head of `nodes` and the layers after it that it runs in
/// inference: a batch norm, a ReLU, or both in that order (empty if none).
/// Only the last of them may be a list's last node, whose output a block
/// may merge, so nothing else reads the values between them.
fn fusion(nodes: &[ir::Node]) -> Vec<ir::Fuse> {
    let fuse = |n: Option<&ir::Node>| match n {
        Some(ir::Node::Layer(l)) => l.fuse,
        _ => ir::Fuse::None,
    };
    use ir::Fuse::{Conv, Norm, Relu};
    if fuse(nodes.first()) != Conv {
        return Vec::new();
    }
    match (fuse(nodes.get(1)), fuse(nodes.get(2))) {
        (Norm, Relu) => vec![Conv, Norm, Relu],
        (Norm, _) => vec![Conv, Norm],
        (Relu, _) => vec![Conv, Relu],
        _ => Vec::new(),
    }
}

/// Where the last of `nodes` (an `add` branch's) is a conv, or a conv and
/// the batch norm after it, the index of that conv: in inference it can
/// run the block's sum, and the ReLU after the block, in its epilogue
/// ([`Body::residual`]).
fn residual_conv(nodes: &[ir::Node]) -> Option<usize> {
    let fuse = |n: &ir::Node| match n {
        ir::Node::Layer(l) => l.fuse,
        ir::Node::Block(_) => ir::Fuse::None,
    };
    use ir::Fuse::{Conv, Norm};
    match nodes {
        [.., conv, norm] if fuse(conv) == Conv && fuse(norm) == Norm => Some(nodes.len() - 2),
        [.., conv] if fuse(conv) == Conv => Some(nodes.len() - 1),
        _ => None,
    }
}

/// The branch of an `add` block whose last conv runs the sum in inference:
/// the block has two branches, and that one (the last one with layers) ends
/// in a conv, or a conv and a batch norm. The other branch's output is then
/// the residual the conv adds in (the block's input for an identity).
fn residual_branch(block: &ir::Block) -> Option<usize> {
    if block.merge != ir::Merge::Add || block.branches.len() != 2 {
        return None;
    }
    let k = block.branches.iter().rposition(|b| !b.nodes.is_empty())?;
    residual_conv(&block.branches[k].nodes).map(|_| k)
}

/// A conv (and the batch norm after it) whose inference call waits for its
/// block's other branch: their calls.
struct Deferred {
    conv: Call,
    norm: Option<Call>,
}

/// The type of what a conv applies in inference after its product (a
/// batch norm's, or `Identity`) and its parameters and buffers.
/// The call of the batch norm among a fused group's `members`, if any.
fn norm_call<'a>(members: &[ir::Fuse], calls: &'a [Call]) -> Option<&'a Call> {
    members
        .iter()
        .position(|&m| m == ir::Fuse::Norm)
        .map(|k| &calls[k])
}

/// The `Forward` argument of a conv's inference call: its parameters and
/// prepared floats, from `x` into `y` (bound by the caller) with rows
/// `stride` apart.
fn infer_forward(conv: &Call, stride: usize) -> TokenStream {
    let [p0, p1, r0, r1, stride] = [
        conv.params.0,
        conv.params.1,
        conv.prepared.0,
        conv.prepared.1,
        stride,
    ]
    .map(lit);
    quote! {
        ::nn::__private::Forward {
            pass, params: &params[#p0..#p1], input: x, output: y, out_stride: #stride,
            scratch, buffers: &mut [], prepared: &prepared[#r0..#r1], saved: &mut [],
        }
    }
}

fn norm_of(norm: Option<&Call>) -> (TokenStream, TokenStream) {
    match norm {
        Some(n) => {
            let [q0, q1, b0, b1] = [n.params.0, n.params.1, n.buffers.0, n.buffers.1].map(lit);
            let ty = &n.ty;
            (quote!(#ty), quote!((&params[#q0..#q1], &buffers[#b0..#b1])))
        }
        None => (quote!(::nn::__private::Identity), quote!((&[], &[]))),
    }
}

/// What only a sound network has: its layers wired into passes.
struct Body {
    /// The layers' own items (geometry types) and the compile-time checks
    /// that the runtime's layers have the sizes computed here.
    items: Vec<TokenStream>,
    init: Vec<TokenStream>,
    forward: Vec<TokenStream>,
    /// In the order the layers run backward.
    backward: Vec<BackwardCall>,
    /// The calls that fill the prepared floats from the parameters.
    prepare: Vec<TokenStream>,
    scratch: Vec<TokenStream>,
    infos: Vec<TokenStream>,
    tensors: Vec<TokenStream>,
    buffer_tensors: Vec<TokenStream>,
    /// The layers' own items already emitted (layers of one geometry share
    /// their geometry type).
    emitted: std::collections::HashSet<String>,
    /// The last layer's call, for inference's fusion of a conv with what
    /// follows it.
    last_call: Option<Call>,
    /// The last conv of the branch of an `add` block that runs the block's
    /// sum in inference, until the block emits that call.
    deferred: Option<Deferred>,
    param_count: usize,
    buffer_len: usize,
    prepared_len: usize,
    /// Floats per sample of each slot, by id; slot 0 is the input.
    slot_lens: Vec<usize>,
    /// The slots each forward call touches, in order, and the passes it
    /// runs in.
    steps: Vec<(Runs, Vec<usize>)>,
    output: Val,
}

/// Which passes a forward call runs in: a conv and the layers it takes run
/// one after another in training and as one call in inference.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    Always,
    Training,
    Inference,
}

/// Where every slot lives in each pass: the values in training (kept
/// while backward reads them) and in inference (reused once nothing reads
/// them), and the gradients in backward (reused likewise); floats per
/// sample of each.
struct Plan {
    training: (Vec<usize>, usize),
    inference: (Vec<usize>, usize),
    grads: (Vec<usize>, usize),
}

impl Body {
    fn new(net: &ir::Network) -> Self {
        let mut body = Body {
            items: Vec::new(),
            init: Vec::new(),
            forward: Vec::new(),
            backward: Vec::new(),
            prepare: Vec::new(),
            scratch: Vec::new(),
            infos: Vec::new(),
            tensors: Vec::new(),
            buffer_tensors: Vec::new(),
            emitted: std::collections::HashSet::new(),
            last_call: None,
            deferred: None,
            param_count: 0,
            buffer_len: 0,
            prepared_len: 0,
            slot_lens: vec![net.input.len()],
            steps: Vec::new(),
            output: Val::dense(0, 0, net.input.len()),
        };
        let input = Val::dense(0, 0, net.input.len());
        let (out, _) = body.nodes(&net.nodes, input, 0, None, false);
        // pushed in forward order, each node's backward after its parts
        body.backward.reverse();
        body.output = out;
        body
    }

    /// A new activation slot of `len` values (and its gradient's).
    fn slot(&mut self, len: usize) -> Val {
        let id = self.slot_lens.len();
        self.slot_lens.push(len);
        Val::dense(id, id, len)
    }

    /// A forward call, the slots it touches and the passes it runs in.
    fn step(&mut self, runs: Runs, slots: &[usize], call: TokenStream) {
        self.steps.push((runs, slots.to_vec()));
        self.forward.push(call);
    }

    /// The memory plan. In inference a value's slot is free once the last
    /// call that reads it has run, and the output lives to the end; in
    /// training, once the last backward call that reads it has run, or, if
    /// none does, once the forward pass has read it. In backward a gradient
    /// lives from the first call that writes it to the call that reads it
    /// (the output's from the start, the input's to the end).
    fn plan(&self) -> Plan {
        let slots = self.slot_lens.len();
        let (lives, _) = self.forward_lives(Runs::Training);
        let inference = plan::place(&self.slot_lens, &lives);

        let mut lives = plan::Lives::new(slots);
        let end = self.backward.len();
        for (step, call) in self.backward.iter().enumerate() {
            for &s in &call.touches {
                lives.touch(s, step);
            }
        }
        lives.keep(self.output.grad, 0, 0);
        lives.keep(0, 0, end);
        let grads = plan::place(&self.slot_lens, &lives);

        // training: forward, the loss reading the output, then backward
        // reading what it needs; a value no backward reads is free once
        // the forward pass has read it (slots that only a gradient uses,
        // an in-place layer's, take no room)
        let (mut lives, step) = self.forward_lives(Runs::Inference);
        for (k, call) in self.backward.iter().enumerate() {
            for &s in &call.reads {
                lives.touch(s, step + 1 + k);
            }
        }
        Plan {
            training: plan::place(&self.slot_lens, &lives),
            inference,
            grads,
        }
    }

    /// The lives of the forward pass's values in the passes that run all
    /// but the `skipped` steps (the input from the start, the output to
    /// the end), and the number of steps they run.
    fn forward_lives(&self, skipped: Runs) -> (plan::Lives, usize) {
        let mut lives = plan::Lives::new(self.slot_lens.len());
        let mut step = 0;
        for (runs, touched) in &self.steps {
            if *runs == skipped {
                continue;
            }
            for &s in touched {
                lives.touch(s, step);
            }
            step += 1;
        }
        lives.keep(0, 0, 0);
        lives.keep(self.output.act, step, step);
        (lives, step)
    }

    /// The nodes of a list in order from `x`; returns the last output, and
    /// what the last node took of `target`. A conv and the batch norm and
    /// ReLU after it run as one in inference ([`Body::fused`]); with
    /// `defer_last`, the list's last conv (and batch norm) waits for its
    /// block to run it in inference with the block's sum
    /// ([`Body::residual`]), and so does the ReLU after an `add` block that
    /// has such a branch.
    fn nodes(
        &mut self,
        nodes: &[ir::Node],
        mut x: Val,
        depth: usize,
        target: Option<Target>,
        defer_last: bool,
    ) -> (Val, Placed) {
        let mut placed = Placed::default();
        let mut i = 0;
        // the ReLU after a block that runs it in inference
        let mut relu_taken = false;
        // a ReLU that the max pool right after it applies, and whether a
        // conv applies it in inference
        let mut relu_pending = None;
        let deferred_conv = residual_conv(nodes).filter(|_| defer_last);
        let list_target = target;
        while i < nodes.len() {
            let deferring = deferred_conv == Some(i);
            let mut members = fusion(&nodes[i..]);
            if deferring && members.is_empty() {
                members.push(ir::Fuse::Conv);
            }
            let start = self.forward.len();
            let mut calls = Vec::new();
            for (k, node) in nodes[i..i + members.len().max(1)].iter().enumerate() {
                let target = target.filter(|_| i + k + 1 == nodes.len());
                let how = How {
                    folded: k > 0 || relu_taken,
                    in_place: target.is_none() && in_place(&nodes[..=i + k]),
                    into_pool: !relu_taken && into_pool(&nodes[i + k..]),
                    with_relu: relu_pending.take(),
                };
                relu_pending = how.into_pool.then_some(how.folded);
                (x, placed) = match node {
                    ir::Node::Layer(layer) => self.layer(layer, x, depth, target, how),
                    ir::Node::Block(block) => {
                        // a ReLU next that writes over the block's output
                        let relu_next = matches!(nodes.get(i + 1),
                            Some(ir::Node::Layer(l)) if l.fuse == ir::Fuse::Relu)
                            && list_target.filter(|_| i + 2 == nodes.len()).is_none()
                            && self::in_place(&nodes[..=i + 1]);
                        let (out, placed, relu) = self.block(block, x, depth, target, relu_next);
                        relu_taken = relu;
                        (out, placed)
                    }
                };
                calls.extend(self.last_call.take());
            }
            if let (true, ir::Node::Layer(_)) = (relu_taken, &nodes[i]) {
                // the ReLU's own pass in training only
                relu_taken = false;
                if let Some(call) = self.forward.pop() {
                    self.forward.push(quote!(if !INFER { #call }));
                }
                if let Some((runs, _)) = self.steps.last_mut() {
                    *runs = Runs::Training;
                }
            }
            if deferring {
                self.defer(&members, &calls, start);
            } else if !members.is_empty() {
                self.fused(&members, &calls, start);
            }
            i += members.len().max(1);
        }
        (x, placed)
    }

    /// The forward calls of a branch's last conv and the batch norm after
    /// it (`members`, whose calls are `calls` and whose forward calls begin
    /// at `start`) in training only: in inference the block runs them with
    /// its sum ([`Body::residual`]).
    fn defer(&mut self, members: &[ir::Fuse], calls: &[Call], start: usize) {
        let separate = self.training_only(start);
        self.forward.push(quote!(if !INFER { #(#separate)* }));
        self.deferred = Some(Deferred {
            conv: calls[0].clone(),
            norm: norm_call(members, calls).cloned(),
        });
    }

    /// Takes the forward calls from `start` on out of the list, marking
    /// their steps as training's (the calls before them may already be
    /// merged into one, as these are about to be, so the steps are counted
    /// from the end).
    fn training_only(&mut self, start: usize) -> Vec<TokenStream> {
        let separate = self.forward.split_off(start);
        let first = self.steps.len() - separate.len();
        for (runs, _) in &mut self.steps[first..] {
            *runs = Runs::Training;
        }
        separate
    }

    /// The inference call of a deferred conv (and batch norm): from the
    /// conv's input into the block's output `out`, the `residual` branch's
    /// output added in, then a ReLU if `relu` (the one after the block).
    fn residual(&mut self, deferred: Deferred, residual: Val, out: Val, relu: bool) {
        let Deferred { conv, norm } = deferred;
        let x = conv.x;
        let (xa, ra) = (act_at(x.act), act_at(residual.act));
        let [xl, rl] = [x.len, residual.len].map(lit);
        let (y0, yl) = out.span(act_at(out.act));
        let conv_ty = &conv.ty;
        let (norm_ty, norm_args) = norm_of(norm.as_ref());
        let forward = infer_forward(&conv, out.stride);
        self.steps
            .push((Runs::Inference, vec![x.act, residual.act, out.act]));
        self.forward.push(quote! {
            if INFER {
                let (x, r, y) = ::nn::__private::split_reading_two(
                    acts, (batch * #xa, batch * #xl), (batch * #ra, batch * #rl), (#y0, #yl),
                );
                <#conv_ty>::infer_residual::<#norm_ty, #relu>(#forward, #norm_args, (r, #rl));
            }
        });
        self.scratch.push(quote!(<#conv_ty>::INFER_SCRATCH));
    }

    /// Wraps the forward calls of a conv and the layers after it that it
    /// takes (`members`, whose calls are `calls` and whose forward calls
    /// begin at `start`) into a choice: in inference, the conv's `infer`
    /// straight from its input to the last one's output; otherwise, the
    /// layers one after the other.
    fn fused(&mut self, members: &[ir::Fuse], calls: &[Call], start: usize) {
        let (conv, last) = (&calls[0], &calls[calls.len() - 1]);
        let relu = members.contains(&ir::Fuse::Relu);
        let (x, y) = (conv.x, last.y);
        let (xa, xl) = (act_at(x.act), lit(x.len));
        let (y0, yl) = y.span(act_at(y.act));
        let conv_ty = &conv.ty;
        let (norm_ty, norm_args) = norm_of(norm_call(members, calls));
        let forward = infer_forward(conv, y.stride);
        let separate = self.training_only(start);
        self.steps.push((Runs::Inference, vec![x.act, y.act]));
        self.forward.push(quote! {
            if INFER {
                let (x, y) = ::nn::__private::split_slots(acts, batch * #xa, batch * #xl, #y0, #yl);
                <#conv_ty>::infer::<#norm_ty, #relu>(#forward, #norm_args);
            } else {
                #(#separate)*
            }
        });
        self.scratch.push(quote!(<#conv_ty>::INFER_SCRATCH));
    }

    /// A layer from `x`, run as `how` says.
    fn layer(
        &mut self,
        layer: &ir::Layer,
        x: Val,
        depth: usize,
        target: Option<Target>,
        how: How,
    ) -> (Val, Placed) {
        let params = self.add_tensors(layer);
        let buffers = self.add_buffers(layer);
        let mut placed = Placed::default();
        let out = match &layer.runtime {
            // the max pool after it reads its input and applies it; its
            // output is still a value of the network's, so it gets a slot
            // that no step touches: counted in the unplanned sum only
            _ if how.into_pool => {
                self.slot(layer.output.len());
                x
            }
            Runtime::View => Val {
                len: layer.output.len(),
                stride: layer.output.len(),
                ..x
            },
            Runtime::Layer { ty, items } => {
                // its backward must not read an output that the merge has
                // added to
                let act = target.and_then(|t| t.act).filter(|_| !layer.reads_output);
                let mut out = match act {
                    Some(act) => Val::dense(act, act, layer.output.len()),
                    None => self.slot(layer.output.len()),
                };
                if how.in_place {
                    // the values where the input's were; the gradient
                    // still a slot of its own
                    out.act = x.act;
                }
                placed.act = act.is_some();
                if let Some(t) = target {
                    out.grad = t.grad;
                    (out.at, out.stride) = (t.at, t.stride);
                    placed.grad = true;
                }
                let prepared = (self.prepared_len, self.prepared_len + layer.prepared);
                self.prepared_len += layer.prepared;
                let saved = self.slot(layer.saved);
                let slots = (x, out, saved);
                let ranges = (params, buffers, prepared);
                let ty = match (&layer.takes_relu, how.with_relu) {
                    (Some([every_pass, folded]), Some(relu_folded)) => {
                        if relu_folded {
                            folded
                        } else {
                            every_pass
                        }
                    }
                    _ => ty,
                };
                self.add_calls(layer, (ty, items), ranges, slots, how.in_place);
                out
            }
        };
        let strategy = match &layer.runtime {
            _ if how.into_pool => quote!(::nn::__private::Strategy::into_pool),
            Runtime::View => quote!(::nn::__private::Strategy::view),
            Runtime::Layer { .. } if how.folded => quote!(::nn::__private::Strategy::folded),
            Runtime::Layer { ty, .. } => quote!(<#ty as ::nn::__private::Layer>::strategy),
        };
        let buffers: usize = layer.buffers.iter().map(ir::Tensor::len).sum();
        self.add_info(Row {
            name: &layer.name,
            kind: &layer.description,
            output: layer.output,
            params: layer.params(),
            buffers,
            macs: layer.macs,
            field: layer.receptive_field,
            strategy,
            depth,
            role: "Layer",
        });
        (out, placed)
    }

    /// A block: its branches from `x`, then the merge into the block's
    /// output (`target`'s, when given). An `add` has its first branch's last
    /// layer write the output and every branch's last layer read the
    /// output's gradient, where they can; the merge adds the other branches
    /// in, and copies or adds only for the branches that could not.
    ///
    /// In inference, an `add` of two branches, one of which ends in a conv
    /// (or a conv and a batch norm), has that conv add the other branch's
    /// output in its epilogue, and apply the ReLU after the block when
    /// `relu_next` (a ReLU that writes over the block's output follows):
    /// the sum and the ReLU take no pass of their own. That branch's last
    /// layer writes the output in training. Returns, last, whether the
    /// ReLU after the block is taken.
    fn block(
        &mut self,
        block: &ir::Block,
        x: Val,
        depth: usize,
        target: Option<Target>,
        relu_next: bool,
    ) -> (Val, Placed, bool) {
        let fused = residual_branch(block);
        let direct = quote!(::nn::__private::Strategy::direct);
        let folded = quote!(::nn::__private::Strategy::folded);
        let params: usize = block.branches.iter().map(ir::Branch::params).sum();
        let macs =
            (block.branches.iter().map(ir::Branch::macs)).fold(block.macs, usize::saturating_add);
        let buffers = |nodes: &[ir::Node]| -> usize { nodes.iter().map(node_buffers).sum() };
        let total_buffers: usize = block.branches.iter().map(|b| buffers(&b.nodes)).sum();
        self.add_info(Row {
            name: &block.name,
            kind: &block.kind,
            output: block.output,
            params,
            buffers: total_buffers,
            macs,
            field: block.receptive_field,
            strategy: direct.clone(),
            depth,
            role: "Block",
        });
        let mut out = match target.and_then(|t| t.act) {
            Some(act) => Val::dense(act, act, block.output.len()),
            None => self.slot(block.output.len()),
        };
        let mut placed = Placed::default();
        if let Some(t) = target {
            out.grad = t.grad;
            placed = Placed {
                act: t.act.is_some(),
                grad: true,
            };
        }
        let (mut outs, mut at) = (Vec::new(), 0);
        for (k, branch) in block.branches.iter().enumerate() {
            let kind = if branch.nodes.is_empty() {
                "identity"
            } else {
                "branch"
            };
            self.add_info(Row {
                name: &branch.name,
                kind,
                output: branch.output,
                params: branch.params(),
                buffers: buffers(&branch.nodes),
                macs: branch.macs(),
                field: block.receptive_field,
                strategy: direct.clone(),
                depth: depth + 1,
                role: "Branch",
            });
            let target = match block.merge {
                ir::Merge::Add => Some(Target {
                    act: (k == fused.unwrap_or(0)).then_some(out.act),
                    grad: out.grad,
                    at: 0,
                    stride: out.len,
                }),
                // its last layer writes its part of each output sample and
                // reads its part of the gradient, if it can
                ir::Merge::Concat => takes_part(&branch.nodes).then_some(Target {
                    act: Some(out.act),
                    grad: out.grad,
                    at,
                    stride: out.len,
                }),
            };
            at += branch.output.len();
            let defer = fused == Some(k);
            outs.push(self.nodes(&branch.nodes, x, depth + 2, target, defer));
        }
        let deferred = self.deferred.take();
        let strategy = if deferred.is_some() { folded } else { direct };
        self.merge(block.merge, &outs, out, deferred.is_none());
        let relu = relu_next && deferred.is_some();
        if let (Some(deferred), Some(k)) = (deferred, fused) {
            let residual = outs[1 - k].0;
            self.residual(deferred, residual, out, relu);
        }
        let kind = match block.merge {
            ir::Merge::Add => "add",
            ir::Merge::Concat => "concat",
        };
        self.add_info(Row {
            name: &block.name,
            kind,
            output: block.output,
            params: 0,
            buffers: 0,
            macs: block.macs,
            field: block.receptive_field,
            strategy,
            depth,
            role: "Merge",
        });
        (out, placed, relu)
    }

    /// The merge's forward (sum or join into `out`) and backward (the
    /// output's gradient into each branch's, accumulated), for what the
    /// branches did not do themselves; the forward in training only unless
    /// `inference` (a conv runs the sum there, [`Body::residual`]).
    fn merge(&mut self, merge: ir::Merge, branches: &[(Val, Placed)], out: Val, inference: bool) {
        let (oa, og, ol) = (act_at(out.act), grad_at(out.grad), lit(out.len));
        let mut at = 0;
        // the first branch added copies, unless one wrote the output itself
        let mut written = branches.iter().any(|(_, placed)| placed.act);
        for &(b, placed) in branches {
            let (ba, bg, bl) = (act_at(b.act), grad_at(b.grad), lit(b.len));
            let (forward, backward) = match merge {
                ir::Merge::Add => {
                    let first = !written;
                    written |= !placed.act;
                    let forward = (!placed.act).then(|| {
                        quote!(::nn::__private::merge::add_forward(acts, batch, (#oa, #ol), (#ba, #bl), #first);)
                    });
                    let backward = (!placed.grad).then(|| {
                        quote!(::nn::__private::merge::add_backward(d_acts, batch, (#og, #ol), (#bg, #bl));)
                    });
                    (forward, backward)
                }
                ir::Merge::Concat => {
                    let a = lit(at);
                    at += b.len;
                    let forward = (!placed.act).then(|| {
                        quote!(::nn::__private::merge::concat_forward(acts, batch, (#oa, #ol), #a, (#ba, #bl));)
                    });
                    let backward = (!placed.grad).then(|| {
                        quote!(::nn::__private::merge::concat_backward(d_acts, batch, (#og, #ol), #a, (#bg, #bl));)
                    });
                    (forward, backward)
                }
            };
            if let Some(forward) = forward {
                if inference {
                    self.step(Runs::Always, &[out.act, b.act], forward);
                } else {
                    let forward = quote!(if !INFER { #forward });
                    self.step(Runs::Training, &[out.act, b.act], forward);
                }
            }
            // the network's input gradient only when asked for
            self.backward.extend(backward.map(|backward| BackwardCall {
                storing: None,
                reads: Vec::new(),
                adds_into: (b.grad, b.len),
                touches: vec![out.grad, b.grad],
                call: if b.is_input() {
                    quote!(if input_grad { #backward })
                } else {
                    backward
                },
            }));
        }
    }

    /// The layer's tensors: their names and places, and how they start.
    /// Returns the layer's range in the parameter buffer.
    fn add_tensors(&mut self, layer: &ir::Layer) -> (usize, usize) {
        let start = self.param_count;
        for t in &layer.tensors {
            let (info, init) = tensor(layer, t, self.param_count, quote!(params));
            self.tensors.push(info);
            self.init.extend(init);
            self.param_count += t.len();
        }
        (start, self.param_count)
    }

    /// The layer's named buffers; returns its range in the layer buffers
    /// (named ones first, then what its forward pass keeps for backward).
    fn add_buffers(&mut self, layer: &ir::Layer) -> (usize, usize) {
        let start = self.buffer_len;
        let mut at = start;
        for t in &layer.buffers {
            let (info, init) = tensor(layer, t, at, quote!(buffers));
            self.buffer_tensors.push(info);
            self.init.extend(init);
            at += t.len();
        }
        self.buffer_len += layer.buffer_len;
        (start, self.buffer_len)
    }

    /// The layer's forward and backward calls on its slots, its scratch,
    /// its items and the check of its sizes against the runtime's.
    fn add_calls(
        &mut self,
        layer: &ir::Layer,
        (ty, items): (&TokenStream, &TokenStream),
        ((p0, p1), (b0, b1), (r0, r1)): ((usize, usize), (usize, usize), (usize, usize)),
        (x, y, saved): (Val, Val, Val),
        in_place: bool,
    ) {
        self.last_call = Some(Call {
            ty: ty.clone(),
            params: (p0, p1),
            buffers: (b0, b1),
            prepared: (r0, r1),
            x,
            y,
        });
        let first = x.is_input();
        let (xa, xg) = (act_at(x.act), grad_at(x.grad));
        let [xl, p0, p1, b0, b1, stride, r0, r1] =
            [x.len, p0, p1, b0, b1, y.stride, r0, r1].map(lit);
        let ((ya, yl), (yg, _)) = (y.span(act_at(y.act)), y.span(grad_at(y.grad)));
        let layer_trait = quote!(::nn::__private::Layer);
        // a layer that keeps values per sample for backward (`Layer::SAVED`)
        // has a slot of its own for them, and its gradient's for working space
        let (sa, sg, sl) = (act_at(saved.act), grad_at(saved.grad), lit(saved.len));
        let (split, split_grads) = if saved.len > 0 {
            (
                quote! {
                    let (x, y, saved) = ::nn::__private::split_three(
                        acts,
                        [(batch * #xa, batch * #xl), (#ya, #yl), (batch * #sa, batch * #sl)],
                    );
                },
                quote! {
                    let (dy, dx, d_saved) = ::nn::__private::split_three(
                        d_acts,
                        [(#yg, #yl), (batch * #xg, batch * #xl), (batch * #sg, batch * #sl)],
                    );
                    let saved = &acts[batch * #sa..batch * (#sa + #sl)];
                },
            )
        } else {
            (
                quote! {
                    let (x, y) = ::nn::__private::split_slots(acts, batch * #xa, batch * #xl, #ya, #yl);
                    let saved: &mut [f32] = &mut [];
                },
                quote! {
                    let (dy, dx) = ::nn::__private::split_slots(d_acts, #yg, #yl, batch * #xg, batch * #xl);
                    let (saved, d_saved): (&[f32], &mut [f32]) = (&[], &mut []);
                },
            )
        };
        let (mut touched, mut grads) = (vec![x.act, y.act], vec![y.grad, x.grad]);
        // what its backward reads, which training keeps until then (an
        // in-place layer's output is where its input was)
        let mut reads = Vec::new();
        if layer.reads_input || (in_place && layer.reads_output) {
            reads.push(x.act);
        }
        if layer.reads_output {
            reads.push(y.act);
        }
        if saved.len > 0 {
            touched.push(saved.act);
            grads.push(saved.grad);
            reads.push(saved.act);
        }
        if in_place {
            self.step(Runs::Always, &[x.act], quote! {
                <#ty as #layer_trait>::forward_in_place(pass, &mut acts[batch * #xa..batch * (#xa + #xl)]);
            });
        } else {
            self.step(Runs::Always, &touched, quote! {{
                #split
                <#ty as #layer_trait>::forward(::nn::__private::Forward {
                    pass, params: &params[#p0..#p1], input: x, output: y, out_stride: #stride,
                    scratch, buffers: &mut buffers[#b0..#b1], prepared: &prepared[#r0..#r1], saved,
                });
            }});
        }
        if layer.prepared > 0 {
            self.prepare.push(quote! {
                <#ty as #layer_trait>::prepare(&params[#p0..#p1], &mut prepared[#r0..#r1]);
            });
        }
        let call = |fresh: TokenStream| {
            let args = quote! {
                ::nn::__private::Backward {
                    pass, params: &params[#p0..#p1], input: x, output: y, d_output: dy,
                    out_stride: #stride, d_input: dx, fresh: #fresh,
                    d_params: &mut grads[#p0..#p1], scratch, buffers: &buffers[#b0..#b1],
                    saved, d_saved,
                }
            };
            // a layer on the network's input: its input gradient is the
            // network's, skipped when nothing asks for it
            let call = if first {
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
            quote! {{
                let x = &acts[batch * #xa..batch * (#xa + #xl)];
                let y = &acts[#ya..][..#yl];
                #split_grads
                #call
            }}
        };
        let stores = quote!(<#ty as #layer_trait>::STORES_INPUT_GRAD);
        self.backward.push(BackwardCall {
            adds_into: (x.grad, x.len),
            touches: grads,
            reads,
            call: call(quote!(false)),
            storing: Some(Storing {
                call: call(stores.clone()),
                stores,
            }),
        });
        self.scratch.push(quote!(<#ty as #layer_trait>::SCRATCH));
        let (reads_input, reads_output) = (layer.reads_input, layer.reads_output);
        let (strided, in_place) = (layer.strided, layer.in_place);
        let [n_in, n_out, n_params, n_buffers, n_prepared, n_saved] = [
            layer.input.len(),
            layer.output.len(),
            layer.params(),
            layer.buffer_len,
            layer.prepared,
            layer.saved,
        ]
        .map(lit);
        let drift = format!(
            "nn: layer `{}`: the runtime layer's sizes differ from the network! macro's; \
             the nn-macros and nn-runtime crates must be the same version",
            layer.name
        );
        if self.emitted.insert(items.to_string()) {
            self.items.push(items.clone());
        }
        self.items.push(quote! {
            const _: () = ::core::assert!(
                <#ty as #layer_trait>::IN == #n_in
                    && <#ty as #layer_trait>::OUT == #n_out
                    && <#ty as #layer_trait>::PARAMS == #n_params
                    && <#ty as #layer_trait>::BUFFERS == #n_buffers
                    && <#ty as #layer_trait>::PREPARED == #n_prepared
                    && <#ty as #layer_trait>::SAVED == #n_saved
                    && <#ty as #layer_trait>::READS_INPUT == #reads_input
                    && <#ty as #layer_trait>::READS_OUTPUT == #reads_output
                    && <#ty as #layer_trait>::STRIDED == #strided
                    && <#ty as #layer_trait>::IN_PLACE == #in_place,
                #drift
            );
        });
    }

    /// A row of the summary.
    fn add_info(&mut self, row: Row) {
        let Row {
            name,
            kind,
            output,
            strategy,
            role,
            ..
        } = row;
        let out_dims = output.dims().into_iter().map(lit);
        let [params, buffers, macs, rh, rw, depth] = [
            row.params,
            row.buffers,
            row.macs,
            row.field[0],
            row.field[1],
            row.depth,
        ]
        .map(lit);
        let role = format_ident!("{}", role);
        self.infos.push(quote! {
            ::nn::__private::LayerInfo {
                name: #name,
                kind: #kind,
                output_shape: &[#(#out_dims),*],
                params: #params,
                buffers: #buffers,
                macs: #macs,
                receptive_field: [#rh, #rw],
                strategy_of: #strategy,
                depth: #depth,
                role: ::nn::__private::Role::#role,
            }
        });
    }
}

/// What a summary row shows.
struct Row<'a> {
    name: &'a str,
    kind: &'a str,
    output: Shape,
    params: usize,
    buffers: usize,
    macs: usize,
    field: [usize; 2],
    strategy: TokenStream,
    depth: usize,
    role: &'static str,
}

/// Values in the named buffers of a node and everything inside it.
fn node_buffers(node: &ir::Node) -> usize {
    match node {
        ir::Node::Layer(l) => l.buffers.iter().map(ir::Tensor::len).sum(),
        ir::Node::Block(b) => b
            .branches
            .iter()
            .flat_map(|br| &br.nodes)
            .map(node_buffers)
            .sum(),
    }
}

/// A tensor's description at `offset` in `buf` (`params` or `buffers`),
/// and the code that sets its starting values.
fn tensor(
    layer: &ir::Layer,
    t: &ir::Tensor,
    offset: usize,
    buf: TokenStream,
) -> (TokenStream, Option<TokenStream>) {
    let len = t.len();
    let (a, b) = (lit(offset), lit(offset + len));
    let name = format!("{}.{}", layer.name, t.suffix);
    let shape = t.shape.iter().map(|&d| lit(d));
    let (len_lit, count) = (lit(len), t.count);
    let info = quote! {
        ::nn::__private::TensorInfo { name: #name, shape: &[#(#shape),*], offset: #a, len: #len_lit, count: #count }
    };
    let init = match t.fill {
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
            Some(quote! {
                ::nn::__private::Init::#scheme.fill(&mut #buf[#a..#b], #fi, #fo, rng);
            })
        }
        Fill::Constant(v) => Some(quote!(#buf[#a..#b].fill(#v);)),
        Fill::Zeros => None,
    };
    (info, init)
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
    let plan = body.map(Body::plan);
    let sizes = match (body, &plan) {
        (Some(b), Some(p)) => [
            b.param_count,
            p.training.1,
            p.training.0[b.output.act],
            p.inference.1,
            p.inference.0[b.output.act],
            p.grads.1,
            p.grads.0[b.output.grad],
            b.slot_lens.iter().sum(),
            b.buffer_len,
            b.prepared_len,
        ],
        _ => [0; 10],
    };
    let [param_count, acts, output_offset, infer_acts, infer_output_offset, grads, output_grad_offset, unplanned, buffer_len, prepared_len] =
        sizes.map(lit);
    // each pass names its slots' offsets by constants of its own plan
    let offsets = |prefix: fn(usize) -> syn::Ident, of: &dyn Fn(&Plan) -> &Vec<usize>| {
        plan.as_ref().map_or_else(TokenStream::new, |p| {
            let defs = of(p).iter().enumerate().map(|(id, &o)| {
                let (name, o) = (prefix(id), lit(o));
                quote!(const #name: usize = #o;)
            });
            quote!(#(#defs)*)
        })
    };
    // the sizes a typed loss or optimizer is checked against; a definition
    // that did not compile fits every one (no follow-up errors)
    let (outputs_ty, params_ty) = match body {
        Some(_) => (
            quote!(::nn::__private::Count<#out_len>),
            quote!(::nn::__private::Count<#param_count>),
        ),
        None => (
            quote!(::nn::__private::Unknown),
            quote!(::nn::__private::Unknown),
        ),
    };
    let training_acts = offsets(act_at, &|p| &p.training.0);
    let inference_acts = offsets(act_at, &|p| &p.inference.0);
    let grad_slots = offsets(grad_at, &|p| &p.grads.0);
    let layer_items = body.map(|b| &b.items[..]).unwrap_or_default();
    let scratch = body.map(|b| &b.scratch[..]).unwrap_or_default();
    let infos = body.map(|b| &b.infos[..]).unwrap_or_default();
    let tensors = body.map(|b| &b.tensors[..]).unwrap_or_default();
    let buffer_tensors = body.map(|b| &b.buffer_tensors[..]).unwrap_or_default();
    let init = fill(&|b| {
        let init = &b.init;
        quote!(let _ = (&rng, &params, &buffers); #(#init)*)
    });
    let forward = |infer: bool, slots: &TokenStream| {
        fill(&|b| {
            let calls = &b.forward;
            quote! {
                const INFER: bool = #infer;
                #slots
                let batch = pass.batch; let _ = (&buffers, &scratch, &prepared); #(#calls)*
            }
        })
    };
    let (infer, forward) = (
        forward(true, &inference_acts),
        forward(false, &training_acts),
    );
    let prepare = fill(&|b| {
        let calls = &b.prepare;
        quote!(let _ = (&params, &prepared); #(#calls)*)
    });
    let backward = fill(&|b| {
        let calls = zeroed_backward(&b.backward);
        quote! {
            #training_acts
            #grad_slots
            let batch = pass.batch; let _ = (input_grad, &buffers, &scratch); #(#calls)*
        }
    });
    let inherent = inherent(
        ident,
        (&input_dims, &input_rank, &in_len),
        (&output_dims, &output_rank, &out_len),
        &param_count,
        body.is_some(),
    );
    let from_state = fill(&|_| quote!(#ident { __state: state }));
    let state = fill(&|_| quote!(&self.__state));
    let state_mut = fill(&|_| quote!(&mut self.__state));
    // the input it takes, and an array sample's length checked against the
    // input's, so that a mismatch reports both numbers (`SampleLen`'s
    // message); a stub whose input shape could not be read takes any
    // length, so that the code using it raises no follow-up errors. `LEN`
    // goes in braces where it is a generic argument: a bare name there is
    // a type's when a type of that name is in scope (a network may be
    // called `LEN`).
    let (takes, len_bound) = match input {
        Some(_) => (
            quote!(impl ::nn::__private::TakesInput<#in_len> for #ident {}),
            quote!(where (): ::nn::__private::SampleLen<#ident, #in_len, { LEN }>,),
        ),
        None => (
            quote!(impl<const LEN: usize> ::nn::__private::TakesInput<{ LEN }> for #ident {}),
            TokenStream::new(),
        ),
    };
    let takes_input = quote! {
        #takes
        impl<const LEN: usize> ::nn::__private::Sample<#ident> for [f32; LEN]
        #len_bound
        {
            fn values(&self) -> &[f32] {
                self
            }
            fn flat(samples: &[Self]) -> ::core::option::Option<&[f32]> {
                ::core::option::Option::Some(samples.as_flattened())
            }
        }
    };
    // the struct's `#[cfg]`s apply to everything made for it
    let cfgs = attrs.iter().filter(|a| a.path().is_ident("cfg"));
    quote! {
        #(#attrs)*
        #vis struct #ident {
            __state: ::nn::__private::State,
        }

        #(#cfgs)*
        const _: () = {
            #(#layer_items)*

            #inherent

            #takes_input

            #[allow(unreachable_code, unused_variables, dead_code, non_upper_case_globals)]
            impl ::nn::__private::Generated for #ident {
                type In = #in_ty;
                type Out = #out_ty;
                type OutArray = [f32; #out_len];
                type Outputs = #outputs_ty;
                type Params = #params_ty;
                const LAYOUT: ::nn::__private::Layout = ::nn::__private::Layout {
                    name: #name,
                    input_shape: &#input_dims,
                    output_shape: &#output_dims,
                    input_len: #in_len,
                    output_len: #out_len,
                    param_count: #param_count,
                    activations_per_sample: #acts,
                    output_offset: #output_offset,
                    infer_activations_per_sample: #infer_acts,
                    infer_output_offset: #infer_output_offset,
                    grads_per_sample: #grads,
                    output_grad_offset: #output_grad_offset,
                    unplanned_per_sample: #unplanned,
                    scratch_len: ::nn::__private::max_of(&[0 #(, #scratch)*]),
                    buffer_len: #buffer_len,
                    prepared_len: #prepared_len,
                    layers: &[#(#infos),*],
                    tensors: &[#(#tensors),*],
                    buffers: &[#(#buffer_tensors),*],
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
                fn init_params(params: &mut [f32], buffers: &mut [f32], rng: &mut ::nn::__private::ChaCha8Rng) {
                    #init
                }
                fn prepare_layers(params: &[f32], prepared: &mut [f32]) {
                    #prepare
                }
                fn forward_layers(pass: ::nn::__private::Pass, params: &[f32], buffers: &mut [f32], prepared: &[f32], acts: &mut [f32], scratch: &mut [f32]) {
                    #forward
                }
                fn infer_layers(pass: ::nn::__private::Pass, params: &[f32], buffers: &mut [f32], prepared: &[f32], acts: &mut [f32], scratch: &mut [f32]) {
                    #infer
                }
                fn backward_layers(pass: ::nn::__private::Pass, params: &[f32], buffers: &[f32], acts: &[f32], d_acts: &mut [f32], grads: &mut [f32], scratch: &mut [f32], input_grad: bool) {
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
    param_count: &Literal,
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
            /// Bytes of training workspace per sample: the values kept for
            /// backward and the gradients' planned slots (see
            /// `Network::WORKSPACE_BYTES_PER_SAMPLE`).
            pub const WORKSPACE_BYTES_PER_SAMPLE: usize = <Self as ::nn::__private::Network>::WORKSPACE_BYTES_PER_SAMPLE;
            /// Bytes of activations per sample in inference (see
            /// `Network::INFERENCE_BYTES_PER_SAMPLE`).
            pub const INFERENCE_BYTES_PER_SAMPLE: usize = <Self as ::nn::__private::Network>::INFERENCE_BYTES_PER_SAMPLE;
            /// Bytes held whatever the batch: parameters, gradients, buffers
            /// and the layers' scratch (see `Network::FIXED_BYTES`).
            pub const FIXED_BYTES: usize = <Self as ::nn::__private::Network>::FIXED_BYTES;
            /// Bytes of the scratch the layers share, part of `FIXED_BYTES`.
            pub const SCRATCH_BYTES: usize = <Self as ::nn::__private::Network>::SCRATCH_BYTES;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(slots: &[(usize, usize)]) -> Vec<BackwardCall> {
        slots
            .iter()
            .enumerate()
            .map(|(i, &adds_into)| BackwardCall {
                storing: None,
                adds_into,
                touches: vec![adds_into.0],
                reads: Vec::new(),
                call: quote!(call(#i);),
            })
            .collect()
    }

    fn text(calls: &[TokenStream]) -> String {
        quote!(#(#calls)*).to_string().replace(' ', "")
    }

    #[test]
    fn each_slot_is_zeroed_before_the_first_call_that_adds_into_it() {
        let got = text(&zeroed_backward(&calls(&[(3, 5), (3, 5), (4, 2), (0, 10)])));
        let want = "d_acts[batch*__G3..batch*(__G3+5)].fill(0.0);call(0usize);\
            call(1usize);\
            d_acts[batch*__G4..batch*(__G4+2)].fill(0.0);call(2usize);\
            ifinput_grad{d_acts[batch*__G0..batch*(__G0+10)].fill(0.0);}call(3usize);";
        assert_eq!(got, want);
    }

    #[test]
    fn a_first_writer_that_can_store_is_not_zeroed_for() {
        let mut calls = calls(&[(3, 5), (3, 5), (0, 10)]);
        for (i, c) in calls.iter_mut().enumerate() {
            c.storing = Some(Storing {
                call: quote!(store(#i);),
                stores: quote!(S),
            });
        }
        let got = text(&zeroed_backward(&calls));
        let want = "if!S{d_acts[batch*__G3..batch*(__G3+5)].fill(0.0);}store(0usize);\
            call(1usize);\
            ifinput_grad{if!S{d_acts[batch*__G0..batch*(__G0+10)].fill(0.0);}}store(2usize);";
        assert_eq!(got, want);
    }

    fn layers(kinds: &[ir::Fuse]) -> Vec<ir::Node> {
        kinds
            .iter()
            .map(|&f| {
                let shape = Shape::Flat(4);
                let runtime = Runtime::Layer {
                    ty: quote!(T),
                    items: quote!(),
                };
                ir::Node::Layer(ir::Layer::new(shape, shape, String::new(), runtime).fuse(f))
            })
            .collect()
    }

    #[test]
    fn a_conv_takes_the_batch_norm_and_relu_right_after_it() {
        use ir::Fuse::{Conv, None, Norm, Relu};
        let cases: [(&[ir::Fuse], &[ir::Fuse]); 8] = [
            (&[Conv, Norm, Relu, Relu], &[Conv, Norm, Relu]),
            (&[Conv, Norm, Norm], &[Conv, Norm]),
            (&[Conv, Norm], &[Conv, Norm]),
            (&[Conv, Relu, Norm], &[Conv, Relu]),
            (&[Conv, None, Relu], &[]),
            (&[Conv], &[]),
            (&[Norm, Relu], &[]),
            (&[Relu, Conv, Norm], &[]),
        ];
        for (list, want) in cases {
            assert_eq!(fusion(&layers(list)), want, "{list:?}");
        }
    }
}
