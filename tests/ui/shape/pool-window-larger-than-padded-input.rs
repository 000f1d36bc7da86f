// A window taller than the padded height, (3 + 0 + 0) < 4; the width fits.
nn::network! {
    pub struct Net<[1, 3, 8]> {
        max_pool((4, 2)),
        flatten,
    }
}

fn main() {}
