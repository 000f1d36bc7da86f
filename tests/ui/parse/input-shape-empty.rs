nn::network! {
    pub struct Net<[]> {
        dense(10),
    }
}

fn main() {}
