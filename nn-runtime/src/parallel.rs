//! Batch inference on several threads: [`Replicas`] keeps one copy of a
//! network, whose parameters every thread reads, and for each thread the
//! buffers, activations and scratch of its passes, and splits a batch into
//! contiguous shares, one per thread.
//!
//! A network's forward pass is sequential, layer after layer; a batch
//! splits cleanly, each sample's output depending only on that sample. A
//! batch of fewer samples than threads (one image, for latency) runs in the
//! copy's own pass state instead, and each convolution (the bulk of a
//! convnet's work) shares its output out among the threads: by Winograd's
//! algorithm or im2col, each thread its own rows of every channel (on maps
//! too small for that, its own channels; by im2col, only from half a
//! million multiply-adds, not a 1×1 stride-2 shortcut), in place, runs of
//! output positions. Dense layers of 64 K weights or more share their
//! outputs; the other layers stay on the calling thread. Each thread runs
//! [`Network::predict`]'s pass in evaluation mode, a few samples at a time
//! ([`Network::INFER_CHUNK`]), on a share of whole chunks, so the outputs
//! are the single network's `predict` outputs bit for bit, however the
//! batch splits, and whether a sample is shared out or not
//! ([`SampleSplit`]); against one `forward` pass over the whole batch they
//! can differ in the last bits (batch norm folded into the convs, and dense
//! layers that compute batches of fewer than 16 samples as dot products and
//! larger ones as transposed products).
//!
//! An example is in the README ("Inference on several threads").

use crate::layers::Mode;
use crate::network::{Network, State, Work};
use crate::team::Team;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How [`Replicas`] runs a batch of fewer samples than threads (one
/// sample, for latency).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SampleSplit {
    /// Whichever of the two ways below has been faster lately, measured
    /// as it goes: mostly the faster, the other now and then (two calls
    /// in every 64) to see whether it has become faster. Where sharing a
    /// sample out does not pay (a small network, or two virtual CPUs far
    /// apart, where every value one thread hands the other is slow to
    /// arrive), the calls run on the caller alone.
    #[default]
    Auto,
    /// Each sample's convolutions and wide dense layers shared out among
    /// the threads.
    Shared,
    /// On the calling thread alone.
    Alone,
}

/// What [`SampleSplit::Auto`] has measured: the latency of each way.
#[derive(Clone, Copy, Debug, Default)]
struct Measured {
    calls: u64,
    /// Seconds a call, `Alone` then `Shared`: the preferred way's a moving
    /// average, the other's its last trial; 0 until measured.
    seconds: [f64; 2],
}

impl Measured {
    /// Calls in a round of [`SampleSplit::Auto`]: the first two try the
    /// way not preferred (the first of them warms it up: a team thread
    /// asleep since the last trial, caches the other way filled), the
    /// rest run the preferred one.
    const ROUND: u64 = 64;

    /// The preferred way: the faster so far, an unmeasured one first
    /// (`true` for shared).
    fn preferred(&self) -> bool {
        let [alone, shared] = self.seconds;
        shared == 0.0 || (alone != 0.0 && shared <= alone)
    }

    /// The way to run the next call (`true` for shared).
    fn next(&self) -> bool {
        let trial = self.calls % Self::ROUND < 2;
        self.preferred() != trial
    }

    /// Records the time of a call run as `next` said (not the warm-up's).
    fn record(&mut self, shared: bool, took: Duration) {
        let phase = self.calls % Self::ROUND;
        self.calls += 1;
        if phase == 0 {
            return;
        }
        let trial = phase == 1;
        let (t, slot) = (took.as_secs_f64(), &mut self.seconds[usize::from(shared)]);
        *slot = if trial || *slot == 0.0 {
            t
        } else {
            *slot + (t - *slot) / 8.0
        };
    }
}

