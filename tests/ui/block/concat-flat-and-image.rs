// `concat` of an image branch and a flat branch.
nn::network! {
    pub struct Net<[4, 6, 6]> {
        concat { [conv(4, kernel = 1)], [flatten] },
    }
}

fn main() {}
