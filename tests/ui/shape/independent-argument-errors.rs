// Argument errors in different layers are all reported, and shape checks
// go on past a layer whose arguments are wrong.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, strides = 2),
        relu,
        flatten,
        dense(10, bias = maybe),
        softmax,
    }
}

fn main() {}
