//! Weights as safetensors: a LeNet-5 exported from PyTorch loads and gives
//! PyTorch's logits; our files round-trip; files with missing, extra or
//! wrongly shaped tensors are errors that list them all.
//!
//! `tests/golden/lenet5_torch.*` come from `tools/golden/lenet_export.py`
//! (`pip install torch safetensors && python3 tools/golden/lenet_export.py`).

use nn::prelude::*;
use nn::weights::{self, WeightsError};
use nn_runtime::testing::{assert_close, random_vec, TempDir};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

#[test]
fn pytorch_lenet5_loads_and_gives_pytorchs_logits() {
    let mut net = LeNet5::new(0);
    weights::load(&mut net, &golden("lenet5_torch.safetensors")).unwrap();
    let io: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden("lenet5_torch_io.json")).unwrap())
            .unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let logits = net.forward(&floats(&io["input"])).to_vec();
    // PyTorch computed these in float32 too, summing in another order
    assert_close(
        &logits,
        &floats(&io["logits"]),
        1e-5,
        "logits of the PyTorch LeNet-5",
    );
}

#[test]
fn save_then_load_gives_the_same_network() {
    let net = LeNet5::new(11);
    let tmp = TempDir::new("nn-weights", "round-trip");
    let path = tmp.0.join("weights.safetensors");
    weights::save(&net, &path).unwrap();
    let mut other = LeNet5::new(12);
    assert_ne!(net.params(), other.params());
    weights::load(&mut other, &path).unwrap();
    assert_eq!(net.params(), other.params());
    let left: Vec<_> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["weights.safetensors"],
        "the temporary file is renamed away"
    );
    // with the permissions of any new file, not only the owner's
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let probe = tmp.0.join("probe");
        std::fs::write(&probe, b"").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&probe));
    }
}

#[test]
fn mismatched_files_list_every_difference() {
    let net = LeNet5::new(1);
    let bogus = random_vec(30, 2);
    let mut tensors: Vec<(&str, &[usize], &[f32])> =
        net.tensors().map(|(t, d)| (t.name, t.shape, d)).collect();
    tensors.retain(|t| t.0 != "9.bias"); // missing
    tensors.retain(|t| t.0 != "11.weight");
    tensors.push(("11.weight", &[10, 3], &bogus)); // wrong shape
    tensors.push(("12.weight", &[30], &bogus)); // extra
    let tmp = TempDir::new("nn-weights", "mismatch");
    let path = tmp.0.join("weights.safetensors");
    weights::write(&path, &tensors, HashMap::new()).unwrap();

    let mut target = LeNet5::new(3);
    let before = target.params().to_vec();
    let err = weights::load(&mut target, &path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, WeightsError::Mismatch { .. }), "{text}");
    for part in [
        "LeNet5",
        "missing: 9.bias [84]",
        "not in the network: 12.weight [30]",
        "11.weight: shape [10, 3], expected [10, 84]",
    ] {
        assert!(text.contains(part), "`{part}` not in:\n{text}");
    }
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert_eq!(
        target.params(),
        &before[..],
        "a failed load changes nothing"
    );
}

#[test]
fn unreadable_files_name_the_path() {
    let mut net = LeNet5::new(1);
    let tmp = TempDir::new("nn-weights", "missing");
    let missing = tmp.0.join("no-such-file.safetensors");
    let err = weights::load(&mut net, &missing).unwrap_err();
    assert!(
        matches!(err, WeightsError::Io { .. })
            && err.to_string().contains("no-such-file.safetensors"),
        "{err}"
    );

    let tmp = TempDir::new("nn-weights", "garbage");
    let garbage = tmp.0.join("weights.safetensors");
    std::fs::write(&garbage, b"definitely not a safetensors file").unwrap();
    let err = weights::load(&mut net, &garbage).unwrap_err();
    assert!(matches!(err, WeightsError::Format { .. }), "{err}");
    assert!(
        err.to_string().contains(&garbage.display().to_string()),
        "{err}"
    );
}

nn::network! {
    struct Normed<[2, 4, 4]> {
        conv(3, kernel = 3, pad = 1, bias = false), batch_norm, relu,
        residual { conv(3, kernel = 3, pad = 1), batch_norm },
        flatten, dropout(0.5), dense(4),
    }
}

