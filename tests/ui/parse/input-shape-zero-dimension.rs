nn::network! {
    pub struct Net<[1, 0, 28]> {
        conv(6, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
