//! What the checker proved: every layer with concrete input and output
//! shapes, resolved arguments, and its parameter tensors.

use crate::shape::Shape;
use syn::{Attribute, Ident, Visibility};

pub struct Network {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    Default,
    He,
    Xavier,
    Lecun,
}

pub enum Kind {
    Conv { window: Window, bias: bool },
    MaxPool { window: Window },
    AvgPool { window: Window },
    GlobalAvgPool,
    Flatten,
    Dense { out: usize, bias: bool },
    Relu,
    LeakyRelu { slope: f32 },
    Prelu,
    Sigmoid,
    Tanh,
    Softmax,
}

/// A parameter tensor of a layer.
pub struct Tensor {
    /// `"weight"` or `"bias"`
    pub suffix: &'static str,
    pub shape: Vec<usize>,
    pub fill: Fill,
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

pub struct Layer {
    /// The given name or the item's index.
    pub name: String,
    pub kind: Kind,
    pub input: Shape,
    pub output: Shape,
    pub tensors: Vec<Tensor>,
    pub macs: usize,
    pub receptive_field: [usize; 2],
    /// For the summary: `conv 5x5 stride 1 pad 2`.
    pub description: String,
    pub strategy: &'static str,
}

impl Layer {
    pub fn params(&self) -> usize {
        self.tensors
            .iter()
            .map(|t| t.shape.iter().product::<usize>())
            .sum()
    }
}
