// Batch norm normalises channels of [C, H, W] or features of [N], not a
// sequence; and its arguments have ranges.
nn::network! {
    pub struct Net<[28, 28]> {
        batch_norm,
        flatten,
        batch_norm(momentum = 1.5),
        batch_norm(eps = 0),
        batch_norm(0.1),
        dense(10),
    }
}

fn main() {}
