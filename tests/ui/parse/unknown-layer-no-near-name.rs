// An unknown layer with no close known name lists the known layers.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        attention(32),
        flatten,
        dense(10),
    }
}

fn main() {}
