//! Recurrent layers over sequences: PyTorch's `nn.RNN` (tanh), `nn.LSTM`
//! and `nn.GRU`, one layer, one direction, starting from `h₀ = 0` (and
//! `c₀ = 0`), with backpropagation through time.
//!
//! Layouts: input `[B, T, F]` (batch first, as PyTorch's `batch_first`),
//! output `[B, T, H]` (every step) or `[B, H]` (the last). Parameters in
//! PyTorch's order, `weight_ih [G·H, F]`, `weight_hh [G·H, H]`,
//! `bias_ih [G·H]`, `bias_hh [G·H]`, the `G` gates stacked in PyTorch's
//! order:
//!
//! ```text
//! rnn   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
//! lstm  i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh)
//!       c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')
//! gru   r, z = σ(W_i· x + b_i· + W_h· h + b_h·)
//!       n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//!       h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! The forward pass keeps per sample what backward needs ([`saved_len`]),
//! step-major across the batch: the batch's values at step `t` form one
//! `[B, ·]` matrix, so that each step's hidden projection is one matrix
//! product for the whole batch. Backward works one step at a time, from
//! the last: the step's pre-activation gradients (`[B, G·H]`, in a small
//! working space that stays in cache) go at once into the step's products,
//! the weights' gradients, the input's and `∂L/∂h` before the step. Kept
//! for all the steps (`[B, T, G·H]`) so that the input's and `weight_ih`'s
//! gradients were one product each over all the steps, they went out to
//! memory and back: a forward and backward of the row-LSTM of the speed
//! figures on 64 samples took 12.1–12.6 ms that way, 8.8–9.5 one step at a
//! time (the row-GRU 6.8–7.6 and 6.3–6.8).

use super::gemm::{gemm, Mat};
use super::math;
use super::transpose::transpose;

/// Which recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Elman's, with tanh: one gate.
    Rnn,
    /// Four gates: input, forget, cell, output.
    Lstm,
    /// Three gates: reset, update, new.
    Gru,
}

impl Cell {
    /// Gates stacked in the weights: the `G` of `[G·H, F]`.
    pub const fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// A recurrent layer's sizes: `T` steps of `F` features into `H` hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub cell: Cell,
    pub t: usize,
    pub f: usize,
    pub h: usize,
}

impl Dims {
    /// `G·H`: the rows of both weights.
    pub const fn gh(&self) -> usize {
        self.cell.gates() * self.h
    }

    /// Learnable parameters: both weights and both biases.
    pub const fn params(&self) -> usize {
        self.gh() * (self.f + self.h + 2)
    }

    /// Floats per sample the forward pass keeps: the gates at every step
    /// (for `rnn`, the hidden state itself), and for `lstm` the cell and
    /// hidden states, for `gru` the new gate's hidden projection `W_hn h +
    /// b_hn` and the hidden state, and room for one step's hidden
    /// projection ([`part_lens`]).
    const fn forward_len(&self) -> usize {
        let (t, h) = (self.t, self.h);
        match self.cell {
            Cell::Rnn => t * h,
            Cell::Lstm => t * (4 * h + h + h),
            Cell::Gru => t * (3 * h + h + h) + 3 * h,
        }
    }

    /// Floats per sample of backward's working space, one step's worth
    /// ([`work_parts`]).
    const fn backward_len(&self) -> usize {
        let [pre, projection, dh, dc, dx] = work_lens(self, 1);
        pre + projection + dh + dc + dx
    }
}

/// Floats per sample of the slot the forward pass keeps for backward, and
/// of backward's working space (the same length: the larger of the two).
pub const fn saved_len(d: &Dims) -> usize {
    let (a, b) = (d.forward_len(), d.backward_len());
    if a > b {
        a
    } else {
        b
    }
}

/// The parameters as `(weight_ih, weight_hh, bias_ih, bias_hh)`.
fn split_params<'a>(d: &Dims, params: &'a [f32]) -> (&'a [f32], &'a [f32], &'a [f32], &'a [f32]) {
    let gh = d.gh();
    let (w_ih, rest) = params[..d.params()].split_at(gh * d.f);
    let (w_hh, rest) = rest.split_at(gh * d.h);
    let (b_ih, b_hh) = rest.split_at(gh);
    (w_ih, w_hh, b_ih, b_hh)
}

