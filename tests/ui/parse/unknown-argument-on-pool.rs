// `in` is a conv/dense argument; a pool does not take it.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        max_pool(2, in = 1),
        flatten,
        dense(10),
    }
}

fn main() {}
