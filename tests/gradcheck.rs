//! Finite-difference checks of whole networks: every layer kind inside a
//! network, every block form, batch norm and dropout in both modes, and
//! LeNet-5. The loss is `Σ output · r` for a fixed random `r`,
//! so its gradient for the output is `r`; the input and parameter gradients
//! from `backward` are compared with central differences (step 1e-3,
//! tolerance `1e-2 · max(|numeric|, |analytic|) + 1e-3`).
//!
//! ReLU and max pooling make the loss piecewise linear. Where the analytic
//! gradient changes within the step (a kink), the difference quotient is an
//! average of the gradients on both sides, so `nn_runtime::testing::grad_check_piecewise`
//! checks that it lies between them; at most 20 % of the indices may have a
//! kink.
//!
//! Every pass starts from the same dropout step, so that dropout draws the
//! same mask in each of them (training mode draws a new mask per pass).

use nn::prelude::*;
use nn::Mode;
use nn_runtime::testing::{distinct_vec, grad_check_piecewise, random_vec};

/// Largest fraction of checked indices that may have a kink within the step.
const MAX_KINKS: f64 = 0.2;

/// Back to the first training pass's dropout masks.
fn rewind<N: Network>(net: &mut N) {
    let (seed, _) = net.dropout_state();
    net.set_dropout_state(seed, 0);
}

fn loss_of<N: Network>(net: &mut N, input: &[f32], r: &[f32]) -> f64 {
    rewind(net);
    net.forward(input)
        .iter()
        .zip(r)
        .map(|(y, r)| *y as f64 * *r as f64)
        .sum()
}

fn input_grad_of<N: Network>(net: &mut N, input: &[f32], r: &[f32]) -> Vec<f32> {
    rewind(net);
    net.forward(input);
    net.backward(r);
    net.input_grad().to_vec()
}

fn param_grad_of<N: Network>(net: &mut N, params: &[f32], input: &[f32], r: &[f32]) -> Vec<f32> {
    net.params_mut().copy_from_slice(params);
    rewind(net);
    net.forward(input);
    net.zero_grad();
    net.backward(r);
    net.grads().to_vec()
}

/// Every index when `n ≤ limit`, else `limit` spread evenly.
fn indices(n: usize, limit: usize) -> Vec<usize> {
    if n <= limit {
        (0..n).collect()
    } else {
        (0..limit)
            .map(|k| k * n / limit + (k * 7919) % (n / limit).max(1))
            .collect()
    }
}

fn check<N: Network>(batch: usize, seed: u64, limit: usize) {
    check_in::<N>(Mode::Train, batch, seed, limit);
}

