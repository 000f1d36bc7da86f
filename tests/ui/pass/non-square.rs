//! Non-square kernels and strides: `kernel = (KH, KW)`, `stride = (SH, SW)`.
use nn::prelude::*;

nn::network! {
    /// H' = (7 − 3) / 2 + 1 = 3, W' = (11 − 5) / 3 + 1 = 3.
    pub struct Rect<[1, 7, 11]> {
        conv(2, kernel = (3, 5), stride = (2, 3)) => [2, 3, 3],
    }
}

nn::network! {
    /// A pool's stride defaults to its (non-square) window.
    pub struct RectPool<[2, 4, 9]> {
        max_pool((2, 3)) => [2, 2, 3],
        avg_pool((2, 1), stride = (1, 1)) => [2, 1, 3],
    }
}

nn::network! {
    /// A non-square kernel with (PH, PW) padding keeps the size.
    pub struct RectPad<[3, 6, 10]> {
        conv(4, kernel = (3, 5), pad = (1, 2)) => [4, 6, 10],
        flatten => [240],
        dense(2),
    }
}

fn main() {
    assert_eq!(Rect::OUTPUT_SHAPE, [2, 3, 3]);
    assert_eq!(Rect::PARAM_COUNT, 2 * (15 + 1));
    assert_eq!(Rect::new(1).forward(&[0.0; 77]).len(), 18);

    assert_eq!(RectPool::OUTPUT_SHAPE, [2, 1, 3]);
    assert_eq!(RectPool::new(1).forward(&[0.0; 72]).len(), 6);

    assert_eq!(RectPad::OUTPUT_SHAPE, [2]);
    assert_eq!(RectPad::new(1).forward(&[0.0; 180]).len(), 2);
}
