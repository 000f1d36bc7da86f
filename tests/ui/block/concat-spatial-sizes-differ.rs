// `concat` branches whose height and width differ.
nn::network! {
    pub struct Net<[8, 16, 16]> {
        concat {
            [conv(4, kernel = 1)],
            [conv(4, kernel = 3, pad = 1)],
            [conv(4, kernel = 3)],
        },
        flatten,
        dense(10),
    }
}

fn main() {}
