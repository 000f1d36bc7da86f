//! Optimizers: SGD (with momentum, dampening and Nesterov as
//! options), Adagrad, RMSprop, Adam and AdamW, each in its own file with its
//! update rule.
//!
//! Every optimizer implements [`Optimizer`]: `step` updates a flat parameter
//! vector in place from its gradient, and [`OptimizerState`] holds all it
//! needs to resume (step count, moments, velocities).
//!
//! # Numerics
//!
//! The updates are PyTorch's `torch.optim` single-tensor implementations
//! (`_single_tensor_sgd`, `_single_tensor_adam`, …), computed the same way:
//!
//! - Hyperparameters other than the learning rate are `f64`, as PyTorch's
//!   Python floats are. Per-step scalars (Adam's bias corrections, Adagrad's
//!   decayed rate) are computed in `f64` and rounded to `f32` where PyTorch's
//!   kernels round them. The learning rate is `f32`, as schedules produce it.
//! - Per-element arithmetic is `f32`, in PyTorch's order of operations.
//!   PyTorch's CPU kernels fuse `a + α·b` (`add` with `alpha`), `addcmul` and
//!   `lerp` into single-rounding multiply-adds, so the same terms here use
//!   [`f32::mul_add`]; `addcdiv` computes `a + (α·b)/c` unfused.
//! - The one known difference is the square root: ours is IEEE's, correctly
//!   rounded; PyTorch's CPU builds with MKL compute `float32` `sqrt` through
//!   MKL's vector math library, which is within one unit in the last place.
//!   SGD therefore matches PyTorch bit for bit. Adagrad, RMSprop and Adam
//!   match bit for bit PyTorch's code run with correctly rounded square
//!   roots, and PyTorch as it is to about 1e-7 relative, the parameters
//!   drifting apart by a fraction of a unit in the last place
//!   (`tests/optim.rs` checks both).
//!
//! # Memory
//!
//! State buffers are allocated at the first `step` (or earlier, by each
//! optimizer's `with_len`); later steps allocate nothing. An optimizer
//! serves one parameter vector: stepping it with a different length panics.
//!
//! # Examples
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::optim::{Adam, Optimizer};
//!
//! // minimise f(w) = Σ (w_i − 1)², gradient 2(w − 1)
//! let mut w = vec![3.0f32, -2.0, 0.5];
//! let mut grad = vec![0.0f32; 3];
//! let mut opt = Adam::new(0.1);
//! for _ in 0..300 {
//!     for (g, &x) in grad.iter_mut().zip(&w) {
//!         *g = 2.0 * (x - 1.0);
//!     }
//!     opt.step(&mut w, &grad);
//! }
//! assert!(w.iter().all(|x| (x - 1.0).abs() < 1e-2));
//! ```

/// Implements [`Optimizer`], and the `with_len` option, for `$ty` from its
/// [`Rule`]: `$ty` itself, or the field `$ty.$field` of a wrapper. The rule
/// keeps the learning rate in a field `lr`.
macro_rules! optimizer {
    ($ty:ident $(. $field:tt)?) => {
        impl $ty {
            /// Allocates the state for `n` parameters now rather than at the
            /// first step ([`Optimizer::reserve`](crate::optim::Optimizer::reserve)).
            /// Call it after the other options.
            pub fn with_len(mut self, n: usize) -> Self {
                $crate::optim::Optimizer::reserve(&mut self, n);
                self
            }
        }

        impl $crate::optim::Optimizer for $ty {
            fn step(&mut self, params: &mut [f32], grads: &[f32]) {
                $crate::optim::step(&mut (*self)$(.$field)?, params, grads);
            }

            fn reserve(&mut self, n: usize) {
                $crate::optim::allocate(&mut (*self)$(.$field)?, n);
            }

            fn learning_rate(&self) -> f32 {
                self$(.$field)?.lr
            }

            #[track_caller]
            fn set_learning_rate(&mut self, lr: f32) {
                use $crate::optim::Rule as _;
                let kind = self$(.$field)?.kind();
                self$(.$field)?.lr = $crate::optim::learning_rate(kind, lr);
            }

            fn state(&self) -> $crate::optim::OptimizerState {
                $crate::optim::save(&(*self)$(.$field)?)
            }

            fn load_state(
                &mut self,
                state: &$crate::optim::OptimizerState,
            ) -> Result<(), $crate::optim::StateError> {
                $crate::optim::load(&mut (*self)$(.$field)?, state)
            }
        }
    };
}

