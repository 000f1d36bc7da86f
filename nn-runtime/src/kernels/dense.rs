//! Fully connected layer, PyTorch's `Linear`: `y = x Wᵀ + b`.
//!
//! Layouts: input `[B, I]`, weight `[O, I]`, bias `[O]`, output `[B, O]`.
//! The whole batch is one matrix product, so the batch is folded into the GEMM.

use super::gemm::{gemm, Mat};
use super::transpose::transpose;

/// Samples per transposed chunk of the forward pass (see [`forward`]).
const CHUNK: usize = 64;

/// Batches from this size on take the transposed forward pass.
const TRANSPOSED_FROM: usize = 16;

/// Weights from which one sample's outputs are shared out among the
/// threads of a team lent to the layer (below, waking the other thread
/// costs more than it saves).
const SPLIT_FROM: usize = 64 * 1024;

/// Most scratch floats [`forward`] takes: 2 M (8 MB), enough for VGG-16's
/// 25088 → 4096 (64 · 29,184 = 1.9 M); a layer with a huge input, such as
/// 134 M features into 4, would otherwise reserve 64 times its input (34
/// GB) for a transposed chunk.
const SCRATCH_BUDGET: usize = 2 * 1024 * 1024;

/// Samples per transposed chunk for an `i → o` layer: 64, fewer where that
/// passes [`SCRATCH_BUDGET`], 0 (no transposed pass) below
/// [`TRANSPOSED_FROM`].
const fn chunk(i: usize, o: usize) -> usize {
    let fits = SCRATCH_BUDGET / (i + o);
    if fits >= CHUNK {
        CHUNK
    } else if fits >= TRANSPOSED_FROM {
        fits
    } else {
        0
    }
}

/// Scratch floats [`forward`] needs: a chunk of the input and of the
/// output, transposed (none where the chunk would pass the budget).
pub const fn scratch_len(i: usize, o: usize) -> usize {
    chunk(i, o) * (i + o)
}

/// `output[B, O] = input[B, I] · weightᵀ + bias` (overwritten; `bias` may be
/// empty). `scratch` holds [`scratch_len`] floats.
///
/// Both operands have `I` contiguous, so the direct product is a set of dot
/// products, which stream two long rows per pair from L2. From
/// 16 samples on, chunks of up to 64 (fewer for a layer so wide that 64
/// would pass the scratch budget, and none past that) are transposed instead
/// and computed as `yᵀ[O, B] = W[O, I] · xᵀ[I, B]` by the axpy kernel (a row
/// of W broadcast against rows of xᵀ): VGG-mini's 4096 → 256 at batch 64
/// took 1.11 ms the direct way.
#[inline(always)]
pub fn forward(
    i: usize,
    o: usize,
    batch: usize,
    weight: &[f32],
    bias: &[f32],
    input: &[f32],
    output: &mut [f32],
    scratch: &mut [f32],
) {
    let out = &mut output[..batch * o];
    let chunk = chunk(i, o);
    if batch >= TRANSPOSED_FROM && chunk > 0 {
        let (xt, rest) = scratch.split_at_mut(chunk * i);
        let yt = &mut rest[..chunk * o];
        let w = Mat::new(weight, o, i);
        for (x, y) in input[..batch * i]
            .chunks(chunk * i)
            .zip(out.chunks_mut(chunk * o))
        {
            let nb = x.len() / i;
            let (xt, yt) = (&mut xt[..i * nb], &mut yt[..o * nb]);
            transpose(x, nb, i, xt);
            for (r, row) in yt.chunks_exact_mut(nb).enumerate() {
                row.fill(if bias.is_empty() { 0.0 } else { bias[r] });
            }
            gemm(w, Mat::new(xt, i, nb), yt, true);
            transpose(yt, o, nb, y);
        }
        return;
    }
    let accumulate = !bias.is_empty();
    if batch == 1 && o * i >= SPLIT_FROM {
        // one sample (latency): its outputs shared out among the threads
        // of a team lent to this one, each reading only its rows of W; the
        // same products as on one thread
        crate::team::split_slice(out, 1, &|first, part| {
            let rows = first..first + part.len();
            if accumulate {
                part.copy_from_slice(&bias[rows.clone()]);
            }
            let w = Mat::new(&weight[rows.start * i..rows.end * i], rows.len(), i);
            gemm(Mat::new(&input[..i], 1, i), w.t(), part, accumulate);
        });
        return;
    }
    if accumulate {
        for row in out.chunks_exact_mut(o) {
            row.copy_from_slice(bias);
        }
    }
    gemm(
        Mat::new(&input[..batch * i], batch, i),
        Mat::new(weight, o, i).t(),
        out,
        accumulate,
    );
}

