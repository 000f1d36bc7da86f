// Names key the saved weights, so each must be unique.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        c1: conv(6, kernel = 5, pad = 2),
        relu,
        max_pool(2),
        c1: conv(16, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
