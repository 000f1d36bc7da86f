// Errors inside branches are found with the others; a branch's failure does
// not give a follow-up error at the merge.
nn::network! {
    pub struct Net<[4, 8, 8]> {
        add {
            [conv(4, kernel = 3, stride = 2)],
            [relu, dense(4)],
            [maxpool(2)],
        },
        flatten,
        dense(10),
    }
}

fn main() {}
