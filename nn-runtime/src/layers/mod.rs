//! The layers that `network!` expands to: zero-sized types whose sizes are
//! constants, one file per layer family.
//!
//! The macro computes every size, names one of these types per item and
//! calls [`Layer::forward`] in order and [`Layer::backward`] in reverse. The
//! generated code also asserts, at compile time, that each type's
//! [`Layer::IN`], [`Layer::OUT`] and [`Layer::PARAMS`] equal the macro's own
//! figures, so the two crates cannot drift apart. Each impl forwards to a
//! kernel in `crate::kernels` with constant sizes, so monomorphisation gives
//! code specialised to the layer's shape.
//!
//! Adding a layer kind: a file here with its type and `impl Layer`, its
//! kernel (or a call to existing ones), unit tests against a naive reference
//! and finite differences, and a module in `nn-macros/src/layers/` that
//! reads its arguments, computes its shape and names this type.

mod activation;
mod conv;
mod dense;
mod dropout;
mod fused;
pub mod merge;
mod norm;
mod pool;
mod recurrent;

pub use activation::{LeakyRelu, Prelu, Relu, Sigmoid, Softmax, Tanh};
pub use conv::{Conv2d, Window};
pub use dense::Dense;
pub use dropout::Dropout;
pub use fused::{ChannelAffine, Identity};
pub use norm::BatchNorm;
pub use pool::{AvgPool2d, GlobalAvgPool, MaxPool2d};
pub use recurrent::{CellKind, Gru, Lstm, Recurrent, Rnn};

pub use crate::kernels::conv2d::{Geometry, Lowering, Plan as ConvPlan};
use core::fmt;

/// Whether a pass trains the network or evaluates it. Layers that behave
/// differently in the two (batch norm, dropout) read it; the others ignore
/// it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Training: what backward needs is kept; stochastic layers draw.
    #[default]
    Train,
    /// Evaluation (inference).
    Eval,
}

/// What a layer is told about the pass it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Samples in the batch (at least 1).
    pub batch: usize,
    /// Training or evaluation.
    pub mode: Mode,
    /// Inference only (`predict` in evaluation mode): nothing reads this
    /// pass's activations but its output, and no backward pass follows, so
    /// that a conv may apply the batch norm and ReLU after it and leave
    /// the slots between them unwritten.
    pub inference: bool,
    /// The key of this pass's random draws (dropout masks): a new one for
    /// each training pass, from the network's seed and a step count, so a
    /// seed gives the same draws run after run. Backward sees the key its
    /// forward pass had.
    pub noise: u64,
    /// Index of the batch's first sample in the mini-batch it is a share of
    /// (0 unless a trainer splits the mini-batch across threads), so that a
    /// sample's draws do not depend on the split.
    pub first_sample: usize,
}

impl Pass {
    /// A pass over `batch` samples in `mode`, drawing nothing.
    pub fn new(batch: usize, mode: Mode) -> Self {
        Pass {
            batch,
            mode,
            inference: false,
            noise: 0,
            first_sample: 0,
        }
    }
}

/// How a layer is computed on this machine, as the summary shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// A convolution lowered to matrix products (see [`ConvPlan`]).
    Conv(ConvPlan),
    /// A matrix product (dense layers).
    Gemm,
    /// A loop over the elements (activations, pooling).
    Direct,
    /// No computation: the output is the input seen with another shape
    /// (`flatten`).
    View,
    /// A batch norm or ReLU after a conv: computed directly in training
    /// and by `forward`, and applied by the conv to its product in
    /// `predict` in evaluation mode (batch norm folded into the conv).
    Folded,
    /// A ReLU right before a max pool, which the pool applies to its
    /// maxima (they commute): the ReLU runs nothing.
    IntoPool,
}

impl Strategy {
    /// [`Strategy::View`], as a function for generated tables.
    #[doc(hidden)]
    pub fn view() -> Self {
        Strategy::View
    }

    /// [`Strategy::Folded`], as a function for generated tables.
    #[doc(hidden)]
    pub fn folded() -> Self {
        Strategy::Folded
    }

    /// [`Strategy::IntoPool`], as a function for generated tables.
    #[doc(hidden)]
    pub fn into_pool() -> Self {
        Strategy::IntoPool
    }

    /// [`Strategy::Direct`], as a function for generated tables.
    #[doc(hidden)]
    pub fn direct() -> Self {
        Strategy::Direct
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Conv(plan) => plan.fmt(f),
            Strategy::Gemm => f.write_str("gemm"),
            Strategy::Direct => f.write_str("direct"),
            Strategy::View => f.write_str("view"),
            Strategy::Folded => f.write_str("direct; into conv in predict"),
            Strategy::IntoPool => f.write_str("into max_pool"),
        }
    }
}

/// What a layer's forward pass reads and writes.
pub struct Forward<'a> {
    pub pass: Pass,
    /// This layer's slice of the network's flat parameters (PyTorch's
    /// order: weight, then bias).
    pub params: &'a [f32],
    /// `[batch, IN]`
    pub input: &'a [f32],
    /// `[batch, OUT]`, overwritten: sample `n`'s values at
    /// `n · out_stride ..`.
    pub output: &'a mut [f32],
    /// [`Layer::OUT`], unless the layer writes its part of each sample of a
    /// `concat` block's output (given only to [`Layer::STRIDED`] layers).
    pub out_stride: usize,
    /// At least [`Layer::SCRATCH`] floats, shared by the layers.
    pub scratch: &'a mut [f32],
    /// This layer's [`Layer::BUFFERS`] floats, kept from pass to pass.
    pub buffers: &'a mut [f32],
    /// This layer's [`Layer::PREPARED`] floats: in an inference pass
    /// ([`Pass::inference`]), what [`Layer::prepare`] made of `params`;
    /// in any other pass, not to be read (it may be stale or empty).
    pub prepared: &'a [f32],
    /// `[batch, SAVED]`: this layer's [`Layer::SAVED`] floats per sample,
    /// for what it keeps for backward (overwritten).
    pub saved: &'a mut [f32],
}

