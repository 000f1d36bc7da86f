nn::network! {
    pub struct Net<[784]> {
        conv(6, kernel = 5),
        flatten,
        dense(10),
    }
}

fn main() {}
