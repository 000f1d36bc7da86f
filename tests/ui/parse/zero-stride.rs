nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, stride = 0),
        max_pool(2, stride = 0),
        flatten,
        dense(10),
    }
}

fn main() {}
