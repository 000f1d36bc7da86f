// Family: one dimension over 2^20, and a product over 2^31 floats.
nn::network! {
    pub struct Wide<[1, 2000000, 1]> {
        flatten,
    }
}

nn::network! {
    pub struct Huge<[1024, 1024, 4096]> {
        flatten,
    }
}

fn main() {}
