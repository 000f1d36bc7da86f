// Samples are f32: an array of f64 is not a sample.
use nn::prelude::*;

nn::network! {
    struct Digits<[1, 28, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let mut net = Digits::new(0);
    let image = [0.5f64; 784];
    let _ = net.predict_sample(&image);
}
