//! LeNet-5: prints its summary and runs it on one digit.
use nn::prelude::*;

nn::network! {
    /// LeNet-5 for 28×28 grey digits.
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),           // [6, 28, 28]
        relu,
        max_pool(2),                            // [6, 14, 14]
        c2: conv(16, kernel = 5) => [16, 10, 10],
        relu,
        max_pool(2),
        flatten,                                // [400]
        dense(120), relu,
        dense(84), relu,
        dense(10),
    }
}

fn main() {
    println!("{}", LeNet5::summary());
    let mut net = LeNet5::new(7);
    // a hand-drawn "1": a vertical bar in the middle of the 28×28 image
    let mut digit = [0.0f32; 784];
    for row in 4..24 {
        for col in 13..15 {
            digit[row * 28 + col] = 1.0;
        }
    }
    let logits = net.forward(&digit);
    let best = logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .expect("ten logits");
    println!("logits of an untrained network: {logits:.3?}");
    println!("predicted class: {best} (untrained: training comes with the runtime's trainer)");
}
