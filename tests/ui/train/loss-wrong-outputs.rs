// A loss built for ten classes given to a network of twelve outputs: a
// loss typed with `.outputs::<N>()` is checked against the network.
use nn::data::Dataset;
use nn::loss::{Loss, SoftmaxCrossEntropy};
use nn::optim::Sgd;
use nn::train::{TrainConfig, Trainer};

nn::network! {
    struct Twelve<[4]> {
        dense(16), relu,
        dense(12),
    }
}

fn main() {
    let data: Dataset<4> = Dataset::new(vec![0.0; 8], vec![0, 1], 10).unwrap();
    let mut net = Twelve::new(0);
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let mut trainer = Trainer::new(loss, Sgd::new(0.1), TrainConfig::new(1, 2));
    let _ = trainer.fit(&mut net, &data, None);
}
