// A recurrent layer after one with `seq = last` (the default) gets the flat
// last state, not a sequence: the error says to pass on every step. The
// features per step are checked against `in`, and a dense layer after
// `seq = all` needs a flatten.
nn::network! {
    pub struct Stacked<[28, 28]> {
        lstm(64),
        lstm(32),
        dense(10),
    }
}

nn::network! {
    pub struct In<[28, 28]> {
        gru(16, seq = all, in = 14),
    }
}

nn::network! {
    pub struct EveryStep<[28, 28]> {
        gru(16, seq = all),
        dense(10),
    }
}

nn::network! {
    pub struct Between<[10, 4]> {
        lstm(8),
        dense(5),
        gru(3),
    }
}

fn main() {}
