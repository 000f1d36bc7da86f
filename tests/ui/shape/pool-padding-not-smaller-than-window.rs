// A window over padding only would hold no input.
nn::network! {
    pub struct Net<[1, 8, 8]> {
        max_pool(2, pad = 2),
        flatten,
    }
}

nn::network! {
    pub struct OneSided<[1, 8, 8]> {
        avg_pool(3, stride = 2, pad = (0, 1, 3, 0)),
        flatten,
    }
}

fn main() {}
