//! The [`Network`] trait that every `network!` struct implements, and the
//! [`State`] it owns: flat parameter and gradient buffers and batch-major
//! activation buffers that are reused from step to step.
//!
//! Memory layout: parameters are one contiguous buffer in PyTorch's
//! `named_parameters()` order, gradients a buffer of the same length. The
//! activations of a batch of `B` are one buffer made of a slot per layer
//! output (the input is slot 0); slot `i` starts at `B · offset_i` and holds
//! `B` samples one after another, so each layer reads and writes contiguous
//! batch-major memory. The gradients of the activations mirror that buffer.
//! Buffers grow when a larger batch arrives and are never shrunk, so after the
//! first step of a given batch size no call allocates.
//!
//! Layer buffers (batch norm's running statistics, and what a layer's forward
//! pass leaves for its backward) are a third flat buffer, sized by the
//! network and independent of the batch.

use crate::layers::{Mode, Pass};
use crate::summary::{LayerInfo, Role, Summary};
use crate::typed::{FloatArray, Sample};
use generic_array::ArrayLength;
use rand::SeedableRng;

/// A named parameter tensor: its PyTorch name, shape and place in the flat
/// parameter buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// `"0.weight"`, `"c2.bias"`, …
    pub name: &'static str,
    /// PyTorch's layout: `[OC, C, KH, KW]` for conv weights, `[O, I]` for dense.
    pub shape: &'static [usize],
    /// Offset in [`Network::params`].
    pub offset: usize,
    /// Number of elements (the product of `shape`).
    pub len: usize,
    /// An integer count kept as an `f32` (batch norm's
    /// `num_batches_tracked`): saved as PyTorch's `int64`.
    pub count: bool,
}

/// A mini-batch's random draws (dropout masks) from a seed and a step count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Noise {
    seed: u64,
    /// Training passes so far: the next pass draws with key `(seed, step)`.
    step: u64,
    /// The key of the last forward pass, which its backward pass reuses.
    last: u64,
    /// Index of this network's first sample in the mini-batch (see
    /// [`Pass::first_sample`]).
    first_sample: usize,
}

impl Noise {
    fn key(seed: u64, step: u64) -> u64 {
        crate::kernels::dropout::mix(seed ^ crate::kernels::dropout::mix(step))
    }
}

/// The buffers of a network. Created by [`State::new`]; the generated struct
/// holds one.
#[derive(Clone)]
pub struct State {
    pub(crate) params: Box<[f32]>,
    /// What the layers derive from the parameters for inference
    /// (`Layer::prepare`), and whether the parameters may have changed
    /// since it was made: every `&mut` to them sets this.
    pub(crate) prepared: Box<[f32]>,
    prepared_stale: bool,
    /// What the network's own passes write.
    pub(crate) work: Work,
}

/// What a network's passes write, apart from its parameters: gradients,
/// buffers, activations and scratch. A network's [`State`] has one; so has
/// each thread of a trainer on several threads and of
/// [`crate::parallel::Replicas`], whose passes read the parameters (and
/// prepared values) of the one network they all borrow, so that the
/// parameters are held once however many threads run them.
#[derive(Clone)]
pub(crate) struct Work {
    pub(crate) grads: Box<[f32]>,
    buffers: Box<[f32]>,
    noise: Noise,
    acts: Vec<f32>,
    d_acts: Vec<f32>,
    scratch: Box<[f32]>,
    /// Batch of the last forward pass (what `backward` differentiates).
    batch: usize,
    /// Whether that pass kept what backward needs.
    backward_ready: bool,
    /// Whether the last backward pass computed the input gradient.
    input_grad_ready: bool,
    mode: Mode,
}

impl State {
    /// Buffers for network `N`, with parameters initialised from `seed`
    /// and room for [`Network::INFER_CHUNK`] samples (what `predict` needs
    /// in evaluation mode).
    pub fn new<N: Generated>(seed: u64) -> Self {
        let l = N::LAYOUT;
        let mut params = vec![0.0f32; l.param_count].into_boxed_slice();
        let mut buffers = vec![0.0f32; l.buffer_len].into_boxed_slice();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        N::init_params(&mut params, &mut buffers, &mut rng);
        State {
            params,
            prepared: vec![0.0; l.prepared_len].into_boxed_slice(),
            prepared_stale: true,
            work: Work {
                grads: vec![0.0; l.param_count].into_boxed_slice(),
                buffers,
                noise: Noise {
                    seed: crate::kernels::dropout::mix(seed ^ 0x006e_6f69_7365),
                    step: 0,
                    last: 0,
                    first_sample: 0,
                },
                acts: vec![0.0; infer_chunk(&l) * l.infer_activations_per_sample],
                d_acts: Vec::new(),
                scratch: vec![0.0; l.scratch_len].into_boxed_slice(),
                batch: 0,
                backward_ready: false,
                input_grad_ready: false,
                mode: Mode::Train,
            },
        }
    }

    /// A copy for inference only ([`crate::parallel::Replicas`]): the
    /// parameters, buffers and prepared values, in evaluation mode, and
    /// the pass state of [`Work::for_inference`].
    pub(crate) fn inference_copy(&self) -> State {
        State {
            params: self.params.clone(),
            prepared: self.prepared.clone(),
            prepared_stale: self.prepared_stale,
            work: self.work.for_inference(),
        }
    }

    /// This state for inference only, as [`State::inference_copy`] makes
    /// it, but with the parameters and prepared values moved, not copied.
    pub(crate) fn into_inference(self) -> State {
        State {
            work: self.work.for_inference(),
            ..self
        }
    }

    /// A state of no network, holding nothing: what is left where a state
    /// was moved out.
    pub(crate) fn empty() -> State {
        State {
            params: Box::new([]),
            prepared: Box::new([]),
            prepared_stale: true,
            work: Work {
                grads: Box::new([]),
                buffers: Box::new([]),
                noise: Noise {
                    seed: 0,
                    step: 0,
                    last: 0,
                    first_sample: 0,
                },
                acts: Vec::new(),
                d_acts: Vec::new(),
                scratch: Box::new([]),
                batch: 0,
                backward_ready: false,
                input_grad_ready: false,
                mode: Mode::Eval,
            },
        }
    }

    /// The parameters, to change: what the layers prepared from them is
    /// made again before the next inference pass.
    pub(crate) fn params_mut(&mut self) -> &mut [f32] {
        self.prepared_stale = true;
        &mut self.params
    }

    /// Makes what the layers prepare from the parameters for inference
    /// again if the parameters may have changed since.
    pub(crate) fn prepare<N: Generated>(&mut self) {
        if self.prepared_stale {
            N::prepare_layers(&self.params, &mut self.prepared);
            self.prepared_stale = false;
        }
    }

    /// The layers' buffers (running statistics, and what a training pass
    /// keeps for backward), for the trainer to put back after a refused
    /// step.
    pub(crate) fn buffer_values(&self) -> &[f32] {
        &self.work.buffers
    }

    pub(crate) fn buffer_values_mut(&mut self) -> &mut [f32] {
        &mut self.work.buffers
    }
}

