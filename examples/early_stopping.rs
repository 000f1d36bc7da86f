//! Early stopping: a small CNN on the bundled digits, with a validation
//! part split off the training set (seeded and stratified, so that every
//! digit is in it although the files are sorted by digit), trained until
//! the validation accuracy has not improved for 3 epochs, after which the
//! weights of the best epoch are put back and scored on the test set.
//!
//! ```sh
//! cargo run --release --example early_stopping
//! ```
//!
//! The recipe: 90/10 split of the 7,996 training digits, Adam at 1e-3 with
//! a batch of 64, at most 40 epochs, `EarlyStopping` on the validation
//! accuracy with a patience of 3 and `restore_best_weights`.

use nn::data::mnist;
use nn::loss::{Loss, SoftmaxCrossEntropy};
use nn::metrics::Metric;
use nn::optim::{Adam, Optimizer};
use nn::train::{evaluate, EarlyStopping, Monitor, TrainConfig, Trainer};
use std::error::Error;

nn::network! {
    /// Two convolutions and a dropout before the classifier.
    pub struct Digits<[1, 28, 28]> {
        conv(16, kernel = 3, pad = same), relu, max_pool(2),   // [16, 14, 14]
        conv(32, kernel = 3, pad = same), relu, max_pool(2),   // [32, 7, 7]
        flatten, dropout(0.3), dense(64), relu, dense(10),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!(
            "usage: cargo run --release --example early_stopping (no arguments; got `{arg}`)"
        );
        std::process::exit(if arg == "--help" || arg == "-h" { 0 } else { 2 });
    }
    let data = mnist::bundled()?;
    let (train, val) = data.train.split(0.9, 1);
    println!(
        "{} training, {} validation (per digit: {:?}), {} test digits\n",
        train.len(),
        val.len(),
        val.class_counts(),
        data.test.len()
    );
    let mut net = Digits::new(1);
    let config = TrainConfig {
        verbose: true,
        threads: 0,
        ..TrainConfig::new(40, 64)
    };
    let mut stop = EarlyStopping::new(Monitor::validation(Metric::Accuracy))
        .patience(3)
        .restore_best_weights(true);
    let loss = SoftmaxCrossEntropy.outputs::<10>();
    let adam = Adam::new(1e-3).params::<{ Digits::PARAM_COUNT }>();
    let mut trainer = Trainer::new(loss, adam, config);
    let history = trainer.fit_with(&mut net, &train, &val, &mut [&mut stop])?;
    match (stop.stopped_epoch(), stop.best_epoch()) {
        (Some(stopped), Some((best, acc))) => println!(
            "\nstopped after epoch {stopped}: no better validation accuracy than epoch {best}'s {:.2}% for 3 epochs; its weights are back",
            100.0 * acc
        ),
        (None, best) => println!(
            "\nran all {} epochs; best validation epoch {best:?}",
            history.epochs.len()
        ),
        (Some(stopped), None) => println!("\nstopped after epoch {stopped}"),
    }
    let eval = evaluate(&mut net, &data.test, &loss, 500);
    println!("test set: {eval}");
    Ok(())
}
