// The typed output has as many values as the output shape: 10 here.
use nn::prelude::*;

nn::network! {
    struct Digits<[1, 28, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let mut net = Digits::new(0);
    let scores: &[f32; 12] = net.predict_sample(&[0.5f32; 784]);
    let _ = scores;
}
