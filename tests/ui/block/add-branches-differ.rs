// `add` branches that give different shapes: each branch's output is shown
// and the first branch that differs is pointed at.
nn::network! {
    pub struct Net<[16, 8, 8]> {
        add {
            [conv(32, kernel = 3, stride = 2, pad = 1), relu],
            [conv(32, kernel = 3, pad = 1)],
        },
        flatten,
        dense(10),
    }
}

fn main() {}
