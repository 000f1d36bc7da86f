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
    pub layers: Vec<Layer>,
}

impl Network {
    pub fn output(&self) -> Shape {
        self.layers.last().map_or(self.input, |l| l.output)
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

/// A parameter tensor of a layer.
pub struct Tensor {
    /// `"weight"` or `"bias"`
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub fill: Fill,
}

impl Tensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
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
    /// Multiply-adds per sample.
    pub macs: usize,
    /// The window, for the receptive field.
    pub window: Option<Window>,
    /// Set by the checker.
    pub receptive_field: [usize; 2],
    /// For the summary: `conv 5x5 stride 1 pad 2`.
    pub description: String,
    pub runtime: Runtime,
}

impl Layer {
    /// A layer without parameters or window; the builder methods add them.
    pub fn new(input: Shape, output: Shape, description: String, runtime: Runtime) -> Self {
        Layer {
            name: String::new(),
            input,
            output,
            tensors: Vec::new(),
            macs: 0,
            window: None,
            receptive_field: [0, 0],
            description,
            runtime,
        }
    }

    pub fn tensors(mut self, tensors: Vec<Tensor>) -> Self {
        self.tensors = tensors;
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
