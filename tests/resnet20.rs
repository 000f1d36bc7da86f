//! ResNet-20 against PyTorch: a PyTorch state dict (parameters and batch
//! norm buffers, `num_batches_tracked` as int64) loads as it is, and the
//! evaluation output, the training output, the running statistics after a
//! training pass, the input gradient and every parameter gradient match.
//!
//! `tests/golden/resnet20_torch*.safetensors` come from
//! `tools/golden/resnet20_export.py`: float32 inputs and parameters, and
//! the reference computed by PyTorch in float64 from those values.
//!
//! Tolerance, per element: `1e-5 · (|torch| + mean |torch|)` for the outputs
//! and running statistics, as for single layers; ten times that for the
//! gradients, which pass back through 21 convolutions and 21 batch norms in
//! float32, the batch norms' training-mode gradients subtracting nearly
//! equal sums (measured: 2.7e-5 of that scale at worst, in `15.0.3.weight`).

#[path = "../examples/nets/resnet20.rs"]
mod resnet20;

use nn::prelude::*;
use nn_runtime::testing::assert_close;
use resnet20::ResNet20;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

const REL: f64 = 1e-5;
const GRAD_REL: f64 = 1e-4;

fn golden(name: &str) -> std::path::PathBuf {
    format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR")).into()
}

/// A tensor of the reference file as f32 (float64 values rounded).
fn tensor(file: &SafeTensors, name: &str) -> Vec<f32> {
    let view = file.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::I64 => view
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn resnet20_has_the_parameters_and_buffers_of_pytorchs() {
    assert_eq!(ResNet20::PARAM_COUNT, 272_474);
    assert_eq!(ResNet20::TENSORS.len(), 65);
    assert_eq!(ResNet20::BUFFERS.len(), 63);
    assert_eq!(ResNet20::TENSORS[3].name, "3.0.0.weight");
    assert_eq!(ResNet20::TENSORS[64].name, "22.bias");
    assert_eq!(ResNet20::BUFFERS[2].name, "1.num_batches_tracked");
    assert_eq!(ResNet20::BUFFERS[2].shape, &[] as &[usize]);
}

#[test]
fn resnet20_matches_pytorch_in_both_modes() {
    let mut net = ResNet20::new(0);
    nn::weights::load(&mut net, &golden("resnet20_torch.safetensors")).unwrap();
    let bytes = std::fs::read(golden("resnet20_torch_io.safetensors")).unwrap();
    let io = SafeTensors::deserialize(&bytes).unwrap();
    let input = tensor(&io, "input");

    net.eval();
    let eval = net.forward(&input).to_vec();
    assert_close(&eval, &tensor(&io, "eval_output"), REL, "eval output");

    net.train();
    let out = net.forward(&input).to_vec();
    assert_close(&out, &tensor(&io, "output"), REL, "train output");
    for b in ResNet20::BUFFERS {
        let want = tensor(&io, &format!("buffers_after.{}", b.name));
        assert_close(net.buffer(b.name).unwrap(), &want, REL, b.name);
    }
    net.zero_grad();
    net.backward(&tensor(&io, "grad_output"));
    assert_close(
        net.input_grad(),
        &tensor(&io, "grad_input"),
        GRAD_REL,
        "input gradient",
    );
    for t in ResNet20::TENSORS {
        let want = tensor(&io, &format!("grad.{}", t.name));
        let what = format!("gradient of {}", t.name);
        assert_close(net.tensor_grad(t.name).unwrap(), &want, GRAD_REL, &what);
    }
}

/// `predict` in evaluation mode runs the convs of 32 and 64 channels by
/// Winograd's algorithm on kernels it transforms once and keeps: it matches
/// PyTorch, and follows the weights when they change (a load, a write
/// through `tensor_mut`) instead of reusing stale kernels.
#[test]
fn predict_matches_pytorch_and_follows_changed_weights() {
    let bytes = std::fs::read(golden("resnet20_torch_io.safetensors")).unwrap();
    let io = SafeTensors::deserialize(&bytes).unwrap();
    let input = tensor(&io, "input");
    let mut out = vec![0.0; input.len() / ResNet20::INPUT_LEN * ResNet20::OUTPUT_LEN];
    let mut net = ResNet20::new(0);
    net.eval();
    // kernels prepared from the seed's weights, then the weights replaced
    net.predict(&input, &mut out);
    nn::weights::load(&mut net, &golden("resnet20_torch.safetensors")).unwrap();
    net.predict(&input, &mut out);
    assert_close(&out, &tensor(&io, "eval_output"), REL, "predict after load");
    // a 32-channel 3×3 kernel changed in place
    let t = ResNet20::TENSORS
        .iter()
        .find(|t| t.shape == [32, 32, 3, 3])
        .expect("a 32-channel conv");
    let before = out.clone();
    net.tensor_mut(t.name)
        .unwrap()
        .iter_mut()
        .for_each(|w| *w *= -2.0);
    net.predict(&input, &mut out);
    let forward = net.forward(&input).to_vec();
    assert_close(&out, &forward, REL, "predict after a weight changed");
    assert!(
        out.iter().zip(&before).any(|(a, b)| (a - b).abs() > 1e-3),
        "the change reached the output"
    );
}
