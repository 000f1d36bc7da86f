// A weight of 2^20 × 2^20 values: a tensor holds at most 2^31.
nn::network! {
    struct H<[1048576]> { dense(1048576) }
}

fn main() {}
