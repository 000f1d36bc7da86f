// Names are unique within their list; the same name in two branches is fine,
// twice in one branch is not.
nn::network! {
    pub struct Net<[4, 8, 8]> {
        add {
            [a: conv(4, kernel = 1), a: relu],
            [a: conv(4, kernel = 1)],
        },
    }
}

fn main() {}
