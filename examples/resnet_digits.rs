//! Trains a small ResNet with batch norm and projection shortcuts on the
//! bundled MNIST digits: prints the summary, a progress bar and the figures
//! of every epoch, the final test accuracy, training time and confusion
//! matrix, and writes the training curves (SVG), a checkpoint and the
//! weights (safetensors) to `runs/resnet_digits/`.
//!
//! ```sh
//! cargo run --release --example resnet_digits
//! cargo run --release --example resnet_digits -- --epochs 5 --seed 7 --threads 1
//! cargo run --release --example resnet_digits -- --data path/to/full/mnist   # the 60,000/10,000 IDX files
//! cargo run --release --example resnet_digits -- --resume                    # continue from the checkpoint
//! ```
//!
//! The recipe: SGD with momentum 0.9 and weight decay 5e-4, a one-cycle
//! learning rate peaking at 0.1 (PyTorch's `OneCycleLR` defaults, set before
//! every batch), batch 64 shuffled every epoch, softmax cross-entropy, 10
//! epochs. `tools/pytorch/resnet_digits.py` is the same in PyTorch.

use nn::batch::Batching;
use nn::data::mnist;
use nn::loss::{Loss, SoftmaxCrossEntropy};
use nn::optim::{Optimizer, Sgd};
use nn::schedule::OneCycle;
use nn::train::{evaluate, TrainConfig, Trainer};
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

nn::network! {
    /// A ResNet for 28×28 grey digits: a 16-channel stem, three basic
    /// blocks of 16, 32 and 64 channels (the last two halve the image and
    /// project their shortcut with a 1×1 stride-2 conv and batch norm),
    /// global average pooling and a dense classifier.
    pub struct ResNetDigits<[1, 28, 28]> {
        conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,   // [16, 28, 28]
        residual {
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        add {
            [conv(32, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
             conv(32, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(32, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [32, 14, 14],
        relu,
        add {
            [conv(64, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
             conv(64, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(64, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [64, 7, 7],
        relu,
        global_avg_pool,                                                  // [64]
        dense(10),
    }
}

#[path = "shared/cli.rs"]
mod cli;

struct Args {
    epochs: usize,
    seed: u64,
    threads: usize,
    data: Option<PathBuf>,
    out: PathBuf,
    resume: bool,
}

fn parse_args() -> Args {
    let defaults = Args {
        epochs: 10,
        seed: 1,
        threads: 0,
        data: None,
        out: PathBuf::from("runs/resnet_digits"),
        resume: false,
    };
    let usage = format!(
        "Trains a small ResNet on MNIST digits and writes the training curves, a
checkpoint and the weights.

Usage: cargo run --release --example resnet_digits -- [OPTIONS]

Options:
  --epochs N     epochs to train, the one-cycle schedule's length [default: {epochs}]
  --seed N       seed of the initial weights and of the shuffling [default: {seed}]
  --threads N    threads that share each batch, 0 for one per core [default: {threads}]
  --data DIR     a directory with MNIST's four IDX files, plain or gzip
                 [default: the digits bundled in data/mnist]
  --out DIR      where the curves, the checkpoint and the weights go
                 [default: {out}]
  --resume       continue from the checkpoint in --out, if there is one
  -h, --help     print this and exit
",
        epochs = defaults.epochs,
        seed = defaults.seed,
        threads = defaults.threads,
        out = defaults.out.display(),
    );
    cli::parse(usage, |options| {
        let mut args = defaults;
        while let Some(option) = options.next() {
            match option.as_str() {
                "--epochs" => args.epochs = options.value("--epochs")?,
                "--seed" => args.seed = options.value("--seed")?,
                "--threads" => args.threads = options.value("--threads")?,
                "--data" => args.data = Some(options.value("--data")?),
                "--out" => args.out = options.value("--out")?,
                "--resume" => args.resume = true,
                other => return Err(cli::unknown(other)),
            }
        }
        Ok(args)
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args();
    let data = match &args.data {
        Some(dir) => mnist::load(dir)?,
        None => mnist::bundled()?,
    };
    println!("{}\n", ResNetDigits::summary());
    println!(
        "data: {} training and {} test images of 28x28\n",
        data.train.len(),
        data.test.len()
    );

    std::fs::create_dir_all(&args.out)?;
    let checkpoint = args.out.join("checkpoint.safetensors");
    let batching = Batching::new(64).shuffled(args.seed);
    let config = TrainConfig {
        epochs: args.epochs,
        batching,
        threads: args.threads,
        verbose: true,
        checkpoint: Some(checkpoint.clone()),
        curves: Some(args.out.join("curves.svg")),
        eval_batch: 500,
        clip: None,
        l2: None,
        augment: None,
    };
    let batches = batching.batches(data.train.len()) as u32;
    let sgd = Sgd::new(0.1)
        .momentum(0.9)
        .weight_decay(5e-4)
        .params::<{ ResNetDigits::PARAM_COUNT }>();
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let mut net = ResNetDigits::new(args.seed);
    let mut trainer =
        Trainer::new(loss, sgd, config).with_schedule(OneCycle::new(args.epochs as u32, batches));
    if args.resume && checkpoint.exists() {
        trainer.resume(&mut net, &checkpoint)?;
        println!(
            "resumed from {} after epoch {}",
            checkpoint.display(),
            trainer.history.epochs.len()
        );
    }
    let started = Instant::now();
    let history = trainer.fit(&mut net, &data.train, &data.test)?;
    let wall = started.elapsed().as_secs_f64();

    let eval = evaluate(&mut net, &data.test, &loss, 500);
    let images = data.train.len() as f64;
    let training: f64 = history
        .epochs
        .iter()
        .map(|e| images / e.images_per_second)
        .sum();
    println!(
        "\ntest accuracy: {:.2}% ({} of {} digits)",
        100.0 * eval.metrics.accuracy(),
        (eval.metrics.accuracy() * data.test.len() as f64).round(),
        data.test.len()
    );
    println!(
        "training time: {training:.1} s over {} epochs ({:.0} images/s); with evaluation and checkpoints: {wall:.1} s",
        history.epochs.len(),
        images * history.epochs.len() as f64 / training.max(f64::MIN_POSITIVE)
    );
    println!(
        "per-class figures and confusion matrix (rows: true digit, columns: predicted):\n{eval}\n"
    );
    let weights_path = args.out.join("resnet_digits.safetensors");
    nn::weights::save(&net, &weights_path)?;
    println!(
        "wrote {}, {} and {}",
        weights_path.display(),
        args.out.join("curves.svg").display(),
        checkpoint.display()
    );
    Ok(())
}
