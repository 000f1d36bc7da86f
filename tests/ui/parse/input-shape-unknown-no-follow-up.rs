// An input shape that cannot be read: one error, at the shape. The code
// that uses the network (a typed sample, a data set of its samples, a
// trainer) raises nothing more.
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Sgd;
use nn::prelude::*;
use nn::train::{TrainConfig, Trainer};

nn::network! {
    pub struct Net<[1, 0, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {
    let mut net = Net::new(1);
    let image = [0.0f32; 784];
    let _ = net.predict_sample_class(&image);
    let data: Dataset<784> = Dataset::from_samples(vec![image], vec![0], 10).unwrap();
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(1, 1));
    let _ = trainer.fit(&mut net, &data, None);
}
