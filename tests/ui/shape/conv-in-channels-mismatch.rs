nn::network! {
    pub struct Net<[3, 8, 8]> {
        conv(8, kernel = 3, pad = 1, in = 1),
        flatten,
        dense(10),
    }
}

fn main() {}
