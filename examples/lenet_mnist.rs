//! Trains LeNet-5 on the bundled MNIST digits: prints the summary,
//! a progress bar and the figures of every epoch, the final test accuracy
//! and confusion matrix, and writes the training curves (SVG), a checkpoint
//! and the weights (safetensors) to `runs/lenet_mnist/`.
//!
//! ```sh
//! cargo run --release --example lenet_mnist
//! cargo run --release --example lenet_mnist -- --epochs 3 --seed 7 --threads 1
//! cargo run --release --example lenet_mnist -- --data path/to/full/mnist   # the 60,000/10,000 IDX files
//! cargo run --release --example lenet_mnist -- --resume                    # continue from the checkpoint
//! cargo run --release --example lenet_mnist -- --help                      # the options and their defaults
//! ```
//!
//! The recipe: SGD with momentum 0.9, learning rate 0.01, batch 64 shuffled
//! every epoch, softmax cross-entropy, 10 epochs.

use nn::batch::Batching;
use nn::data::mnist;
use nn::loss::{Loss, SoftmaxCrossEntropy};
use nn::optim::{Optimizer, Sgd};
use nn::train::{evaluate, TrainConfig, Trainer};
use std::error::Error;
use std::path::PathBuf;

nn::network! {
    /// LeNet-5 for 28×28 grey digits.
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),           // [6, 28, 28]
        relu,
        max_pool(2),                            // [6, 14, 14]
        c2: conv(16, kernel = 5) => [16, 10, 10],
        relu,
        max_pool(2),
        flatten,                                // [400]
        dense(120), relu,
        dense(84), relu,
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
        out: PathBuf::from("runs/lenet_mnist"),
        resume: false,
    };
    let usage = format!(
        "Trains LeNet-5 on MNIST digits and writes the training curves, a checkpoint
and the weights.

Usage: cargo run --release --example lenet_mnist -- [OPTIONS]

Options:
  --epochs N     epochs to train [default: {epochs}]
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
    println!("{}\n", LeNet5::summary());
    println!(
        "data: {} training and {} test images of 28x28\n",
        data.train.len(),
        data.test.len()
    );

    std::fs::create_dir_all(&args.out)?;
    let checkpoint = args.out.join("checkpoint.safetensors");
    let config = TrainConfig {
        epochs: args.epochs,
        batching: Batching::new(64).shuffled(args.seed),
        threads: args.threads,
        verbose: true,
        checkpoint: Some(checkpoint.clone()),
        curves: Some(args.out.join("curves.svg")),
        eval_batch: 500,
        clip: None,
        l2: None,
        augment: None,
    };
    let mut net = LeNet5::new(args.seed);
    // the loss and the optimizer typed by LeNet-5's outputs and parameters:
    // given another network, the program would not compile
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let sgd = Sgd::new(0.01)
        .momentum(0.9)
        .params::<{ LeNet5::PARAM_COUNT }>();
    let mut trainer = Trainer::new(loss, sgd, config);
    if args.resume && checkpoint.exists() {
        trainer.resume(&mut net, &checkpoint)?;
        println!(
            "resumed from {} after epoch {}",
            checkpoint.display(),
            trainer.history.epochs.len()
        );
    }
    let history = trainer.fit(&mut net, &data.train, &data.test)?;

    let eval = evaluate(&mut net, &data.test, &loss, 500);
    let ips: Vec<f64> = history.epochs.iter().map(|e| e.images_per_second).collect();
    println!(
        "\ntest accuracy: {:.2}% ({} of {} digits)",
        100.0 * eval.metrics.accuracy(),
        (eval.metrics.accuracy() * data.test.len() as f64).round(),
        data.test.len()
    );
    println!(
        "training speed: {:.0} images/s (mean over epochs)",
        ips.iter().sum::<f64>() / ips.len().max(1) as f64
    );
    println!(
        "per-class figures and confusion matrix (rows: true digit, columns: predicted):\n{eval}\n"
    );
    let weights_path = args.out.join("lenet5.safetensors");
    nn::weights::save(&net, &weights_path)?;
    println!(
        "wrote {}, {} and {}",
        weights_path.display(),
        args.out.join("curves.svg").display(),
        checkpoint.display()
    );
    Ok(())
}
