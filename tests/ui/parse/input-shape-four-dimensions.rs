// A batch dimension does not belong in the shape of one sample.
nn::network! {
    pub struct Net<[32, 1, 28, 28]> {
        conv(6, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