mod adagrad;
mod adam;
mod rmsprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

/// An optimizer: updates parameters in place from their gradients and owns
/// its state (velocities, moment estimates, step count).
pub trait Optimizer: Send {
    /// Applies one update to `params` from `grads` (same length). The first
    /// call allocates the state buffers; later calls allocate nothing.
    fn step(&mut self, params: &mut [f32], grads: &[f32]);

    /// The current learning rate: the one given to the constructor until
    /// [`set_learning_rate`](Optimizer::set_learning_rate) changes it. The
    /// constructor's rate is the base rate that a
    /// [`Schedule`](crate::schedule::Schedule) scales.
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate used from the next step on (e.g. a
    /// [`Schedule`](crate::schedule::Schedule)'s rate for the base rate,
    /// which the caller keeps: the trainer takes it from the optimizer when
    /// it is built).
    ///
    /// # Panics
    /// If `lr` is negative, NaN or infinite (it would train uphill, or
    /// make every weight NaN).
    fn set_learning_rate(&mut self, lr: f32);

    /// A copy of everything needed to resume: step count and buffers.
    fn state(&self) -> OptimizerState;

    /// Restores a state taken by [`state`](Optimizer::state) from an
    /// optimizer of the same kind and configuration. Checks the kind, the
    /// buffer names and their lengths, and says what differs; on error the
    /// optimizer is left as it was.
    fn load_state(&mut self, state: &OptimizerState) -> Result<(), StateError>;

    /// Allocates the state for `n` parameters now rather than at the first
    /// step (nothing, for an optimizer without state or of your own that
    /// does not say).
    fn reserve(&mut self, n: usize) {
        let _ = n;
    }

    /// This optimizer for networks of `N` parameters only, its state
    /// allocated now: the trainer refuses, while the program compiles, a
    /// network of another number ("this optimizer is for 44426 parameters,
    /// but `Net` has 3194"). Give it the network's constant:
    /// `.params::<{ Net::PARAM_COUNT }>()`.
    ///
    /// ```
    /// # extern crate nn_runtime as nn;
    /// use nn::optim::{Adam, Optimizer};
    ///
    /// let mut adam = Adam::new(0.1).params::<3>();
    /// // it is still the optimizer, through `Deref`
    /// let mut w = [1.0f32, 2.0, 3.0];
    /// adam.step(&mut w, &[1.0, 1.0, 1.0]);
    /// assert!(w[0] < 1.0);
    /// ```
    fn params<const N: usize>(mut self) -> Params<Self, N>
    where
        Self: Sized,
    {
        self.reserve(N);
        Params(self)
    }
}

/// The optimizer `O` for networks of `N` parameters: pairing it with a
/// network of another number of parameters does not compile. Made by
/// [`Optimizer::params`]; it derefs to `O`.
#[derive(Clone, Debug)]
pub struct Params<O, const N: usize>(pub O);

impl<O, const N: usize> core::ops::Deref for Params<O, N> {
    type Target = O;
    fn deref(&self) -> &O {
        &self.0
    }
}

impl<O, const N: usize> core::ops::DerefMut for Params<O, N> {
    fn deref_mut(&mut self) -> &mut O {
        &mut self.0
    }
}

/// What the trainer updates the parameters with: an [`Optimizer`], whose
/// parameter count is checked when the program runs, or one typed by its
/// parameter count ([`Params`]), checked against the network while it
/// compiles.
///
/// Every `Optimizer` is one (of [`Unchecked`] parameters); an optimizer of
/// your own needs nothing more.
///
/// [`Unchecked`]: crate::typed::Unchecked
pub trait Optimization: Send {
    /// The optimizer.
    type Optimizer: Optimizer;
    /// The parameters it was built for: `Count<N>`, or
    /// [`Unchecked`](crate::typed::Unchecked).
    type Params;
    /// The optimizer itself.
    fn as_optimizer(&self) -> &Self::Optimizer;
    /// The optimizer itself, to step or to set its rate.
    fn as_optimizer_mut(&mut self) -> &mut Self::Optimizer;
}

impl<O: Optimizer> Optimization for O {
    type Optimizer = O;
    type Params = crate::typed::Unchecked;
    fn as_optimizer(&self) -> &O {
        self
    }
    fn as_optimizer_mut(&mut self) -> &mut O {
        self
    }
}

impl<O: Optimizer, const N: usize> Optimization for Params<O, N> {
    type Optimizer = O;
    type Params = crate::typed::Count<N>;
    fn as_optimizer(&self) -> &O {
        &self.0
    }
    fn as_optimizer_mut(&mut self) -> &mut O {
        &mut self.0
    }
}

/// Everything an optimizer needs to resume exactly where it stopped.
///
/// Buffer names are PyTorch's state keys (`momentum_buffer`, `sum`,
/// `square_avg`, `grad_avg`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`);
/// each buffer holds one value per parameter, and is empty before the first
/// step.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// Which optimizer wrote it: `sgd`, `adagrad`, `rmsprop`, `adam`, `adamw`.
    pub kind: String,
    /// Number of steps taken.
    pub steps: u64,
    /// Named buffers, in the optimizer's fixed order.
    pub buffers: Vec<(String, Vec<f32>)>,
}

