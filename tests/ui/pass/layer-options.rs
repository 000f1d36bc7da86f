//! `in =` that matches, `bias = false`, and every `init`.
use nn::prelude::*;

nn::network! {
    pub struct Options<[2, 4, 4]> {
        conv(4, kernel = 3, pad = 1, in = 2, bias = false, init = he),  // 4·2·9 = 72
        conv(3, kernel = 1, init = xavier),                             // 3·(4 + 1) = 15
        flatten,                                                        // [48]
        dense(5, in = 48, bias = false, init = lecun),                  // 5·48 = 240
        dense(2, init = default, bias = true),                          // 2·(5 + 1) = 12
    }
}

fn main() {
    assert_eq!(Options::OUTPUT_SHAPE, [2]);
    assert_eq!(Options::PARAM_COUNT, 72 + 15 + 240 + 12);
    let mut net = Options::new(1);
    assert!(net.tensor("0.bias").is_none());
    assert!(net.tensor("3.bias").is_none());
    assert!(net.tensor("4.bias").is_some());
    assert_eq!(net.forward(&[0.0; 32]).len(), 2);
}