/// The lengths of the saved slot's parts for a batch of `batch`:
/// `gates [T, B, G·H]`; then the cell states `[T, B, H]` (`lstm`), or the
/// new gate's hidden projections `W_hn h + b_hn` `[T, B, H]` (`gru`), or
/// nothing; then the hidden states `[T, B, H]` (none for `rnn`, whose gates
/// are its states); then, for `gru`, one step's whole hidden projection
/// `[B, 3H]`, which the forward pass makes into this same small block at
/// every step (kept in cache) and reads its new gate's part from.
const fn part_lens(d: &Dims, batch: usize) -> [usize; 4] {
    let (t, h, gh) = (d.t, d.h, d.gh());
    match d.cell {
        Cell::Rnn => [t * batch * gh, 0, 0, 0],
        Cell::Lstm => [t * batch * gh, t * batch * h, t * batch * h, 0],
        Cell::Gru => [t * batch * gh, t * batch * h, t * batch * h, batch * gh],
    }
}

/// The lengths of backward's working space for a batch of `batch`, all
/// of one step, so that they stay in cache from the step's cell to its
/// products: the pre-activations' gradients `[B, G·H]`; for `gru` the
/// hidden projection's `[B, 3H]` (which differ in the new gate, `r ⊙ …`);
/// the running `∂L/∂h` `[B, H]`, and `∂L/∂c` for `lstm`; the input's
/// gradient `[B, F]`.
const fn work_lens(d: &Dims, batch: usize) -> [usize; 5] {
    let (h, gh) = (d.h, d.gh());
    let projection = if matches!(d.cell, Cell::Gru) { gh } else { 0 };
    let dc = if matches!(d.cell, Cell::Lstm) { h } else { 0 };
    [
        batch * gh,
        batch * projection,
        batch * h,
        batch * dc,
        batch * d.f,
    ]
}

/// Backward's working space as its five parts ([`work_lens`]).
fn work_parts<'a>(d: &Dims, batch: usize, work: &'a mut [f32]) -> [&'a mut [f32]; 5] {
    let [a, b, c, e, g] = work_lens(d, batch);
    let (pre, rest) = work.split_at_mut(a);
    let (projection, rest) = rest.split_at_mut(b);
    let (dh, rest) = rest.split_at_mut(c);
    let (dc, rest) = rest.split_at_mut(e);
    [pre, projection, dh, dc, &mut rest[..g]]
}

/// The saved slot as its four parts ([`part_lens`]).
fn saved_parts<'a>(d: &Dims, batch: usize, saved: &'a mut [f32]) -> [&'a mut [f32]; 4] {
    let [a, b, c, e] = part_lens(d, batch);
    let (gates, rest) = saved.split_at_mut(a);
    let (second, rest) = rest.split_at_mut(b);
    let (hidden, rest) = rest.split_at_mut(c);
    [gates, second, hidden, &mut rest[..e]]
}

/// A view of `rows` rows of `cols` values, `stride` apart, from `data`'s
/// start.
fn rows(data: &[f32], rows: usize, cols: usize, stride: usize) -> Mat<'_> {
    Mat {
        data,
        rows,
        cols,
        row_stride: stride,
        col_stride: 1,
    }
}

/// The batch's hidden states `[B, H]` before step `t` of the step-major
/// `states`: none before the first.
fn previous(states: &[f32], t: usize, batch: usize, h: usize) -> Option<Mat<'_>> {
    (t > 0).then(|| Mat::new(&states[(t - 1) * batch * h..][..batch * h], batch, h))
}

/// Sample `b`'s state `[H]` before step `t` in the step-major `states`
/// (cell or hidden states): none before the first step.
fn before(states: &[f32], t: usize, batch: usize, b: usize, h: usize) -> Option<&[f32]> {
    (t > 0).then(|| &states[((t - 1) * batch + b) * h..][..h])
}