impl Work {
    /// Pass state for inference only: the buffers, in evaluation mode,
    /// but no parameter gradients (VGG-16's are 553 MB), no activation
    /// gradients and no activations (what a training pass left there: the
    /// first inference makes room for its own); it is never given a
    /// backward pass.
    pub(crate) fn for_inference(&self) -> Work {
        self.fresh(Box::new([]), Mode::Eval)
    }

    /// Pass state for a trainer's replica: gradients of its own, the
    /// buffers, draws and mode of this one, and no activations yet.
    pub(crate) fn replica(&self) -> Work {
        self.fresh(vec![0.0; self.grads.len()].into_boxed_slice(), self.mode)
    }

    /// This one's buffers and draws with `grads`, in `mode`, and no
    /// activations or their gradients.
    fn fresh(&self, grads: Box<[f32]>, mode: Mode) -> Work {
        Work {
            grads,
            buffers: self.buffers.clone(),
            noise: self.noise,
            acts: Vec::new(),
            d_acts: Vec::new(),
            // workspace that every pass writes before it reads: fresh
            // zeroed pages, which take no memory until a pass touches them
            // (cloned, VGG-16's two copies peaked 440 MiB higher while
            // they were made)
            scratch: vec![0.0; self.scratch.len()].into_boxed_slice(),
            batch: 0,
            backward_ready: false,
            input_grad_ready: false,
            mode,
        }
    }

    /// Makes this replica start a step where `main` stands: its buffers,
    /// draws and mode, for the share of the mini-batch that starts at
    /// sample `first_sample`.
    pub(crate) fn follow(&mut self, main: &Work, first_sample: usize) {
        self.buffers.copy_from_slice(&main.buffers);
        self.noise = Noise {
            first_sample,
            ..main.noise
        };
        self.mode = main.mode;
    }

    /// Sets the mode the layers run in.
    pub(crate) fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The named buffers (running statistics) of the shares of a
    /// mini-batch averaged into this one's, weighted by the shares' sizes:
    /// `own` samples were this one's, and `others` the other shares with
    /// their sizes, `total` samples in all. Counts are equal in every share
    /// and stay as they are.
    pub(crate) fn average_buffers<'a>(
        &mut self,
        named: &[TensorInfo],
        (own, total): (usize, usize),
        others: impl Iterator<Item = (&'a Work, usize)>,
    ) {
        if named.is_empty() || total == 0 {
            return;
        }
        let own = own as f32 / total as f32;
        for t in named.iter().filter(|t| !t.count) {
            self.buffers[t.offset..t.offset + t.len]
                .iter_mut()
                .for_each(|v| *v *= own);
        }
        for (other, n) in others {
            let w = n as f32 / total as f32;
            for t in named.iter().filter(|t| !t.count) {
                let range = t.offset..t.offset + t.len;
                let (mine, theirs) = (&mut self.buffers[range.clone()], &other.buffers[range]);
                mine.iter_mut().zip(theirs).for_each(|(m, o)| *m += w * o);
            }
        }
    }

    /// [`Network::forward`] of network `N` with parameters `params` (and
    /// its `prepared` values, which a training pass does not read).
    #[track_caller]
    pub(crate) fn forward<N: Generated>(
        &mut self,
        params: (&[f32], &[f32]),
        input: &[f32],
    ) -> &[f32] {
        let batch = N::batch_len(input);
        self.forward_filled::<N>(params, batch, |x| x.copy_from_slice(input))
    }

    /// [`Work::forward`] on `batch` samples (at least one) that `fill`
    /// writes into the input's slot, `batch · INPUT_LEN` floats: a
    /// trainer's batch gathered there rather than into a buffer of its own
    /// first.
    pub(crate) fn forward_filled<N: Generated>(
        &mut self,
        (params, prepared): (&[f32], &[f32]),
        batch: usize,
        fill: impl FnOnce(&mut [f32]),
    ) -> &[f32] {
        let need = batch * N::LAYOUT.activations_per_sample;
        if self.acts.len() < need {
            self.acts.resize(need, 0.0);
        }
        fill(&mut self.acts[..batch * N::LAYOUT.input_len]);
        let noise = match self.mode {
            Mode::Train => {
                let key = Noise::key(self.noise.seed, self.noise.step);
                self.noise.step += 1;
                key
            }
            Mode::Eval => 0,
        };
        self.noise.last = noise;
        let pass = Pass {
            batch,
            mode: self.mode,
            inference: false,
            noise,
            first_sample: self.noise.first_sample,
        };
        N::forward_layers(
            pass,
            params,
            &mut self.buffers,
            prepared,
            &mut self.acts,
            &mut self.scratch,
        );
        self.batch = batch;
        self.backward_ready = true;
        self.input_grad_ready = false;
        let start = batch * N::LAYOUT.output_offset;
        &self.acts[start..start + batch * N::LAYOUT.output_len]
    }

    /// Backward of network `N` with parameters `params`, to the parameter
    /// gradients, and to the input's when `input_grad`.
    #[track_caller]
    pub(crate) fn backward<N: Generated>(
        &mut self,
        params: &[f32],
        d_output: &[f32],
        input_grad: bool,
    ) {
        let Layout {
            name,
            output_len,
            grads_per_sample,
            output_grad_offset,
            ..
        } = N::LAYOUT;
        assert!(
            self.backward_ready,
            "{name}: backward needs a forward pass first"
        );
        let batch = self.batch;
        assert_eq!(
            d_output.len(),
            batch * output_len,
            "{name}: output gradient of {} floats for a batch of {batch} outputs of {output_len} floats",
            d_output.len(),
        );
        let need = batch * grads_per_sample;
        if self.d_acts.len() < need {
            self.d_acts.resize(need, 0.0);
        }
        // each layer's input gradient is zeroed by the generated pass just
        // before the first layer that adds into it
        let start = batch * output_grad_offset;
        self.d_acts[start..start + d_output.len()].copy_from_slice(d_output);
        let pass = Pass {
            batch,
            mode: self.mode,
            inference: false,
            noise: self.noise.last,
            first_sample: self.noise.first_sample,
        };
        N::backward_layers(
            pass,
            params,
            &self.buffers,
            &self.acts,
            &mut self.d_acts,
            &mut self.grads,
            &mut self.scratch,
            input_grad,
        );
        self.input_grad_ready = input_grad;
    }

    /// Makes this ready for [`Work::infer`] on chunks of a batch of
    /// `batch` samples: activations for a chunk, and nothing kept for
    /// backward.
    fn ready_for_inference<N: Generated>(&mut self, batch: usize) {
        let need = infer_chunk(&N::LAYOUT).min(batch) * N::LAYOUT.infer_activations_per_sample;
        if self.acts.len() < need {
            self.acts.resize(need, 0.0);
        }
        self.backward_ready = false;
        self.input_grad_ready = false;
    }

