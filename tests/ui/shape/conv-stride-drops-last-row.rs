// The reference's own example: (14 − 5) mod 2 = 1 leaves the last row (and the
// last column) of the [6, 14, 14] input unused.
nn::network! {
    pub struct Digits<[6, 14, 14]> {
        conv(16, kernel = 5, stride = 2),
        flatten,
        dense(10),
    }
}

fn main() {}
