//! Weights as safetensors: a LeNet-5 exported from PyTorch loads and gives
//! PyTorch's logits; our files round-trip; files with missing, extra or
//! wrongly shaped tensors are errors that list them all; our files record
//! their network (name, input shape, layers), and a file of another network
//! is refused with what differs, even where its tensors would fit; damaged
//! records are errors, not panics.
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
    let (mut tensors, metadata) = weights::read(&path).unwrap();
    let last = LeNet5::TENSORS.last().unwrap().name;
    let short = tensors.iter_mut().find(|t| t.name == last).unwrap();
    short.data.truncate(5);
    let mut other = LeNet5::new(2);
    let before = other.params().to_vec();
    let err = weights::load_tensors(&mut other, &tensors, &metadata, &path, &[]).unwrap_err();
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

/// Writes `net`'s tensors to `path` with `metadata`.
fn write_with_metadata<N: Network>(net: &N, path: &Path, metadata: &[(&str, &str)]) {
    let tensors: Vec<(&str, &[usize], &[f32])> =
        net.tensors().map(|(t, d)| (t.name, t.shape, d)).collect();
    let metadata = metadata
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect();
    weights::write(path, &tensors, metadata).unwrap();
}

/// Loads `path` into a new `N`, which must refuse it and stay as it was:
/// the error.
fn refused<N: Network>(path: &Path) -> WeightsError {
    let mut net = N::with_seed(99);
    let before = net.params().to_vec();
    let err = weights::load(&mut net, path).unwrap_err();
    assert_eq!(net.params(), &before[..], "a failed load changes nothing");
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );
    err
}

fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "`{part}` not in:\n{text}");
    }
}

#[test]
fn a_saved_file_records_its_network() {
    let tmp = TempDir::new("nn-weights", "records");
    let path = tmp.0.join("lenet.safetensors");
    weights::save(&LeNet5::new(1), &path).unwrap();
    let (_, metadata) = weights::read(&path).unwrap();
    assert_eq!(metadata[weights::NETWORK_KEY], "LeNet5");
    assert_eq!(metadata[weights::INPUT_SHAPE_KEY], "[1, 28, 28]");
    // JSON, for any reader (Python's `json.loads`)
    let layers: serde_json::Value = serde_json::from_str(&metadata[weights::LAYERS_KEY]).unwrap();
    let layers = layers.as_array().unwrap();
    assert_eq!(layers.len(), LeNet5::LAYERS.len());
    assert_eq!(
        layers[3],
        serde_json::json!({"name": "c2", "kind": "conv 5x5", "output": [16, 10, 10]})
    );
    assert_eq!(
        layers[11],
        serde_json::json!({"name": "11", "kind": "dense", "output": [10]})
    );
}

