// A tuple of three paddings is neither (PH, PW) nor (TOP, BOTTOM, LEFT, RIGHT).
nn::network! {
    pub struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = (1, 2, 1)),
        flatten,
        dense(10),
    }
}

fn main() {}
