// A pool's window is positional: `max_pool(2)` or `max_pool((2, 3))`.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        max_pool(2.0),
        flatten,
    }
}

fn main() {}
