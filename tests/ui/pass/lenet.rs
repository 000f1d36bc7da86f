//! LeNet-5 as the reference writes it: named items, asserted shapes, comments
//! between items, a trailing comma, and a doc comment on the struct.
use nn::prelude::*;

nn::network! {
    /// LeNet-5 for 28×28 grey digits.
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),           // [6, 28, 28]
        relu,
        max_pool(2),                            // [6, 14, 14]
        c2: conv(16, kernel = 5) => [16, 10, 10],
        relu,
        max_pool(2),
        flatten,                                // [400]
        dense(120), relu,
        dense(84), relu,
        dense(10),
    }
}

fn main() {
    assert_eq!(LeNet5::INPUT_SHAPE, [1, 28, 28]);
    assert_eq!(LeNet5::OUTPUT_SHAPE, [10]);
    // 6·(1·25 + 1) + 16·(6·25 + 1) + 120·401 + 84·121 + 10·85
    assert_eq!(LeNet5::PARAM_COUNT, 61_706);
    let mut net = LeNet5::new(1);
    assert_eq!(net.forward(&[0.0; 784]).len(), 10);
    // a batch of two samples
    assert_eq!(net.forward(&[0.0; 2 * 784]).len(), 20);
    // named and unnamed items (counted from 0) key the tensors
    assert!(net.tensor("0.weight").is_some());
    assert!(net.tensor("c2.weight").is_some());
    assert!(net.tensor("11.bias").is_some());
}
