use nn::prelude::*;

// Strides at the largest allowed value, stacked: the receptive-field
// bookkeeping saturates instead of overflowing inside the macro.
nn::network! {
    struct Net<[1, 1, 1]> {
        conv(1, kernel = 1, stride = 1048576),
        conv(1, kernel = 1, stride = 1048576),
        conv(1, kernel = 1, stride = 1048576),
        conv(1, kernel = 1, stride = 1048576),
        flatten,
    }
}

fn main() {
    let mut net = Net::new(1);
    assert_eq!(Net::OUTPUT_SHAPE, [1]);
    assert_eq!(net.forward(&[2.0]).len(), 1);
}
