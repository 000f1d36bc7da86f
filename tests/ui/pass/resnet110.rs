//! He et al.'s ResNet-110 for CIFAR: 109 convolutions and a dense layer, and
//! two projection shortcuts (with the batch norms and ReLUs, 333 layers in
//! 113 items and 54 blocks), as a check that a deep definition compiles and
//! runs. Written out by this
//! Python, kept with the file:
//!
//! ```text
//! blocks = [(c, 2 if (i == 0 and c != 16) else 1) for c in (16, 32, 64) for i in range(18)]
//! ```
use nn::prelude::*;

nn::network! {
    pub struct ResNet110<[3, 32, 32]> {
        conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(16, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        add { [conv(32, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm], [conv(32, kernel = 1, stride = 2, bias = false), batch_norm] }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(32, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        add { [conv(64, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm], [conv(64, kernel = 1, stride = 2, bias = false), batch_norm] }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        residual { conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu, conv(64, kernel = 3, pad = 1, bias = false), batch_norm }, relu,
        global_avg_pool,
        dense(10),
    }
}

fn main() {
    assert_eq!(ResNet110::OUTPUT_SHAPE, [10]);
    let convs = ResNet110::TENSORS.iter().filter(|t| t.shape.len() == 4).count();
    assert_eq!(convs, 109 + 2);
    let layers = ResNet110::LAYERS.iter().filter(|l| l.role == nn::Role::Layer).count();
    assert_eq!(layers, 333);
    let mut net = ResNet110::new(1);
    net.eval();
    let y = net.forward(&vec![0.5; 3 * 32 * 32]).to_vec();
    assert_eq!(y.len(), 10);
    assert!(y.iter().all(|v| v.is_finite()));
}
