// One root cause gives one error: the layers after the broken conv (whose
// shapes are unknown) are not checked, and the program's use of the network
// type compiles against a stub, so no "no function `new`" noise follows.
use nn::prelude::*;

nn::network! {
    pub struct Net<[3, 32, 32]> {
        conv(16, kernel = 3, in = 1),
        relu,
        max_pool(2),
        conv(32, kernel = 3),
        flatten,
        dense(10, in = 5),
        softmax,
    }
}

fn main() {
    let mut net = Net::new(0);
    let y = net.forward(&[0.0; 3 * 32 * 32]);
    assert_eq!(y.len(), Net::OUTPUT_LEN);
    println!("{} {}", Net::summary(), Net::PARAM_COUNT);
    net.backward(&[1.0; 10]);
}