fn check_in<N: Network>(mode: Mode, batch: usize, seed: u64, limit: usize) {
    let mut net = N::with_seed(seed);
    // batch norm's running statistics, away from their starting values
    let stats = random_vec(N::BUFFER_COUNT.max(1), seed + 4);
    for (i, t) in N::BUFFERS.iter().enumerate() {
        let b = net.buffer_mut(t.name).unwrap();
        if t.name.ends_with("running_var") {
            b.iter_mut().for_each(|v| *v = 0.5 + (i % 3) as f32 * 0.4);
        } else if t.name.ends_with("running_mean") {
            b.iter_mut().zip(&stats).for_each(|(v, s)| *v = 0.2 * s);
        }
    }
    if mode == Mode::Eval {
        net.eval();
    }
    // biases start at 0; move them so that their gradients are exercised
    let shift = random_vec(N::PARAM_COUNT, seed + 1);
    // (`bias`, and the recurrent layers' `bias_ih_l0` and `bias_hh_l0`)
    let is_bias = |name: &str| {
        name.rsplit('.')
            .next()
            .is_some_and(|s| s.starts_with("bias"))
    };
    for t in N::TENSORS.iter().filter(|t| is_bias(t.name)) {
        let range = t.offset..t.offset + t.len;
        for (p, s) in net.params_mut()[range.clone()]
            .iter_mut()
            .zip(&shift[range])
        {
            *p = 0.1 * s;
        }
    }
    let params = net.params().to_vec();
    let input = distinct_vec(batch * N::INPUT_LEN, seed + 2);
    let r = random_vec(batch * N::OUTPUT_LEN, seed + 3);
    let mut other = N::with_seed(seed);
    other.params_mut().copy_from_slice(&params);
    for t in N::BUFFERS {
        let b = net.buffer(t.name).unwrap().to_vec();
        other.buffer_mut(t.name).unwrap().copy_from_slice(&b);
    }
    if mode == Mode::Eval {
        other.eval();
    }

    grad_check_piecewise(
        &input,
        &indices(input.len(), limit),
        |x| loss_of(&mut net, x, &r),
        |x| input_grad_of(&mut other, x, &r),
        &format!("{}: input", N::NAME),
        MAX_KINKS,
    );
    grad_check_piecewise(
        &params,
        &indices(params.len(), limit),
        |w| {
            net.params_mut().copy_from_slice(w);
            loss_of(&mut net, &input, &r)
        },
        |w| param_grad_of(&mut other, w, &input, &r),
        &format!("{}: parameters", N::NAME),
        MAX_KINKS,
    );

    // training's backward, without the input gradient: the same parameter
    // gradients, and no input gradient to read
    other.params_mut().copy_from_slice(&params);
    let full = param_grad_of(&mut other, &params, &input, &r);
    rewind(&mut other);
    other.forward(&input);
    other.zero_grad();
    other.backward_params(&r);
    assert_eq!(other.grads(), &full[..], "{}: backward_params", N::NAME);
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| other.input_grad().len()));
    assert!(
        read.is_err(),
        "{}: input_grad after backward_params",
        N::NAME
    );
    // each gradient slot starts from zero in every backward pass: a second
    // pass gives the same input gradient, not twice it
    other.params_mut().copy_from_slice(&params);
    let once = input_grad_of(&mut other, &input, &r);
    let twice = input_grad_of(&mut other, &input, &r);
    assert_eq!(
        once,
        twice,
        "{}: input gradient of a second backward",
        N::NAME
    );
}

macro_rules! fd {
    ($($test:ident: [$($dim:literal),*] { $($body:tt)* })*) => {$(
        #[test]
        fn $test() {
            nn::network! { struct Net<[$($dim),*]> { $($body)* } }
            check::<Net>(3, 11, 400);
        }
    )*};
}

fd! {
    conv_pad_forms: [2, 9, 8] {
        conv(3, kernel = 3, stride = 2, pad = 1), conv(2, kernel = (2, 3), pad = (0, 1, 1, 0)),
        conv(2, kernel = 2, pad = same), conv(3, kernel = (3, 2), stride = (3, 2), pad = valid, bias = false),
    }
    pools: [2, 9, 9] { max_pool(3, stride = 2, pad = 1), avg_pool(2, round = ceil), max_pool((2, 1), round = ceil), avg_pool(3, stride = 2, pad = 1) }
    global_avg_pool: [3, 5, 4] { conv(4, kernel = 1), global_avg_pool, dense(2) }
    // ReLUs that the max pools after them apply: on the network's input,
    // with overlapping padded windows, and after a conv, with a last
    // partial window; and one before a window of 256 positions, too many
    // to save as bytes, found again in the input (after a sigmoid, so that
    // a channel whose weight is negative has no positive maximum, and the
    // ReLU's gradient matters)
    relu_into_pools: [2, 10, 10] {
        relu, max_pool(3, stride = 2, pad = 1), conv(3, kernel = 2), relu, max_pool(3, stride = 2, round = ceil)
    }
    relu_into_a_wide_pool: [1, 16, 16] { sigmoid, conv(6, kernel = 1), relu, max_pool(16), flatten, dense(2) }
    dense_stack: [13] { dense(7), dense(5, bias = false), dense(3) }
    activations: [2, 4, 5] { leaky_relu(0.2), prelu, sigmoid, tanh, relu, flatten, dense(6), prelu, leaky_relu, softmax }
    rnn_last: [4, 3] { rnn(5), dense(2) }
    lstm_last: [4, 3] { lstm(3), dense(2) }
    gru_last: [5, 2] { gru(4), tanh, dense(2) }
    // stacked: each step of one into the next, an activation on [T, H]
    // between, and every step out of the last
    recurrent_stacked: [4, 3] { lstm(3, seq = all), tanh, gru(3, seq = all), rnn(2, seq = all), flatten, dense(3) }
    // a recurrent layer on the network's input inside a block, and a
    // residual over a sequence
    recurrent_in_blocks: [3, 4] {
        add { [gru(3, seq = all)], [lstm(3, seq = all)] },
        residual { rnn(3, seq = all) },
        concat { [lstm(2)], [gru(3, seq = all), flatten] },
    }
    conv_chain: [2, 9, 11] {
        conv(3, kernel = (3, 5), stride = (2, 3), pad = (1, 2)), tanh, avg_pool(2, round = floor), flatten, dense(4), sigmoid
    }
}

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

