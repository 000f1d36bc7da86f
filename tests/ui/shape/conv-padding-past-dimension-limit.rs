// Padding that makes the padded input (and the output) taller than the
// dimension limit, 1048576: each number is within the limit, their sum is not.
nn::network! {
    pub struct Net<[1, 4, 4]> {
        conv(1, kernel = 1, pad = (0, 1048576, 0, 0)),
        flatten,
    }
}

fn main() {}
