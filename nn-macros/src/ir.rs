//! What the checker proved: every layer with concrete input and output
//! shapes, its parameter tensors, and the runtime type it runs as.

use crate::shape::Shape;
use proc_macro2::TokenStream;
use syn::{Attribute, Ident, Visibility};

/// The struct's header as the user wrote it.
pub struct Header {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
}

pub struct Network {
    pub input: Shape,
    pub nodes: Vec<Node>,
}

impl Network {
    pub fn output(&self) -> Shape {
        self.nodes.last().map_or(self.input, Node::output)
    }
}

/// An item of a list: a layer, or a block of branches.
// a few hundred bytes a layer, built once per expansion: boxing buys nothing
#[allow(clippy::large_enum_variant)]
pub enum Node {
    Layer(Layer),
    Block(Block),
}

impl Node {
    pub fn output(&self) -> Shape {
        match self {
            Node::Layer(l) => l.output,
            Node::Block(b) => b.output,
        }
    }

    /// Parameters of the node and everything inside it.
    pub fn params(&self) -> usize {
        match self {
            Node::Layer(l) => l.params(),
            Node::Block(b) => b.branches.iter().map(Branch::params).sum(),
        }
    }

    /// Multiply-adds per sample of the node and everything inside it.
    pub fn macs(&self) -> usize {
        match self {
            Node::Layer(l) => l.macs,
            // saturating: a layer may count up to 2^62, and no more is real
            Node::Block(b) => {
                (b.branches.iter().map(Branch::macs)).fold(b.macs, usize::saturating_add)
            }
        }
    }

    /// Values of activations the node adds per sample (its layers'
    /// outputs and saved slots, and the merge's), for the totals' check.
    pub fn activations(&self) -> usize {
        match self {
            Node::Layer(l) => l.output.len().saturating_add(l.saved),
            Node::Block(b) => {
                let inner: usize = b
                    .branches
                    .iter()
                    .flat_map(|br| &br.nodes)
                    .map(Node::activations)
                    .sum();
                inner.saturating_add(b.output.len())
            }
        }
    }
}

/// How a block joins its branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Elementwise sum (`add`, `residual`).
    Add,
    /// Joined on channels (`concat`).
    Concat,
}

/// `add { [..], [..] }`, `concat { .. }` or `residual { .. }`.
pub struct Block {
    /// The item's name or index path (`"5"`, `"3.0.2"`).
    pub name: String,
    /// `add`, `concat` or `residual`, as written.
    pub kind: String,
    pub merge: Merge,
    pub output: Shape,
    pub branches: Vec<Branch>,
    /// The merge's own work per sample (additions, for `add`).
    pub macs: usize,
    /// The largest of the branches'.
    pub receptive_field: [usize; 2],
}

/// One branch of a block: its items in order (none: the identity).
pub struct Branch {
    /// `"5.0"`
    pub name: String,
    pub nodes: Vec<Node>,
    pub output: Shape,
}

impl Branch {
    pub fn params(&self) -> usize {
        self.nodes.iter().map(Node::params).sum()
    }

    pub fn macs(&self) -> usize {
        self.nodes
            .iter()
            .map(Node::macs)
            .fold(0, usize::saturating_add)
    }
}

/// Resolved window of a conv or pool: kernel, stride, padding
/// (top, bottom, left, right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub pad: (usize, usize, usize, usize),
}

/// `init = ...`: how a weight is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    Default,
    He,
    Xavier,
    Lecun,
}

/// A parameter or buffer tensor of a layer.
pub struct Tensor {
    /// `"weight"`, `"bias"`, `"running_mean"`, …
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub fill: Fill,
    /// An integer count (`num_batches_tracked`), saved as `int64`.
    pub count: bool,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// A float tensor.
    pub fn new(suffix: &'static str, shape: Vec<usize>, fill: Fill) -> Self {
        Tensor {
            suffix,
            shape,
            fill,
            count: false,
        }
    }
}

/// How a tensor starts.
pub enum Fill {
    /// Normal draws with this scheme and these fans.
    Normal {
        init: Init,
        fan_in: usize,
        fan_out: usize,
    },
    Zeros,
    Constant(f32),
}

/// What a layer runs as.
pub enum Runtime {
    /// Nothing: the output is the input seen with another shape, in the
    /// same activation slot (`flatten`).
    View,
    /// A type implementing `nn_runtime`'s `Layer`, and the items it needs
    /// (a geometry type, say), emitted once beside the network.
    Layer { ty: TokenStream, items: TokenStream },
}

