// A stride larger than the window leaves a gap of 3 − 2 = 1 anyway, but
// (7 − 2) mod 3 = 2 is more than that.
nn::network! {
    pub struct Net<[1, 7, 6]> {
        max_pool(2, stride = 3),
        flatten,
    }
}

fn main() {}
