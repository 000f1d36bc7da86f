//! Regression: an MLP fits a noisy function, y = sin(2x) + 0.3·x plus
//! Gaussian noise of deviation 0.1, from 1,000 seeded samples of x in
//! [−3, 3]. Float targets go through the same `Dataset`, `Trainer` and
//! `evaluate` as class labels, with a mean squared error and its metrics
//! (MSE, MAE, R²). Prints the figures of every epoch and of the held-out
//! part, and draws the fit as `runs/regression/fit.svg`.
//!
//! ```sh
//! cargo run --release --example regression
//! ```
//!
//! The recipe: a seeded 80/20 split, inputs standardised with the training
//! part's statistics, Adam at 3e-3 with a batch of 32 for 100 epochs.

use nn::data::{Dataset, Normalization};
use nn::loss::MeanSquaredError;
use nn::optim::Adam;
use nn::prelude::*;
use nn::train::{evaluate, TrainConfig, Trainer};
use plotters::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::error::Error;
use std::path::Path;

nn::network! {
    /// One input, one output, two hidden layers of 64.
    pub struct Curve<[1]> {
        dense(64), tanh,
        dense(64), tanh,
        dense(1),
    }
}

fn truth(x: f32) -> f32 {
    (2.0 * x).sin() + 0.3 * x
}

/// `n` noisy samples of [`truth`], drawn from `seed`.
fn samples(n: usize, seed: u64) -> Result<Dataset<1, f32>, Box<dyn Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = rand_distr::Normal::new(0.0f32, 0.1)?;
    let x: Vec<f32> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
    let y = x.iter().map(|&x| truth(x) + rng.sample(normal)).collect();
    Ok(Dataset::regression(x, y, 1)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("usage: cargo run --release --example regression (no arguments; got `{arg}`)");
        std::process::exit(if arg == "--help" || arg == "-h" { 0 } else { 2 });
    }
    let (mut train, mut test) = samples(1000, 1)?.split(0.8, 2);
    let norm = Normalization::per_feature(&train);
    norm.apply(&mut train);
    norm.apply(&mut test);
    println!("{}\n", Curve::summary());
    let mut net = Curve::new(3);
    let config = TrainConfig {
        verbose: true,
        ..TrainConfig::new(100, 32)
    };
    // typed by the network's one output and its parameters
    let loss = MeanSquaredError.outputs::<1>();
    let adam = Adam::new(3e-3).params::<{ Curve::PARAM_COUNT }>();
    let mut trainer = Trainer::new(loss, adam, config);
    trainer.fit(&mut net, &train, &test)?;
    let eval = evaluate(&mut net, &test, &loss, 256);
    println!("\nheld-out {} samples: {}", test.len(), eval.metrics);
    // the noise alone has an MSE of 0.01: a fit cannot do better on average
    println!("(the noise's own MSE is 0.0100)");
    let out = Path::new("runs/regression");
    std::fs::create_dir_all(out)?;
    plot(&mut net, &test, &norm, &out.join("fit.svg"))?;
    println!("wrote {}", out.join("fit.svg").display());
    Ok(())
}

/// The held-out samples, the function without noise, and the network's fit.
fn plot(
    net: &mut Curve,
    test: &Dataset<1, f32>,
    norm: &Normalization,
    path: &Path,
) -> Result<(), Box<dyn Error>> {
    let (mean, std) = (norm.mean()[0], norm.std()[0]);
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("y = sin(2x) + 0.3x + noise", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(-3.0f32..3.0, -2.2f32..2.2)?;
    chart.configure_mesh().x_desc("x").y_desc("y").draw()?;
    let points = (0..test.len()).map(|i| (test.input(i)[0] * std + mean, test.target(i)[0]));
    chart
        .draw_series(points.map(|p| Circle::new(p, 2, BLUE.mix(0.5).filled())))?
        .label("held-out samples")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLUE.filled()));
    let grid: Vec<f32> = (0..=300).map(|i| -3.0 + 6.0 * i as f32 / 300.0).collect();
    chart
        .draw_series(LineSeries::new(
            grid.iter().map(|&x| (x, truth(x))),
            BLACK.stroke_width(2),
        ))?
        .label("function")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    let mut fit = Vec::with_capacity(grid.len());
    for &x in &grid {
        let y = net.forward(&[(x - mean) / std])[0];
        fit.push((x, y));
    }
    chart
        .draw_series(LineSeries::new(fit, RED.stroke_width(2)))?
        .label("network")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
