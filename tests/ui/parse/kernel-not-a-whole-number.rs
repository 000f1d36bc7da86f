// Family: `kernel` takes K or (KH, KW): not a float, a word, or a triple.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 2.5),
        conv(6, kernel = three),
        conv(6, kernel = (3, 3, 3)),
        flatten,
        dense(10),
    }
}

fn main() {}
