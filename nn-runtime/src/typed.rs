//! Samples and outputs typed by their length, so that a sample of the wrong
//! size for a network is a compile error that shows both numbers.
//!
//! A network's typed entry points ([`Network::predict_sample`],
//! [`Network::predict_sample_class`], [`Network::predict_samples`],
//! [`Network::predict_sample_classes`]) take any [`Sample`] of the network:
//!
//! - `[f32; N]`, where `network!` checks `N` against the input shape while
//!   the program compiles: a 756-float array given to a network of
//!   `[1, 28, 28]` inputs is refused with "`Net` takes samples of 784
//!   values, but this one has 756";
//! - `[f32]` and `Vec<f32>`, for data whose length is only known when the
//!   program runs: checked then, with a panic at the caller's line;
//! - a reference or a `Box` of a sample, checked as the sample is.
//!
//! The outputs are `&[f32; M]` ([`Network::OutputArray`]), `M` the values
//! of the output shape.
//!
//! Why a trait over the sample's type rather than a `&[f32; N]` parameter:
//! with `N` a parameter of the method, rustc settles it from the network's
//! only length before it looks at the argument, and reports "expected
//! `784`, found `756`" as a type mismatch; with the sample's type as the
//! parameter, it looks at the argument first and then reports the
//! unfulfilled [`SampleLen`] with its message.

use crate::network::Network;

/// A sample `Net` can take: `[f32; N]` with `N` its input length (checked
/// while compiling), or `[f32]` and `Vec<f32>` (checked when it runs).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sample of `{Net}`",
    label = "not a sample of `{Net}`",
    note = "a sample is an `[f32; N]` array, `N` being the values of the network's input shape, or an `[f32]` slice or `Vec<f32>` checked when the program runs"
)]
pub trait Sample<Net: ?Sized> {
    /// The sample's values.
    fn values(&self) -> &[f32];

    /// The values of `samples`, one after the other, where they are laid
    /// out so (arrays); `None` otherwise.
    fn flat(samples: &[Self]) -> Option<&[f32]>
    where
        Self: Sized,
    {
        let _ = samples;
        None
    }
}

impl<Net: Network> Sample<Net> for [f32] {
    fn values(&self) -> &[f32] {
        self
    }
}

impl<Net: Network> Sample<Net> for Vec<f32> {
    fn values(&self) -> &[f32] {
        self
    }
}

/// A reference to a sample is a sample (`&&[f32]`, a batch of `&[f32; N]`
/// references): its values are the sample's. A batch of references is not
/// laid out as one run of values, so it goes a sample at a time, as a
/// batch of `Vec`s does.
impl<Net: ?Sized, T: Sample<Net> + ?Sized> Sample<Net> for &T {
    fn values(&self) -> &[f32] {
        (**self).values()
    }
}

/// A boxed sample is a sample (`Box<[f32; N]>`, `Box<[f32]>`), batches of
/// them going a sample at a time.
impl<Net: ?Sized, T: Sample<Net> + ?Sized> Sample<Net> for Box<T> {
    fn values(&self) -> &[f32] {
        (**self).values()
    }
}

/// Holds when `WANT == GOT`: what `network!` requires of an `[f32; GOT]`
/// sample of a network whose input holds `WANT` values, so that a mismatch
/// is reported with both numbers.
#[diagnostic::on_unimplemented(
    message = "`{Net}` takes samples of {WANT} values, but this one has {GOT}",
    label = "a sample of {GOT} values",
    note = "`{Net}`'s input shape holds {WANT} values (`{Net}::INPUT_LEN`); give it an `[f32; {WANT}]`"
)]
pub trait SampleLen<Net: ?Sized, const WANT: usize, const GOT: usize> {}

impl<Net: ?Sized, const N: usize> SampleLen<Net, N, N> for () {}

/// A fixed-length array of floats: a network's typed output.
pub trait FloatArray: Sized + 'static {
    /// Its length.
    const LEN: usize;

    /// `values` as an array.
    ///
    /// # Panics
    /// If `values.len() != LEN`.
    fn from_values(values: &[f32]) -> &Self;

    /// The floats of `arrays`, one array after the other.
    fn flat_mut(arrays: &mut [Self]) -> &mut [f32];
}

impl<const N: usize> FloatArray for [f32; N] {
    const LEN: usize = N;

    #[track_caller]
    fn from_values(values: &[f32]) -> &Self {
        values
            .try_into()
            .unwrap_or_else(|_| panic!("an output of {N} values, but {} were given", values.len()))
    }

    fn flat_mut(arrays: &mut [Self]) -> &mut [f32] {
        arrays.as_flattened_mut()
    }
}

/// A number known while the program compiles, as a type: a network's
/// outputs ([`Generated::Outputs`](crate::network::Generated)) and
/// parameters, and the sizes that a typed loss ([`loss::Outputs`]) or
/// optimizer ([`optim::Params`]) was built for.
///
/// [`loss::Outputs`]: crate::loss::Outputs
/// [`optim::Params`]: crate::optim::Params
pub struct Count<const N: usize>;

