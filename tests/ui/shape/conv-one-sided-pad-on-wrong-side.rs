// (5 + 1 + 0 − 3) mod 2 = 1 and the remainder is real input: the padding is
// on top, not at the bottom, so the last row is dropped.
nn::network! {
    pub struct Net<[1, 5, 4]> {
        conv(2, kernel = 3, stride = 2, pad = (1, 0, 0, 1)),
        flatten,
    }
}

fn main() {}
