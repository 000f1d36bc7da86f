// The same argument twice: the second one is reported.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2, kernel = 3),
        flatten,
        dense(10),
    }
}

fn main() {}
