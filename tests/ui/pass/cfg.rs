//! A `#[cfg]` on a network applies to everything the macro makes for it:
//! configured out, nothing of it is left (its name is free again); kept, it
//! is whole.
use nn::prelude::*;

nn::network! {
    #[cfg(any())]
    pub struct Gone<[4]> {
        dense(2),
    }
}

/// The name is free: nothing of the network above was left behind.
#[allow(dead_code)]
struct Gone;

nn::network! {
    #[cfg(all())]
    pub struct Kept<[4]> {
        dense(2),
    }
}

fn main() {
    let mut net = Kept::new(0);
    assert_eq!(net.forward(&[1.0; 4]).len(), 2);
}
