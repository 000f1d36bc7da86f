//! AlexNet, VGG-16 and ResNet-18 as torchvision defines them, for
//! [3, 224, 224] images and 1000 classes: prints each network's summary and
//! then their totals side by side. Nothing is allocated: the shapes, the
//! parameter counts and the summaries are compile-time constants (VGG-16's
//! 138 M parameters alone would take 553 MB).
//!
//! ```sh
//! cargo run --release --example classics
//! ```

#[path = "nets/alexnet.rs"]
mod alexnet;
#[path = "nets/resnet18.rs"]
mod resnet18;
#[path = "nets/vgg16.rs"]
mod vgg16;

use alexnet::AlexNet;
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

fn main() {
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
}
