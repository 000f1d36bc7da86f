// A plain syntax error is syn's own message, at the token after the gap.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2)
        relu,
        flatten,
        dense(10),
    }
}

fn main() {}
