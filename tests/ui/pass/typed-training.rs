//! A loss typed by the network's outputs and an optimizer typed by its
//! parameters train it and evaluate it as the untyped ones do.
use nn::data::Dataset;
use nn::loss::{MeanSquaredError, SoftmaxCrossEntropy};
use nn::optim::{Adam, Sgd};
// the prelude brings the `Loss` and `Optimizer` traits: `.outputs`, `.params`
use nn::prelude::*;
use nn::train::{evaluate, TrainConfig, Trainer};

nn::network! {
    struct Three<[4]> {
        dense(8), relu,
        dense(3),
    }
}

fn main() {
    let inputs: Vec<f32> = (0..24).map(|i| (i % 5) as f32 / 5.0).collect();
    let data: Dataset<4> = Dataset::new(inputs, vec![0, 1, 2, 0, 1, 2], 3).unwrap();
    let mut net = Three::new(1);
    let loss = SoftmaxCrossEntropy.outputs::<3>();
    let adam = Adam::new(1e-2).params::<{ Three::PARAM_COUNT }>();
    // the typed optimizer's state is there before the first step
    assert_eq!(adam.state().buffers[0].1.len(), Three::PARAM_COUNT);
    let mut trainer = Trainer::new(loss, adam, TrainConfig::new(3, 2));
    let history = trainer.fit(&mut net, &data, None).unwrap();
    assert_eq!(history.epochs.len(), 3);
    assert_eq!(trainer.optimizer.state().steps, 9);
    let typed = evaluate(&mut net, &data, &SoftmaxCrossEntropy.outputs::<3>(), 4);
    let untyped = evaluate(&mut net, &data, &SoftmaxCrossEntropy, 4);
    assert_eq!(typed.loss.to_bits(), untyped.loss.to_bits());
    // a data set whose sample length is left to the network to settle
    let inferred = Dataset::new(vec![0.5; 8], vec![2, 1], 3).unwrap();
    let counted: usize = evaluate(&mut net, &inferred, &SoftmaxCrossEntropy, 2)
        .metrics
        .confusion_matrix()
        .iter()
        .flatten()
        .sum();
    assert_eq!(counted, 2);
    // an untyped loss and optimizer fit it as well
    let mut untyped = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.1), TrainConfig::new(1, 2));
    untyped.fit(&mut net, &data, None).unwrap();
    let _ = MeanSquaredError.outputs::<1>();
}
