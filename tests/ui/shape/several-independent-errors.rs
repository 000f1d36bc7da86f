// Two broken layers far apart: both are reported in one compile. The
// asserted shape after the first one lets the checker go on.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, stride = 2) => [6, 12, 12],
        relu,
        max_pool(2),                    // [6, 6, 6]
        conv(16, kernel = 3),           // [16, 4, 4]
        relu,
        flatten,                        // [256]
        dense(120, in = 400),
        dense(10),
    }
}

fn main() {}
