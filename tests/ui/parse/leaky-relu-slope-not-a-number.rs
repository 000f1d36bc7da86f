// Family: the slope must be a finite number of reasonable size.
nn::network! {
    pub struct Net<[10]> {
        dense(10),
        leaky_relu(small),
        leaky_relu(1e400),
    }
}

fn main() {}
