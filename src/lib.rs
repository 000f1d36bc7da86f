//! `nn`: convolutional networks whose shapes are checked while the program
//! compiles.
//!
//! Write a network with [`network!`]; every shape mistake is a compile error
//! that points at the layer and shows the numbers, and what compiles is
//! fixed-size code for forward and backward passes over batches.
//!
//! ```
//! use nn::prelude::*;
//!
//! nn::network! {
//!     /// A tiny digit classifier.
//!     pub struct Tiny<[1, 8, 8]> {
//!         conv(4, kernel = 3, pad = 1),   // [4, 8, 8]
//!         relu,
//!         max_pool(2),                    // [4, 4, 4]
//!         flatten,                        // [64]
//!         dense(10),
//!     }
//! }
//!
//! let mut net = Tiny::new(42);
//! assert_eq!(Tiny::PARAM_COUNT, 4 * (9 + 1) + 10 * (64 + 1));
//! let logits = net.forward(&[0.5; 64]).to_vec();
//! assert_eq!(logits.len(), 10);
//! net.backward(&[1.0; 10]);
//! assert_eq!(net.input_grad().len(), 64);
//! ```
//!
//! The package is `nn-shapes` and its library `nn`: a program depends on
//! `nn-shapes` and writes `nn::…`. The generated code reaches the runtime
//! through `::nn`, so the dependency must not be renamed. A network's passes are compiled in the crate that
//! defines it, and the kernels they call in the runtime: a debug build
//! that trains wants `[profile.dev] opt-level = 1` or more, and the
//! dependencies at `opt-level = 3` (the README has the figures).
#![warn(missing_docs)]

pub use nn_macros::network;
pub use nn_runtime::{
    batch, data, loss, metrics, optim, parallel, schedule, train, typed, weights, ConvPlan,
    FloatArray, LayerInfo, Lowering, Mode, Network, Role, Sample, Strategy, Summary, TakesInput,
    TensorInfo,
};

/// The `typenum` sizes of [`Network::InputLen`] and [`Network::OutputLen`]
/// (read one with `typenum::Unsigned::USIZE`).
pub use nn_runtime::__private::typenum;

#[doc = include_str!("../docs/dsl.md")]
pub mod dsl {}

/// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// What most programs need: the macro, the [`Network`] trait, and the
/// [`Loss`](loss::Loss) and [`Optimizer`](optim::Optimizer) traits, whose
/// `outputs` and `params` give a loss or an optimizer its size.
pub mod prelude {
    pub use crate::loss::Loss;
    pub use crate::optim::Optimizer;
    pub use crate::{network, FloatArray, Network, Sample, Summary, TakesInput};
}

/// What generated code calls. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use nn_runtime::__private::*;
    pub use nn_runtime::{LayerInfo, Network, Strategy, Summary, TakesInput, TensorInfo};
}