    /// Inference of network `N` in evaluation mode on `x`, whole samples
    /// and at most [`Network::INFER_CHUNK`] of them, after
    /// [`Work::ready_for_inference`], with the parameters and what
    /// [`State::prepare`] made of them: their outputs, in the activations
    /// until the next pass.
    fn infer<N: Generated>(
        &mut self,
        (params, prepared): (&[f32], &[f32]),
        x: &[f32],
    ) -> &mut [f32] {
        let batch = x.len() / N::LAYOUT.input_len;
        self.acts[..x.len()].copy_from_slice(x);
        let pass = Pass {
            inference: true,
            ..Pass::new(batch, Mode::Eval)
        };
        N::infer_layers(
            pass,
            params,
            &mut self.buffers,
            prepared,
            &mut self.acts,
            &mut self.scratch,
        );
        let start = batch * N::LAYOUT.infer_output_offset;
        &mut self.acts[start..start + batch * N::LAYOUT.output_len]
    }

    /// [`Network::predict`]'s pass in evaluation mode, with the
    /// parameters and what [`State::prepare`] made of them: `input`
    /// (whole samples) a chunk at a time into `output`.
    pub(crate) fn predict<N: Generated>(
        &mut self,
        params: (&[f32], &[f32]),
        input: &[f32],
        output: &mut [f32],
    ) {
        let mut rest = output;
        self.infer_chunks::<N>(params, input, |y| {
            let (done, left) = core::mem::take(&mut rest).split_at_mut(y.len());
            done.copy_from_slice(y);
            rest = left;
        });
    }

    /// Inference on `input` a chunk of at most [`Network::INFER_CHUNK`]
    /// samples at a time, `f` given each chunk's outputs in turn.
    pub(crate) fn infer_chunks<N: Generated>(
        &mut self,
        params: (&[f32], &[f32]),
        input: &[f32],
        mut f: impl FnMut(&[f32]),
    ) {
        let chunk = infer_chunk(&N::LAYOUT);
        let input_len = N::LAYOUT.input_len;
        self.ready_for_inference::<N>(input.len() / input_len);
        for x in input.chunks(chunk * input_len) {
            f(self.infer::<N>(params, x));
        }
    }
}

/// The largest of `values` (0 for none), usable in constants.
#[doc(hidden)]
pub const fn max_of(values: &[usize]) -> usize {
    let mut m = 0;
    let mut i = 0;
    while i < values.len() {
        if values[i] > m {
            m = values[i];
        }
        i += 1;
    }
    m
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // sizes, not the (large) contents
        f.debug_struct("State")
            .field("params", &self.params.len())
            .field("activations", &self.work.acts.len())
            .field("batch", &self.work.batch)
            .field("mode", &self.work.mode)
            .finish()
    }
}

/// Splits `buf` into a shared slot `[a, a + a_len)` and a mutable slot
/// `[b, b + b_len)` (slots of a batch: offsets already scaled).
#[doc(hidden)]
#[inline]
pub fn split_slots(
    buf: &mut [f32],
    a: usize,
    a_len: usize,
    b: usize,
    b_len: usize,
) -> (&[f32], &mut [f32]) {
    if a < b {
        let (lo, hi) = buf.split_at_mut(b);
        (&lo[a..a + a_len], &mut hi[..b_len])
    } else {
        let (lo, hi) = buf.split_at_mut(a);
        (&hi[..a_len], &mut lo[b..b + b_len])
    }
}

/// Two shared ranges `(start, len)` of `buf`, which may overlap each other
/// (a conv's input and the residual it adds in may be one slot), and a
/// mutable one that overlaps neither.
///
/// # Panics
/// If a shared range overlaps the mutable one, or one reaches past `buf`.
#[doc(hidden)]
pub fn split_reading_two(
    buf: &mut [f32],
    a: (usize, usize),
    b: (usize, usize),
    (out, out_len): (usize, usize),
) -> (&[f32], &[f32], &mut [f32]) {
    let (before, rest) = buf.split_at_mut(out);
    let (y, after) = rest.split_at_mut(out_len);
    let (before, after) = (&*before, &*after);
    let end = out + out_len;
    let shared = |(start, len): (usize, usize)| -> &[f32] {
        if start + len <= out {
            &before[start..start + len]
        } else {
            assert!(
                start >= end,
                "split_reading_two: a shared range overlaps the output"
            );
            &after[start - end..start - end + len]
        }
    };
    (shared(a), shared(b), y)
}

/// Three disjoint ranges `(start, len)` of `buf`: the first shared, the
/// others mutable (a layer's input, output and saved slot).
///
/// # Panics
/// If two ranges overlap or one reaches past `buf`.
#[doc(hidden)]
pub fn split_three(
    buf: &mut [f32],
    ranges: [(usize, usize); 3],
) -> (&[f32], &mut [f32], &mut [f32]) {
    let mut order = [0, 1, 2];
    order.sort_by_key(|&i| ranges[i].0);
    let mut parts: [&mut [f32]; 3] = [&mut [], &mut [], &mut []];
    let (mut rest, mut at) = (buf, 0);
    for i in order {
        let (start, len) = ranges[i];
        assert!(start >= at, "split_three: ranges overlap");
        let (_, tail) = core::mem::take(&mut rest).split_at_mut(start - at);
        let (part, tail) = tail.split_at_mut(len);
        parts[i] = part;
        (rest, at) = (tail, start + len);
    }
    let [a, b, c] = parts;
    (a, b, c)
}

/// Implemented by a network for its input length `LEN` (the product of
/// its input shape), so that data typed by sample length can be matched to
/// a network at compile time, with an error that shows the numbers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not take samples of {LEN} values",
    label = "samples of {LEN} values",
    note = "a network takes samples of as many values as its input shape holds (`{Self}::INPUT_LEN`); the data set's samples must have that length"
)]
pub trait TakesInput<const LEN: usize>: Network {}

/// The constants of a generated network that its code and the runtime
/// read; the user-facing ones are re-exposed by [`Network`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub name: &'static str,
    pub input_shape: &'static [usize],
    pub output_shape: &'static [usize],
    pub input_len: usize,
    pub output_len: usize,
    pub param_count: usize,
    /// Floats of activations kept per sample in a training pass (input
    /// included): every value backward reads, each in a slot of its own.
    pub activations_per_sample: usize,
    /// Per-sample offset of the output slot in the activation buffer.
    pub output_offset: usize,
    /// Floats of activations per sample in an inference pass: the memory
    /// plan's, where values share slots once nothing reads them.
    pub infer_activations_per_sample: usize,
    /// Per-sample offset of the output in an inference pass.
    pub infer_output_offset: usize,
    /// Floats of gradients per sample in a backward pass, as planned (the
    /// input's first).
    pub grads_per_sample: usize,
    /// Per-sample offset of the output's gradient.
    pub output_grad_offset: usize,
    /// Floats per sample without the plan: every value (an in-place
    /// layer's output too) in a slot of its own.
    pub unplanned_per_sample: usize,
    /// Scratch floats shared by the layers.
    pub scratch_len: usize,
    /// Floats the layers derive from the parameters for inference
    /// (`Layer::PREPARED`, summed).
    pub prepared_len: usize,
    /// Floats of layer buffers: the named ones and what forward passes
    /// leave for backward.
    pub buffer_len: usize,
    pub layers: &'static [LayerInfo],
    pub tensors: &'static [TensorInfo],
    /// The named buffers (offsets into the layer buffers).
    pub buffers: &'static [TensorInfo],
}