/// Why [`Optimizer::load_state`] refused a state: what differs between the
/// state and the optimizer, with both sides.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The state was taken from another kind of optimizer.
    #[error("state is from a `{found}` optimizer, this one is `{expected}`")]
    Kind {
        /// This optimizer's kind.
        expected: &'static str,
        /// The state's.
        found: String,
    },
    /// The state's buffers are not the ones this optimizer's configuration
    /// uses (e.g. one has momentum or amsgrad and the other not).
    #[error(
        "`{kind}` state has buffers [{}], this optimizer's configuration has [{}]",
        found.join(", "),
        expected.join(", ")
    )]
    Buffers {
        /// The optimizer's kind (`sgd`, `adam`, …).
        kind: &'static str,
        /// This optimizer's buffer names, in order.
        expected: Vec<&'static str>,
        /// The state's.
        found: Vec<String>,
    },
    /// Two buffers of the state differ in length: the state is damaged.
    #[error("`{kind}` state: buffer `{name}` has {len} values, buffer `{first}` has {first_len}")]
    UnevenBuffers {
        /// The optimizer's kind.
        kind: &'static str,
        /// The buffer whose length differs from the first's.
        name: String,
        /// Its length.
        len: usize,
        /// The state's first buffer.
        first: String,
        /// Its length.
        first_len: usize,
    },
    /// The state is for another number of parameters than this optimizer,
    /// whose buffers are already allocated.
    #[error(
        "`{kind}` state: buffer `{name}` has {len} values, \
         this optimizer's parameters have {params}"
    )]
    ParamCount {
        /// The optimizer's kind.
        kind: &'static str,
        /// The state's buffer.
        name: String,
        /// Its length.
        len: usize,
        /// The length of this optimizer's buffers: its parameter count.
        params: usize,
    },
}

/// PyTorch's `lerp` (`ATen/native/Lerp.h`): `start + weight·(end − start)`
/// for `|weight| < 0.5`, else `end − (end − start)·(1 − weight)`, each form
/// one fused multiply-add, as PyTorch's CPU kernel computes it.
pub(crate) fn lerp(start: f32, end: f32, weight: f32) -> f32 {
    if weight.abs() < 0.5 {
        weight.mul_add(end - start, start)
    } else {
        (-(end - start)).mul_add(1.0 - weight, end)
    }
}

/// An optimizer's own part: its update rule and the buffers it keeps. The
/// rest is shared: [`step`] checks the lengths, allocates the buffers and
/// counts the step around [`update`](Rule::update); [`save`] and [`load`]
/// copy the state out and in.
pub(crate) trait Rule: Clone {
    /// Its [`OptimizerState::kind`]: `sgd`, `adagrad`, …
    fn kind(&self) -> &'static str;

    /// The steps taken.
    fn steps(&mut self) -> &mut u64;