/// The `N` gates of a row of stacked gates, `h` values each. Each part
/// has a length the compiler can see, so that the loops over them index
/// without bounds checks and are vectorised (indexed as `row[2 * h + k]`,
/// the GRU's backward loop ran one value at a time).
fn split_gates<const N: usize>(row: &[f32], h: usize) -> [&[f32]; N] {
    core::array::from_fn(|q| &row[q * h..][..h])
}

/// [`split_gates`], mutable.
fn split_gates_mut<const N: usize>(row: &mut [f32], h: usize) -> [&mut [f32]; N] {
    let mut parts = row[..N * h].chunks_exact_mut(h);
    core::array::from_fn(|_| parts.next().expect("a row holds N gates"))
}

/// Scratch floats [`forward`] needs: both weights transposed (unless
/// prepared).
pub const fn scratch_len(d: &Dims) -> usize {
    d.gh() * (d.f + d.h)
}

/// Floats of the prepared weights ([`prepare`]): both transposed.
pub const fn prepared_len(d: &Dims) -> usize {
    scratch_len(d)
}

/// `W_ihᵀ [F, G·H]` then `W_hhᵀ [H, G·H]` into `out` ([`prepared_len`]
/// floats), for [`forward`] to use while the parameters stay as they are.
#[inline(always)]
pub fn prepare(d: &Dims, params: &[f32], out: &mut [f32]) {
    let (w_ih, w_hh, _, _) = split_params(d, params);
    let (w_ih_t, rest) = out[..prepared_len(d)].split_at_mut(d.f * d.gh());
    transpose(w_ih, d.gh(), d.f, w_ih_t);
    transpose(w_hh, d.gh(), d.h, rest);
}

