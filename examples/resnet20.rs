//! ResNet-20 (He et al., with projection shortcuts) on 32×32 colour
//! images: CIFAR-10 from its binary files, or a generated stand-in.
//!
//! ```sh
//! cargo run --release --example resnet20                                   # the stand-in, 3 epochs
//! cargo run --release --example resnet20 -- --data cifar-10-batches-bin --epochs 5
//! ```

#[path = "shared/colour_run.rs"]
mod colour_run;
#[path = "nets/resnet20.rs"]
mod resnet20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = colour_run::parse_args("resnet20", "ResNet-20", 3);
    colour_run::run::<resnet20::ResNet20>("resnet20", &args)
}