pub struct Layer {
    /// The given name or the item's index; set by the checker.
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    pub tensors: Vec<Tensor>,
    /// Named buffers (saved, not trained), at the start of the layer's
    /// buffer floats.
    pub buffers: Vec<Tensor>,
    /// All the buffer floats the runtime layer keeps (`Layer::BUFFERS`):
    /// the named ones and what forward leaves for backward.
    pub buffer_len: usize,
    /// Floats the runtime layer derives from its parameters for inference
    /// (`Layer::PREPARED`: a conv's Winograd-transformed kernels).
    pub prepared: usize,
    /// Floats per sample the runtime layer keeps for backward in a slot of
    /// its own (`Layer::SAVED`: a recurrent layer's states).
    pub saved: usize,
    /// Multiply-adds per sample.
    pub macs: usize,
    /// The window, for the receptive field.
    pub window: Option<Window>,
    /// Set by the checker.
    pub receptive_field: [usize; 2],
    /// For the summary: `conv 5x5 stride 1 pad 2`.
    pub description: String,
    /// Its backward reads its input (`Layer::READS_INPUT`), which training
    /// then keeps until that backward has run.
    pub reads_input: bool,
    /// Its backward reads its own output (`Layer::READS_OUTPUT`), so a block
    /// may not write the merged output over it.
    pub reads_output: bool,
    /// The runtime types that also apply a `relu` right before the layer
    /// (a max pool's), so that the network need not run that ReLU: in
    /// every pass, and in every pass but inference, where a conv before
    /// the ReLU applies it.
    pub takes_relu: Option<[TokenStream; 2]>,
    /// Its part in inference's fusion of a conv with what follows it.
    pub fuse: Fuse,
    /// It takes an output stride (`Layer::STRIDED`): as a `concat` branch's
    /// last layer, it writes its part of the block's output itself.
    pub strided: bool,
    /// It can run in place (`Layer::IN_PLACE`): its output over its input,
    /// its backward working from the output alone.
    pub in_place: bool,
    pub runtime: Runtime,
}

/// A conv runs the batch norm (in evaluation) and ReLU that follow it as
/// part of its own pass in inference (`Conv2d::infer`): which layers can.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fuse {
    #[default]
    None,
    Conv,
    Norm,
    Relu,
}

impl Layer {
    /// A layer without parameters or window; the builder methods add them.
    pub fn new(input: Shape, output: Shape, description: String, runtime: Runtime) -> Self {
        Layer {
            name: String::new(),
            input,
            output,
            tensors: Vec::new(),
            buffers: Vec::new(),
            buffer_len: 0,
            prepared: 0,
            saved: 0,
            macs: 0,
            window: None,
            receptive_field: [0, 0],
            description,
            reads_input: true,
            reads_output: false,
            takes_relu: None,
            fuse: Fuse::None,
            strided: false,
            in_place: false,
            runtime,
        }
    }

    /// Marks a layer that takes an output stride.
    pub fn strided(mut self) -> Self {
        self.strided = true;
        self
    }

    /// Marks a layer that a conv can take into its inference pass.
    pub fn fuse(mut self, fuse: Fuse) -> Self {
        self.fuse = fuse;
        self
    }

    /// Marks a layer that can run in place.
    pub fn in_place(mut self) -> Self {
        self.in_place = true;
        self
    }

    /// Marks a layer whose backward reads its own output.
    pub fn reads_output(mut self) -> Self {
        self.reads_output = true;
        self
    }

    /// Marks a layer whose backward does not read its input.
    pub fn reads_no_input(mut self) -> Self {
        self.reads_input = false;
        self
    }

    /// The runtime types of the layer with the `relu` before it taken in,
    /// in every pass and in every pass but inference.
    pub fn takes_relu(mut self, types: [TokenStream; 2]) -> Self {
        self.takes_relu = Some(types);
        self
    }

    pub fn tensors(mut self, tensors: Vec<Tensor>) -> Self {
        self.tensors = tensors;
        self
    }

    /// Named buffers, and the runtime layer's total buffer floats.
    pub fn buffers(mut self, buffers: Vec<Tensor>, buffer_len: usize) -> Self {
        self.buffers = buffers;
        self.buffer_len = buffer_len;
        self
    }

    /// The runtime layer's prepared floats (`Layer::PREPARED`).
    pub fn prepared(mut self, prepared: usize) -> Self {
        self.prepared = prepared;
        self
    }

    /// The runtime layer's saved floats per sample (`Layer::SAVED`).
    pub fn saved(mut self, saved: usize) -> Self {
        self.saved = saved;
        self
    }

    pub fn macs(mut self, macs: usize) -> Self {
        self.macs = macs;
        self
    }

    pub fn window(mut self, window: Window) -> Self {
        self.window = Some(window);
        self
    }

    pub fn params(&self) -> usize {
        self.tensors.iter().map(Tensor::len).sum()
    }
}
