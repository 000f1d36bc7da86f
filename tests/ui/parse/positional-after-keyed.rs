nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(kernel = 5, 6),
        flatten,
        dense(10),
    }
}

fn main() {}
