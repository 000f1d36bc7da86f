// The asserted shape is wrong; later layers go on from the real one.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),
        relu,
        max_pool(2),
        c2: conv(16, kernel = 5) => [16, 12, 12],
        relu,
        max_pool(2),
        flatten,
        dense(10, in = 400),
    }
}

fn main() {}