/// Forward over a batch: `input [B, T, F]` → `output` (`[B, T, H]` when
/// `all`, else `[B, H]`, overwritten), keeping in `saved` (`B ·`
/// [`saved_len`] floats) what [`backward`] reads when `for_backward` (the
/// hidden states, which the pass reads itself, always). `prepared` is what
/// [`prepare`] made of `params`, or empty: `scratch` ([`scratch_len`]
/// floats) then takes the transposed weights.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn forward(
    d: &Dims,
    batch: usize,
    (params, prepared): (&[f32], &[f32]),
    input: &[f32],
    (output, all): (&mut [f32], bool),
    (saved, for_backward): (&mut [f32], bool),
    scratch: &mut [f32],
) {
    let (t_len, f, h, gh) = (d.t, d.f, d.h, d.gh());
    let (_, _, b_ih, b_hh) = split_params(d, params);
    let input = &input[..batch * t_len * f];
    let [gates, second, hidden, projection] = saved_parts(d, batch, saved);
    // the weights transposed once for the sequence (or once for as long as
    // they stay as they are: inference): the products then read rows of
    // B, the GEMM's fastest form (its dot-product form, on W as it is,
    // made the forward pass 1.3 times slower)
    let transposed = if prepared.is_empty() {
        prepare(d, params, scratch);
        &scratch[..prepared_len(d)]
    } else {
        &prepared[..prepared_len(d)]
    };
    let (w_ih_t, w_hh_t) = transposed.split_at(f * gh);
    let w_ih_t = Mat::new(w_ih_t, f, gh);
    let w_hh_t = Mat::new(w_hh_t, h, gh);
    for t in 0..t_len {
        let (done, now) = gates.split_at_mut(t * batch * gh);
        // both biases (`gru` keeps its hidden projection apart, b_hh in it),
        // then the input's product; for one sample the steps' rows are
        // contiguous, and the first step makes them all in one product
        let steps = if batch == 1 { t_len } else { 1 };
        if batch > 1 || t == 0 {
            let g = &mut now[..steps * batch * gh];
            for row in g.chunks_exact_mut(gh) {
                for ((v, &a), &b) in row.iter_mut().zip(b_ih).zip(b_hh) {
                    *v = if d.cell == Cell::Gru { a } else { a + b };
                }
            }
            let x = rows(
                &input[t * f..],
                steps * batch,
                f,
                if batch == 1 { f } else { t_len * f },
            );
            gemm(x, w_ih_t, g, true);
        }
        let g = &mut now[..batch * gh];
        // the hidden state before this step, none at the first
        let prev = |states| previous(states, t, batch, h);
        match d.cell {
            Cell::Rnn => {
                if let Some(h_prev) = prev(done) {
                    gemm(h_prev, w_hh_t, g, true);
                }
                math::tanh_in_place(g);
            }
            Cell::Lstm => {
                if let Some(h_prev) = prev(hidden) {
                    gemm(h_prev, w_hh_t, g, true);
                }
                let (c_done, c_now) = second.split_at_mut(t * batch * h);
                let h_now = &mut hidden[t * batch * h..][..batch * h];
                for b in 0..batch {
                    let gb = &mut g[b * gh..][..gh];
                    math::sigmoid_in_place(&mut gb[..2 * h]);
                    math::tanh_in_place(&mut gb[2 * h..3 * h]);
                    math::sigmoid_in_place(&mut gb[3 * h..]);
                    let [i, fg, gg, o] = split_gates(gb, h);
                    let (cb, hb) = (&mut c_now[b * h..][..h], &mut h_now[b * h..][..h]);
                    match before(c_done, t, batch, b, h) {
                        Some(before) => {
                            for k in 0..h {
                                cb[k] = fg[k] * before[k] + i[k] * gg[k];
                            }
                        }
                        None => {
                            for k in 0..h {
                                cb[k] = i[k] * gg[k];
                            }
                        }
                    }
                    for k in 0..h {
                        hb[k] = o[k] * math::tanh(cb[k]);
                    }
                }
            }
            Cell::Gru => {
                // W_hh h in the small block (zero from h₀ = 0), b_hh added
                // as each sample's gates are made
                let hp = &mut projection[..batch * gh];
                let (h_done, h_now) = hidden.split_at_mut(t * batch * h);
                match prev(h_done) {
                    Some(h_prev) => gemm(h_prev, w_hh_t, hp, false),
                    None => hp.fill(0.0),
                }
                let p_now = &mut second[t * batch * h..][..batch * h];
                for b in 0..batch {
                    let (gb, pb) = (&mut g[b * gh..][..gh], &mut hp[b * gh..][..gh]);
                    let hb = &mut h_now[b * h..][..h];
                    pb.iter_mut().zip(b_hh).for_each(|(p, b)| *p += b);
                    let (rz, n) = gb.split_at_mut(2 * h);
                    rz.iter_mut().zip(&*pb).for_each(|(a, p)| *a += p);
                    math::sigmoid_in_place(rz);
                    let ([r, z], [_, _, p_n]) = (split_gates(rz, h), split_gates(pb, h));
                    if for_backward {
                        p_now[b * h..][..h].copy_from_slice(p_n);
                    }
                    let n = &mut n[..h];
                    for k in 0..h {
                        n[k] += r[k] * p_n[k];
                    }
                    math::tanh_in_place(n);
                    match before(h_done, t, batch, b, h) {
                        Some(before) => {
                            for k in 0..h {
                                hb[k] = (1.0 - z[k]) * n[k] + z[k] * before[k];
                            }
                        }
                        None => {
                            for k in 0..h {
                                hb[k] = (1.0 - z[k]) * n[k];
                            }
                        }
                    }
                }
            }
        }
    }
    let states: &[f32] = if d.cell == Cell::Rnn { gates } else { hidden };
    if all {
        for b in 0..batch {
            for t in 0..t_len {
                output[(b * t_len + t) * h..][..h]
                    .copy_from_slice(&states[(t * batch + b) * h..][..h]);
            }
        }
    } else {
        let last = &states[(t_len - 1) * batch * h..][..batch * h];
        output[..batch * h].copy_from_slice(last);
    }
}

