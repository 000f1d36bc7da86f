// A layer of the language this version does not build yet says so, not "unknown".
nn::network! {
    pub struct Net<[28, 28]> {
        rnn(64),
        dense(10),
    }
}

fn main() {}
