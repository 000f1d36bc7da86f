// Blocks without branches, or without layers.
nn::network! {
    pub struct Net<[4, 6, 6]> {
        add {},
        residual {},
        concat { [], [] },
        flatten,
        dense(10),
    }
}

fn main() {}
