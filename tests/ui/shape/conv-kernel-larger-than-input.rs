// A 5x5 kernel on a 4x4 map.
nn::network! {
    pub struct Net<[1, 8, 8]> {
        max_pool(2),                    // [1, 4, 4]
        c2: conv(16, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