/// One copy of a network in evaluation mode, the pass state of each
/// thread, and the threads to run them. Batch inference through it
/// allocates nothing once the buffers have grown to the largest share.
pub struct Replicas<N: Network> {
    /// The copy: its parameters and prepared values, which every thread
    /// reads, and its own pass state, which runs the batches of fewer
    /// samples than threads and the first share of the others.
    net: N,
    /// The pass state of each thread but the caller's, with the outputs
    /// of its last share.
    workers: Vec<Mutex<(Work, Vec<f32>)>>,
    team: Team,
    split: SampleSplit,
    measured: Measured,
}

impl<N: Network + Send> Replicas<N> {
    /// A copy of `net` in evaluation mode and `threads` threads (at least
    /// one): the caller's and `threads − 1` started here. The copy holds
    /// the parameters once, whatever the number of threads, and no
    /// gradients; each thread has buffers, activations and scratch of its
    /// own.
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn new(net: &N, threads: usize) -> Self {
        // without gradients: the copy only runs `predict`
        Self::of(N::from_state(net.state().inference_copy()), threads)
    }

    /// [`Replicas::new`] with `net` itself as the copy: its parameters,
    /// prepared values and buffers are moved in rather than copied, and
    /// its gradients and activations let go, so that a caller who needs
    /// only inference holds the parameters once (VGG-16: 528 MiB). Put in
    /// evaluation mode.
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn from_network(mut net: N, threads: usize) -> Self {
        let state = core::mem::replace(net.state_mut(), State::empty());
        Self::of(N::from_state(state.into_inference()), threads)
    }

    /// `net` (for inference only) and `threads` threads.
    fn of(net: N, threads: usize) -> Self {
        let threads = threads.max(1);
        let workers = (1..threads)
            .map(|_| Mutex::new((net.state().work.for_inference(), Vec::new())))
            .collect();
        Replicas {
            net,
            workers,
            team: Team::new(threads),
            split: SampleSplit::Auto,
            measured: Measured::default(),
        }
    }

    /// How a batch of fewer samples than threads runs from now on
    /// ([`SampleSplit::Auto`] unless set). The outputs are the same, bit
    /// for bit, whichever way.
    pub fn set_sample_split(&mut self, split: SampleSplit) {
        self.split = split;
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.team.size()
    }

    /// Copies `net`'s parameters and buffers into the copy (and the
    /// buffers into each thread's pass state), e.g. after training steps;
    /// it stays in evaluation mode.
    pub fn sync(&mut self, net: &N) {
        let s = self.net.state_mut();
        s.params_mut().copy_from_slice(net.params());
        s.work.follow(&net.state().work, 0);
        s.work.set_mode(Mode::Eval);
        for worker in &mut self.workers {
            let (work, _) = worker.get_mut().unwrap_or_else(PoisonError::into_inner);
            work.follow(&s.work, 0);
        }
    }

