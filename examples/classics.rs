//! AlexNet, VGG-16 and ResNet-18 as torchvision defines them, for
//! [3, 224, 224] images and 1000 classes: prints each network's summary and
//! then their totals side by side. Nothing is allocated: the shapes, the
//! parameter counts and the summaries are compile-time constants (VGG-16's
//! 138 M parameters alone would take 553 MB).
//!
//! ```sh
//! cargo run --release --example classics
//! ```
//!
//! With `--step B`, each network then takes one training step (forward,
//! backward, SGD) on a batch of `B` random images, and says how long it
//! took and how much memory the network held (`FIXED_BYTES` and `B` times
//! `WORKSPACE_BYTES_PER_SAMPLE`): `--step 64` holds 7.0 GB for VGG-16.

#[path = "nets/alexnet.rs"]
mod alexnet;
#[path = "shared/cli.rs"]
mod cli;
#[path = "nets/resnet18.rs"]
mod resnet18;
#[path = "nets/vgg16.rs"]
mod vgg16;

use alexnet::AlexNet;
use nn::prelude::*;
use resnet18::ResNet18;
use vgg16::Vgg16;

/// `61100840` → `61,100,840`
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// One training step of a fresh `N` on `batch` random images.
fn step<N: Network>(batch: usize) {
    use nn::optim::{Optimizer, Sgd};
    let start = std::time::Instant::now();
    let mut net = N::with_seed(0);
    let x = nn_runtime::testing::random_vec(batch * N::INPUT_LEN, 1);
    let y = net.forward(&x).to_vec();
    net.backward_params(&y);
    let (params, grads) = net.params_and_grads();
    Sgd::new(0.01).step(params, grads);
    let bytes = N::FIXED_BYTES + batch * N::WORKSPACE_BYTES_PER_SAMPLE;
    println!(
        "{:<10} one training step of {batch} in {:.1} s, {} MB held",
        N::NAME,
        start.elapsed().as_secs_f64(),
        bytes >> 20
    );
    assert!(net.params().iter().all(|p| p.is_finite()));
}

/// The batch of `--step B`, if given.
fn parse_args() -> Option<usize> {
    let usage = "Prints the summaries of AlexNet, VGG-16 and ResNet-18 and their totals.

Usage: cargo run --release --example classics -- [OPTIONS]

Options:
  --step B       then take one training step of each network on a batch of B
                 random images [default: no step]
  -h, --help     print this and exit
";
    cli::parse(usage.to_string(), |options| {
        let mut batch = None;
        while let Some(option) = options.next() {
            match option.as_str() {
                "--step" => batch = Some(options.value("--step")?),
                other => return Err(cli::unknown(other)),
            }
        }
        Ok(batch)
    })
}

fn main() {
    let batch = parse_args();
    let summaries = [AlexNet::summary(), Vgg16::summary(), ResNet18::summary()];
    for summary in &summaries {
        println!("{summary}\n");
    }
    println!(
        "{:<10} {:>13} {:>15} {:>32}",
        "network", "parameters", "mult-adds", "training workspace per sample"
    );
    for s in &summaries {
        println!(
            "{:<10} {:>13} {:>15} {:>26} bytes",
            s.name,
            thousands(s.params),
            thousands(s.macs()),
            thousands(s.workspace_bytes_per_sample),
        );
    }
    if let Some(batch) = batch {
        step::<AlexNet>(batch);
        step::<Vgg16>(batch);
        step::<ResNet18>(batch);
    }
}
