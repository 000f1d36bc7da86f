nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, pad = 2),
        flatten,
        dense(10),
    }
}

fn main() {}
