// An identity branch where the other branch changes the shape: the help
// gives the projection shortcut that fits.
nn::network! {
    pub struct Net<[16, 8, 8]> {
        add {
            [conv(32, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm],
            [],
        },
        relu,
    }
}

fn main() {}
