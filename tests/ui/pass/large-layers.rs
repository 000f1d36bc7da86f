//! Layers beyond 2^31 multiply-adds a sample compile and run, a flatten
//! longer than the input's dimension limit may be asserted, and padding as
//! large as the kernel or larger is PyTorch's: windows wholly in the padding
//! give the bias.
use nn::prelude::*;

nn::network! {
    /// 64 → 64 channels, 3×3, on 256²: 2,415,919,104 multiply-adds a sample.
    pub struct Wide<[64, 256, 256]> {
        conv(64, kernel = 3, pad = 1),
    }
}

nn::network! {
    /// A flatten longer than the input's dimension limit, asserted.
    pub struct Long<[4, 1024, 1024]> {
        flatten => [4194304],
        dense(2),
    }
}

nn::network! {
    /// Padding larger than the 1×1 kernel: a border of bias.
    pub struct Border<[1, 2, 2]> {
        conv(1, kernel = 1, pad = 1) => [1, 4, 4],
    }
}

nn::network! {
    pub struct Padded<[1, 4, 4]> {
        conv(1, kernel = 1, pad = 1) => [1, 6, 6],
        conv(2, kernel = 2, stride = 2, pad = (3, 2, 2, 3)) => [2, 5, 5],
        flatten,
    }
}

fn main() {
    assert_eq!(Long::LAYERS[0].output_shape, [4194304]);
    assert_eq!(Wide::summary().macs(), 64 * 256 * 256 * 64 * 9);
    let mut wide = Wide::new(0);
    let y = wide.forward(&vec![0.5; Wide::INPUT_LEN]).to_vec();
    assert!(y.iter().all(|v| v.is_finite()));

    let mut border = Border::new(1);
    border.tensor_mut("0.weight").unwrap().copy_from_slice(&[2.0]);
    border.tensor_mut("0.bias").unwrap().copy_from_slice(&[0.25]);
    let y = border.forward(&[1.0, 2.0, 3.0, 4.0]).to_vec();
    let b = 0.25;
    #[rustfmt::skip]
    let want = [
        b, b, b, b,
        b, 2.25, 4.25, b,
        b, 6.25, 8.25, b,
        b, b, b, b,
    ];
    assert_eq!(y, want);

    let mut net = Padded::new(1);
    net.tensor_mut("0.bias").unwrap().copy_from_slice(&[0.25]);
    let y = net.forward(&[1.0; 16]).to_vec();
    assert_eq!(y.len(), 50);
    net.backward(&[1.0; 50]);
    assert!(net.input_grad().iter().all(|g| g.is_finite()));
    // the first conv's output border is its bias: the second conv's
    // windows there see only it and padding
    println!("{}", Padded::summary());
}
