//! Every form of `pad`: P, (PH, PW), (TOP, BOTTOM, LEFT, RIGHT),
//! `same` and `valid`, on convs and pools.
use nn::prelude::*;

nn::network! {
    pub struct PadOne<[1, 5, 6]> {
        conv(2, kernel = 3, pad = 1) => [2, 5, 6],
    }
}

nn::network! {
    /// PH = 1, PW = 2: H' = 5 + 2 − 3 + 1 = 5, W' = 6 + 4 − 3 + 1 = 8.
    pub struct PadHw<[1, 5, 6]> {
        conv(2, kernel = 3, pad = (1, 2)) => [2, 5, 8],
    }
}

nn::network! {
    /// One-sided: (5 + 0 + 1 − 2) / 2 + 1 = 3 on both axes.
    pub struct PadOneSided<[1, 5, 5]> {
        conv(2, kernel = 2, stride = 2, pad = (0, 1, 0, 1)) => [2, 3, 3],
    }
}

nn::network! {
    /// `same`: H' = ceil(5 / 2) = 3, W' = ceil(6 / 2) = 3.
    pub struct PadSame<[1, 5, 6]> {
        conv(2, kernel = 3, stride = 2, pad = same) => [2, 3, 3],
        max_pool(2, stride = 1, pad = same) => [2, 3, 3],
    }
}

nn::network! {
    /// `valid`: (6 − 3) / 2 + 1 = 2, the remainder dropped on purpose.
    pub struct PadValid<[1, 6, 6]> {
        conv(2, kernel = 3, stride = 2, pad = valid) => [2, 2, 2],
    }
}

nn::network! {
    /// Pools with padding: (6 + 2 − 3) / 2 + 1 = 3, remainder 1 over padding.
    pub struct PoolPad<[1, 6, 6]> {
        max_pool(3, stride = 2, pad = 1) => [1, 3, 3],
        avg_pool(2, pad = (0, 1, 0, 1)) => [1, 2, 2],
    }
}

fn main() {
    assert_eq!(PadOne::OUTPUT_SHAPE, [2, 5, 6]);
    assert_eq!(PadOne::new(1).forward(&[0.0; 30]).len(), 60);

    assert_eq!(PadHw::OUTPUT_SHAPE, [2, 5, 8]);
    assert_eq!(PadHw::new(1).forward(&[0.0; 30]).len(), 80);

    assert_eq!(PadOneSided::OUTPUT_SHAPE, [2, 3, 3]);
    assert_eq!(PadOneSided::new(1).forward(&[0.0; 25]).len(), 18);

    assert_eq!(PadSame::OUTPUT_SHAPE, [2, 3, 3]);
    assert_eq!(PadSame::new(1).forward(&[0.0; 30]).len(), 18);

    assert_eq!(PadValid::OUTPUT_SHAPE, [2, 2, 2]);
    assert_eq!(PadValid::new(1).forward(&[0.0; 36]).len(), 8);

    assert_eq!(PoolPad::OUTPUT_SHAPE, [1, 2, 2]);
    assert_eq!(PoolPad::new(1).forward(&[0.0; 36]).len(), 4);
}