/// Backward over a batch, from `d_output` (`[B, T, H]` when `all`, else
/// `[B, H]`) and what [`forward`] left in `saved`: *accumulates* into
/// `d_params` and, when given, into `d_input [B, T, F]` (or stores into it,
/// when `store`). `work` is `B ·` [`saved_len`] floats of working space
/// (its contents do not matter).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn backward(
    d: &Dims,
    batch: usize,
    params: &[f32],
    input: &[f32],
    (d_output, all): (&[f32], bool),
    saved: &[f32],
    work: &mut [f32],
    (d_input, store): (Option<&mut [f32]>, bool),
    d_params: &mut [f32],
) {
    let (t_len, f, h, gh) = (d.t, d.f, d.h, d.gh());
    let (w_ih, w_hh, _, _) = split_params(d, params);
    let input = &input[..batch * t_len * f];
    let [a, b, c, _] = part_lens(d, batch);
    let (gates, rest) = saved.split_at(a);
    let (second, rest) = rest.split_at(b);
    let hidden = &rest[..c];
    let states: &[f32] = if d.cell == Cell::Rnn { gates } else { hidden };
    let [d_pre, d_hp, dh, dc, dx_t] = work_parts(d, batch, work);
    dh.fill(0.0);
    dc.fill(0.0);
    let (dw_ih, rest) = d_params[..d.params()].split_at_mut(gh * f);
    let (dw_hh, rest) = rest.split_at_mut(gh * h);
    let (db_ih, db_hh) = rest.split_at_mut(gh);
    let mut d_input = d_input.map(|dx| &mut dx[..batch * t_len * f]);
    let w_hh_m = Mat::new(w_hh, gh, h);
    for t in (0..t_len).rev() {
        if all {
            for b in 0..batch {
                let dy = &d_output[(b * t_len + t) * h..][..h];
                dh[b * h..][..h]
                    .iter_mut()
                    .zip(dy)
                    .for_each(|(a, v)| *a += v);
            }
        } else if t + 1 == t_len {
            dh.iter_mut()
                .zip(&d_output[..batch * h])
                .for_each(|(a, v)| *a += v);
        }
        let g = &gates[t * batch * gh..][..batch * gh];
        for b in 0..batch {
            let (gb, dhb) = (&g[b * gh..][..gh], &mut dh[b * h..][..h]);
            let dp = &mut d_pre[b * gh..][..gh];
            match d.cell {
                Cell::Rnn => {
                    for k in 0..h {
                        dp[k] = dhb[k] * (1.0 - gb[k] * gb[k]);
                    }
                }
                Cell::Lstm => {
                    let c_now = &second[(t * batch + b) * h..][..h];
                    let c_before = before(second, t, batch, b, h);
                    let dcb = &mut dc[b * h..][..h];
                    let [i, fg, gg, o] = split_gates(gb, h);
                    let [dp_i, dp_f, dp_g, dp_o] = split_gates_mut(dp, h);
                    for k in 0..h {
                        let (i, gg, o) = (i[k], gg[k], o[k]);
                        let tc = math::tanh(c_now[k]);
                        let d_o = dhb[k] * tc;
                        let d_c = dcb[k] + dhb[k] * o * (1.0 - tc * tc);
                        dp_i[k] = d_c * gg * i * (1.0 - i);
                        dp_g[k] = d_c * i * (1.0 - gg * gg);
                        dp_o[k] = d_o * o * (1.0 - o);
                        dcb[k] = d_c;
                    }
                    // ∂c/∂f is the cell state before: none at the first step
                    match c_before {
                        Some(c_before) => {
                            for k in 0..h {
                                dp_f[k] = dcb[k] * c_before[k] * fg[k] * (1.0 - fg[k]);
                            }
                        }
                        None => dp_f.fill(0.0),
                    }
                    for k in 0..h {
                        dcb[k] *= fg[k];
                    }
                }
                Cell::Gru => {
                    let p_n = &second[(t * batch + b) * h..][..h];
                    let dq = &mut d_hp[b * gh..][..gh];
                    let h_before = before(hidden, t, batch, b, h);
                    gru_back(gb, p_n, h_before, dhb, dp, dq);
                }
            }
        }
        // this step's part of the weights' and biases' gradients, its
        // input's gradient, and ∂L/∂h_{t−1} through W_hh (for `gru` added to
        // the direct z ⊙ ∂L/∂h), while the step's gradients are in cache
        let d_pre = Mat::new(d_pre, batch, gh);
        let d_proj = match d.cell {
            Cell::Gru => Mat::new(d_hp, batch, gh),
            _ => d_pre,
        };
        for b in 0..batch {
            let (pre, proj) = (&d_pre.data[b * gh..][..gh], &d_proj.data[b * gh..][..gh]);
            db_ih.iter_mut().zip(pre).for_each(|(a, v)| *a += v);
            db_hh.iter_mut().zip(proj).for_each(|(a, v)| *a += v);
        }
        let x_t = rows(&input[t * f..], batch, f, t_len * f);
        gemm(d_pre.t(), x_t, dw_ih, true);
        if let Some(dx) = d_input.as_deref_mut() {
            gemm(d_pre, Mat::new(w_ih, gh, f), dx_t, false);
            for (b, from) in dx_t.chunks_exact(f).enumerate() {
                let to = &mut dx[(b * t_len + t) * f..][..f];
                if store {
                    to.copy_from_slice(from);
                } else {
                    to.iter_mut().zip(from).for_each(|(a, v)| *a += v);
                }
            }
        }
        if t > 0 {
            let h_prev = Mat::new(&states[(t - 1) * batch * h..][..batch * h], batch, h);
            gemm(d_proj.t(), h_prev, dw_hh, true);
            gemm(d_proj, w_hh_m, dh, matches!(d.cell, Cell::Gru));
        }
    }
}

