nn::network! {
    pub struct Net<[1, 28, 28]> {
        max_pool,
        flatten,
        dense(10),
    }
}

fn main() {}
