//! Every layer kind of this version, each on the inputs it takes.
use nn::prelude::*;

nn::network! {
    /// conv, both pools, every activation, prelu per channel and per feature.
    pub struct Every<[2, 8, 8]> {
        conv(4, kernel = 3, pad = 1),   // [4, 8, 8]
        relu,
        prelu,                          // one slope per channel: 4
        max_pool(2),                    // [4, 4, 4]
        leaky_relu,
        avg_pool(2),                    // [4, 2, 2]
        leaky_relu(0.2),
        sigmoid,
        tanh,
        flatten,                        // [16]
        dense(6),                       // [6]
        prelu,                          // one slope per feature: 6
        softmax,
    }
}

nn::network! {
    /// global_avg_pool: [C, H, W] → [C].
    pub struct Global<[3, 4, 4]> {
        conv(5, kernel = 1),            // [5, 4, 4]
        global_avg_pool,                // [5]
        dense(2),
        sigmoid,
    }
}

nn::network! {
    /// flatten also takes a sequence [T, F].
    pub struct Sequence<[4, 3]> {
        flatten,                        // [12]
        dense(2),
        tanh,
    }
}

nn::network! {
    /// The recurrent layers on a sequence [T, F]: `seq = all` passes on
    /// every step, `seq = last` (the default) the last.
    pub struct Recurrent<[5, 3]> {
        rnn(4, seq = all),              // [5, 4]
        gru(6, seq = all, in = 4),      // [5, 6]
        tanh,
        lstm(2),                        // [2]
        dense(3),
    }
}

nn::network! {
    /// A flat input [N] needs no flatten.
    pub struct Flat<[5]> {
        dense(3),
        leaky_relu(0.2),
        softmax,
    }
}

fn main() {
    assert_eq!(Every::OUTPUT_SHAPE, [6]);
    // conv 4·(2·9 + 1) + prelu 4 + dense 6·(16 + 1) + prelu 6
    assert_eq!(Every::PARAM_COUNT, 188);
    let mut net = Every::new(1);
    let y = net.forward(&[0.0; 128]);
    assert_eq!(y.len(), 6);
    assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(net.tensor("2.weight"), Some(&[0.25; 4][..]));
    assert_eq!(net.tensor("11.weight"), Some(&[0.25; 6][..]));

    assert_eq!(Global::OUTPUT_SHAPE, [2]);
    let mut net = Global::new(1);
    assert_eq!(net.forward(&[0.0; 48]).len(), 2);

    assert_eq!(Sequence::INPUT_SHAPE, [4, 3]);
    assert_eq!(Sequence::OUTPUT_SHAPE, [2]);
    let mut net = Sequence::new(1);
    assert_eq!(net.forward(&[0.0; 12]).len(), 2);

    assert_eq!(Recurrent::OUTPUT_SHAPE, [3]);
    // rnn 4·(3 + 4 + 2) + gru 18·(4 + 6 + 2) + lstm 8·(6 + 2 + 2) + dense 3·(2 + 1)
    assert_eq!(Recurrent::PARAM_COUNT, 36 + 216 + 80 + 9);
    let mut net = Recurrent::new(1);
    assert_eq!(net.forward(&[0.5; 15]).len(), 3);
    assert_eq!(net.tensor("3.weight_hh_l0").map(<[f32]>::len), Some(8 * 2));

    assert_eq!(Flat::OUTPUT_SHAPE, [3]);
    let mut net = Flat::new(1);
    assert_eq!(net.forward(&[0.0; 5]).len(), 3);
}
