// The recurrent layers' arguments: a hidden size of at least 1, `seq` as
// `last` or `all`; each mistake reported, all in one compile.
nn::network! {
    pub struct Net<[28, 28]> {
        lstm(0),
        gru(32, seq = lst),
        rnn(seq = all),
        rnn(16, seq = 2),
        lstm(16, seq = every),
        dense(10),
    }
}

fn main() {}
