//! A folder of images per class: writes the bundled digits as PNG files,
//! `runs/folder_images/{train,test}/<digit>/<n>.png` (so that it runs
//! offline), reads them back with `nn::data::folder::load`, and trains a
//! small CNN on them with seeded random shifts, a stratified validation
//! split and the test folder scored at the end.
//!
//! ```sh
//! cargo run --release --example folder_images
//! ```
//!
//! Point `folder::load` at any `root/<class>/*.png|jpg` tree; with
//! `FolderOptions::resize` images of other sizes are resized.

use nn::data::augment::{Augmentation, RandomShift};
use nn::data::folder::{self, FolderOptions};
use nn::data::{mnist, Dataset};
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Adam;
use nn::train::{evaluate, TrainConfig, Trainer};
use std::error::Error;
use std::path::Path;
use std::sync::Arc;

nn::network! {
    /// A small CNN for 28×28 grey images of 10 classes.
    pub struct Digits<[1, 28, 28]> {
        conv(16, kernel = 3, pad = same), relu, max_pool(2),   // [16, 14, 14]
        conv(32, kernel = 3, pad = same), relu, max_pool(2),   // [32, 7, 7]
        flatten, dense(64), relu, dense(10),
    }
}

/// Writes every sample of `data` as `dir/<label>/<index>.png`.
fn write_pngs(data: &Dataset<784>, dir: &Path) -> Result<(), Box<dyn Error>> {
    for i in 0..data.len() {
        let class_dir = dir.join(data.label(i).to_string());
        std::fs::create_dir_all(&class_dir)?;
        let pixels: Vec<u8> = data
            .input(i)
            .iter()
            .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
            .collect();
        let image = image::GrayImage::from_raw(28, 28, pixels).ok_or("28×28 pixels")?;
        image.save(class_dir.join(format!("{i:05}.png")))?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("usage: cargo run --release --example folder_images (no arguments; got `{arg}`)");
        std::process::exit(if arg == "--help" || arg == "-h" { 0 } else { 2 });
    }
    let root = Path::new("runs/folder_images");
    let digits = mnist::bundled()?;
    for (part, data) in [("train", &digits.train), ("test", &digits.test)] {
        let dir = root.join(part);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        write_pngs(data, &dir)?;
    }
    println!(
        "wrote {} and {} PNG files under {}",
        digits.train.len(),
        digits.test.len(),
        root.display()
    );

    let options = FolderOptions::new([1, 28, 28]);
    let (images, classes) = folder::load::<784>(&root.join("train"), &options)?;
    let (test, _) = folder::load::<784>(&root.join("test"), &options)?;
    println!(
        "read {} training images of classes {classes:?}",
        images.len()
    );
    // the PNGs hold the bytes the floats came from: reading gives them back
    assert_eq!(images.len(), digits.train.len());

    let (train, val) = images.split(0.9, 1);
    let config = TrainConfig {
        verbose: true,
        threads: 0,
        augment: Some(Arc::new(
            Augmentation::new([1, 28, 28], 7).then(RandomShift::new(2)),
        )),
        ..TrainConfig::new(8, 64)
    };
    let mut net = Digits::new(1);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Adam::new(1e-3), config);
    trainer.fit(&mut net, &train, &val)?;
    let eval = evaluate(&mut net, &test, &SoftmaxCrossEntropy, 500);
    println!("\ntest folder: {eval}");
    Ok(())
}