    /// The buffers its configuration uses, with PyTorch's state names in
    /// PyTorch's order, each empty until allocated.
    fn buffers(&mut self) -> impl Iterator<Item = (&'static str, &mut Vec<f32>)>;

    /// The value every buffer starts at.
    fn initial_value(&self) -> f32 {
        0.0
    }

    /// One update of `params` from `grads`: they have the same length, the
    /// buffers hold one value per parameter, and [`steps`](Rule::steps)
    /// counts this step. Implementations are `#[inline(always)]`, so that
    /// [`step`] compiles them vectorised.
    fn update(&mut self, params: &mut [f32], grads: &[f32]);
}

/// One step of `rule`, compiled for the CPU's vector unit (see
/// [`vectorized`](crate::kernels::simd::vectorized)).
#[inline(always)]
pub(crate) fn step<R: Rule>(rule: &mut R, params: &mut [f32], grads: &[f32]) {
    crate::kernels::simd::vectorized(
        #[inline(always)]
        || {
            assert_eq!(
                params.len(),
                grads.len(),
                "{}: params and grads differ in length",
                rule.kind()
            );
            allocate(rule, params.len());
            *rule.steps() += 1;
            rule.update(params, grads);
        },
    )
}

/// Makes every buffer of `rule` hold one value per parameter (see
/// [`ensure_len`]).
pub(crate) fn allocate<R: Rule>(rule: &mut R, n: usize) {
    let (kind, init) = (rule.kind(), rule.initial_value());
    for (name, buf) in rule.buffers() {
        ensure_len(buf, n, init, kind, name);
    }
}

/// Makes `buf` hold one value per parameter: allocates it filled with
/// `init` while it is still empty, and panics if it was sized for a
/// different parameter count.
fn ensure_len(buf: &mut Vec<f32>, n: usize, init: f32, kind: &str, name: &str) {
    if buf.len() != n {
        assert!(
            buf.is_empty(),
            "{kind}: `{name}` holds {} values but the parameters have {n}; \
             one optimizer serves one parameter vector",
            buf.len()
        );
        *buf = vec![init; n];
    }
}

/// `lr`, checked to be a learning rate: finite and at least 0.
#[track_caller]
pub(crate) fn learning_rate(kind: &str, lr: f32) -> f32 {
    assert!(
        lr.is_finite() && lr >= 0.0,
        "{kind}: invalid learning rate {lr} (it must be finite and at least 0)"
    );
    lr
}

/// `value` of option `option` of optimizer `kind`, checked to be at least 0
/// (so not NaN either).
#[track_caller]
pub(crate) fn non_negative<T: PartialOrd + Default + std::fmt::Display>(
    kind: &str,
    option: &str,
    value: T,
) -> T {
    assert!(value >= T::default(), "{kind}: invalid {option} {value}");
    value
}

/// Copies the state of `rule` out: kind, steps and buffers.
pub(crate) fn save<R: Rule>(rule: &R) -> OptimizerState {
    // `buffers` lends them mutably only, so they are taken from a copy
    let mut copy = rule.clone();
    OptimizerState {
        kind: copy.kind().to_string(),
        steps: *copy.steps(),
        buffers: copy
            .buffers()
            .map(|(name, buf)| (name.to_string(), std::mem::take(buf)))
            .collect(),
    }
}

/// Restores the buffers of `rule` from `state` (see [`load_buffers`]), then
/// its step count.
pub(crate) fn load<R: Rule>(rule: &mut R, state: &OptimizerState) -> Result<(), StateError> {
    let kind = rule.kind();
    let mut buffers: Vec<_> = rule.buffers().collect();
    load_buffers(kind, &mut buffers, state)?;
    *rule.steps() = state.steps;
    Ok(())
}

/// Checks `state` against an optimizer of `kind` whose buffers are
/// `buffers` (names in order, with their current contents), then copies the
/// state's buffers in. Buffers that are still empty take the state's length;
/// allocated ones must already have it.
fn load_buffers(
    kind: &'static str,
    buffers: &mut [(&'static str, &mut Vec<f32>)],
    state: &OptimizerState,
) -> Result<(), StateError> {
    if state.kind != kind {
        return Err(StateError::Kind {
            expected: kind,
            found: state.kind.clone(),
        });
    }
    let expected: Vec<&'static str> = buffers.iter().map(|(name, _)| *name).collect();
    if !expected
        .iter()
        .eq(state.buffers.iter().map(|(name, _)| name))
    {
        return Err(StateError::Buffers {
            kind,
            expected,
            found: state.buffers.iter().map(|(name, _)| name.clone()).collect(),
        });
    }
    // every buffer holds one value per parameter: the state's must agree
    // with each other and with any buffer already allocated here
    let own = buffers.iter().map(|(_, b)| b.len()).find(|&n| n > 0);
    if let Some((first, first_buf)) = state.buffers.first() {
        for (name, buf) in &state.buffers {
            if buf.len() != first_buf.len() {
                return Err(StateError::UnevenBuffers {
                    kind,
                    name: name.clone(),
                    len: buf.len(),
                    first: first.clone(),
                    first_len: first_buf.len(),
                });
            }
            if let Some(params) = own.filter(|&n| n != buf.len()) {
                return Err(StateError::ParamCount {
                    kind,
                    name: name.clone(),
                    len: buf.len(),
                    params,
                });
            }
        }
    }
    for ((_, dst), (_, src)) in buffers.iter_mut().zip(&state.buffers) {
        dst.clear();
        dst.extend_from_slice(src);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_takes_the_form_for_the_weight() {
        // small weight: start + w·(end − start)
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        // large weight: end − (end − start)·(1 − w)
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        // both forms are exact at their own end
        assert_eq!(lerp(-2.0, 5.0, 0.0), -2.0);
        assert_eq!(lerp(-2.0, 5.0, 1.0), 5.0);
    }

    #[test]
    fn load_buffers_reports_kind_names_and_lengths() {
        let mut a = vec![0.0f32; 3];
        let mut b = vec![0.0f32; 3];
        let state = |kind: &str, bufs: &[(&str, usize)]| OptimizerState {
            kind: kind.into(),
            steps: 4,
            buffers: bufs
                .iter()
                .map(|&(n, len)| (n.to_string(), vec![1.0; len]))
                .collect(),
        };
        let mut own = [("a", &mut a), ("b", &mut b)];
        let mut refused = |state: OptimizerState, want: StateError, message: &str| {
            let err = load_buffers("adam", &mut own, &state).unwrap_err();
            assert_eq!(err, want);
            assert_eq!(err.to_string(), message);
        };
        refused(
            state("sgd", &[]),
            StateError::Kind {
                expected: "adam",
                found: "sgd".into(),
            },
            "state is from a `sgd` optimizer, this one is `adam`",
        );
        refused(
            state("adam", &[("a", 3)]),
            StateError::Buffers {
                kind: "adam",
                expected: vec!["a", "b"],
                found: vec!["a".into()],
            },
            "`adam` state has buffers [a], this optimizer's configuration has [a, b]",
        );
        refused(
            state("adam", &[("a", 3), ("b", 2)]),
            StateError::UnevenBuffers {
                kind: "adam",
                name: "b".into(),
                len: 2,
                first: "a".into(),
                first_len: 3,
            },
            "`adam` state: buffer `b` has 2 values, buffer `a` has 3",
        );
        refused(
            state("adam", &[("a", 5), ("b", 5)]),
            StateError::ParamCount {
                kind: "adam",
                name: "a".into(),
                len: 5,
                params: 3,
            },
            "`adam` state: buffer `a` has 5 values, this optimizer's parameters have 3",
        );
        load_buffers("adam", &mut own, &state("adam", &[("a", 3), ("b", 3)])).unwrap();
        assert_eq!(a, [1.0; 3]);
    }

    #[test]
    fn load_buffers_sizes_unallocated_buffers() {
        let mut a = Vec::new();
        let state = OptimizerState {
            kind: "sgd".into(),
            steps: 2,
            buffers: vec![("a".into(), vec![0.5, 1.5])],
        };
        load_buffers("sgd", &mut [("a", &mut a)], &state).unwrap();
        assert_eq!(a, [0.5, 1.5]);
    }
}
