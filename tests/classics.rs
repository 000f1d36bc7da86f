//! AlexNet, VGG-16 and ResNet-18 (`examples/nets/`) have torchvision's
//! structure: the same parameter count, and the same parameter and buffer
//! tensors, in the same order and with the same shapes, once our names are
//! mapped to torchvision's (each network's file says how).
//! `tests/golden/classics_torchvision.json` lists torchvision's, from
//! `tools/golden/classics_export.py`. Only constants and summaries are used:
//! no network is constructed (VGG-16's parameters alone take 553 MB).

#[path = "../examples/nets/alexnet.rs"]
mod alexnet;
#[path = "../examples/nets/resnet18.rs"]
mod resnet18;
#[path = "../examples/nets/vgg16.rs"]
mod vgg16;

use alexnet::AlexNet;
use nn::prelude::*;
use nn::TensorInfo;
use resnet18::ResNet18;
use serde_json::Value;
use vgg16::Vgg16;

fn torchvision(model: &str) -> Value {
    let path = format!(
        "{}/tests/golden/classics_torchvision.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let all: Value = serde_json::from_str(&text).unwrap();
    all[model].clone()
}

/// `"15.weight"` → (15, "weight").
fn split_index(name: &str) -> (usize, &str) {
    let (index, rest) = name.split_once('.').unwrap();
    (index.parse().unwrap(), rest)
}

/// A Sequential of `features` (items `0..first_classifier - 1`), then the
/// flatten, then `classifier` (the items from `first_classifier`).
fn features_classifier(name: &str, first_classifier: usize) -> String {
    let (index, rest) = split_index(name);
    if index < first_classifier - 1 {
        format!("features.{index}.{rest}")
    } else {
        assert!(index >= first_classifier, "{name}");
        format!("classifier.{}.{rest}", index - first_classifier)
    }
}

/// `layer2_0.0.conv1.weight` → `layer2.0.conv1.weight`,
/// `layer2_0.1.0.weight` → `layer2.0.downsample.0.weight`.
fn resnet_name(name: &str) -> String {
    let Some(block) = name.strip_prefix("layer") else {
        return name.to_string();
    };
    let (block, rest) = block.split_once('.').unwrap();
    let block = block.replace('_', ".");
    match rest.split_once('.').unwrap() {
        ("0", inner) => format!("layer{block}.{inner}"),
        ("1", inner) => format!("layer{block}.downsample.{inner}"),
        _ => panic!("{name}"),
    }
}

/// Our tensors, renamed, against torchvision's list of `[name, shape]`.
fn assert_same_tensors(ours: &[TensorInfo], rename: impl Fn(&str) -> String, theirs: &Value) {
    let ours: Vec<(String, Vec<usize>)> = ours
        .iter()
        .map(|t| (rename(t.name), t.shape.to_vec()))
        .collect();
    let theirs: Vec<(String, Vec<usize>)> = theirs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let shape = t[1].as_array().unwrap();
            let shape = shape.iter().map(|d| d.as_u64().unwrap() as usize);
            (t[0].as_str().unwrap().to_string(), shape.collect())
        })
        .collect();
    assert_eq!(ours, theirs);
}

fn assert_like_torchvision<N: Network>(model: &str, rename: impl Fn(&str) -> String + Copy) {
    let theirs = torchvision(model);
    assert_eq!(theirs["param_count"].as_u64(), Some(N::PARAM_COUNT as u64));
    assert_same_tensors(N::TENSORS, rename, &theirs["parameters"]);
    assert_same_tensors(N::BUFFERS, rename, &theirs["buffers"]);
}

#[test]
fn alexnet_is_torchvisions() {
    assert_eq!(AlexNet::PARAM_COUNT, 61_100_840);
    assert_eq!(AlexNet::OUTPUT_SHAPE, [1000]);
    assert_eq!(AlexNet::TENSORS.len(), 16);
    assert_eq!(AlexNet::BUFFERS.len(), 0);
    assert_like_torchvision::<AlexNet>("alexnet", |n| features_classifier(n, 14));
}

