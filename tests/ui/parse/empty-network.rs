nn::network! {
    pub struct Net<[1, 28, 28]> {}
}

fn main() {}
