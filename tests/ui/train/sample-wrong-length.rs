// A 27x28 image (756 values) given to a network of [1, 28, 28] inputs
// (784): the sample's length is part of its type.
use nn::prelude::*;

nn::network! {
    struct Digits<[1, 28, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let mut net = Digits::new(0);
    let image = [0.5f32; 27 * 28];
    let _ = net.predict_sample_class(&image);
}
