nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, stride = -1),
        flatten,
        dense(10),
    }
}

fn main() {}
