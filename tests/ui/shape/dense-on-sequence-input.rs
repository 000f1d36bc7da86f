nn::network! {
    pub struct Net<[10, 32]> {
        dense(10),
    }
}

fn main() {}