/// Samples at a time for inference: as many as keep their activations,
/// as the memory plan lays them out for inference, within 2 MB (a core's
/// L2 on the machines measured, so that a layer's input and output stay
/// there while the next layer reads them, and a dense layer's weights
/// serve several samples per read), rounded down to a power of two (so
/// that a batch of 64 shares out evenly among `Replicas`' threads), from 1
/// to 16. Batch 64, one thread (`profile_step 60 NET infer`): VGG-mini
/// 1,719 images/s a sample at a time (its 4 MB dense layer read once a
/// sample), 2,526–2,680 two at a time, 2,869–2,995 four at a time (three
/// runs each); ResNet-20 1,366 two at a time (the chunks before the memory
/// plan), 1,479–1,599 four or eight at a time; LeNet-5 83,558 against
/// 89,551–93,729, sixteen at a time.
pub const fn infer_chunk(layout: &Layout) -> usize {
    const BUDGET: usize = 2048 * 1024 / core::mem::size_of::<f32>();
    let per_sample = if layout.infer_activations_per_sample > 0 {
        layout.infer_activations_per_sample
    } else {
        1
    };
    let chunk = BUDGET / per_sample;
    if chunk < 1 {
        1
    } else if chunk > 16 {
        16
    } else {
        1 << chunk.ilog2()
    }
}