#[test]
fn vgg16_is_torchvisions() {
    assert_eq!(Vgg16::PARAM_COUNT, 138_357_544);
    assert_eq!(Vgg16::OUTPUT_SHAPE, [1000]);
    assert_eq!(Vgg16::TENSORS.len(), 32);
    assert_eq!(Vgg16::BUFFERS.len(), 0);
    assert_like_torchvision::<Vgg16>("vgg16", |n| features_classifier(n, 32));
}

/// VGG-16's memory plan, worked out by hand: in inference the input and
/// the two largest activations (the first two convs' outputs, their ReLUs
/// folded in); in training the values backward reads (each ReLU's over the
/// output before it) and, while it is read, the last conv output of a
/// stage, which only its pool reads; at most the input's gradient and two
/// of the largest are alive at once.
#[test]
fn vgg16_memory_plan() {
    let (input, largest) = (3 * 224 * 224, 64 * 224 * 224);
    assert_eq!(Vgg16::INFERENCE_BYTES_PER_SAMPLE, 4 * (input + 2 * largest));
    // what the first four stages keep: each conv's output but the stage's
    // last (its pool applies the ReLU before it), and each pool's output
    // and the positions of its maxima, a byte per output
    let convs = largest + 128 * 112 * 112 + 2 * 256 * 56 * 56 + 2 * 512 * 28 * 28;
    let pools = 64 * 112 * 112 + 128 * 56 * 56 + 256 * 28 * 28 + 512 * 14 * 14;
    let kept = input + convs + pools + pools / 4;
    // the most at once is while the fourth pool runs, beside the stage's
    // last conv output (512 · 28 · 28): the fifth stage and the classifier
    // keep less than that (2 · 512 · 14 · 14 + 512 · 7 · 7 · 5/4 + 4 · 4096
    // + 1000) and fit where it was
    let acts = kept + 512 * 28 * 28;
    let grads = input + 2 * largest;
    assert_eq!(Vgg16::WORKSPACE_BYTES_PER_SAMPLE, 4 * (acts + grads));
    assert_eq!(Vgg16::WORKSPACE_BYTES_PER_SAMPLE, 64_927_744);
}

#[test]
fn resnet18_is_torchvisions() {
    assert_eq!(ResNet18::PARAM_COUNT, 11_689_512);
    assert_eq!(ResNet18::OUTPUT_SHAPE, [1000]);
    assert_eq!(ResNet18::TENSORS.len(), 62);
    // 20 batch norms: running_mean, running_var, num_batches_tracked
    assert_eq!(ResNet18::BUFFERS.len(), 60);
    assert!(ResNet18::BUFFERS.iter().filter(|b| b.count).count() == 20);
    assert_like_torchvision::<ResNet18>("resnet18", resnet_name);
}

#[test]
fn summaries_show_every_layer_and_block() {
    let alexnet = AlexNet::summary().to_string();
    assert!(alexnet.contains("conv 11x11 stride 4 pad 2"), "{alexnet}");
    assert!(alexnet.contains("dropout"), "{alexnet}");
    assert!(alexnet.contains("parameters: 61,100,840"), "{alexnet}");
    let vgg = Vgg16::summary().to_string();
    assert!(vgg.contains("parameters: 138,357,544"), "{vgg}");
    let resnet = ResNet18::summary().to_string();
    assert!(resnet.contains("parameters: 11,689,512"), "{resnet}");
    for block in ["layer1_0", "layer4_1", "layer2_0"] {
        let row = resnet
            .lines()
            .find(|l| l.split_whitespace().next() == Some(block))
            .unwrap_or_else(|| panic!("no row {block} in\n{resnet}"));
        assert!(row.contains("residual") || row.contains("add"), "{row}");
    }
    assert!(resnet.contains("batch_norm"), "{resnet}");
    assert!(ResNet18::summary().macs() > 1_800_000_000);
}
