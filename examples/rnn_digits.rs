//! Reads each bundled MNIST digit as a sequence of 28 rows of 28 pixels
//! with a recurrent network and trains it: prints the summary, a progress
//! bar and the figures of every epoch, the final test accuracy, the
//! training time and the confusion matrix, and writes the training curves
//! (SVG), a checkpoint and the weights (safetensors) to `runs/rnn_digits/`.
//!
//! ```sh
//! cargo run --release --example rnn_digits                     # the GRU recipe below
//! cargo run --release --example rnn_digits -- --net lstm       # the LSTM of tools/pytorch/rnn_digits.py
//! cargo run --release --example rnn_digits -- --epochs 5 --seed 7 --threads 1
//! ```
//!
//! - `--net gru` (the default): `gru(128)`, `dropout(0.3)` and `dense(10)`,
//!   trained with Adam under a one-cycle schedule peaking at 3e-3 (PyTorch's
//!   `OneCycleLR` defaults, set before every batch) for 15 epochs.
//! - `--net lstm`: `lstm(128)` and `dense(10)` with Adam at a constant
//!   1e-3 for 10 epochs, the network and recipe of
//!   `tools/pytorch/rnn_digits.py`.
//!
//! Both: batch 64 shuffled every epoch, softmax cross-entropy.

use nn::batch::Batching;
use nn::data::mnist;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Adam;
use nn::prelude::*;
use nn::schedule::OneCycle;
use nn::train::{evaluate, TrainConfig, Trainer};
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

nn::network! {
    /// An LSTM that reads a digit's 28 rows of 28 pixels, and a dense
    /// classifier on its last state.
    pub struct RowLstm<[28, 28]> {
        lstm(128),                      // [128]
        dense(10),
    }
}

nn::network! {
    /// A GRU that reads a digit's 28 rows of 28 pixels, and a dense
    /// classifier on its last state, with dropout between.
    pub struct RowGru<[28, 28]> {
        gru(128),                       // [128]
        dropout(0.3),
        dense(10),
    }
}

#[path = "shared/cli.rs"]
mod cli;

struct Args {
    net: String,
    epochs: Option<usize>,
    seed: u64,
    threads: usize,
    out: PathBuf,
}

fn parse_args() -> Args {
    let defaults = Args {
        net: "gru".into(),
        epochs: None,
        seed: 1,
        threads: 0,
        out: PathBuf::from("runs/rnn_digits"),
    };
    let usage = format!(
        "Trains a recurrent network that reads each bundled MNIST digit as 28 rows of
28 pixels, and writes the training curves, a checkpoint and the weights.

Usage: cargo run --release --example rnn_digits -- [OPTIONS]

Options:
  --net NET      gru (Adam, one-cycle schedule) or lstm (Adam at 1e-3) [default: {net}]
  --epochs N     epochs to train [default: 15 for gru, 10 for lstm]
  --seed N       seed of the initial weights, the dropout masks and the shuffling
                 [default: {seed}]
  --threads N    threads that share each batch, 0 for one per core [default: {threads}]
  --out DIR      where the curves, the checkpoint and the weights go
                 [default: {out}]
  -h, --help     print this and exit
",
        net = defaults.net,
        seed = defaults.seed,
        threads = defaults.threads,
        out = defaults.out.display(),
    );
    cli::parse(usage, |options| {
        let mut args = defaults;
        while let Some(option) = options.next() {
            match option.as_str() {
                "--net" => args.net = options.value("--net")?,
                "--epochs" => args.epochs = Some(options.value("--epochs")?),
                "--seed" => args.seed = options.value("--seed")?,
                "--threads" => args.threads = options.value("--threads")?,
                "--out" => args.out = options.value("--out")?,
                other => return Err(cli::unknown(other)),
            }
        }
        if args.net != "gru" && args.net != "lstm" {
            return Err(format!("--net {}: expected gru or lstm", args.net));
        }
        Ok(args)
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args();
    if args.net == "lstm" {
        train::<RowLstm>(&args, args.epochs.unwrap_or(10), 1e-3, false)
    } else {
        train::<RowGru>(&args, args.epochs.unwrap_or(15), 3e-3, true)
    }
}

/// Trains `N` with Adam at the rate `lr`: constant, or with `one_cycle`
/// under a one-cycle schedule peaking at it.
fn train<N: Network + nn::TakesInput<784> + Send>(
    args: &Args,
    epochs: usize,
    lr: f32,
    one_cycle: bool,
) -> Result<(), Box<dyn Error>> {
    let data = mnist::bundled()?;
    println!("{}\n", N::summary());
    println!(
        "data: {} training and {} test images, each read as 28 rows of 28 pixels\n",
        data.train.len(),
        data.test.len()
    );
    std::fs::create_dir_all(&args.out)?;
    let checkpoint = args.out.join("checkpoint.safetensors");
    let batching = Batching::new(64).shuffled(args.seed);
    let config = TrainConfig {
        epochs,
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
    let mut net = N::with_seed(args.seed);
    let trainer = Trainer::new(SoftmaxCrossEntropy, Adam::new(lr), config);
    let mut trainer = if one_cycle {
        trainer.with_schedule(OneCycle::new(epochs as u32, batches))
    } else {
        trainer
    };
    let started = Instant::now();
    let history = trainer.fit(&mut net, &data.train, &data.test)?;
    let wall = started.elapsed().as_secs_f64();

    let eval = evaluate(&mut net, &data.test, &SoftmaxCrossEntropy, 500);
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
    let weights_path = args
        .out
        .join(format!("rnn_digits_{}.safetensors", args.net));
    nn::weights::save(&net, &weights_path)?;
    println!(
        "wrote {}, {} and {}",
        weights_path.display(),
        args.out.join("curves.svg").display(),
        checkpoint.display()
    );
    Ok(())
}
