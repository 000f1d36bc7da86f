// An asserted shape is checked like the input shape.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2) => [6, 0, 28],
        flatten,
        dense(10),
    }
}

fn main() {}
