// (8 − 3) mod 2 = 1 drops a row; (9 − 3) mod 2 = 0 fits the width.
nn::network! {
    pub struct Net<[1, 8, 9]> {
        conv(4, kernel = 3, stride = 2),
        flatten,
        dense(10),
    }
}

fn main() {}
