nn::network! {
    pub struct Net<[10, 32]> {
        prelu,
        flatten,
    }
}

fn main() {}
