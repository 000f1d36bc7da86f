// A number beyond the largest size (2^20) is out of range, not an overflow.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, stride = 2000000),
        flatten,
        dense(10),
    }
}

fn main() {}
