// A negative dimension: named as written, not wrapped around into a huge one.
nn::network! {
    pub struct Net<[-4]> {
        dense(2),
    }
}

fn main() {}
