// (7 − 2) mod 2 = 1 drops a row; the width 8 fits.
nn::network! {
    pub struct Net<[1, 7, 8]> {
        max_pool(2),
        flatten,
        dense(10),
    }
}

fn main() {}
