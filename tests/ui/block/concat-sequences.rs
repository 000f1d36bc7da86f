// `concat` joins images on channels, or flat vectors, not sequences.
nn::network! {
    pub struct Net<[12, 8]> {
        concat { [gru(8, seq = all)], [lstm(4, seq = all)] },
        lstm(4),
    }
}

fn main() {}