/// *Accumulates* `d_input += dY · W`, `d_weight += dYᵀ · X`, `d_bias += Σ_B dY`
/// (`d_bias` empty without bias; no `d_input` when nothing needs it).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn backward(
    i: usize,
    o: usize,
    batch: usize,
    weight: &[f32],
    input: &[f32],
    d_output: &[f32],
    d_input: Option<&mut [f32]>,
    d_weight: &mut [f32],
    d_bias: &mut [f32],
) {
    let dy = Mat::new(&d_output[..batch * o], batch, o);
    // input gradient: dX[B, I] += dY[B, O] · W[O, I]
    if let Some(d_input) = d_input {
        gemm(dy, Mat::new(weight, o, i), &mut d_input[..batch * i], true);
    }
    // weight gradient: dW[O, I] += dYᵀ[O, B] · X[B, I]
    gemm(
        dy.t(),
        Mat::new(&input[..batch * i], batch, i),
        d_weight,
        true,
    );
    // bias gradient: column sums of dY
    if !d_bias.is_empty() {
        for row in d_output[..batch * o].chunks_exact(o) {
            d_bias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, grad_check, random_vec};

    #[test]
    fn forward_by_hand() {
        // W = [[1, 2], [3, 4], [5, 6]], b = [1, 0, -1], x = [1, -1]
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut y = [0.0; 3];
        forward(
            2,
            3,
            1,
            &w,
            &[1.0, 0.0, -1.0],
            &[1.0, -1.0],
            &mut y,
            &mut [],
        );
        assert_eq!(y, [0.0, -1.0, -2.0]);
    }

    #[test]
    fn the_scratch_stays_within_its_budget() {
        assert_eq!(chunk(4096, 256), 64);
        assert_eq!(scratch_len(25_088, 4096), 64 * 29_184);
        assert_eq!(chunk(60_000, 3), 34);
        // [2048, 65536] flattened into dense(4): 34 GB before the budget
        assert_eq!(scratch_len(2048 * 65536, 4), 0);
    }

    #[test]
    fn matches_reference_and_finite_differences() {
        // batches of 16 and more take the transposed path, in chunks of 64,
        // or of 34 (a layer too wide for 64 within the scratch budget), or
        // not at all (too wide for 16)
        for &(i, o, batch) in &[
            (1, 1, 1),
            (7, 5, 3),
            (65, 63, 4),
            (400, 120, 2),
            (9, 17, 16),
            (40, 33, 64),
            (30, 7, 150),
            (60_000, 3, 40),
            (200_000, 2, 16),
        ] {
            let w = random_vec(o * i, 1);
            let b = random_vec(o, 2);
            let x = random_vec(batch * i, 3);
            let mut y = vec![f32::NAN; batch * o];
            let mut scratch = vec![0.0; scratch_len(i, o)];
            forward(i, o, batch, &w, &b, &x, &mut y, &mut scratch);
            let want: Vec<f32> = (0..batch * o)
                .map(|k| {
                    let (n, r) = (k / o, k % o);
                    (b[r] as f64
                        + (0..i)
                            .map(|c| w[r * i + c] as f64 * x[n * i + c] as f64)
                            .sum::<f64>()) as f32
                })
                .collect();
            assert_close(&y, &want, 1e-5, "dense forward");

            // Finite differences of an f32 forward pass are only as exact as
            // its rounding, which grows with the fan-in; the larger shapes
            // are covered by the gemm tests and the forward check above.
            if i > 10 {
                continue;
            }
            let dy = random_vec(batch * o, 4);
            let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; o]);
            backward(i, o, batch, &w, &x, &dy, Some(&mut dx), &mut dw, &mut db);
            // without the input gradient: the same parameter gradients
            let (mut dw2, mut db2) = (vec![0.0; w.len()], vec![0.0; o]);
            backward(i, o, batch, &w, &x, &dy, None, &mut dw2, &mut db2);
            assert_eq!((&dw2, &db2), (&dw, &db), "dense without dx");
            let loss = |w: &[f32], b: &[f32], x: &[f32]| {
                let mut y = vec![0.0; batch * o];
                forward(i, o, batch, w, b, x, &mut y, &mut scratch.clone());
                y.iter()
                    .zip(&dy)
                    .map(|(a, b)| *a as f64 * *b as f64)
                    .sum::<f64>()
            };
            grad_check(&x, &dx, |x| loss(&w, &b, x), "dense dx");
            grad_check(&w, &dw, |w| loss(w, &b, &x), "dense dw");
            grad_check(&b, &db, |b| loss(&w, b, &x), "dense db");
        }
    }
}
