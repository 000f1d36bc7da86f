// `dense` without parentheses, and `dense()`, both miss OUT.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        flatten,
        dense,
        relu,
        dense(),
    }
}

fn main() {}
