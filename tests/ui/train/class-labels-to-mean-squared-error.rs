// A data set of class labels given to a regression loss: the kind of target
// is part of the data set's type (`Dataset<LEN>` holds `u32` labels,
// `Dataset<LEN, f32>` float targets), and the loss names the kind it takes.
use nn::data::Dataset;
use nn::loss::MeanSquaredError;
use nn::optim::Sgd;
use nn::train::{TrainConfig, Trainer};

nn::network! {
    struct Regressor<[4]> {
        dense(8), relu,
        dense(1),
    }
}

fn main() {
    let labels: Dataset<4> = Dataset::new(vec![0.0; 8], vec![0, 1], 2).unwrap();
    let mut net = Regressor::new(0);
    let mut trainer = Trainer::new(MeanSquaredError, Sgd::new(0.1), TrainConfig::new(1, 2));
    let _ = trainer.fit(&mut net, &labels, None);
}
