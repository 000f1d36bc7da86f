// A literal beyond u64 is rejected while parsing (so it is the only error
// of this compile, even with other mistakes below it).
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 99999999999999999999999),
        maxpool(2),
    }
}

fn main() {}
