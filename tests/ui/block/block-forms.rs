// A block written in the wrong form: `residual` with branches, `add` with
// bare layers, arguments on a block, braces on a layer, a block without braces.
nn::network! {
    pub struct Net<[4, 6, 6]> {
        residual { [conv(4, kernel = 3, pad = 1)], [] },
        add { conv(4, kernel = 1), relu },
        concat(2) { [conv(2, kernel = 1)], [conv(2, kernel = 1)] },
        relu { },
        add,
        flatten,
        dense(10),
    }
}

fn main() {}
