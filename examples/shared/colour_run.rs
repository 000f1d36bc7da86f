// Trains a network on 32×32 colour images for the `resnet20` and
// `inception` examples: CIFAR-10 when `--data DIR` points at its binary
// files (`cifar-10-batches-bin`: `data_batch_1.bin` … `data_batch_5.bin`,
// `test_batch.bin`), otherwise a small generated stand-in of ten classes of
// coloured stripes, so that the example runs anywhere and the loss is seen
// to fall. Prints the summary, a progress bar and every epoch's figures,
// and writes the curves and the weights to `--out`.

#[path = "cli.rs"]
mod cli;

use nn::batch::Batching;
use nn::data::{cifar, Dataset};
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Sgd;
use nn::prelude::*;
use nn::schedule::Cosine;
use nn::train::{TrainConfig, Trainer};
use rand::{Rng, SeedableRng};
use std::error::Error;
use std::path::PathBuf;

pub struct Args {
    pub epochs: usize,
    pub seed: u64,
    pub threads: usize,
    pub data: Option<PathBuf>,
    pub out: PathBuf,
    /// Samples of the generated stand-in (training; a quarter as many test).
    pub standin: usize,
}

/// The command line of the example `name`, which trains `what` for
/// `epochs` epochs unless told otherwise.
pub fn parse_args(name: &str, what: &str, epochs: usize) -> Args {
    let defaults = Args {
        epochs,
        seed: 1,
        threads: 0,
        data: None,
        out: PathBuf::from(format!("runs/{name}")),
        standin: 2000,
    };
    let usage = format!(
        "Trains {what} on 32x32 colour images: CIFAR-10 with --data,
otherwise a generated stand-in of coloured stripes. Writes the training
curves and the weights.

Usage: cargo run --release --example {name} -- [OPTIONS]

Options:
  --epochs N     epochs to train, the cosine schedule's length [default: {epochs}]
  --seed N       seed of the initial weights, the dropout masks, the shuffling
                 and the stand-in [default: {seed}]
  --threads N    threads that share each batch, 0 for one per core [default: {threads}]
  --data DIR     CIFAR-10's binary files (cifar-10-batches-bin)
                 [default: the generated stand-in]
  --out DIR      where the curves and the weights go [default: {out}]
  --standin N    training images of the stand-in, and a quarter as many test
                 images [default: {standin}]
  -h, --help     print this and exit
",
        seed = defaults.seed,
        threads = defaults.threads,
        out = defaults.out.display(),
        standin = defaults.standin,
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
                "--standin" => args.standin = options.value("--standin")?,
                other => return Err(cli::unknown(other)),
            }
        }
        Ok(args)
    })
}

/// Ten classes of stripes: class `k` has its own orientation, frequency
/// and colour, with a random phase and noise, so that a convnet can learn
/// them and a linear model cannot do it perfectly.
pub fn standin(samples: usize, seed: u64) -> Dataset<3072> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(samples * 3072);
    let mut labels = Vec::with_capacity(samples);
    for i in 0..samples {
        let k = (i % 10) as u32;
        let angle = k as f32 * std::f32::consts::PI / 10.0;
        let freq = 0.25 + 0.1 * (k % 3) as f32;
        let phase: f32 = rng.gen_range(0.0..std::f32::consts::TAU);
        let colour = [
            (k % 2) as f32,
            ((k / 2) % 2) as f32,
            ((k / 4) % 2) as f32 * 0.5 + 0.5,
        ];
        for c in colour {
            for y in 0..32 {
                for x in 0..32 {
                    let t = (x as f32 * angle.cos() + y as f32 * angle.sin()) * freq + phase;
                    let v = 0.5 + 0.35 * c * t.sin() + rng.gen_range(-0.25..0.25);
                    inputs.push(v.clamp(0.0, 1.0));
                }
            }
        }
        labels.push(k);
    }
    Dataset::new(inputs, labels, 10).expect("consistent sizes")
}

/// Loads the data, trains `N` with SGD (momentum 0.9, weight decay 5e-4,
/// cosine from 0.05 to 0), and reports.
pub fn run<N: Network + TakesInput<3072> + Send>(
    name: &str,
    args: &Args,
) -> Result<(), Box<dyn Error>> {
    let (train, test, what) = match &args.data {
        Some(dir) => {
            let c = cifar::load(dir)?;
            (c.train, c.test, "CIFAR-10")
        }
        None => (
            standin(args.standin, args.seed),
            standin(args.standin / 4, args.seed + 1),
            "a generated stand-in (give --data DIR for CIFAR-10)",
        ),
    };
    println!("{}\n", N::summary());
    println!(
        "data: {what}: {} training and {} test images of 3x32x32\n",
        train.len(),
        test.len()
    );
    std::fs::create_dir_all(&args.out)?;
    let config = TrainConfig {
        epochs: args.epochs,
        batching: Batching::new(64).shuffled(args.seed),
        threads: args.threads,
        verbose: true,
        checkpoint: None,
        curves: Some(args.out.join("curves.svg")),
        eval_batch: 250,
        clip: None,
        l2: None,
        augment: None,
    };
    let mut net = N::with_seed(args.seed);
    let schedule = Cosine {
        min: 0.0,
        epochs: args.epochs.max(1) as u32,
    };
    let optimizer = Sgd::new(0.05).momentum(0.9).weight_decay(5e-4);
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, optimizer, config).with_schedule(schedule);
    let history = trainer.fit(&mut net, &train, &test)?;
    let (first, last) = (history.epochs.first(), history.epochs.last());
    if let (Some(first), Some(last)) = (first, last) {
        println!(
            "\ntraining loss {:.4} → {:.4}; test accuracy {:.2}%",
            first.train_loss,
            last.train_loss,
            100.0 * last.val_metric.unwrap_or(f64::NAN)
        );
    }
    let path = args.out.join(format!("{name}.safetensors"));
    nn::weights::save(&net, &path)?;
    println!(
        "wrote {} and {}",
        path.display(),
        args.out.join("curves.svg").display()
    );
    Ok(())
}
