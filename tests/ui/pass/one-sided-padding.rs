//! The textbook one-sided example: W = 4, F = 3, S = 2 leaves one
//! column over; one pad on one side makes it fit, on either side.
use nn::prelude::*;

nn::network! {
    /// (4 + 0 + 1 − 3) / 2 + 1 = 2: the remainder is padding.
    pub struct BottomRight<[1, 4, 4]> {
        conv(2, kernel = 3, stride = 2, pad = (0, 1, 0, 1)),
    }
}

nn::network! {
    /// (4 + 1 + 0 − 3) / 2 + 1 = 2: no remainder at all.
    pub struct TopLeft<[1, 4, 4]> {
        conv(2, kernel = 3, stride = 2, pad = (1, 0, 1, 0)),
    }
}

fn main() {
    assert_eq!(BottomRight::OUTPUT_SHAPE, [2, 2, 2]);
    assert_eq!(BottomRight::new(1).forward(&[0.0; 16]).len(), 8);
    assert_eq!(TopLeft::OUTPUT_SHAPE, [2, 2, 2]);
    assert_eq!(TopLeft::new(1).forward(&[0.0; 16]).len(), 8);
}
