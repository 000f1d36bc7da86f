// [T, F] is a sequence (T steps of F features), not an image.
nn::network! {
    pub struct Net<[28, 28]> {
        conv(6, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
