// Blocks (`residual { .. }`) are not available in a sequential network.
nn::network! {
    pub struct Net<[4, 8, 8]> {
        residual { conv(4, kernel = 3, pad = 1), relu },
        flatten,
        dense(10),
    }
}

fn main() {}
