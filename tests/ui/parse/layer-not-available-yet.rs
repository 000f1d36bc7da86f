// A layer of the language this version does not build yet says so, not "unknown".
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),
        batch_norm,
        flatten,
        dense(10),
    }
}

fn main() {}