/// Whether the last of `layers` is a `softmax` layer at the top level.
const fn ends_in_softmax(layers: &[LayerInfo]) -> bool {
    let Some(last) = layers.last() else {
        return false;
    };
    let (kind, softmax) = (last.kind.as_bytes(), b"softmax");
    if !matches!(last.role, Role::Layer) || last.depth != 0 || kind.len() != softmax.len() {
        return false;
    }
    let mut i = 0;
    while i < kind.len() {
        if kind[i] != softmax[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The outputs of one sample through [`Network::predict`]'s pass (in
/// training mode, [`Network::forward`]'s), in the activations: what
/// `method` works from (`batch_method` being its form for a batch).
///
/// # Panics
/// If `input` is not one sample.
#[track_caller]
fn one_sample<'a, N: Network>(
    net: &'a mut N,
    input: &[f32],
    (method, batch_method): (&str, &str),
) -> &'a mut [f32] {
    assert!(
        input.len() == N::INPUT_LEN,
        "{}: {method} takes one sample of {} floats, got {} (a batch goes to {batch_method})",
        N::NAME,
        N::INPUT_LEN,
        input.len(),
    );
    match net.mode() {
        Mode::Train => {
            net.forward(input);
            let start = N::LAYOUT.output_offset;
            &mut net.state_mut().work.acts[start..start + N::OUTPUT_LEN]
        }
        Mode::Eval => {
            let s = net.state_mut();
            s.prepare::<N>();
            s.work.ready_for_inference::<N>(1);
            s.work.infer::<N>((&s.params, &s.prepared), input)
        }
    }
}

/// What `network!` writes for each network: its constants, its buffers and
/// its passes over the layers. Not a public API: [`Network`] is implemented
/// for every type that implements this, and only for those.
#[doc(hidden)]
pub trait Generated: Sized {
    /// Floats per input sample, as a type.
    type In: ArrayLength;
    /// Floats per output sample, as a type.
    type Out: ArrayLength;
    /// `[f32; OUTPUT_LEN]`.
    type OutArray: FloatArray;
    /// `Count<OUTPUT_LEN>`, or `Unknown` for a definition that did not
    /// compile: what a typed loss is checked against.
    type Outputs;
    /// `Count<PARAM_COUNT>`, or `Unknown`: what a typed optimizer is
    /// checked against.
    type Params;
    const LAYOUT: Layout;

    fn from_state(state: State) -> Self;
    fn state(&self) -> &State;
    fn state_mut(&mut self) -> &mut State;
    /// Draws the parameters and sets the buffers' starting values.
    fn init_params(params: &mut [f32], buffers: &mut [f32], rng: &mut rand_chacha::ChaCha8Rng);
    /// Fills `prepared` from the parameters (`Layer::prepare` of each layer).
    fn prepare_layers(params: &[f32], prepared: &mut [f32]);
    /// Runs every layer forward on `pass.batch` samples already in slot 0,
    /// keeping every value backward reads (the training layout).
    fn forward_layers(
        pass: Pass,
        params: &[f32],
        buffers: &mut [f32],
        prepared: &[f32],
        acts: &mut [f32],
        scratch: &mut [f32],
    );
    /// The inference pass (`pass.inference`) on `pass.batch` samples
    /// already in slot 0, in the inference layout: a conv runs the batch
    /// norm and ReLU after it, values share slots once nothing reads them,
    /// and `prepared` is what `prepare_layers` made of `params`.
    fn infer_layers(
        pass: Pass,
        params: &[f32],
        buffers: &mut [f32],
        prepared: &[f32],
        acts: &mut [f32],
        scratch: &mut [f32],
    );
    /// Runs every layer backward, from the output slot's gradient to slot
    /// 0's (skipped by the first layer unless `input_grad`).
    fn backward_layers(
        pass: Pass,
        params: &[f32],
        buffers: &[f32],
        acts: &[f32],
        d_acts: &mut [f32],
        grads: &mut [f32],
        scratch: &mut [f32],
        input_grad: bool,
    );

    /// The number of samples in `input`.
    ///
    /// # Panics
    /// If `input.len()` is not a positive multiple of the input length.
    #[track_caller]
    fn batch_len(input: &[f32]) -> usize {
        let (name, len) = (Self::LAYOUT.name, Self::LAYOUT.input_len);
        assert!(
            !input.is_empty() && input.len().is_multiple_of(len),
            "{name}: input of {} floats is not a batch of samples of {len} floats",
            input.len(),
        );
        input.len() / len
    }

    /// Backward to the parameter gradients, and to the input's when
    /// `input_grad`.
    #[track_caller]
    fn backward_with(&mut self, d_output: &[f32], input_grad: bool) {
        let s = self.state_mut();
        s.work.backward::<Self>(&s.params, d_output, input_grad);
    }
}

/// A network written with `network!`: fixed shapes, flat parameters, and
/// forward and backward passes over batches.
///
/// Every `network!` struct implements it; it cannot be implemented by hand.
pub trait Network: Generated {
    /// Floats per input sample, as a `typenum` type (`U784` for
    /// `[1, 28, 28]`), for sizing arrays in generic code.
    type InputLen: ArrayLength;
    /// Floats per output sample, as a `typenum` type.
    type OutputLen: ArrayLength;
    /// One sample's output as an array, `[f32; OUTPUT_LEN]`: what the
    /// typed entry points ([`Network::predict_sample`]) give.
    type OutputArray: FloatArray;

    /// The struct's name.
    const NAME: &'static str = Self::LAYOUT.name;
    /// Shape of one input sample (`[C, H, W]`, `[T, F]` or `[N]`).
    const INPUT_SHAPE: &'static [usize] = Self::LAYOUT.input_shape;
    /// Shape of one output sample.
    const OUTPUT_SHAPE: &'static [usize] = Self::LAYOUT.output_shape;
    /// Floats per input sample.
    const INPUT_LEN: usize = Self::LAYOUT.input_len;
    /// Floats per output sample.
    const OUTPUT_LEN: usize = Self::LAYOUT.output_len;
    /// Learnable parameters.
    const PARAM_COUNT: usize = Self::LAYOUT.param_count;
    /// Bytes of the parameters.
    const PARAM_BYTES: usize = Self::PARAM_COUNT * core::mem::size_of::<f32>();
    /// Bytes of training workspace per sample: the values kept for
    /// backward and the gradients' slots, as the memory plan computed by
    /// `network!` lays them out (a gradient's slot is reused once the
    /// layer that made the value has read it).
    const WORKSPACE_BYTES_PER_SAMPLE: usize = (Self::LAYOUT.activations_per_sample
        + Self::LAYOUT.grads_per_sample)
        * core::mem::size_of::<f32>();
    /// Bytes of training workspace per sample without the plan: every value
    /// (an in-place ReLU's too) and every gradient in a slot of its own.
    const UNPLANNED_WORKSPACE_BYTES_PER_SAMPLE: usize =
        2 * Self::LAYOUT.unplanned_per_sample * core::mem::size_of::<f32>();
    /// Bytes of activations per sample in an inference pass
    /// ([`Network::predict`] in evaluation mode), as planned: a value's
    /// slot is reused once the last layer that reads it has run, so this
    /// is about the two largest neighbouring values, not their sum. The
    /// network holds it for [`Network::INFER_CHUNK`] samples.
    const INFERENCE_BYTES_PER_SAMPLE: usize =
        Self::LAYOUT.infer_activations_per_sample * core::mem::size_of::<f32>();
    /// Bytes of the scratch the layers share (im2col matrices, padded
    /// inputs, transposed chunks of a dense layer's batch): allocated once,
    /// whatever the batch; part of [`Network::FIXED_BYTES`].
    const SCRATCH_BYTES: usize = Self::LAYOUT.scratch_len * core::mem::size_of::<f32>();
    /// Bytes a network holds whatever the batch: the parameters, their
    /// gradients, the layers' buffers (running statistics, and what a
    /// training pass keeps for backward), the scratch, and what the layers
    /// prepare from the parameters for inference (Winograd's transformed
    /// kernels: 16 floats for each 3×3 kernel it runs). A network holds
    /// this plus the activations of its largest batch so far (and their
    /// gradients after a backward pass): [`Network::WORKSPACE_BYTES_PER_SAMPLE`]
    /// per sample after a training step, and from construction on
    /// [`Network::INFERENCE_BYTES_PER_SAMPLE`] for each of
    /// [`Network::INFER_CHUNK`] samples.
    const FIXED_BYTES: usize = (2 * Self::LAYOUT.param_count
        + Self::LAYOUT.buffer_len
        + Self::LAYOUT.scratch_len
        + Self::LAYOUT.prepared_len)
        * core::mem::size_of::<f32>();
    /// One entry per layer, in order.
    const LAYERS: &'static [LayerInfo] = Self::LAYOUT.layers;
    /// The parameter tensors, in order.
    const TENSORS: &'static [TensorInfo] = Self::LAYOUT.tensors;
    /// The buffers saved with the parameters but not trained (batch norm's
    /// `running_mean`, `running_var`, `num_batches_tracked`), in order.
    const BUFFERS: &'static [TensorInfo] = Self::LAYOUT.buffers;
    /// Values in the named buffers.
    const BUFFER_COUNT: usize = {
        let mut n = 0;
        let mut i = 0;
        while i < Self::LAYOUT.buffers.len() {
            n += Self::LAYOUT.buffers[i].len;
            i += 1;
        }
        n
    };

    /// Samples that [`Network::predict`] runs through the network at a
    /// time in evaluation mode.
    const INFER_CHUNK: usize = infer_chunk(&Self::LAYOUT);

    /// Whether the network's last layer is a `softmax` (outside any
    /// block), so that its outputs are already probabilities:
    /// [`Network::predict_proba`] and [`Network::predict_proba_batch`]
    /// then return them as they are. Only the last row of
    /// [`Network::LAYERS`] counts: a `softmax` followed by a `dropout`
    /// does not.
    const ENDS_IN_SOFTMAX: bool = ends_in_softmax(Self::LAYOUT.layers);

    /// A network with parameters drawn from `seed` (every tensor in order
    /// from one ChaCha8 stream), in training mode.
    fn with_seed(seed: u64) -> Self {
        Self::from_state(State::new::<Self>(seed))
    }

    /// The summary table (print it with `{}`).
    fn summary() -> Summary {
        Summary {
            name: Self::NAME,
            input_shape: Self::INPUT_SHAPE,
            layers: Self::LAYERS,
            params: Self::PARAM_COUNT,
            buffers: Self::BUFFER_COUNT,
            param_bytes: Self::PARAM_BYTES,
            workspace_bytes_per_sample: Self::WORKSPACE_BYTES_PER_SAMPLE,
            kept_bytes_per_sample: Self::LAYOUT.activations_per_sample
                * core::mem::size_of::<f32>(),
            unplanned_bytes_per_sample: Self::LAYOUT.unplanned_per_sample
                * core::mem::size_of::<f32>(),
            inference_bytes_per_sample: Self::INFERENCE_BYTES_PER_SAMPLE,
            fixed_bytes: Self::FIXED_BYTES,
            scratch_bytes: Self::SCRATCH_BYTES,
        }
    }

    /// Runs a batch forward: `input` holds `B` samples of [`Self::INPUT_LEN`]
    /// floats; returns the `B` outputs of [`Self::OUTPUT_LEN`] floats.
    /// Keeps what [`Network::backward`] needs. Allocates only when `B` is
    /// larger than any batch before.
    ///
    /// # Panics
    /// If `input.len()` is not a positive multiple of `INPUT_LEN`. Like
    /// every length check of this trait, the panic names the network and
    /// the lengths, and is reported at the caller's line.
    #[track_caller]
    fn forward(&mut self, input: &[f32]) -> &[f32] {
        let s = self.state_mut();
        s.work.forward::<Self>((&s.params, &s.prepared), input)
    }

    /// Inference on a batch into `output` (`B · OUTPUT_LEN` floats).
    ///
    /// In evaluation mode the samples go through the network a few at a
    /// time ([`Network::INFER_CHUNK`]), so that each layer's input and
    /// output stay in the CPU's caches, and nothing is kept for
    /// [`Network::backward`] (which then needs a [`Network::forward`]
    /// first); the activations allocated at construction suffice for any
    /// batch. In training mode it is [`Network::forward`] with the outputs
    /// copied (batch norm's statistics are the whole batch's).
    ///
    /// # Panics
    /// As [`Network::forward`], or if `output` does not hold the outputs.
    #[track_caller]
    fn predict(&mut self, input: &[f32], output: &mut [f32]) {
        let batch = Self::batch_len(input);
        assert_eq!(
            output.len(),
            batch * Self::OUTPUT_LEN,
            "{}: output buffer of {} floats for {} outputs",
            Self::NAME,
            output.len(),
            batch * Self::OUTPUT_LEN
        );
        if self.mode() == Mode::Train {
            output.copy_from_slice(self.forward(input));
            return;
        }
        let s = self.state_mut();
        s.prepare::<Self>();
        s.work
            .predict::<Self>((&s.params, &s.prepared), input, output);
    }

    /// The class of one sample (`INPUT_LEN` floats): the index of its
    /// largest output, the first on ties, a NaN counting as larger than
    /// any number (`torch.argmax`'s rule, [`crate::loss::argmax`]). An
    /// output of several dimensions counts as one flat vector of scores.
    ///
    /// Runs as [`Network::predict`] does on one sample (in evaluation mode
    /// through the same path, with the same outputs bit for bit; in
    /// training mode as [`Network::forward`]), into the network's own
    /// activations: nothing is allocated.
    ///
    /// # Panics
    /// If `input` is not one sample: `input.len() != INPUT_LEN` (a batch
    /// goes to [`Network::predict_classes`]). The message names the network
    /// and both lengths, and the panic is reported at the caller's line.
    #[track_caller]
    fn predict_class(&mut self, input: &[f32]) -> usize {
        crate::loss::argmax(one_sample(
            self,
            input,
            ("predict_class", "predict_classes"),
        ))
    }

    /// The class of each sample of a batch (`B · INPUT_LEN` floats) into
    /// `classes` (`B` of them): what [`Network::predict_class`] gives for
    /// each, computed as [`Network::predict`] computes the batch (in
    /// evaluation mode [`Network::INFER_CHUNK`] samples at a time), without
    /// allocating.
    ///
    /// # Panics
    /// If `inputs.len()` is not a positive multiple of `INPUT_LEN`, or
    /// `classes.len()` is not the number of samples. The message names the
    /// network and the lengths expected and found, and the panic is
    /// reported at the caller's line.
    #[track_caller]
    fn predict_classes(&mut self, inputs: &[f32], classes: &mut [usize]) {
        let batch = Self::batch_len(inputs);
        assert!(
            classes.len() == batch,
            "{}: predict_classes: {batch} samples need {batch} classes, `classes` holds {}",
            Self::NAME,
            classes.len(),
        );
        let classify = |outputs: &[f32], classes: &mut [usize]| {
            for (c, y) in classes
                .iter_mut()
                .zip(outputs.chunks_exact(Self::OUTPUT_LEN))
            {
                *c = crate::loss::argmax(y);
            }
        };
        if self.mode() == Mode::Train {
            classify(self.forward(inputs), classes);
            return;
        }
        let s = self.state_mut();
        s.prepare::<Self>();
        let mut rest = classes;
        s.work
            .infer_chunks::<Self>((&s.params, &s.prepared), inputs, |y| {
                let samples = y.len() / Self::OUTPUT_LEN;
                let (done, left) = core::mem::take(&mut rest).split_at_mut(samples);
                classify(y, done);
                rest = left;
            });
    }

    /// The probabilities of one sample's classes: the softmax of its
    /// outputs, `p_i = e^(y_i − m) / Σ_j e^(y_j − m)` with `m` the largest
    /// (PyTorch's `softmax(dim=-1)` on a flat output; an output of several
    /// dimensions counts as one flat vector of scores). A network whose
    /// last layer is `softmax` ([`Network::ENDS_IN_SOFTMAX`]) already
    /// gives probabilities, which are returned as they are rather than
    /// softmaxed twice.
    ///
    /// Returns the `OUTPUT_LEN` probabilities in the network's own
    /// activations (nothing is allocated), valid until the next pass. The
    /// pass is [`Network::predict`]'s on one sample (in training mode,
    /// [`Network::forward`]'s); the probabilities overwrite its outputs,
    /// so nothing is kept for [`Network::backward`], which then needs a
    /// `forward` first.
    ///
    /// # Panics
    /// If `input` is not one sample: `input.len() != INPUT_LEN` (a batch
    /// goes to [`Network::predict_proba_batch`]). The message names the
    /// network and both lengths, and the panic is reported at the caller's
    /// line.
    #[track_caller]
    fn predict_proba(&mut self, input: &[f32]) -> &[f32] {
        let output = one_sample(self, input, ("predict_proba", "predict_proba_batch"));
        if !Self::ENDS_IN_SOFTMAX {
            crate::kernels::activation::softmax_in_place(Self::OUTPUT_LEN, output);
        }
        let start = match self.mode() {
            Mode::Train => Self::LAYOUT.output_offset,
            Mode::Eval => Self::LAYOUT.infer_output_offset,
        };
        let w = &mut self.state_mut().work;
        w.backward_ready = false;
        w.input_grad_ready = false;
        &w.acts[start..start + Self::OUTPUT_LEN]
    }

    /// The probabilities of each sample of a batch (`B · INPUT_LEN`
    /// floats) into `probs` (`B · OUTPUT_LEN` floats, sample after
    /// sample): [`Network::predict`]'s outputs with the softmax of
    /// [`Network::predict_proba`] applied to each sample's (none when the
    /// last layer is `softmax`). Each sample's probabilities sum to 1 up
    /// to rounding. Allocates nothing; in training mode, what
    /// [`Network::backward`] needs is kept, as `predict` keeps it.
    ///
    /// # Panics
    /// If `inputs.len()` is not a positive multiple of `INPUT_LEN`, or
    /// `probs.len()` is not `OUTPUT_LEN` per sample. The message names the
    /// network and the lengths expected and found, and the panic is
    /// reported at the caller's line.
    #[track_caller]
    fn predict_proba_batch(&mut self, inputs: &[f32], probs: &mut [f32]) {
        let batch = Self::batch_len(inputs);
        assert!(
            probs.len() == batch * Self::OUTPUT_LEN,
            "{}: predict_proba_batch: {batch} samples need {} probabilities ({} each), `probs` holds {}",
            Self::NAME,
            batch * Self::OUTPUT_LEN,
            Self::OUTPUT_LEN,
            probs.len(),
        );
        self.predict(inputs, probs);
        if !Self::ENDS_IN_SOFTMAX {
            crate::kernels::activation::softmax_in_place(Self::OUTPUT_LEN, probs);
        }
    }

    /// The output of one sample, typed: a [`Sample`] is an `[f32; N]`
    /// array, whose length the compiler checks against the input shape,
    /// or an `[f32]` slice or `Vec<f32>`, checked when this runs. Computed
    /// as [`Network::predict_class`] computes it (in evaluation mode
    /// through [`Network::predict`]'s path, bit for bit; in training mode
    /// as [`Network::forward`]); the output is in the network's own
    /// activations until the next pass, and nothing is allocated.
    ///
    /// `let scores: &[f32; 10] = net.predict_sample(&image)` with `image`
    /// an `[f32; 784]`, for a network of `[1, 28, 28]` inputs and 10
    /// outputs; an `[f32; 756]` does not compile ("`Net` takes samples of
    /// 784 values, but this one has 756").
    ///
    /// # Panics
    /// If the sample is a slice or `Vec` whose length is not `INPUT_LEN`;
    /// the message names the network and both lengths, and the panic is
    /// reported at the caller's line.
    #[track_caller]
    fn predict_sample<X: Sample<Self> + ?Sized>(&mut self, sample: &X) -> &Self::OutputArray {
        let values = sample.values();
        FloatArray::from_values(one_sample(
            self,
            values,
            ("predict_sample", "predict_samples"),
        ))
    }

    /// The class of one typed sample (see [`Network::predict_sample`]):
    /// the index of its largest output, as [`Network::predict_class`]
    /// gives it.
    ///
    /// # Panics
    /// As [`Network::predict_sample`].
    #[track_caller]
    fn predict_sample_class<X: Sample<Self> + ?Sized>(&mut self, sample: &X) -> usize {
        let values = sample.values();
        crate::loss::argmax(one_sample(
            self,
            values,
            ("predict_sample_class", "predict_sample_classes"),
        ))
    }

    /// The outputs of a batch of typed samples into `outputs`, one array
    /// each. Arrays, which lie one after the other, go through
    /// [`Network::predict`] as one batch, with its outputs bit for bit;
    /// `Vec`s go through [`Network::predict_sample`] one at a time (so in
    /// training mode batch norm sees batches of one, and in evaluation
    /// mode the last bits may differ from `predict`'s chunks). Allocates
    /// nothing.
    ///
    /// # Panics
    /// If `outputs` does not hold one array per sample, if there are no
    /// samples, or if a `Vec` sample's length is not `INPUT_LEN`; the
    /// panic is reported at the caller's line.
    #[track_caller]
    fn predict_samples<X: Sample<Self>>(
        &mut self,
        samples: &[X],
        outputs: &mut [Self::OutputArray],
    ) {
        assert!(
            !samples.is_empty(),
            "{}: predict_samples: no samples",
            Self::NAME
        );
        assert!(
            samples.len() == outputs.len(),
            "{}: predict_samples: {} samples, but `outputs` holds {} arrays",
            Self::NAME,
            samples.len(),
            outputs.len(),
        );
        match X::flat(samples) {
            Some(flat) => self.predict(flat, FloatArray::flat_mut(outputs)),
            None => {
                for (x, y) in samples.iter().zip(outputs.iter_mut()) {
                    let out = one_sample(self, x.values(), ("predict_samples", "predict"));
                    FloatArray::flat_mut(core::slice::from_mut(y)).copy_from_slice(out);
                }
            }
        }
    }

    /// The class of each typed sample into `classes`: for arrays as
    /// [`Network::predict_classes`] gives them, for `Vec`s a sample at a
    /// time, as [`Network::predict_samples`] computes them. Allocates
    /// nothing.
    ///
    /// # Panics
    /// If `classes` does not hold one class per sample, if there are no
    /// samples, or if a `Vec` sample's length is not `INPUT_LEN`; the
    /// panic is reported at the caller's line.
    #[track_caller]
    fn predict_sample_classes<X: Sample<Self>>(&mut self, samples: &[X], classes: &mut [usize]) {
        assert!(
            !samples.is_empty(),
            "{}: predict_sample_classes: no samples",
            Self::NAME
        );
        assert!(
            samples.len() == classes.len(),
            "{}: predict_sample_classes: {} samples, but `classes` holds {}",
            Self::NAME,
            samples.len(),
            classes.len(),
        );
        match X::flat(samples) {
            Some(flat) => self.predict_classes(flat, classes),
            None => {
                for (x, class) in samples.iter().zip(classes.iter_mut()) {
                    *class = crate::loss::argmax(one_sample(
                        self,
                        x.values(),
                        ("predict_sample_classes", "predict_classes"),
                    ));
                }
            }
        }
    }

    /// Backward from `d_output` (the loss gradient for the outputs of the
    /// last [`Network::forward`]): *accumulates* into the parameter
    /// gradients and overwrites the input gradient ([`Network::input_grad`]).
    ///
    /// # Panics
    /// If no forward pass came before, or `d_output` does not match its batch.
    #[track_caller]
    fn backward(&mut self, d_output: &[f32]) {
        self.backward_with(d_output, true);
    }

    /// [`Network::backward`] to the parameter gradients only, which is all
    /// training needs: the first layer skips the network's input gradient
    /// (for a conv, the second of its two large products), and
    /// [`Network::input_grad`] is not available until the next `backward`.
    ///
    /// # Panics
    /// As [`Network::backward`].
    #[track_caller]
    fn backward_params(&mut self, d_output: &[f32]) {
        self.backward_with(d_output, false);
    }

    /// Gradient of the loss for the input of the last forward pass.
    ///
    /// # Panics
    /// If the last backward pass was [`Network::backward_params`] (or there
    /// was none).
    #[track_caller]
    fn input_grad(&self) -> &[f32] {
        let s = &self.state().work;
        assert!(
            s.input_grad_ready,
            "{}: input_grad needs `backward` (`backward_params` skips it)",
            Self::NAME
        );
        &s.d_acts[..s.batch * Self::INPUT_LEN]
    }

    /// Sets every parameter gradient to 0.
    fn zero_grad(&mut self) {
        self.state_mut().work.grads.fill(0.0);
    }

    /// All parameters, flat, in [`Network::TENSORS`] order.
    fn params(&self) -> &[f32] {
        &self.state().params
    }
    /// All parameters, mutable.
    fn params_mut(&mut self) -> &mut [f32] {
        self.state_mut().params_mut()
    }
    /// All parameter gradients, in the parameters' order.
    fn grads(&self) -> &[f32] {
        &self.state().work.grads
    }
    /// All parameter gradients, mutable (to clip or accumulate them).
    fn grads_mut(&mut self) -> &mut [f32] {
        &mut self.state_mut().work.grads
    }
    /// Parameters (mutable) and their gradients together, for optimizers.
    fn params_and_grads(&mut self) -> (&mut [f32], &[f32]) {
        let s = self.state_mut();
        s.prepared_stale = true;
        (&mut s.params, &s.work.grads)
    }

    /// The tensor called `name` (`"0.weight"`), in PyTorch's layout.
    fn tensor(&self, name: &str) -> Option<&[f32]> {
        let t = Self::TENSORS.iter().find(|t| t.name == name)?;
        Some(&self.params()[t.offset..t.offset + t.len])
    }
    /// The tensor called `name`, mutable.
    fn tensor_mut(&mut self, name: &str) -> Option<&mut [f32]> {
        let t = Self::TENSORS.iter().find(|t| t.name == name)?;
        Some(&mut self.params_mut()[t.offset..t.offset + t.len])
    }
    /// The gradient of the tensor called `name`.
    fn tensor_grad(&self, name: &str) -> Option<&[f32]> {
        let t = Self::TENSORS.iter().find(|t| t.name == name)?;
        Some(&self.grads()[t.offset..t.offset + t.len])
    }
    /// Every parameter tensor with its description, in order.
    fn tensors(&self) -> impl Iterator<Item = (&'static TensorInfo, &[f32])> {
        let p = self.params();
        Self::TENSORS
            .iter()
            .map(move |t| (t, &p[t.offset..t.offset + t.len]))
    }

    /// The buffer called `name` (`"1.running_mean"`).
    fn buffer(&self, name: &str) -> Option<&[f32]> {
        let t = Self::BUFFERS.iter().find(|t| t.name == name)?;
        Some(&self.state().work.buffers[t.offset..t.offset + t.len])
    }
    /// The buffer called `name`, mutable.
    fn buffer_mut(&mut self, name: &str) -> Option<&mut [f32]> {
        let t = Self::BUFFERS.iter().find(|t| t.name == name)?;
        Some(&mut self.state_mut().work.buffers[t.offset..t.offset + t.len])
    }
    /// Every named buffer with its description, in order.
    fn named_buffers(&self) -> impl Iterator<Item = (&'static TensorInfo, &[f32])> {
        let b = &self.state().work.buffers;
        Self::BUFFERS
            .iter()
            .map(move |t| (t, &b[t.offset..t.offset + t.len]))
    }
    /// Every tensor a weight file holds: the parameters, then the buffers.
    fn state_tensors(&self) -> impl Iterator<Item = (&'static TensorInfo, &[f32])> {
        self.tensors().chain(self.named_buffers())
    }
    /// The parameter or buffer called `name`, mutable (for loading).
    fn state_tensor_mut(&mut self, name: &str) -> Option<&mut [f32]> {
        if Self::TENSORS.iter().any(|t| t.name == name) {
            self.tensor_mut(name)
        } else {
            self.buffer_mut(name)
        }
    }

    /// Sets the seed of the dropout masks and restarts their sequence: the
    /// same seed gives the same masks pass after pass. [`Network::with_seed`]
    /// derives one from its seed.
    fn set_dropout_seed(&mut self, seed: u64) {
        let noise = &mut self.state_mut().work.noise;
        noise.seed = seed;
        noise.step = 0;
    }
    /// The dropout masks' seed and the number of training passes run so far
    /// (each draws new masks); checkpoints save both, so that a resumed run
    /// draws what an unbroken one would.
    fn dropout_state(&self) -> (u64, u64) {
        let noise = &self.state().work.noise;
        (noise.seed, noise.step)
    }
    /// Sets the dropout masks' seed and the number of training passes run
    /// so far (see [`Network::dropout_state`]).
    fn set_dropout_state(&mut self, seed: u64, step: u64) {
        let noise = &mut self.state_mut().work.noise;
        noise.seed = seed;
        noise.step = step;
    }

    /// Training mode (the default): every layer runs its training
    /// behaviour ([`Mode::Train`]).
    fn train(&mut self) {
        self.state_mut().work.mode = Mode::Train;
    }
    /// Evaluation mode: every layer runs its inference behaviour
    /// ([`Mode::Eval`]); `evaluate` and parallel inference switch to it.
    fn eval(&mut self) {
        self.state_mut().work.mode = Mode::Eval;
    }
    /// Whether the network is in training mode.
    fn is_training(&self) -> bool {
        self.state().work.mode == Mode::Train
    }
    /// The mode the layers run in.
    fn mode(&self) -> Mode {
        self.state().work.mode
    }
}

impl<T: Generated> Network for T {
    type InputLen = T::In;
    type OutputLen = T::Out;
    type OutputArray = T::OutArray;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Strategy;

    #[test]
    fn split_three_gives_each_range_in_any_order() {
        let mut buf: Vec<f32> = (0..10).map(|v| v as f32).collect();
        let (a, b, c) = split_three(&mut buf, [(6, 2), (0, 3), (3, 3)]);
        assert_eq!(a, [6.0, 7.0]);
        assert_eq!(b, [0.0, 1.0, 2.0]);
        assert_eq!(c, [3.0, 4.0, 5.0]);
        b[0] = -1.0;
        c[2] = -5.0;
        assert_eq!((buf[0], buf[5]), (-1.0, -5.0));
        let overlap = std::panic::catch_unwind(|| {
            let mut buf = vec![0.0f32; 10];
            split_three(&mut buf, [(0, 4), (3, 2), (6, 1)]).0.len()
        });
        assert!(overlap.is_err(), "overlapping ranges were split");
    }

    /// A hand-written network of one "layer" that writes 1 in training
    /// mode and 2 in evaluation mode: what a generated network's passes
    /// hand to their layers.
    struct ModeProbe(State);

    impl Generated for ModeProbe {
        type In = generic_array::typenum::U1;
        type Out = generic_array::typenum::U1;
        type OutArray = [f32; 1];
        type Outputs = crate::typed::Count<1>;
        type Params = crate::typed::Count<0>;
        const LAYOUT: Layout = Layout {
            name: "ModeProbe",
            input_shape: &[1],
            output_shape: &[1],
            input_len: 1,
            output_len: 1,
            param_count: 0,
            activations_per_sample: 2,
            output_offset: 1,
            infer_activations_per_sample: 2,
            infer_output_offset: 1,
            grads_per_sample: 2,
            output_grad_offset: 1,
            unplanned_per_sample: 2,
            scratch_len: 0,
            prepared_len: 0,
            layers: &[LayerInfo {
                name: "0",
                kind: "probe",
                output_shape: &[1],
                params: 0,
                macs: 0,
                receptive_field: [1, 1],
                strategy_of: Strategy::view,
                buffers: 0,
                depth: 0,
                role: crate::summary::Role::Layer,
            }],
            tensors: &[],
            buffer_len: 0,
            buffers: &[],
        };
        fn from_state(state: State) -> Self {
            ModeProbe(state)
        }
        fn state(&self) -> &State {
            &self.0
        }
        fn state_mut(&mut self) -> &mut State {
            &mut self.0
        }
        fn init_params(_: &mut [f32], _: &mut [f32], _: &mut rand_chacha::ChaCha8Rng) {}
        fn prepare_layers(_: &[f32], _: &mut [f32]) {}
        fn forward_layers(
            pass: Pass,
            _: &[f32],
            _: &mut [f32],
            _: &[f32],
            acts: &mut [f32],
            _: &mut [f32],
        ) {
            let mark = match pass.mode {
                Mode::Train => 1.0,
                Mode::Eval => 2.0,
            };
            acts[pass.batch..2 * pass.batch].fill(mark);
        }
        fn infer_layers(
            pass: Pass,
            params: &[f32],
            buffers: &mut [f32],
            prepared: &[f32],
            acts: &mut [f32],
            scratch: &mut [f32],
        ) {
            Self::forward_layers(pass, params, buffers, prepared, acts, scratch);
        }
        fn backward_layers(
            _: Pass,
            _: &[f32],
            _: &[f32],
            _: &[f32],
            _: &mut [f32],
            _: &mut [f32],
            _: &mut [f32],
            _: bool,
        ) {
        }
    }

    #[test]
    fn train_and_eval_reach_the_layers() {
        let mut net = ModeProbe::with_seed(0);
        assert_eq!(net.mode(), Mode::Train);
        assert_eq!(net.forward(&[0.0, 0.0]), [1.0, 1.0]);
        net.eval();
        assert!(!net.is_training());
        assert_eq!(net.forward(&[0.0, 0.0]), [2.0, 2.0]);
        net.train();
        assert_eq!(net.forward(&[0.0]), [1.0]);
        assert_eq!(ModeProbe::summary().layers[0].strategy(), Strategy::View);
    }
}
