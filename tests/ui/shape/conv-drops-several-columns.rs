// (10 − 4) mod 4 = 2: the last two columns are dropped.
nn::network! {
    pub struct Net<[1, 4, 10]> {
        conv(4, kernel = (4, 4), stride = 4),
        flatten,
        dense(10),
    }
}

fn main() {}