#[test]
fn lenet5() {
    check::<LeNet5>(2, 5, 300);
}

macro_rules! fd_modes {
    ($($test:ident: [$($dim:literal),*] { $($body:tt)* })*) => {$(
        #[test]
        fn $test() {
            nn::network! { struct Net<[$($dim),*]> { $($body)* } }
            check_in::<Net>(Mode::Train, 4, 13, 300);
            check_in::<Net>(Mode::Eval, 4, 13, 300);
        }
    )*};
}

fd_modes! {
    batch_norm_image: [2, 4, 3] { conv(3, kernel = 3, pad = 1), batch_norm, tanh, flatten, dense(3) }
    batch_norm_flat: [7] { dense(5), batch_norm(momentum = 0.3, eps = 0.001), sigmoid, dense(3) }
    dropout: [12] { dense(10), dropout(0.3), tanh, dense(6), dropout(0.5), dense(3) }
    residual_basic: [3, 5, 5] {
        conv(4, kernel = 3, pad = 1), batch_norm, tanh,
        residual {
            conv(4, kernel = 3, pad = 1, bias = false), batch_norm, tanh,
            conv(4, kernel = 3, pad = 1), batch_norm,
        },
        tanh, flatten, dense(3),
    }
    residual_projection: [3, 6, 6] {
        add {
            [conv(5, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, tanh,
             conv(5, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(5, kernel = 1, stride = 2, bias = false), batch_norm],
        },
        tanh, global_avg_pool, dense(3),
    }
    inception: [3, 6, 6] {
        concat {
            [conv(2, kernel = 1), tanh],
            [conv(2, kernel = 1), tanh, conv(3, kernel = 3, pad = 1)],
            [avg_pool(3, stride = 1, pad = 1), conv(2, kernel = 1)],
            [],
            [conv(2, kernel = 3, pad = 1), leaky_relu(0.1)],
        },
        flatten, dense(4),
    }
    // an add's first branch writes the block's output and every branch
    // reads its gradient in place, except where a last layer (tanh,
    // sigmoid) differentiates through its own output
    merged_in_place: [2, 4, 4] {
        add {
            [conv(3, kernel = 3, pad = 1), tanh],
            [conv(3, kernel = 1), sigmoid],
            [add { [conv(3, kernel = 3, pad = 1)], [conv(3, kernel = 1), batch_norm] }],
        },
        add { [add { [conv(3, kernel = 1)], [tanh] }], [] },
        flatten, dense(3),
    }
    // a ReLU or tanh right after a block overwrites the block's output
    relu_after_blocks: [3, 5, 5] {
        conv(4, kernel = 3, pad = 1), tanh,
        residual { conv(4, kernel = 3, pad = 1), batch_norm }, relu,
        concat { [conv(2, kernel = 1), tanh], [] }, tanh,
        add { [conv(3, kernel = 1), tanh], [conv(3, kernel = 1)] }, relu,
        flatten, dense(3),
    }
    merged_in_place_nested: [3, 4, 4] {
        add { [add { [conv(3, kernel = 1)], [tanh] }, batch_norm], [] },
        concat { [add { [conv(2, kernel = 1)], [conv(2, kernel = 3, pad = 1)] }], [] },
        flatten, dense(3),
    }
    nested: [2, 5, 5] {
        b: add {
            [conv(2, kernel = 3, pad = 1), concat { [conv(1, kernel = 1)], [residual { conv(2, kernel = 3, pad = 1) }, conv(1, kernel = 1)] }],
            [],
            [sigmoid],
        },
        flatten,
        residual { dense(50), tanh, dense(50) },
        concat { [dense(3)], [], [tanh, dense(2)] },
        dense(3),
    }
}
