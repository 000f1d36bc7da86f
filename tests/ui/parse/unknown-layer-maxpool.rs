// An unknown layer names the nearest known one.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),
        maxpool(2),
        flatten,
        dense(10),
    }
}

fn main() {}
