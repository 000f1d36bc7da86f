nn::network! {
    pub struct Net<[16, 5, 5]> {
        flatten,                        // [400]
        dense(120, in = 256),
        dense(10),
    }
}

fn main() {}
