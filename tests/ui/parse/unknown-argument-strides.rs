// An unknown argument names the nearest known one and lists the others.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, strides = 2),
        flatten,
        dense(10),
    }
}

fn main() {}
