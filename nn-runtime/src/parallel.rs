//! Batch inference on several threads: [`Replicas`] keeps one copy of a
//! network per thread, each with its own buffers, and splits a batch into
//! contiguous shares, one per copy.
//!
//! A network's forward pass is sequential, layer after layer; a batch
//! splits cleanly, each sample's output depending only on that sample. A
//! batch of fewer samples than threads (one image, for latency) runs on one
//! copy instead, and each stride-1 convolution (the bulk of a convnet's
//! work) shares its output positions out among the threads; the other
//! layers stay on the calling thread. Each copy runs
//! [`Network::predict`] in evaluation mode, a few samples at a time
//! ([`Network::INFER_CHUNK`]), on a share of whole chunks, so the outputs
//! are the single network's `predict` outputs bit for bit, however the
//! batch splits; against one `forward` pass over the whole batch they
//! can differ in the last bits (batch norm folded into the convs, and dense
//! layers that compute batches of fewer than 16 samples as dot products and
//! larger ones as transposed products).
//!
//! An example is in the README ("Inference on several threads").

use crate::network::Network;
use crate::team::Team;
use std::sync::{Mutex, PoisonError};

/// One copy of a network per thread, in evaluation mode, and the threads
/// to run them. Batch inference through it allocates nothing once the
/// buffers have grown to the largest share.
pub struct Replicas<N: Network> {
    /// Each copy with the outputs of its last share.
    copies: Vec<Mutex<(N, Vec<f32>)>>,
    team: Team,
}

impl<N: Network + Send> Replicas<N> {
    /// `threads` copies of `net` (at least one) in evaluation mode, and as
    /// many threads: the caller's and `threads − 1` started here. A copy
    /// holds the parameters, buffers and scratch, not the gradients.
    ///
    /// # Panics
    /// If the operating system refuses to start the threads.
    pub fn new(net: &N, threads: usize) -> Self {
        let threads = threads.max(1);
        let copies = (0..threads)
            .map(|_| {
                // without gradients: a copy here only runs `predict`
                let copy = N::from_state(net.state().inference_copy());
                Mutex::new((copy, Vec::new()))
            })
            .collect();
        Replicas {
            copies,
            team: Team::new(threads),
        }
    }

    /// Number of copies (and threads).
    pub fn threads(&self) -> usize {
        self.team.size()
    }

    /// Copies `net`'s parameters and buffers into every copy, e.g. after
    /// training steps; the copies stay in evaluation mode.
    pub fn sync(&mut self, net: &N) {
        for copy in &mut self.copies {
            let (copy, _) = copy.get_mut().unwrap_or_else(PoisonError::into_inner);
            copy.state_mut().follow(net.state(), 0);
            copy.eval();
        }
    }

    /// Inference on a batch (`B · INPUT_LEN` floats) into `output`
    /// (`B · OUTPUT_LEN`): the batch split into one contiguous share per
    /// copy, `⌈B / threads⌉` samples rounded up to a whole number of
    /// [`Network::INFER_CHUNK`]s (so that some copies may get none); a
    /// batch smaller than the number of
    /// threads (a single sample) goes through one copy, whose stride-1
    /// convolutions split each sample's output positions among the
    /// threads. Allocates only when a share is larger than any before.
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
        if batch < self.copies.len() {
            // too few samples to go round: one copy takes them, and its
            // convolutions share each sample's output positions out among
            // the threads
            let (net, _) = self.copies[0]
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            crate::team::lend(&mut self.team, || net.predict(input, output));
            return;
        }
        // shares of whole chunks, so that each copy's chunks are the ones
        // a single network's `predict` would run, and round alike
        let share = batch
            .div_ceil(self.copies.len())
            .next_multiple_of(N::INFER_CHUNK);
        let copies = &self.copies;
        self.team.run(&|i| {
            let samples = (i * share).min(batch)..((i + 1) * share).min(batch);
            let mut copy = copies[i].lock().unwrap_or_else(PoisonError::into_inner);
            let (net, out) = &mut *copy;
            out.clear();
            if !samples.is_empty() {
                let x = &input[samples.start * N::INPUT_LEN..samples.end * N::INPUT_LEN];
                out.resize(samples.len() * N::OUTPUT_LEN, 0.0);
                net.predict(x, out);
            }
        });
        for (copy, y) in self
            .copies
            .iter_mut()
            .zip(output.chunks_mut(share * N::OUTPUT_LEN))
        {
            let (_, out) = copy.get_mut().unwrap_or_else(PoisonError::into_inner);
            y.copy_from_slice(out);
        }
    }
}