/// What a layer's backward pass reads, and the gradients it accumulates
/// into.
pub struct Backward<'a> {
    pub pass: Pass,
    pub params: &'a [f32],
    /// What the forward pass saw and wrote.
    pub input: &'a [f32],
    pub output: &'a [f32],
    /// `[batch, OUT]`; sample `n`'s values (and its output's) at
    /// `n · out_stride ..`.
    pub d_output: &'a [f32],
    /// As in [`Forward`].
    pub out_stride: usize,
    /// `[batch, IN]`, accumulated into; or, when `fresh`, overwritten.
    pub d_input: &'a mut [f32],
    /// `d_input` holds stale values and nothing has added into it yet:
    /// the layer stores its input gradient instead of adding it (given
    /// only to layers with [`Layer::STORES_INPUT_GRAD`], so that the slot
    /// is not zeroed first).
    pub fresh: bool,
    /// `[PARAMS]`, accumulated into.
    pub d_params: &'a mut [f32],
    pub scratch: &'a mut [f32],
    /// This layer's buffers as its forward pass left them.
    pub buffers: &'a [f32],
    /// `[batch, SAVED]`, as the forward pass left it.
    pub saved: &'a [f32],
    /// `[batch, SAVED]` of working space: its contents do not matter.
    pub d_saved: &'a mut [f32],
}

/// One layer of a network, over a batch laid out sample after sample.
pub trait Layer {
    /// Floats per input sample.
    const IN: usize;
    /// Floats per output sample.
    const OUT: usize;
    /// Learnable parameters.
    const PARAMS: usize;
    /// Scratch floats the layer needs (independent of the batch size).
    const SCRATCH: usize = 0;
    /// Floats of state the layer keeps from pass to pass (independent of
    /// the batch size): its named buffers first (batch norm's running
    /// statistics, saved with the weights and never trained), then what its
    /// forward pass leaves for backward.
    const BUFFERS: usize = 0;
    /// Floats per sample that the forward pass keeps for backward beside
    /// the output, in an activation slot of their own ([`Forward::saved`]):
    /// a recurrent layer's states at every step. Backward gets as many per
    /// sample of working space ([`Backward::d_saved`]).
    const SAVED: usize = 0;
    /// Floats the layer derives from its parameters alone for inference
    /// ([`Layer::prepare`]; Winograd's transformed kernels for a conv): made
    /// once and reused by every inference pass until the parameters change.
    const PREPARED: usize = 0;

    /// Whether backward reads the layer's input ([`Backward::input`]):
    /// the network keeps a value for backward only while a layer's backward
    /// reads it (pools, dropout, sigmoid, tanh and softmax do not read
    /// theirs).
    const READS_INPUT: bool = true;

    /// Whether backward reads the layer's own output (sigmoid, tanh and
    /// softmax differentiate through it). A block writes a branch's last
    /// layer's output straight into its merged output only when not.
    const READS_OUTPUT: bool = false;

    /// Whether the layer takes an `out_stride` above [`Layer::OUT`]: its
    /// output and output gradient as part of each sample of wider values,
    /// so that the last layer of a `concat` block's branch writes straight
    /// into its part of the block's output.
    const STRIDED: bool = false;

    /// Whether backward can store its input gradient rather than add it
    /// ([`Backward::fresh`]), writing every value of `d_input`.
    const STORES_INPUT_GRAD: bool = false;

    /// Whether the layer can run in place ([`Layer::forward_in_place`]),
    /// its output written over its input, and its backward then work with
    /// that output given as both its input and its output (ReLU, sigmoid,
    /// tanh). A network runs it so when nothing else reads the input.
    const IN_PLACE: bool = false;

    /// The forward pass on `values` (`[batch, IN]`), overwritten with the
    /// outputs; only called when [`Layer::IN_PLACE`].
    #[inline]
    fn forward_in_place(pass: Pass, values: &mut [f32]) {
        let _ = (pass, values);
        unreachable!("a layer that cannot run in place was asked to")
    }

    /// How this layer runs on this machine.
    fn strategy() -> Strategy {
        Strategy::Direct
    }

    /// Fills `prepared` ([`Layer::PREPARED`] floats) from the layer's
    /// parameters, for the inference passes that follow.
    #[inline]
    fn prepare(params: &[f32], prepared: &mut [f32]) {
        let _ = (params, prepared);
    }

    /// `input` → `output`.
    fn forward(f: Forward<'_>);

    /// From `d_output`, *accumulates* into `d_input` (or stores into it,
    /// when [`Backward::fresh`]) and `d_params`.
    fn backward(b: Backward<'_>);

    /// [`Layer::backward`] for a network's first layer when nothing needs
    /// the network's input gradient (training): accumulates into
    /// `d_params` and may leave `d_input` as it is. By default a layer
    /// without parameters does nothing and the others run `backward`.
    #[inline]
    fn backward_params(b: Backward<'_>) {
        if Self::PARAMS > 0 {
            Self::backward(b);
        }
    }
}
