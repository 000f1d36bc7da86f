// `in = 0` is out of range before any shape is known.
nn::network! {
    pub struct Net<[16]> {
        dense(10, in = 0),
    }
}

fn main() {}