/// The size of a loss or optimizer that was not given one: it fits every
/// network, and its sizes are checked when the program runs.
pub struct Unchecked;

/// The sizes of a network whose definition did not compile: every typed
/// loss and optimizer fits it, so that the code using it raises no errors
/// beside the definition's own.
#[doc(hidden)]
pub struct Unknown;

/// Holds when a loss of outputs `Self` (`Count<N>` or [`Unchecked`]) fits
/// the network `Net` of outputs `Has` (its `Net::Outputs`).
pub trait OutputsFit<Net: ?Sized, Has> {}

impl<Net: ?Sized, Has> OutputsFit<Net, Has> for Unchecked {}

impl<Net: ?Sized, const WANT: usize> OutputsFit<Net, Unknown> for Count<WANT> {}

impl<Net: ?Sized, const WANT: usize, const GOT: usize> OutputsFit<Net, Count<GOT>> for Count<WANT> where
    (): LossOutputs<Net, WANT, GOT>
{
}

/// Holds when `WANT == GOT`: what a loss built for `WANT` outputs requires
/// of a network of `GOT` outputs, so that a mismatch is reported with both
/// numbers.
#[diagnostic::on_unimplemented(
    message = "this loss expects {WANT} outputs, but `{Net}` has {GOT}",
    label = "`{Net}`'s output has {GOT} values",
    note = "the loss was built with `.outputs::<{WANT}>()`; `{Net}::OUTPUT_LEN` is {GOT}: build it with `.outputs::<{GOT}>()`, or without `.outputs` to check the outputs when the program runs"
)]
pub trait LossOutputs<Net: ?Sized, const WANT: usize, const GOT: usize> {}

impl<Net: ?Sized, const N: usize> LossOutputs<Net, N, N> for () {}

/// Holds when an optimizer of parameters `Self` (`Count<N>` or
/// [`Unchecked`]) fits the network `Net` of parameters `Has` (its
/// `Net::Params`).
pub trait ParamsFit<Net: ?Sized, Has> {}

impl<Net: ?Sized, Has> ParamsFit<Net, Has> for Unchecked {}

impl<Net: ?Sized, const WANT: usize> ParamsFit<Net, Unknown> for Count<WANT> {}

impl<Net: ?Sized, const WANT: usize, const GOT: usize> ParamsFit<Net, Count<GOT>> for Count<WANT> where
    (): OptimizerParams<Net, WANT, GOT>
{
}

/// Holds when `WANT == GOT`: what an optimizer built for `WANT` parameters
/// requires of a network of `GOT` parameters, so that a mismatch is
/// reported with both numbers.
#[diagnostic::on_unimplemented(
    message = "this optimizer is for {WANT} parameters, but `{Net}` has {GOT}",
    label = "`{Net}` has {GOT} parameters",
    note = "the optimizer was built with `.params::<{WANT}>()`; `{Net}` has {GOT} parameters (`{Net}::PARAM_COUNT`): build it with `.params::<{{ {Net}::PARAM_COUNT }}>()`"
)]
pub trait OptimizerParams<Net: ?Sized, const WANT: usize, const GOT: usize> {}

impl<Net: ?Sized, const N: usize> OptimizerParams<Net, N, N> for () {}

/// Holds when a data set of target width `Self` (`Count<W>` for
/// `[f32; W]` targets, [`Unchecked`] otherwise) fits the network `Net` of
/// outputs `Has` (its `Net::Outputs`).
pub trait TargetsFit<Net: ?Sized, Has> {}

impl<Net: ?Sized, Has> TargetsFit<Net, Has> for Unchecked {}

impl<Net: ?Sized, const WANT: usize> TargetsFit<Net, Unknown> for Count<WANT> {}

impl<Net: ?Sized, const WANT: usize, const GOT: usize> TargetsFit<Net, Count<GOT>> for Count<WANT> where
    (): TargetWidth<Net, WANT, GOT>
{
}

/// Holds when `WANT == GOT`: what a data set of `[f32; WANT]` targets
/// requires of a network of `GOT` outputs, so that a mismatch is reported
/// with both numbers.
#[diagnostic::on_unimplemented(
    message = "this data set's targets have {WANT} values, but `{Net}`'s output has {GOT}",
    label = "`{Net}`'s output has {GOT} values",
    note = "the data set holds `[f32; {WANT}]` targets; `{Net}::OUTPUT_LEN` is {GOT}: make it with `.typed::<{GOT}>()`, or keep it untyped (`Dataset<LEN, f32>`) to check the width when the program runs"
)]
pub trait TargetWidth<Net: ?Sized, const WANT: usize, const GOT: usize> {}

impl<Net: ?Sized, const N: usize> TargetWidth<Net, N, N> for () {}
