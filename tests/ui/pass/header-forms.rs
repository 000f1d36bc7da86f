//! The header and punctuation forms: attributes and doc comments
//! pass through, any visibility, trailing commas everywhere, a network in a
//! module, several networks in one file.
use nn::prelude::*;

mod nets {
    nn::network! {
        /// A doc comment,
        #[doc = "a doc attribute,"]
        #[allow(dead_code)]
        #[derive(Debug)]
        /// and another doc comment.
        pub(crate) struct Inner<[1, 4, 4,]> {
            conv(2, kernel = (3, 3,), pad = (1, 1,),) => [2, 4, 4,],
            relu,
        }
    }
}

nn::network! {
    struct Private<[3]> { dense(2) }
}

nn::network! {
    pub struct Named<[2, 4, 4]> {
        first: conv(3, kernel = 3) => [3, 2, 2],
        act: relu => [3, 2, 2],
        pool: max_pool(2) => [3, 1, 1],
        flat: flatten => [3],
        out: dense(1) => [1],
    }
}

fn main() {
    assert_eq!(nets::Inner::OUTPUT_SHAPE, [2, 4, 4]);
    let mut inner = nets::Inner::new(1);
    assert_eq!(inner.forward(&[0.0; 16]).len(), 32);
    assert!(format!("{inner:?}").contains("Inner"));

    assert_eq!(Private::OUTPUT_SHAPE, [2]);
    assert_eq!(Private::new(1).forward(&[0.0; 3]).len(), 2);

    assert_eq!(Named::OUTPUT_SHAPE, [1]);
    let mut net = Named::new(1);
    assert!(net.tensor("first.weight").is_some());
    assert!(net.tensor("out.bias").is_some());
    assert_eq!(net.forward(&[0.0; 32]).len(), 1);
}
