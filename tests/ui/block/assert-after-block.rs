// An asserted shape after a block is checked against the merge's output.
nn::network! {
    pub struct Net<[8, 8, 8]> {
        concat { [conv(4, kernel = 1)], [conv(6, kernel = 3, pad = 1)] } => [8, 8, 8],
        flatten,
        dense(10),
    }
}

fn main() {}
