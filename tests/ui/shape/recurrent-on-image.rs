// A recurrent layer reads a sequence [T, F]: on a one-channel image it says
// how to read the image as its rows, and on a flat input how to declare a
// sequence.
nn::network! {
    pub struct Rows<[1, 28, 28]> {
        lstm(64),
        dense(10),
    }
}

nn::network! {
    pub struct Colour<[3, 32, 32]> {
        gru(64),
        dense(10),
    }
}

nn::network! {
    pub struct Flat<[20]> {
        rnn(8),
    }
}

nn::network! {
    pub struct Flattened<[10, 4]> {
        flatten,
        rnn(8),
    }
}

fn main() {}