    /// Inference on a batch (`B · INPUT_LEN` floats) into `output`
    /// (`B · OUTPUT_LEN`): the batch split into one contiguous share per
    /// thread, `⌈B / threads⌉` samples rounded up to a whole number of
    /// [`Network::INFER_CHUNK`]s (so that some threads may get none); a
    /// batch smaller than the number of threads (a single sample) goes
    /// through the copy's own pass state, whose convolutions split each
    /// sample's output rows among the threads, or which runs on the
    /// caller alone, as [`Replicas::set_sample_split`] says. Allocates
    /// only when a share is larger than any before.
    ///
    /// # Panics
    /// If `input` is not a positive multiple of `INPUT_LEN` samples, or
    /// `output` does not hold their outputs; the panic is reported at the
    /// caller's line.
    #[track_caller]
    pub fn predict(&mut self, input: &[f32], output: &mut [f32]) {
        let batch = N::batch_len(input);
        assert_eq!(
            output.len(),
            batch * N::OUTPUT_LEN,
            "{}: output buffer of {} floats for {} outputs of {} floats",
            N::NAME,
            output.len(),
            batch,
            N::OUTPUT_LEN
        );
        let threads = self.team.size();
        if batch < threads {
            // too few samples to go round: the copy takes them, and its
            // convolutions share each sample's output rows out among the
            // threads
            let net = &mut self.net;
            let shared = match self.split {
                SampleSplit::Auto => self.measured.next(),
                SampleSplit::Shared => true,
                SampleSplit::Alone => false,
            };
            let start = Instant::now();
            if shared {
                crate::team::lend(&mut self.team, || net.predict(input, output));
            } else {
                net.predict(input, output);
            }
            if self.split == SampleSplit::Auto {
                self.measured.record(shared, start.elapsed());
            }
            return;
        }
        // shares of whole chunks, so that each thread's chunks are the ones
        // a single network's `predict` would run, and round alike
        let share = batch.div_ceil(threads).next_multiple_of(N::INFER_CHUNK);
        // the first share (never empty) in the copy's own pass state, into
        // `output` directly; the others in the threads' own
        let first = share.min(batch);
        let (y0, rest) = output.split_at_mut(first * N::OUTPUT_LEN);
        let s = self.net.state_mut();
        s.prepare::<N>();
        let params = (&*s.params, &*s.prepared);
        let caller = Mutex::new((&mut s.work, y0));
        let workers = &self.workers;
        self.team.run(&|i| {
            if i == 0 {
                let mut caller = caller.lock().unwrap_or_else(PoisonError::into_inner);
                let (work, y) = &mut *caller;
                work.predict::<N>(params, &input[..first * N::INPUT_LEN], y);
                return;
            }
            let samples = (i * share).min(batch)..((i + 1) * share).min(batch);
            let mut worker = workers[i - 1]
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (work, out) = &mut *worker;
            out.clear();
            if !samples.is_empty() {
                let x = &input[samples.start * N::INPUT_LEN..samples.end * N::INPUT_LEN];
                out.resize(samples.len() * N::OUTPUT_LEN, 0.0);
                work.predict::<N>(params, x, out);
            }
        });
        for (worker, y) in self
            .workers
            .iter_mut()
            .zip(rest.chunks_mut(share * N::OUTPUT_LEN))
        {
            let (_, out) = worker.get_mut().unwrap_or_else(PoisonError::into_inner);
            y.copy_from_slice(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `calls` calls of `Auto` whose times `took(shared, call)` gives,
    /// and returns how many ran shared.
    fn run(m: &mut Measured, calls: u64, took: impl Fn(bool, u64) -> f64) -> u64 {
        let mut shared_calls = 0;
        for _ in 0..calls {
            let shared = m.next();
            shared_calls += u64::from(shared);
            let call = m.calls;
            m.record(shared, Duration::from_secs_f64(took(shared, call)));
        }
        shared_calls
    }

    #[test]
    fn auto_runs_mostly_the_faster_way_and_follows_a_change() {
        let mut m = Measured::default();
        // sharing twice as fast: all but two calls a round shared
        let shared = run(&mut m, 640, |shared, _| if shared { 1e-3 } else { 2e-3 });
        assert_eq!(shared, 640 - 2 * 10, "shared calls of 640");
        assert!(m.preferred());
        // sharing becomes slower (the other CPU far away): within a round
        // the calls run alone, but for two a round
        let shared = run(&mut m, 640, |shared, _| if shared { 4e-3 } else { 2e-3 });
        assert!(!m.preferred());
        assert!(shared <= 64 + 2 * 10, "{shared} shared calls of 640");
        // and back
        run(&mut m, 128, |shared, _| if shared { 1e-3 } else { 2e-3 });
        assert!(m.preferred());
    }

    #[test]
    fn a_cold_first_trial_is_not_recorded() {
        let mut m = Measured::default();
        run(&mut m, 64, |shared, _| if shared { 1e-3 } else { 2e-3 });
        // each trial's first call slow (a team thread waking up)
        run(&mut m, 640, |shared, call| {
            match (shared, call % Measured::ROUND) {
                (false, 0) => 1.0,
                (false, _) => 0.5e-3,
                (true, _) => 1e-3,
            }
        });
        assert!(
            !m.preferred(),
            "alone measured faster after its warm-up call"
        );
    }
}
