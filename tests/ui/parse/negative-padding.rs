// Family: a negative padding, alone or in a tuple.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = -1),
        conv(6, kernel = 5, pad = (1, -1)),
        flatten,
    }
}

fn main() {}
