// A data set of three-value targets, typed by their width, given to a
// network of one output: `Dataset::typed` puts the width in the type.
use nn::data::Dataset;
use nn::loss::MeanSquaredError;
use nn::optim::Sgd;
use nn::train::{TrainConfig, Trainer};

nn::network! {
    struct Regressor<[2]> {
        dense(8), tanh,
        dense(1),
    }
}

fn main() {
    let data = Dataset::<2, f32>::regression(vec![0.0; 4], vec![0.0; 6], 3).unwrap();
    let data = data.typed::<3>().unwrap();
    let mut net = Regressor::new(0);
    let mut trainer = Trainer::new(MeanSquaredError, Sgd::new(0.1), TrainConfig::new(1, 2));
    let _ = trainer.fit(&mut net, &data, None);
}
