// Dropout's probability must be in [0, 1).
nn::network! {
    pub struct Net<[10]> {
        dropout(1.0),
        dense(8),
        dropout(-0.1),
        dropout,
        dropout(p),
        dense(2),
    }
}

fn main() {}
