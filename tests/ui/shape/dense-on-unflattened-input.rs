nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5),            // [6, 24, 24]
        relu,
        dense(10),
    }
}

fn main() {}
