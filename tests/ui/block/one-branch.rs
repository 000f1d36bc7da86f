// A block of one branch merges nothing.
nn::network! {
    pub struct Net<[4, 6, 6]> {
        add { [conv(4, kernel = 3, pad = 1)] },
        flatten,
        dense(10),
    }
}

fn main() {}
