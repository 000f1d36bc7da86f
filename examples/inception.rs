//! A small GoogLeNet on 32×32 colour images: a stem and three inception
//! blocks, each joining a 1×1, a 3×3, a 5×5 and a pool-projection branch;
//! CIFAR-10 from its binary files, or a generated stand-in.
//!
//! ```sh
//! cargo run --release --example inception                                  # the stand-in, 3 epochs
//! cargo run --release --example inception -- --data cifar-10-batches-bin --epochs 5
//! ```

#[path = "shared/colour_run.rs"]
mod colour_run;

nn::network! {
    /// GoogLeNet's inception blocks (Szegedy et al.), scaled to 32×32.
    pub struct Inception<[3, 32, 32]> {
        conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu,          // [32, 32, 32]
        i3: concat {
            [conv(16, kernel = 1), relu],
            [conv(16, kernel = 1), relu, conv(24, kernel = 3, pad = 1), relu],
            [conv(4, kernel = 1), relu, conv(8, kernel = 5, pad = 2), relu],
            [max_pool(3, stride = 1, pad = 1), conv(8, kernel = 1), relu],
        } => [56, 32, 32],
        max_pool(2),                                                            // [56, 16, 16]
        i4: concat {
            [conv(32, kernel = 1), relu],
            [conv(24, kernel = 1), relu, conv(48, kernel = 3, pad = 1), relu],
            [conv(8, kernel = 1), relu, conv(16, kernel = 5, pad = 2), relu],
            [max_pool(3, stride = 1, pad = 1), conv(16, kernel = 1), relu],
        } => [112, 16, 16],
        max_pool(2),                                                            // [112, 8, 8]
        i5: concat {
            [conv(48, kernel = 1), relu],
            [conv(32, kernel = 1), relu, conv(64, kernel = 3, pad = 1), relu],
            [conv(8, kernel = 1), relu, conv(16, kernel = 5, pad = 2), relu],
            [max_pool(3, stride = 1, pad = 1), conv(16, kernel = 1), relu],
        } => [144, 8, 8],
        global_avg_pool,
        dropout(0.2),
        dense(10),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = colour_run::parse_args("inception", "a small GoogLeNet", 3);
    colour_run::run::<Inception>("inception", &args)
}
