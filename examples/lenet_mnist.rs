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
//! ```
//!
//! The recipe: SGD with momentum 0.9, learning rate 0.01, batch 64 shuffled
//! every epoch, softmax cross-entropy, 10 epochs.

use nn::batch::Batching;
use nn::data::mnist;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Sgd;
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

struct Args {
    epochs: usize,
    seed: u64,
    threads: usize,
    data: Option<PathBuf>,
    out: PathBuf,
    resume: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        epochs: 10,
        seed: 1,
        threads: 0,
        data: None,
        out: PathBuf::from("runs/lenet_mnist"),
        resume: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--epochs" => args.epochs = value("--epochs")?.parse().map_err(|e| format!("--epochs: {e}"))?,
            "--seed" => args.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--threads" => args.threads = value("--threads")?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--data" => args.data = Some(PathBuf::from(value("--data")?)),
            "--out" => args.out = PathBuf::from(value("--out")?),
            "--resume" => args.resume = true,
            other => return Err(format!("unknown argument `{other}` (known: --epochs N, --seed N, --threads N, --data DIR, --out DIR, --resume)")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
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
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01).momentum(0.9), config);
    if args.resume && checkpoint.exists() {
        trainer.resume(&mut net, &checkpoint)?;
        println!(
            "resumed from {} after epoch {}",
            checkpoint.display(),
            trainer.history.epochs.len()
        );
    }
    let history = trainer.fit(&mut net, &data.train, &data.test)?;

    let eval = evaluate(&mut net, &data.test, &SoftmaxCrossEntropy, 500);
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