nn::network! {
    /// LeNet-5 with other activations: the same tensors.
    struct LeNet5Tanh<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), tanh, max_pool(2),
        c2: conv(16, kernel = 5), tanh, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    /// LeNet-5 with a wider first conv: other tensors.
    struct LeNet5Wide<[1, 28, 28]> {
        conv(8, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    /// LeNet-5 under another name.
    struct Digits<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

mod grown {
    nn::network! {
        /// Another definition of `LeNet5`: a softmax at the end.
        pub struct LeNet5<[1, 28, 28]> {
            conv(6, kernel = 5, pad = 2), relu, max_pool(2),
            c2: conv(16, kernel = 5), relu, max_pool(2),
            flatten, dense(120), relu, dense(84), relu, dense(10), softmax,
        }
    }
}

nn::network! {
    /// Global pooling makes the tensors independent of the input's size.
    struct Pooled8<[3, 8, 8]> { conv(4, kernel = 3), relu, global_avg_pool, dense(2) }
}

nn::network! {
    struct Pooled10<[3, 10, 10]> { conv(4, kernel = 3), relu, global_avg_pool, dense(2) }
}

#[test]
fn a_file_of_other_layers_is_refused_even_where_its_tensors_fit() {
    let tmp = TempDir::new("nn-weights", "other-layers");
    let path = tmp.0.join("lenet.safetensors");
    weights::save(&LeNet5::new(1), &path).unwrap();
    let err = refused::<LeNet5Tanh>(&path);
    assert!(matches!(err, WeightsError::OtherNetwork { .. }), "{err}");
    assert_says(
        &err.to_string(),
        &[
            "written from `LeNet5`, which differs from `LeNet5Tanh`",
            "layer 1: `1` relu → [6, 28, 28] in the file, `1` tanh → [6, 28, 28] in `LeNet5Tanh`",
        ],
    );
    let WeightsError::OtherNetwork {
        file_network,
        input_shape,
        layers: Some(d),
        ..
    } = err
    else {
        panic!("no layer difference");
    };
    assert_eq!(file_network.as_deref(), Some("LeNet5"));
    assert_eq!(input_shape, None);
    assert_eq!((d.index, d.file_layers, d.network_layers), (1, 12, 12));

    // the tensors alone, by choice: they fit
    let (tensors, _) = weights::read(&path).unwrap();
    let mut net = LeNet5Tanh::new(2);
    weights::load_tensors(&mut net, &tensors, &HashMap::new(), &path, &[]).unwrap();
    assert_eq!(net.params(), LeNet5::new(1).params());
}

#[test]
fn a_file_of_other_tensors_names_the_layer_before_the_tensors() {
    let tmp = TempDir::new("nn-weights", "other-tensors");
    let path = tmp.0.join("wide.safetensors");
    weights::save(&LeNet5Wide::new(1), &path).unwrap();
    let err = refused::<LeNet5>(&path);
    assert!(matches!(err, WeightsError::OtherNetwork { .. }), "{err}");
    assert_says(
        &err.to_string(),
        &[
            "written from `LeNet5Wide`, which differs from `LeNet5`",
            "layer 0: `0` conv 5x5 pad 2 → [8, 28, 28] in the file, `0` conv 5x5 pad 2 → [6, 28, 28] in `LeNet5`",
        ],
    );
    // without the record, the tensors that differ are listed as before
    let (tensors, _) = weights::read(&path).unwrap();
    let err = weights::load_tensors(&mut LeNet5::new(2), &tensors, &HashMap::new(), &path, &[])
        .unwrap_err();
    assert!(matches!(err, WeightsError::Mismatch { .. }), "{err}");
    assert_says(
        &err.to_string(),
        &["0.weight: shape [8, 1, 5, 5], expected [6, 1, 5, 5]"],
    );
}

#[test]
fn a_file_of_another_definition_of_the_same_name_is_refused() {
    let tmp = TempDir::new("nn-weights", "same-name");
    let path = tmp.0.join("grown.safetensors");
    weights::save(&grown::LeNet5::new(1), &path).unwrap();
    let err = refused::<LeNet5>(&path);
    assert_says(
        &err.to_string(),
        &[
            "written from another definition of `LeNet5`, which differs from this one",
            "layer 12: `12` softmax → [10] in the file, none (of 12) in `LeNet5`",
            "layers: 13 in the file, 12 in `LeNet5`",
        ],
    );
    // and the other way round
    weights::save(&LeNet5::new(1), &path).unwrap();
    let err = refused::<grown::LeNet5>(&path);
    assert_says(
        &err.to_string(),
        &["layer 12: none (of 12) in the file, `12` softmax → [10] in `LeNet5`"],
    );
}

#[test]
fn a_file_of_another_input_shape_says_both() {
    let tmp = TempDir::new("nn-weights", "input-shape");
    let path = tmp.0.join("pooled.safetensors");
    weights::save(&Pooled10::new(1), &path).unwrap();
    let err = refused::<Pooled8>(&path);
    let text = err.to_string();
    assert_says(
        &text,
        &[
            "written from `Pooled10`, which differs from `Pooled8`",
            "input shape: [3, 10, 10] in the file, [3, 8, 8] in `Pooled8`",
            "layer 0: `0` conv 3x3 → [4, 8, 8] in the file, `0` conv 3x3 → [4, 6, 6] in `Pooled8`",
        ],
    );
    // with the input shape alone recorded
    write_with_metadata(
        &Pooled10::new(1),
        &path,
        &[(weights::INPUT_SHAPE_KEY, "[3, 10, 10]")],
    );
    let err = refused::<Pooled8>(&path);
    assert_says(
        &err.to_string(),
        &[
            "written from a network that differs from `Pooled8`",
            "input shape: [3, 10, 10] in the file, [3, 8, 8] in `Pooled8`",
        ],
    );
    assert!(!err.to_string().contains("layer"), "{err}");
}

#[test]
fn a_renamed_network_of_the_same_layers_loads() {
    let tmp = TempDir::new("nn-weights", "renamed");
    let path = tmp.0.join("lenet.safetensors");
    let net = LeNet5::new(5);
    weights::save(&net, &path).unwrap();
    let mut digits = Digits::new(6);
    weights::load(&mut digits, &path).unwrap();
    assert_eq!(digits.params(), net.params());
    // a name and nothing else (as another tool might write)
    write_with_metadata(&net, &path, &[(weights::NETWORK_KEY, "SomethingElse")]);
    let mut digits = Digits::new(6);
    weights::load(&mut digits, &path).unwrap();
    assert_eq!(digits.params(), net.params());
}

#[test]
fn damaged_records_are_errors_that_say_what_they_hold() {
    let tmp = TempDir::new("nn-weights", "damaged");
    let path = tmp.0.join("lenet.safetensors");
    let net = LeNet5::new(1);
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            weights::INPUT_SHAPE_KEY,
            "[1, 28",
            &["expected a shape such as [1, 28, 28]", "found `[1, 28`"],
        ),
        (
            weights::INPUT_SHAPE_KEY,
            "[1, -28, 28]",
            &["expected a shape"],
        ),
        (
            weights::INPUT_SHAPE_KEY,
            "1x28x28",
            &["expected a shape", "found `1x28x28`"],
        ),
        (
            weights::LAYERS_KEY,
            "not json",
            &[r#"expected a list of {"name""#],
        ),
        (weights::LAYERS_KEY, r#"{"name": "0"}"#, &["found no list"]),
        (
            weights::LAYERS_KEY,
            r#"[{"name": "0", "output": [6]}]"#,
            &["entry 0 has no text `kind`"],
        ),
        (
            weights::LAYERS_KEY,
            r#"[{"name": "0", "kind": "relu", "output": [6, 2.5]}]"#,
            &["entry 0 has no shape `output`"],
        ),
    ];
    for (key, value, parts) in cases {
        write_with_metadata(&net, &path, &[(key, value)]);
        let err = refused::<LeNet5>(&path);
        assert!(matches!(err, WeightsError::Metadata { .. }), "{err}");
        assert_says(&err.to_string(), &[&format!("metadata `{key}` is damaged")]);
        assert_says(&err.to_string(), parts);
    }
    // a long value is shown cut
    let long = format!("[{}", "1, ".repeat(100));
    write_with_metadata(&net, &path, &[(weights::INPUT_SHAPE_KEY, &long)]);
    let text = refused::<LeNet5>(&path).to_string();
    assert!(text.contains("…`") && text.len() < 300, "{text}");
}

#[test]
fn checkpoints_record_their_network() {
    use nn::loss::SoftmaxCrossEntropy;
    use nn::optim::Sgd;
    use nn::train::{TrainConfig, Trainer};
    let tmp = TempDir::new("nn-weights", "checkpoint");
    let path = tmp.0.join("checkpoint.safetensors");
    let data =
        nn::data::Dataset::<4>::new(random_vec(8 * 4, 1), (0..8).map(|i| i % 3).collect(), 3)
            .unwrap();
    let mut net = Classifier::new(1);
    let config = TrainConfig {
        checkpoint: Some(path.clone()),
        ..TrainConfig::new(1, 4)
    };
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), config.clone());
    trainer.fit(&mut net, &data, &data).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().clone().unwrap();
    assert_eq!(metadata[weights::NETWORK_KEY], "Classifier");
    assert_eq!(metadata[weights::INPUT_SHAPE_KEY], "[4]");
    assert!(metadata.contains_key(weights::LAYERS_KEY));
    // and resume as before
    let mut resumed = Classifier::new(2);
    let mut again = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), config);
    again.resume(&mut resumed, &path).unwrap();
    assert_eq!(resumed.params(), net.params());
}

nn::network! {
    struct Classifier<[4]> { dense(5), relu, dense(3) }
}
