// A network whose definition has a mistake, trained with a typed loss and a
// typed optimizer: the definition's error comes alone, with no follow-up
// about the loss's outputs or the optimizer's parameters.
use nn::data::Dataset;
use nn::loss::{Loss, SoftmaxCrossEntropy};
use nn::optim::{Optimizer, Sgd};
use nn::train::{TrainConfig, Trainer};

nn::network! {
    struct Broken<[1, 28, 28]> {
        conv(8, kernel = 3),
        dense(10),
    }
}

fn main() {
    let data: Dataset<784> = Dataset::new(vec![0.0; 784], vec![3], 10).unwrap();
    let mut net = Broken::new(0);
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let sgd = Sgd::new(0.1).params::<1000>();
    let mut trainer = Trainer::new(loss, sgd, TrainConfig::new(1, 1));
    let _ = trainer.fit(&mut net, &data, None);
}
