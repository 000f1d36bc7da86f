//! Runtime of `nn`: the kernels, layers and the [`Network`] trait that the
//! `network!` macro's generated code calls.
//!
//! Everything here works on flat `f32` slices in PyTorch layouts
//! (`[B, C, H, W]`, batch first, row-major). Sizes are const generics, so each
//! layer instance is monomorphised with the numbers the macro computed.
#![deny(unsafe_code)]
// Kernels take every size of their op as an argument, as sgemm does; grouping
// them into structs would only rename the arguments.
#![allow(clippy::too_many_arguments)]

pub mod batch;
pub mod data;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod loss;
pub mod network;
pub mod optim;
pub mod parallel;
pub mod schedule;
pub mod summary;
mod team;
#[doc(hidden)]
pub mod testing;
pub mod train;
pub mod weights;

pub use generic_array;
pub use init::Init;
pub use layer::Layer;
pub use network::{Network, State, TakesInput, TensorInfo};
#[doc(hidden)]
pub use rand_chacha as __rand_chacha;
pub use summary::{LayerInfo, Summary};
pub use typenum;