#[test]
fn buffers_are_saved_with_pytorchs_names_and_the_count_as_int64() {
    let mut net = Normed::new(3);
    net.forward(&random_vec(3 * Normed::INPUT_LEN, 1));
    net.forward(&random_vec(3 * Normed::INPUT_LEN, 2));
    assert_eq!(net.buffer("1.num_batches_tracked"), Some(&[2.0][..]));
    let tmp = TempDir::new("nn-weights", "buffers");
    let path = tmp.0.join("normed.safetensors");
    weights::save(&net, &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(
        names,
        [
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight",
            "3.0.0.bias",
            "3.0.0.weight",
            "3.0.1.bias",
            "3.0.1.num_batches_tracked",
            "3.0.1.running_mean",
            "3.0.1.running_var",
            "3.0.1.weight",
            "0.weight",
            "6.bias",
            "6.weight",
        ]
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .iter()
        .collect::<Vec<_>>()
    );
    let count = file.tensor("1.num_batches_tracked").unwrap();
    assert_eq!(count.dtype(), safetensors::Dtype::I64);
    assert_eq!(count.shape(), &[] as &[usize]);
    assert_eq!(count.data(), 2i64.to_le_bytes());

    let mut other = Normed::new(4);
    weights::load(&mut other, &path).unwrap();
    assert_eq!(net.params(), other.params());
    for t in Normed::BUFFERS {
        assert_eq!(net.buffer(t.name), other.buffer(t.name), "{}", t.name);
    }
    // the running statistics make evaluation give the same outputs
    net.eval();
    other.eval();
    let x = random_vec(2 * Normed::INPUT_LEN, 5);
    let y = net.forward(&x).to_vec();
    assert_eq!(other.forward(&x), &y[..]);
}

#[test]
fn a_file_without_the_buffers_is_refused_and_changes_nothing() {
    let net = Normed::new(3);
    let tmp = TempDir::new("nn-weights", "no-buffers");
    let path = tmp.0.join("params-only.safetensors");
    let tensors: Vec<(&str, &[usize], &[f32])> =
        net.tensors().map(|(t, d)| (t.name, t.shape, d)).collect();
    weights::write(&path, &tensors, HashMap::new()).unwrap();
    let mut other = Normed::new(4);
    let before = other.params().to_vec();
    let err = weights::load(&mut other, &path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, WeightsError::Mismatch { .. }), "{text}");
    assert!(
        text.contains("missing: 1.running_mean [3], 1.running_var [3], 1.num_batches_tracked []"),
        "{text}"
    );
    assert_eq!(other.params(), &before[..]);
}

#[test]
fn a_tensor_with_fewer_values_than_its_shape_is_refused_and_changes_nothing() {
    // `Tensor`'s fields are public, so its shape may claim more than its
    // data holds; the last tensor checked is short, after every other has
    // been found to fit (it used to panic after writing those)
    let net = LeNet5::new(1);
    let tmp = TempDir::new("nn-weights", "short-tensor");
    let path = tmp.0.join("weights.safetensors");
    weights::save(&net, &path).unwrap();
    let (mut tensors, _) = weights::read(&path).unwrap();
    let last = LeNet5::TENSORS.last().unwrap().name;
    let short = tensors.iter_mut().find(|t| t.name == last).unwrap();
    short.data.truncate(5);
    let mut other = LeNet5::new(2);
    let before = other.params().to_vec();
    let err = weights::load_tensors(&mut other, &tensors, &path, &[]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, WeightsError::Mismatch { .. }), "{text}");
    assert!(
        text.contains(&format!("{last}: 5 values for shape [10], expected 10")),
        "{text}"
    );
    assert_eq!(other.params(), &before[..]);
}

#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let tmp = TempDir::new("nn-weights", "failed-write");
    // a directory where the file should go: the temporary file is
    // written, and the rename over the directory fails
    let path = tmp.0.join("weights.safetensors");
    std::fs::create_dir(&path).unwrap();
    let err = weights::save(&LeNet5::new(1), &path).unwrap_err();
    assert!(matches!(err, WeightsError::Io { .. }), "{err}");
    let left: Vec<_> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["weights.safetensors"], "only the directory");
}

#[test]
fn writers_do_not_share_a_temporary_name() {
    // something already at `<path>.tmp`, as another writer's would be:
    // with a fixed temporary name, the write failed
    let tmp = TempDir::new("nn-weights", "tmp-taken");
    let path = tmp.0.join("weights.safetensors");
    std::fs::create_dir(tmp.0.join("weights.safetensors.tmp")).unwrap();
    let net = LeNet5::new(3);
    weights::save(&net, &path).unwrap();
    let mut back = LeNet5::new(4);
    weights::load(&mut back, &path).unwrap();
    assert_eq!(back.params(), net.params());
}
