//! `round = floor` drops a remainder on purpose; `round = ceil` adds a last
//! partial window (PyTorch's `ceil_mode`).
use nn::prelude::*;

nn::network! {
    /// The stride example of the errors, opted out: (14 − 5) / 2 + 1 = 5, one row dropped.
    pub struct Floor<[6, 14, 14]> {
        conv(16, kernel = 5, stride = 2, round = floor) => [16, 5, 5],
        max_pool(2, round = floor) => [16, 2, 2],
    }
}

nn::network! {
    /// ceil((7 − 2) / 2) + 1 = 4, then ceil((4 + 2 − 3) / 2) + 1 = 3.
    pub struct Ceil<[1, 7, 7]> {
        max_pool(2, round = ceil) => [1, 4, 4],
        avg_pool(3, stride = 2, pad = 1, round = ceil) => [1, 3, 3],
    }
}

nn::network! {
    /// ceil((6 + 2 − 3) / 2) + 1 = 4.
    pub struct CeilPad<[1, 6, 6]> {
        avg_pool(3, stride = 2, pad = 1, round = ceil) => [1, 4, 4],
    }
}

nn::network! {
    /// `round = ceil` on a conv: ceil((5 − 2) / 2) + 1 = 3, the last window
    /// half over the edge.
    pub struct CeilConv<[1, 5, 5]> {
        conv(2, kernel = 2, stride = 2, round = ceil) => [2, 3, 3],
    }
}

fn main() {
    assert_eq!(Floor::OUTPUT_SHAPE, [16, 2, 2]);
    assert_eq!(Floor::new(1).forward(&[0.0; 6 * 14 * 14]).len(), 64);

    assert_eq!(Ceil::OUTPUT_SHAPE, [1, 3, 3]);
    assert_eq!(Ceil::new(1).forward(&[0.0; 49]).len(), 9);

    assert_eq!(CeilPad::OUTPUT_SHAPE, [1, 4, 4]);
    assert_eq!(CeilPad::new(1).forward(&[0.0; 36]).len(), 16);

    assert_eq!(CeilConv::OUTPUT_SHAPE, [2, 3, 3]);
    assert_eq!(CeilConv::new(1).forward(&[0.0; 25]).len(), 18);
}
