// Family: every window layer after `flatten`.
nn::network! {
    pub struct Net<[4, 8, 8]> {
        flatten,
        max_pool(2),
    }
}

nn::network! {
    pub struct Net2<[4, 8, 8]> {
        flatten,
        avg_pool(2),
    }
}

nn::network! {
    pub struct Net3<[4, 8, 8]> {
        flatten,
        global_avg_pool,
    }
}

fn main() {}