/// One sample's step of the GRU's backward: from its gates `gb` (r, z,
/// n), `W_hn h + b_hn` (`p_n`), the hidden state before (none at the first
/// step) and `∂L/∂h'` in `dh`, the pre-activations' gradients into `dp`,
/// the hidden projection's into `dq`, and `dh` becomes the direct part of
/// `∂L/∂h`, `z ⊙ ∂L/∂h'`. Compiled apart, for AVX2 where the CPU has
/// it, so that its slices are known apart (`&mut` arguments do not alias):
/// inlined among the loops with them as locals, the compiler did not
/// vectorise the first loop. Vectorised, it is still bound by the traffic
/// of the gates it reads: a forward and backward of the row-GRU on 64
/// samples went from 6.97 to 6.76 ms (medians of six alternating runs).
fn gru_back(
    gb: &[f32],
    p_n: &[f32],
    h_before: Option<&[f32]>,
    dh: &mut [f32],
    dp: &mut [f32],
    dq: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        #[inline(never)]
        #[allow(unsafe_code)]
        fn avx2(
            gb: &[f32],
            p_n: &[f32],
            h_before: Option<&[f32]>,
            dh: &mut [f32],
            dp: &mut [f32],
            dq: &mut [f32],
        ) {
            gru_back_loops(gb, p_n, h_before, dh, dp, dq)
        }
        #[allow(unsafe_code)]
        // SAFETY: the CPU has these features, checked just above.
        return unsafe { avx2(gb, p_n, h_before, dh, dp, dq) };
    }
    gru_back_loops(gb, p_n, h_before, dh, dp, dq)
}

