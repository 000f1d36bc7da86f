// `evaluate` checks a typed loss as the trainer does: a loss of three
// outputs for a network of one.
use nn::data::Dataset;
use nn::loss::{Loss, MeanSquaredError};

nn::network! {
    struct Regressor<[2]> {
        dense(8), tanh,
        dense(1),
    }
}

fn main() {
    let data = Dataset::<2, f32>::regression(vec![0.0; 4], vec![0.0; 2], 1).unwrap();
    let mut net = Regressor::new(0);
    let _ = nn::train::evaluate(&mut net, &data, &MeanSquaredError.outputs::<3>(), 32);
}
