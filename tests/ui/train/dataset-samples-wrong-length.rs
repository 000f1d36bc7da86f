// The samples of a data set of digits (784 values each) given to a network
// of [3, 32, 32] inputs (3072): a data set's samples are typed samples.
use nn::data::Dataset;
use nn::prelude::*;

nn::network! {
    struct Cifar<[3, 32, 32]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let digits: Dataset<784> = Dataset::new(vec![0.0; 2 * 784], vec![3, 1], 10).unwrap();
    let mut net = Cifar::new(0);
    let mut classes = [0; 2];
    net.predict_sample_classes(digits.samples(), &mut classes);
}
