nn::network! {
    pub struct Net<[3, 8, 8]> {
        conv(10, kernel = 1),
        global_avg_pool,                // [10]
        softmax,                        // fine
    }
}

nn::network! {
    pub struct Net2<[3, 8, 8]> {
        conv(10, kernel = 8),           // [10, 1, 1]
        softmax,
    }
}

fn main() {}
