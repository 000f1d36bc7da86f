//! Every loss's value and gradient against PyTorch.
//!
//! The reference files in `tests/golden/losses/` (at the workspace root) are
//! written by `tools/golden/losses.py` (`pip install torch numpy && python3
//! tools/golden/losses.py`; the file format is described at the top of the
//! script). Outputs and targets are float32 values, and PyTorch computes the
//! mean loss and its gradient in float64 from exactly those values, so the
//! files hold the exact results our float32 losses approximate. The
//! `MulticlassHinge` reference is `nn.MultiMarginLoss(margin=1)(x, y) · N`,
//! since PyTorch also divides each sample's sum by the number of classes.
//!
//! Tolerance:
//! - the loss value: `|ours − torch| ≤ 1e-6 · |torch|`;
//! - the gradient: `|ours − torch| ≤ 1e-6 · (|torch| + mean |torch|)` per
//!   element, as in `nn_runtime::testing::assert_close` but against the
//!   float64 values rather than their f32 roundings. Some gradient elements
//!   are differences of nearly equal numbers: `softmax_y − 1` for a confident
//!   right prediction, `σ(x) − t` where `σ(x) ≈ t`. Their rounding error, in
//!   PyTorch's float64 as in ours, is set by the size of the terms that
//!   cancelled (about 1 before the division by `B` or `B·N`), not by the
//!   tiny difference, so a purely relative bound would compare rounding
//!   noise. Others lie below f32's range (`softmax_ce_large` has softmax
//!   values near 1e-71) and can only be 0 in f32. The mean magnitude of the
//!   gradient stands in for the scale of those terms.

use nn_runtime::loss::{
    Loss, MeanSquaredError, MulticlassHinge, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

const REL: f64 = 1e-6;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/losses")
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// The f32 fields (outputs, float targets) hold exact f32 values.
fn floats(v: &Value) -> Vec<f32> {
    f64s(v).into_iter().map(|x| x as f32).collect()
}

fn labels(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| u32::try_from(x.as_u64().expect("label")).expect("label fits u32"))
        .collect()
}

/// Largest differences of one case, relative to the tolerance's scale.
#[derive(Clone, Copy, Default)]
struct Worst {
    /// `|ours − torch| / |torch|` for the value (0 when both are 0).
    value: f64,
    /// Largest `|ours − torch| / (|torch| + mean |torch|)` over the gradient.
    grad: f64,
}

/// `|got − want| / scale`, or 0 when they are equal (also for a 0 scale).
fn relative(got: f64, want: f64, scale: f64) -> f64 {
    let diff = (got - want).abs();
    if diff == 0.0 {
        0.0
    } else {
        diff / scale
    }
}

/// Runs `loss` on the case and compares the value and gradient with
/// PyTorch's float64 results (not rounded to f32).
fn check<L: Loss>(loss: &L, case: &Value, targets: &[L::Target]) -> Worst {
    let name = case["case"].as_str().expect("case name");
    let outputs = floats(&case["outputs"]);
    let b = case["batch"].as_u64().expect("batch") as usize;
    let n = case["classes"].as_u64().expect("classes") as usize;
    assert_eq!(outputs.len(), b * n, "{name}: outputs length");
    let want_value = case["value"].as_f64().expect("value");
    let want_grad = f64s(&case["d_outputs"]);
    assert_eq!(want_grad.len(), b * n, "{name}: d_outputs length");

    // NaN everywhere: the loss must overwrite every element.
    let mut d_outputs = vec![f32::NAN; outputs.len()];
    let value = loss.loss(&outputs, targets, &mut d_outputs);

    let value_rel = relative(value as f64, want_value, want_value.abs());
    assert!(
        value_rel <= REL,
        "{name}: loss is {value}, PyTorch gives {want_value} (relative difference {value_rel:e})"
    );

    let mean_abs = want_grad.iter().map(|g| g.abs()).sum::<f64>() / want_grad.len() as f64;
    let mut grad_rel = 0.0f64;
    for (i, (&got, &want)) in d_outputs.iter().zip(&want_grad).enumerate() {
        let rel = relative(got as f64, want, want.abs() + mean_abs);
        assert!(
            rel <= REL,
            "{name}: d_outputs[{i}] is {got}, PyTorch gives {want} (|diff| {:e}, mean |d_outputs| {mean_abs:e})",
            (got as f64 - want).abs()
        );
        grad_rel = grad_rel.max(rel);
    }
    Worst {
        value: value_rel,
        grad: grad_rel,
    }
}

#[test]
fn losses_match_pytorch() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", golden_dir().display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();

    let kinds = [
        "MeanSquaredError",
        "SoftmaxCrossEntropy",
        "SigmoidBinaryCrossEntropy",
        "MulticlassHinge",
    ];
    let mut cases = [0usize; 4];
    let mut worst = [Worst::default(); 4];
    for path in &paths {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let case: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kind = case["loss"].as_str().expect("loss");
        let w = match kind {
            "MeanSquaredError" => check(&MeanSquaredError, &case, &floats(&case["targets"])),
            "SoftmaxCrossEntropy" => check(&SoftmaxCrossEntropy, &case, &labels(&case["targets"])),
            "SigmoidBinaryCrossEntropy" => {
                check(&SigmoidBinaryCrossEntropy, &case, &floats(&case["targets"]))
            }
            "MulticlassHinge" => check(&MulticlassHinge, &case, &labels(&case["targets"])),
            other => panic!("{}: unknown loss {other:?}", path.display()),
        };
        let k = kinds.iter().position(|&k| k == kind).unwrap();
        cases[k] += 1;
        worst[k].value = worst[k].value.max(w.value);
        worst[k].grad = worst[k].grad.max(w.grad);
    }

    for (k, kind) in kinds.iter().enumerate() {
        assert!(
            cases[k] >= 3,
            "{kind}: only {} golden cases in {}",
            cases[k],
            golden_dir().display()
        );
        println!(
            "{kind:<26} {} cases, worst relative difference: value {:.2e}, gradient {:.2e}",
            cases[k], worst[k].value, worst[k].grad
        );
    }
}
