// Regression targets (`Dataset<LEN, f32>`) scored with a classification
// loss: softmax cross-entropy takes class labels (`Dataset<LEN>`).
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;

nn::network! {
    struct Classifier<[2]> {
        dense(3),
    }
}

fn main() {
    let values = Dataset::<2, f32>::regression(vec![0.0; 4], vec![0.5, 1.5], 1).unwrap();
    let mut net = Classifier::new(0);
    let _ = nn::train::evaluate(&mut net, &values, &SoftmaxCrossEntropy, 32);
}
