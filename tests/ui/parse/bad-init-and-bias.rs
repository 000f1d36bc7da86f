// Family: word arguments outside their choices, each reported.
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, init = kaiming),   // he, xavier, lecun or default
        flatten,
        dense(10, bias = no),                  // true or false
    }
}

fn main() {}
