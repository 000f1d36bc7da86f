// A recurrent layer reads a sequence [T, F]: on a one-channel image it says
// how to read the image as its rows, and on a flat input how to declare a
// sequence; after layers that made an image or a flat vector, to put it
// before them.
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

nn::network! {
    pub struct AfterConv<[3, 8, 8]> {
        conv(1, kernel = 1),
        lstm(4),
    }
}

nn::network! {
    pub struct AfterDense<[12]> {
        dense(8),
        rnn(3),
    }
}

fn main() {}
