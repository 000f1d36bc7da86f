// Two minus signs: not a positive slope.
nn::network! {
    pub struct Net<[4]> {
        leaky_relu(--1),
    }
}

fn main() {}
