// Zero outputs of a conv and of a dense layer.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(0, kernel = 5),
        flatten,
        dense(0),
    }
}

fn main() {}
