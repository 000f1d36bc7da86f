// Family: more positional arguments than the layer takes.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, 5),         // the kernel is `kernel = 5`
        relu(0.1),          // relu takes none
        flatten,
        dense(10, 20),
    }
}

fn main() {}