/// The loops of [`gru_back`].
#[inline(always)]
fn gru_back_loops(
    gb: &[f32],
    p_n: &[f32],
    h_before: Option<&[f32]>,
    dh: &mut [f32],
    dp: &mut [f32],
    dq: &mut [f32],
) {
    let h = dh.len();
    let [r, z, n] = split_gates(gb, h);
    let [dp_r, dp_z, dp_n] = split_gates_mut(dp, h);
    let [dq_r, dq_z, dq_n] = split_gates_mut(dq, h);
    for k in 0..h {
        let (r, z, n) = (r[k], z[k], n[k]);
        let dn = dh[k] * (1.0 - z) * (1.0 - n * n);
        let dr = dn * p_n[k] * r * (1.0 - r);
        (dp_r[k], dp_n[k]) = (dr, dn);
        (dq_r[k], dq_n[k]) = (dr, dn * r);
    }
    // ∂h'/∂z is h − n: −n at the first step
    for k in 0..h {
        let h_before = h_before.map_or(0.0, |p| p[k]);
        let dz = dh[k] * (h_before - n[k]) * z[k] * (1.0 - z[k]);
        (dp_z[k], dq_z[k]) = (dz, dz);
        dh[k] *= z[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, grad_check, random_vec};

    /// One sample by the equations, step after step, in f64: the output
    /// (every step's hidden state).
    fn reference(d: &Dims, params: &[f32], x: &[f32]) -> Vec<f64> {
        let (f, h, gh) = (d.f, d.h, d.gh());
        let p: Vec<f64> = params.iter().map(|&v| v as f64).collect();
        let (w_ih, rest) = p.split_at(gh * f);
        let (w_hh, rest) = rest.split_at(gh * h);
        let (b_ih, b_hh) = rest.split_at(gh);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (mut hs, mut c) = (vec![0.0f64; h], vec![0.0f64; h]);
        let mut out = Vec::new();
        for t in 0..d.t {
            let xt = &x[t * f..][..f];
            let ih =
                |r: usize| b_ih[r] + (0..f).map(|j| w_ih[r * f + j] * xt[j] as f64).sum::<f64>();
            let hh = |r: usize, hs: &[f64]| {
                b_hh[r] + (0..h).map(|j| w_hh[r * h + j] * hs[j]).sum::<f64>()
            };
            let next: Vec<f64> = match d.cell {
                Cell::Rnn => (0..h).map(|k| (ih(k) + hh(k, &hs)).tanh()).collect(),
                Cell::Lstm => (0..h)
                    .map(|k| {
                        let a = |q: usize| ih(q * h + k) + hh(q * h + k, &hs);
                        let (i, fg, g, o) = (sig(a(0)), sig(a(1)), a(2).tanh(), sig(a(3)));
                        c[k] = fg * c[k] + i * g;
                        o * c[k].tanh()
                    })
                    .collect(),
                Cell::Gru => (0..h)
                    .map(|k| {
                        let r = sig(ih(k) + hh(k, &hs));
                        let z = sig(ih(h + k) + hh(h + k, &hs));
                        let n = (ih(2 * h + k) + r * hh(2 * h + k, &hs)).tanh();
                        (1.0 - z) * n + z * hs[k]
                    })
                    .collect(),
            };
            hs = next;
            out.extend_from_slice(&hs);
        }
        out
    }

    const CASES: [(Cell, usize, usize, usize, usize); 9] = [
        (Cell::Rnn, 1, 3, 4, 1),
        (Cell::Rnn, 5, 3, 7, 3),
        // one sample: the input's product for all steps at once
        (Cell::Rnn, 6, 2, 5, 1),
        (Cell::Lstm, 5, 3, 4, 1),
        (Cell::Gru, 4, 2, 3, 1),
        (Cell::Lstm, 1, 2, 3, 2),
        (Cell::Lstm, 6, 5, 9, 3),
        (Cell::Gru, 1, 4, 2, 2),
        (Cell::Gru, 7, 3, 6, 3),
    ];

    /// The output, with the weights transposed by the pass itself or
    /// prepared beforehand.
    fn run_with(
        d: &Dims,
        batch: usize,
        p: &[f32],
        x: &[f32],
        all: bool,
        prepared: bool,
    ) -> Vec<f32> {
        let out_len = if all { d.t * d.h } else { d.h };
        let mut y = vec![f32::NAN; batch * out_len];
        let mut saved = vec![f32::NAN; batch * saved_len(d)];
        let mut scratch = vec![f32::NAN; scratch_len(d)];
        let mut transposed = vec![f32::NAN; prepared_len(d)];
        prepare(d, p, &mut transposed);
        let weights = (p, if prepared { &transposed[..] } else { &[] });
        forward(
            d,
            batch,
            weights,
            x,
            (&mut y, all),
            // as inference runs it when prepared: nothing kept for backward
            (&mut saved, !prepared),
            &mut scratch,
        );
        y
    }

    fn run(d: &Dims, batch: usize, p: &[f32], x: &[f32], all: bool) -> Vec<f32> {
        run_with(d, batch, p, x, all, false)
    }

    #[test]
    fn forward_matches_the_equations_step_by_step() {
        for (case, &(cell, t, f, h, batch)) in CASES.iter().enumerate() {
            let d = Dims { cell, t, f, h };
            let p = random_vec(d.params(), 10 + case as u64);
            let x = random_vec(batch * t * f, 20 + case as u64);
            for (all, prepared) in [(true, false), (false, false), (true, true)] {
                let y = run_with(&d, batch, &p, &x, all, prepared);
                let mut want = Vec::new();
                for b in 0..batch {
                    let r = reference(&d, &p, &x[b * t * f..][..t * f]);
                    let keep = if all { &r[..] } else { &r[(t - 1) * h..] };
                    want.extend(keep.iter().map(|&v| v as f32));
                }
                let what = format!("{cell:?} T={t} batch={batch} all={all} prepared={prepared}");
                assert_close(&y, &want, 1e-5, &what);
            }
        }
    }

    /// `L = Σ y ⊙ r` for fixed random `r`, and its gradients by backward.
    fn grads(d: &Dims, batch: usize, p: &[f32], x: &[f32], all: bool) -> (Vec<f32>, Vec<f32>) {
        let out_len = if all { d.t * d.h } else { d.h };
        let r = random_vec(batch * out_len, 99);
        let mut y = vec![0.0; batch * out_len];
        let mut saved = vec![f32::NAN; batch * saved_len(d)];
        let mut scratch = vec![f32::NAN; scratch_len(d)];
        forward(
            d,
            batch,
            (p, &[]),
            x,
            (&mut y, all),
            (&mut saved, true),
            &mut scratch,
        );
        let mut work = vec![f32::NAN; batch * saved_len(d)];
        let mut dx = random_vec(x.len(), 7);
        let before = dx.clone();
        let mut dp = vec![0.5; p.len()];
        backward(
            d,
            batch,
            p,
            x,
            (&r, all),
            &saved,
            &mut work,
            (Some(&mut dx), false),
            &mut dp,
        );
        // accumulated onto what was there
        let dx = dx.iter().zip(&before).map(|(a, b)| a - b).collect();
        let dp = dp.iter().map(|v| v - 0.5).collect();
        (dx, dp)
    }

    fn loss(d: &Dims, batch: usize, p: &[f32], x: &[f32], all: bool) -> f64 {
        let out_len = if all { d.t * d.h } else { d.h };
        let r = random_vec(batch * out_len, 99);
        let y = run(d, batch, p, x, all);
        y.iter().zip(&r).map(|(&a, &b)| a as f64 * b as f64).sum()
    }

    #[test]
    fn backward_matches_finite_differences() {
        for (case, &(cell, t, f, h, batch)) in CASES.iter().enumerate() {
            let d = Dims { cell, t, f, h };
            let p: Vec<f32> = random_vec(d.params(), 30 + case as u64)
                .iter()
                .map(|v| 0.5 * v)
                .collect();
            let x = random_vec(batch * t * f, 40 + case as u64);
            for all in [true, false] {
                let what = format!("{cell:?} T={t} batch={batch} all={all}");
                let (dx, dp) = grads(&d, batch, &p, &x, all);
                grad_check(
                    &x,
                    &dx,
                    |x| loss(&d, batch, &p, x, all),
                    &format!("dx {what}"),
                );
                grad_check(
                    &p,
                    &dp,
                    |p| loss(&d, batch, p, &x, all),
                    &format!("dp {what}"),
                );
            }
        }
    }

    #[test]
    fn a_fresh_input_gradient_is_stored() {
        let d = Dims {
            cell: Cell::Lstm,
            t: 4,
            f: 3,
            h: 5,
        };
        let batch = 2;
        let p = random_vec(d.params(), 1);
        let x = random_vec(batch * d.t * d.f, 2);
        let (want, _) = grads(&d, batch, &p, &x, true);
        let mut saved = vec![0.0; batch * saved_len(&d)];
        let mut y = vec![0.0; batch * d.t * d.h];
        let mut scratch = vec![0.0; scratch_len(&d)];
        forward(
            &d,
            batch,
            (&p, &[]),
            &x,
            (&mut y, true),
            (&mut saved, true),
            &mut scratch,
        );
        let r = random_vec(y.len(), 99);
        let mut work = vec![f32::NAN; saved.len()];
        let mut dx = vec![f32::NAN; x.len()];
        let mut dp = vec![0.0; p.len()];
        let args = (&r[..], true);
        backward(
            &d,
            batch,
            &p,
            &x,
            args,
            &saved,
            &mut work,
            (Some(&mut dx), true),
            &mut dp,
        );
        assert_close(&dx, &want, 1e-6, "stored dx");
    }
}
