// A data set of 784-value samples (28x28 digits) given to a network that
// takes [3, 32, 32] images: the sample length is part of the types.
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;

nn::network! {
    struct Cifar<[3, 32, 32]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let digits: Dataset<784> = Dataset::new(vec![0.0; 784], vec![3], 10).unwrap();
    let mut net = Cifar::new(0);
    let _ = nn::train::evaluate(&mut net, &digits, &SoftmaxCrossEntropy, 32);
}
