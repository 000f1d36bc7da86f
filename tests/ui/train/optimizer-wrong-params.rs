// An optimizer sized for one network given to another: an optimizer typed
// with `.params::<N>()` is checked against the network's parameter count.
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::{Adam, Optimizer};
use nn::train::{TrainConfig, Trainer};

nn::network! {
    struct Small<[4]> {
        dense(3),
    }
}

nn::network! {
    struct Wide<[4]> {
        dense(32), relu,
        dense(3),
    }
}

fn main() {
    let data: Dataset<4> = Dataset::new(vec![0.0; 8], vec![0, 1], 3).unwrap();
    let adam = Adam::new(1e-3).params::<{ Small::PARAM_COUNT }>();
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, adam, TrainConfig::new(1, 2));
    let mut net = Wide::new(0);
    let _ = trainer.fit(&mut net, &data, None);
}
