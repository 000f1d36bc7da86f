//! Forward, input gradient and parameter gradients of every layer kind and of
//! LeNet-5, against PyTorch. The recurrent layers (`rnn`, `lstm`, `gru`) are
//! PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU` with `batch_first=True` over
//! `[T, F]` inputs; `seq = all` is PyTorch's `output`, `seq = last` its
//! `output[:, -1]`.
//!
//! The reference files in `tests/golden/` are written by
//! `tools/golden/generate.py` (`pip install torch numpy && python3
//! tools/golden/generate.py`): inputs and parameters are float32 draws, and
//! PyTorch computes outputs and gradients in float64 from those exact values,
//! so the files hold the exact result our float32 code approximates.
//!
//! Tolerance: `|ours − torch| ≤ 1e-5 · (|torch| + mean |torch|)` per element
//! (`nn_runtime::testing::assert_close`). The first term is the 1e-5 relative bound;
//! the second keeps it relative for elements that cancel to nearly zero,
//! whose float32 rounding error is set by the size of the terms that
//! cancelled, not by the tiny result.

use nn::prelude::*;
use nn_runtime::testing::assert_close;
use serde_json::Value;

const REL: f64 = 1e-5;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn load(case: &str) -> Value {
    let path = format!("{}/tests/golden/{case}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Loads the case's parameters into `N`, runs forward and backward, and
/// compares everything with PyTorch.
fn check<N: Network>(case: &str) {
    let g = load(case);
    let shape: Vec<usize> = g["input_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(shape, N::INPUT_SHAPE, "{case}: input shape");
    let mut net = N::with_seed(0);
    let params = g["params"].as_object().expect("params");
    let names: Vec<&str> = N::TENSORS.iter().map(|t| t.name).collect();
    let torch_names: Vec<&str> = params.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, torch_names, "{case}: parameter names and order");
    for (name, p) in params {
        let want_shape: Vec<usize> = p["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let info = N::TENSORS.iter().find(|t| t.name == name).unwrap();
        assert_eq!(info.shape, &want_shape[..], "{case}: shape of {name}");
        net.tensor_mut(name)
            .unwrap()
            .copy_from_slice(&floats(&p["data"]));
    }
    load_buffers(&mut net, &g, case);
    if g.get("mode").and_then(Value::as_str) == Some("eval") {
        net.eval();
    }
    let input = floats(&g["input"]);
    assert_eq!(
        input.len(),
        g["batch"].as_u64().unwrap() as usize * N::INPUT_LEN
    );
    let output = net.forward(&input).to_vec();
    assert_close(
        &output,
        &floats(&g["output"]),
        REL,
        &format!("{case}: output"),
    );
    if let Some(after) = g.get("buffers_after").and_then(Value::as_object) {
        for (name, want) in after {
            assert_close(
                net.buffer(name)
                    .unwrap_or_else(|| panic!("{case}: no buffer {name}")),
                &floats(want),
                REL,
                &format!("{case}: {name} after the pass"),
            );
        }
    }
    net.zero_grad();
    net.backward(&floats(&g["grad_output"]));
    assert_close(
        net.input_grad(),
        &floats(&g["grad_input"]),
        REL,
        &format!("{case}: input gradient"),
    );
    for (name, want) in g["grads"].as_object().expect("grads") {
        assert_close(
            net.tensor_grad(name).unwrap(),
            &floats(want),
            REL,
            &format!("{case}: gradient of {name}"),
        );
    }
}

/// Loads the case's buffers (batch norm's running statistics) by name,
/// after checking that the network has the same ones in the same order.
fn load_buffers<N: Network>(net: &mut N, g: &Value, case: &str) {
    let empty = serde_json::Map::new();
    let buffers = g
        .get("buffers")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let names: Vec<&str> = N::BUFFERS.iter().map(|t| t.name).collect();
    let torch_names: Vec<&str> = buffers.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, torch_names, "{case}: buffer names and order");
    for (name, b) in buffers {
        net.buffer_mut(name)
            .unwrap()
            .copy_from_slice(&floats(&b["data"]));
    }
}

macro_rules! golden {
    ($($test:ident: [$($dim:literal),*] { $($body:tt)* })*) => {$(
        #[test]
        fn $test() {
            nn::network! { struct Net<[$($dim),*]> { $($body)* } }
            check::<Net>(stringify!($test));
        }
    )*};
}

golden! {
    conv_basic: [3, 7, 9] { conv(4, kernel = 3) }
    conv_stride2_pad1: [2, 9, 8] { conv(3, kernel = 3, stride = 2, pad = 1) }
    conv_stride3_nonsquare: [2, 11, 10] { conv(5, kernel = (3, 2), stride = (3, 2), pad = (1, 0)) }
    conv_one_sided: [1, 4, 4] { conv(2, kernel = 3, stride = 2, pad = (0, 1, 0, 1)) => [2, 2, 2] }
    conv_same: [3, 8, 7] { conv(4, kernel = 3, stride = 2, pad = same) }
    conv_valid: [2, 8, 8] { conv(3, kernel = 3, stride = 2, pad = valid) }
    conv_no_bias: [2, 5, 5] { conv(3, kernel = 2, bias = false) }
    conv_stride3_pad_rect: [2, 10, 13] { conv(3, kernel = (2, 4), stride = 3, pad = (1, 2, 0, 1)) => [3, 4, 4] }
    conv_pad_over_kernel: [1, 4, 4] { conv(2, kernel = 1, pad = 1) => [2, 6, 6] }
    conv_pad_over_kernel_strided: [2, 5, 4] { conv(3, kernel = 2, stride = 2, pad = (3, 2, 2, 3)) => [3, 5, 4] }
    max_pool_basic: [3, 7, 7] { max_pool(3, stride = 2) }
    max_pool_pad: [2, 6, 6] { max_pool(3, stride = 2, pad = 1) }
    max_pool_ceil: [2, 7, 7] { max_pool(2, round = ceil) }
    max_pool_rect: [2, 6, 9] { max_pool((2, 3)) }
    avg_pool_rect: [2, 6, 9] { avg_pool((2, 3)) }
    avg_pool_pad: [2, 5, 5] { avg_pool(3, stride = 2, pad = 1) }
    avg_pool_ceil: [2, 7, 5] { avg_pool(2, round = ceil) }
    global_avg_pool: [3, 5, 4] { global_avg_pool }
    dense: [7] { dense(5) }
    dense_no_bias: [6] { dense(3, bias = false) }
    flatten: [2, 3, 4] { flatten }
    relu: [3, 4, 5] { relu }
    leaky_relu: [3, 4, 5] { leaky_relu(0.2) }
    leaky_relu_default: [11] { leaky_relu }
    prelu_channels: [3, 4, 5] { prelu }
    prelu_features: [6] { prelu }
    sigmoid: [3, 4, 5] { sigmoid }
    tanh: [3, 4, 5] { tanh }
    softmax: [7] { softmax }
    conv_chain: [2, 9, 11] {
        conv(3, kernel = (3, 5), stride = (2, 3), pad = (1, 2)), tanh, avg_pool(2, round = floor), flatten, dense(4), sigmoid
    }
    batch_norm_image_train: [3, 5, 4] { batch_norm }
    batch_norm_image_eval: [3, 5, 4] { batch_norm }
    batch_norm_flat_train: [6] { batch_norm }
    batch_norm_flat_eval: [6] { batch_norm }
    batch_norm_args: [2, 3, 3] { batch_norm(momentum = 0.3, eps = 0.001) }
    conv_bn_relu: [3, 6, 6] { conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu }
    conv_bn_relu_max_pool: [3, 8, 8] {
        conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu, max_pool(3, stride = 2, pad = 1)
    }
    conv_bn_relu_max_pool_eval: [3, 8, 8] {
        conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu, max_pool(3, stride = 2, pad = 1)
    }
    residual_basic: [4, 6, 6] {
        residual {
            conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(4, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
    }
    residual_basic_eval: [4, 6, 6] {
        residual {
            conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(4, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
    }
    residual_projection: [4, 6, 6] {
        add {
            [conv(8, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
             conv(8, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(8, kernel = 1, stride = 2, bias = false), batch_norm],
        },
        relu,
    }
    inception: [4, 8, 8] {
        concat {
            [conv(2, kernel = 1), relu],
            [conv(3, kernel = 1), relu, conv(4, kernel = 3, pad = 1), relu],
            [conv(2, kernel = 1), relu, conv(3, kernel = 5, pad = 2), relu],
            [max_pool(3, stride = 1, pad = 1), conv(2, kernel = 1), relu],
        }
    }
    nested_blocks: [2, 6, 6] {
        conv(4, kernel = 3, pad = 1),
        b: add {
            [conv(4, kernel = 1), concat { [conv(2, kernel = 3, pad = 1)], [conv(2, kernel = 1)] }],
            [],
        },
        flatten,
        dense(3),
    }
    residual_dense: [6] { residual { dense(6), relu, dense(6) } }
    dropout_eval: [10] { dense(8), dropout(0.5), dense(3) }
    lenet5: [1, 28, 28] {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5) => [16, 10, 10], relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
    rnn_last: [5, 3] { rnn(4), dense(2) }
    rnn_all: [5, 3] { rnn(4, seq = all) }
    lstm_last: [6, 4] { lstm(5) }
    lstm_all: [6, 4] { lstm(5, seq = all) }
    gru_last: [7, 3] { gru(4) }
    gru_all: [7, 3] { gru(4, seq = all) }
    recurrent_stacked: [6, 4] { lstm(5, seq = all), tanh, gru(4, seq = all), rnn(3), dense(2) }
    recurrent_flatten: [4, 2] { gru(3, seq = all), flatten, dense(2) }
}

/// Dropout in training: PyTorch's masks come from another generator, so
/// what is compared is their statistics and their scale. Each value is
/// zeroed with probability P (the count within 5 standard deviations of
/// the binomial's mean), the others are multiplied by PyTorch's `1/(1 − P)`
/// in f32; every training pass draws a new mask, a seed gives the same
/// masks again, and evaluation is the identity.
#[test]
fn dropout_training_mask_statistics() {
    nn::network! { struct Drop<[1000]> { dropout(0.3) } }
    let x: Vec<f32> = (0..20 * 1000).map(|i| 1.0 + (i % 7) as f32).collect();
    let mut net = Drop::new(5);
    let first = net.forward(&x).to_vec();
    let zeros = first.iter().filter(|&&v| v == 0.0).count();
    let n = first.len() as f64;
    let sd = (n * 0.3 * 0.7).sqrt();
    assert!(
        (zeros as f64 - 0.3 * n).abs() < 5.0 * sd,
        "{zeros} of {n} zeroed"
    );
    let scale = 1.0f32 / (1.0 - 0.3f32);
    for (y, x) in first.iter().zip(&x) {
        assert!(*y == 0.0 || *y == x * scale, "{y} from {x}");
    }
    let second = net.forward(&x).to_vec();
    assert_ne!(first, second, "a new mask per training pass");
    let mut again = Drop::new(5);
    assert_eq!(
        again.forward(&x),
        &first[..],
        "the same seed, the same masks"
    );
    net.eval();
    assert_eq!(net.forward(&x), &x[..]);
}
