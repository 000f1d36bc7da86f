// (9 − 3) mod 2 = 0 fits the height; (8 − 3) mod 2 = 1 drops a column.
nn::network! {
    pub struct Net<[2, 9, 8]> {
        avg_pool(3, stride = 2),
        flatten,
        dense(10),
    }
}

fn main() {}
