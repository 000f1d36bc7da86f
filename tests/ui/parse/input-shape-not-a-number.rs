nn::network! {
    pub struct Net<[1, 28.0, 28]> {
        flatten,
        dense(10),
    }
}

fn main() {}
