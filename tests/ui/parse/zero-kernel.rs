// A zero in `kernel`, alone or in a pair; the literal is pointed at.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 0),
        conv(6, kernel = (3, 0)),
        flatten,
        dense(10),
    }
}

fn main() {}
