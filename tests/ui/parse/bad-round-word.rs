// `round` takes `floor` or `ceil`; a typo names the nearest.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, stride = 2, round = flor),
        flatten,
        dense(10),
    }
}

fn main() {}
