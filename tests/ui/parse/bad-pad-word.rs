// `pad` takes a number, a tuple of 2 or 4, `same` or `valid`.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = full),
        flatten,
        dense(10),
    }
}

fn main() {}
