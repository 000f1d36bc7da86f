//! Runtime of `nn`: the layers, the [`Network`] trait that the `network!`
//! macro's generated code implements, and what training needs around it
//! (losses, optimizers, schedules, batching, data, the trainer, weights,
//! parallel inference).
//!
//! Everything works on flat `f32` slices in PyTorch layouts (`[B, C, H, W]`,
//! batch first, row-major). Sizes are constants, so each layer instance is
//! monomorphised with the numbers the macro computed.
//!
//! The compute kernels and the test helpers are internal; the `internals`
//! feature makes them public for this workspace's benchmarks and tests.
//!
//! Programs depend on the `nn-shapes` package, whose library `nn`
//! re-exports these modules (`nn::loss`, `nn::optim`, `nn::train`, …). The
//! examples here are written as they read there, `use nn::optim::Sgd`, with
//! a hidden first line, `extern crate nn_runtime as nn;`, that lets this
//! crate's doctests run them.
#![deny(unsafe_code)]
#![warn(missing_docs)]
// Kernels take every size of their op as an argument, as sgemm does; grouping
// them into structs would only rename the arguments.
#![allow(clippy::too_many_arguments)]

pub mod batch;
pub mod data;
#[doc(hidden)]
pub mod init;
// Behind `internals` the kernels and test helpers are public for the
// workspace's benchmarks and tests only, not as an API to document.
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod kernels;
#[cfg(not(feature = "internals"))]
mod kernels;
#[doc(hidden)]
pub mod layers;
pub mod loss;
pub mod metrics;
pub mod network;
pub mod optim;
pub mod parallel;
pub mod schedule;
pub mod summary;
mod team;
#[cfg(feature = "internals")]
#[allow(missing_docs)]
pub mod testing;
#[cfg(all(test, not(feature = "internals")))]
mod testing;
pub mod train;
pub mod typed;
pub mod weights;

pub use layers::{ConvPlan, Lowering, Mode, Strategy};
pub use network::{Network, TakesInput, TensorInfo};
pub use summary::{LayerInfo, Role, Summary};
pub use typed::{FloatArray, Sample};

/// What the `network!` macro's generated code names, through the facade's
/// hidden `__private` module. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::init::Init;
    pub use crate::layers::*;
    pub use crate::network::{
        max_of, split_reading_two, split_slots, split_three, Generated, Layout, State,
    };
    pub use crate::summary::Role;
    pub use crate::typed::{Count, Sample, SampleLen, Unknown};
    pub use generic_array::typenum;
    pub use rand_chacha::ChaCha8Rng;
}
