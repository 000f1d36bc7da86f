// A batch of 756-value samples for a network of [1, 28, 28] inputs.
use nn::prelude::*;

nn::network! {
    struct Digits<[1, 28, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let mut net = Digits::new(0);
    let images = vec![[0.5f32; 756]; 4];
    let mut classes = [0usize; 4];
    net.predict_sample_classes(&images, &mut classes);
}
