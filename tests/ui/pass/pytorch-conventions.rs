//! PyTorch's ResNet and AlexNet conventions compile: a remainder
//! over padding, or in the gap of a stride larger than the window, drops no
//! real input.
use nn::prelude::*;

nn::network! {
    /// ResNet's 3x3 stride-2 pad-1 conv on an even size:
    /// (8 + 1 + 1 − 3) / 2 + 1 = 4, remainder 1 ≤ bottom 1.
    pub struct ResNetDown<[3, 8, 8]> {
        conv(4, kernel = 3, stride = 2, pad = 1) => [4, 4, 4],
    }
}

nn::network! {
    /// ResNet's stem: 7x7 stride-2 pad-3 conv, then 3x3 stride-2 pad-1 max pool.
    pub struct ResNetStem<[3, 32, 32]> {
        conv(4, kernel = 7, stride = 2, pad = 3) => [4, 16, 16],
        max_pool(3, stride = 2, pad = 1) => [4, 8, 8],
    }
}

nn::network! {
    /// AlexNet's 11x11 stride-4 pad-2 conv on 224: (224 + 4 − 11) / 4 + 1 = 55.
    pub struct AlexNetStem<[3, 224, 224]> {
        conv(2, kernel = 11, stride = 4, pad = 2) => [2, 55, 55],
        max_pool(3, stride = 2) => [2, 27, 27],
    }
}

nn::network! {
    /// Stride 3 over a window of 2: (6 − 2) mod 3 = 1 is the stride's gap.
    pub struct StrideGap<[1, 6, 6]> {
        max_pool(2, stride = 3) => [1, 2, 2],
    }
}

fn main() {
    assert_eq!(ResNetDown::OUTPUT_SHAPE, [4, 4, 4]);
    assert_eq!(ResNetDown::new(1).forward(&[0.0; 192]).len(), 64);

    assert_eq!(ResNetStem::OUTPUT_SHAPE, [4, 8, 8]);
    assert_eq!(ResNetStem::new(1).forward(&[0.0; 3 * 32 * 32]).len(), 256);

    assert_eq!(AlexNetStem::OUTPUT_SHAPE, [2, 27, 27]);
    assert_eq!(AlexNetStem::PARAM_COUNT, 2 * (3 * 121 + 1));
    assert_eq!(AlexNetStem::new(1).forward(&vec![0.0; 3 * 224 * 224]).len(), 2 * 27 * 27);

    assert_eq!(StrideGap::OUTPUT_SHAPE, [1, 2, 2]);
    assert_eq!(StrideGap::new(1).forward(&[0.0; 36]).len(), 4);
}
