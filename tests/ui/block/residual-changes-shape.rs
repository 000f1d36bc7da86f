// A residual block must keep its input's shape.
nn::network! {
    pub struct Net<[16, 8, 8]> {
        residual { conv(32, kernel = 3, pad = 1), relu },
        flatten,
        dense(10),
    }
}

fn main() {}
