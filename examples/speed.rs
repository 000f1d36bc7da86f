//! Speed of LeNet-5, VGG-mini, ResNet-20 and two recurrent networks reading a
//! digit's 28 rows (an LSTM and a GRU of 128, last step, then `dense(10)`),
//! and on request VGG-16 at 224 × 224 (`--nets vgg16`; not in the default
//! set: about 15.5 G multiply-adds an image, so it runs a few steps only):
//! training throughput (batch 64, VGG-16 16; SGD with momentum, the real
//! training loop),
//! inference latency (batch 1; with `--threads` above 1, its convolutions
//! split across the threads by `nn::parallel::Replicas`, while a recurrent
//! network's single sample stays on one thread) and throughput (batch 64,
//! split across `--threads` threads), and each conv layer's forward GFLOP/s
//! next to the machine's large-matrix sgemm (`matrixmultiply`, 512×512).
//! Prints one JSON object per figure, for `tools/pytorch/compare_speed.py`,
//! which runs PyTorch alternately.
//!
//! With `--memory train` or `--memory infer` and one network in `--nets`,
//! it measures memory instead: the peak resident memory (Linux's `VmHWM`)
//! of two training steps at batch 16 (SGD with momentum, the real training
//! loop), or of batch-1 inference in evaluation mode (`predict`; with
//! `--threads` above 1, through `nn::parallel::Replicas`), and its increment
//! over the resident memory once the network and the data are built; and
//! the network's memory constants beside them. One network a process, so
//! that nothing else has touched the process's memory:
//! `compare_speed.py --memory` runs each measurement in a process of its own.
//!
//! ```sh
//! cargo run --release --example speed -- --threads 1
//! cargo run --release --example speed -- --threads 2 --nets resnet20
//! cargo run --release --example speed -- --threads 1 --nets lstm_rows,gru_rows
//! cargo run --release --example speed -- --threads 1 --nets vgg16
//! cargo run --release --example speed -- --memory train --nets vgg16
//! ```

use nn::batch::Batching;
use nn::data::Dataset;
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::Sgd;
use nn::parallel::Replicas;
use nn::prelude::*;
use nn::train::{TrainConfig, Trainer};
use nn_runtime::kernels::gemm::{gemm, Mat};
use nn_runtime::testing::random_vec;
use std::hint::black_box;
use std::time::Instant;

#[path = "shared/cli.rs"]
mod cli;
#[path = "nets/resnet20.rs"]
mod resnet20;
#[path = "nets/vgg16.rs"]
mod vgg16;
use resnet20::ResNet20;
use vgg16::Vgg16;

nn::network! {
    /// LeNet-5 for 28×28 grey digits.
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    /// VGG-mini for 32×32 colour images.
    pub struct VggMini<[3, 32, 32]> {
        conv(32, kernel = 3, pad = 1), relu,
        conv(32, kernel = 3, pad = 1), relu,
        max_pool(2),
        conv(64, kernel = 3, pad = 1), relu,
        conv(64, kernel = 3, pad = 1), relu,
        max_pool(2),
        flatten, dense(256), relu, dense(10),
    }
}

nn::network! {
    /// An LSTM of 128 over a digit's 28 rows of 28 pixels (its last step)
    /// and a dense classifier: PyTorch's `nn.LSTM(28, 128, batch_first=True)`,
    /// `output[:, -1]`, `nn.Linear(128, 10)`.
    pub struct LstmRows<[28, 28]> { lstm(128), dense(10) }
}

nn::network! {
    /// The same with a GRU of 128: `nn.GRU(28, 128, batch_first=True)`.
    pub struct GruRows<[28, 28]> { gru(128), dense(10) }
}

/// Median seconds of `f` over `runs` timed runs, after one warm-up run
/// if `warm_up`.
fn time(runs: usize, warm_up: bool, mut f: impl FnMut()) -> f64 {
    if warm_up {
        f();
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[runs / 2]
}

/// How much work each figure of a network takes: the small networks'
/// figures are medians of many runs; VGG-16's of a few.
struct Plan {
    /// Training batch size and samples per epoch (three epochs).
    train_batch: usize,
    train_samples: usize,
    /// Timed batch-1 inferences, after one warm-up.
    latency_runs: usize,
    /// Timed batches of 64, and whether one more warms up first.
    batch64_runs: usize,
    batch64_warm_up: bool,
}

impl Plan {
    /// Batches of 64, `train_samples` an epoch; up to 2,000 batch-1 runs
    /// and 50 batches of 64, each after a warm-up.
    fn small(train_samples: usize, input_len: usize) -> Plan {
        Plan {
            train_batch: 64,
            train_samples,
            latency_runs: 2000.min(200_000_000 / (input_len * 400)),
            batch64_runs: 50,
            batch64_warm_up: true,
        }
    }

    /// VGG-16: one batch of 16 an epoch (three steps in all), 5 batch-1
    /// runs, and one batch of 64 without a warm-up of its own (the batch-1
    /// runs prepared the kernels and warmed up the pass state that runs
    /// the first share; on two threads, the second thread's first share
    /// also makes room for its activations).
    const VGG16: Plan = Plan {
        train_batch: 16,
        train_samples: 16,
        latency_runs: 5,
        batch64_runs: 1,
        batch64_warm_up: false,
    };
}

fn train_images_per_second<N: Network + TakesInput<LEN> + Send, const LEN: usize>(
    plan: &Plan,
    threads: usize,
) -> f64 {
    let samples = plan.train_samples;
    let data = Dataset::<LEN>::new(
        random_vec(samples * LEN, 1),
        (0..samples as u32).map(|i| i % 10).collect(),
        10,
    )
    .unwrap();
    let mut net = N::with_seed(1);
    let config = TrainConfig {
        threads,
        batching: Batching::new(plan.train_batch).shuffled(1),
        ..TrainConfig::new(3, plan.train_batch)
    };
    let small = Dataset::<LEN>::new(random_vec(LEN, 2), vec![0], 10).unwrap();
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01).momentum(0.9), config);
    let history = trainer.fit(&mut net, &data, &small).unwrap();
    // the median epoch: the first one warms the buffers up
    let mut ips: Vec<f64> = history.epochs.iter().map(|e| e.images_per_second).collect();
    ips.sort_by(f64::total_cmp);
    ips[1]
}

fn report<N: Network + TakesInput<LEN> + Send, const LEN: usize>(
    name: &str,
    plan: &Plan,
    threads: usize,
) {
    let ips = train_images_per_second::<N, LEN>(plan, threads);
    println!("{{\"net\": \"{name}\", \"figure\": \"train_images_per_second\", \"threads\": {threads}, \"value\": {ips:.2}}}");
    // inference in evaluation mode, as PyTorch's and ONNX Runtime's
    let mut net = N::with_seed(1);
    net.eval();
    let one = random_vec(LEN, 3);
    let batch = random_vec(64 * LEN, 4);
    // one sample: on this thread, or with its convolutions split across
    // the threads
    let mut replicas = Replicas::new(&net, threads);
    let mut out1 = vec![0.0f32; N::OUTPUT_LEN];
    let latency = time(plan.latency_runs, true, || {
        if threads == 1 {
            net.predict(black_box(&one), &mut out1);
            black_box(&out1);
        } else {
            replicas.predict(black_box(&one), &mut out1);
            black_box(&out1);
        }
    });
    println!("{{\"net\": \"{name}\", \"figure\": \"inference_batch1_us\", \"threads\": {threads}, \"value\": {:.2}}}", latency * 1e6);
    // batch 64 split across the threads (one pass state each, reading one
    // copy of the parameters)
    let mut out = vec![0.0f32; 64 * N::OUTPUT_LEN];
    let t = time(plan.batch64_runs, plan.batch64_warm_up, || {
        replicas.predict(black_box(&batch), &mut out);
        black_box(&out);
    });
    println!("{{\"net\": \"{name}\", \"figure\": \"inference_batch64_images_per_second\", \"threads\": {threads}, \"value\": {:.2}}}", 64.0 / t);
}

/// Forward GFLOP/s (batch 64) of a one-layer network: a conv layer of
/// LeNet-5 or VGG-mini exactly as the network runs it.
fn conv_gflops<N: Network>(net_name: &str, layer: &str, sgemm: f64) {
    let mut net = N::with_seed(1);
    let batch = random_vec(64 * N::INPUT_LEN, 7);
    let t = time(30, true, || {
        black_box(net.forward(black_box(&batch)));
    });
    let macs = N::LAYERS[0].macs as f64 * 64.0;
    let gflops = 2.0 * macs / t / 1e9;
    println!(
        "{{\"net\": \"{net_name}\", \"figure\": \"conv_forward_gflops\", \"layer\": \"{layer}\", \"threads\": 1, \"value\": {gflops:.1}, \"fraction_of_sgemm\": {:.3}}}",
        gflops / sgemm
    );
}

macro_rules! conv_layers {
    ($($net:literal $layer:literal: $ty:ident <[$($d:literal),*]> { $($body:tt)* })*) => {
        fn all_conv_gflops(sgemm: f64) {
            $(
                nn::network! { struct $ty<[$($d),*]> { $($body)* } }
                conv_gflops::<$ty>($net, $layer, sgemm);
            )*
        }
    };
}

conv_layers! {
    "lenet5" "0 [1,28,28] 6x5x5 pad 2": LenetC1<[1, 28, 28]> { conv(6, kernel = 5, pad = 2) }
    "lenet5" "c2 [6,14,14] 16x5x5": LenetC2<[6, 14, 14]> { conv(16, kernel = 5) }
    "vgg_mini" "0 [3,32,32] 32x3x3 pad 1": VggC1<[3, 32, 32]> { conv(32, kernel = 3, pad = 1) }
    "vgg_mini" "2 [32,32,32] 32x3x3 pad 1": VggC2<[32, 32, 32]> { conv(32, kernel = 3, pad = 1) }
    "vgg_mini" "5 [32,16,16] 64x3x3 pad 1": VggC3<[32, 16, 16]> { conv(64, kernel = 3, pad = 1) }
    "vgg_mini" "7 [64,16,16] 64x3x3 pad 1": VggC4<[64, 16, 16]> { conv(64, kernel = 3, pad = 1) }
}

/// What `--memory` measures.
#[derive(Clone, Copy, PartialEq)]
enum Memory {
    /// Two training steps at batch [`MEMORY_BATCH`].
    Train,
    /// Batch-1 inference in evaluation mode.
    Infer,
}

/// The training batch of `--memory train`.
const MEMORY_BATCH: usize = 16;

/// This process's resident memory and its peak so far (`VmRSS`, `VmHWM`
/// in /proc/self/status), in bytes.
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kb| kb.trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Sets the peak (`VmHWM`) back to the resident memory now, so that what
/// building the network touched and let go does not count (Linux 4.0 on:
/// `5` into /proc/self/clear_refs). False where that is refused: the peak
/// then counts from the start of the process.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Prints one memory figure, in MB (2^20 bytes).
fn print_mb(name: &str, figure: &str, threads: usize, bytes: u64) {
    println!(
        "{{\"net\": \"{name}\", \"figure\": \"{figure}\", \"threads\": {threads}, \"value\": {:.1}}}",
        bytes as f64 / (1u64 << 20) as f64
    );
}

/// The peak resident memory of `what` on a fresh `N`: the resident memory
/// once the network and its data are built (`*_baseline_mb`), the peak
/// while `what` ran (`*_peak_mb`, from the baseline on when the peak could
/// be reset, else from the start of the process), and the difference
/// (`*_increment_mb`); the peak before (`*_construction_peak_mb`), and the
/// network's constants in bytes.
fn memory<N: Network + TakesInput<LEN> + Send, const LEN: usize>(
    name: &str,
    what: Memory,
    threads: usize,
) {
    let kind = match what {
        Memory::Train => "train",
        Memory::Infer => "infer",
    };
    let run: Box<dyn FnOnce()> = match what {
        Memory::Train => {
            // two steps: SGD's velocities, made in the first, are there
            // throughout the second, as in any longer run
            let data = Dataset::<LEN>::new(
                random_vec(MEMORY_BATCH * LEN, 1),
                (0..MEMORY_BATCH as u32).map(|i| i % 10).collect(),
                10,
            )
            .unwrap();
            let mut net = N::with_seed(1);
            let config = TrainConfig {
                threads,
                ..TrainConfig::new(2, MEMORY_BATCH)
            };
            let mut trainer =
                Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01).momentum(0.9), config);
            Box::new(move || {
                let history = trainer.fit(&mut net, &data, None).unwrap();
                assert_eq!(history.epochs.len(), 2);
                black_box(net.params()[0]);
            })
        }
        Memory::Infer => {
            // the network on one thread; on more, `Replicas` made from it
            // (moved in, not copied: a caller needs only inference)
            let mut net = N::with_seed(1);
            net.eval();
            let one = random_vec(LEN, 3);
            let mut out = vec![0.0f32; N::OUTPUT_LEN];
            if threads == 1 {
                Box::new(move || {
                    for _ in 0..2 {
                        net.predict(black_box(&one), &mut out);
                        black_box(&out);
                    }
                })
            } else {
                let mut replicas = Replicas::from_network(net, threads);
                Box::new(move || {
                    for _ in 0..2 {
                        replicas.predict(black_box(&one), &mut out);
                        black_box(&out);
                    }
                })
            }
        }
    };
    let (baseline, construction_peak) = resident();
    if !reset_peak() {
        eprintln!("speed: could not reset VmHWM; the peak counts from the start of the process");
    }
    run();
    let (_, peak) = resident();
    print_mb(name, &format!("{kind}_baseline_mb"), threads, baseline);
    print_mb(name, &format!("{kind}_peak_mb"), threads, peak);
    print_mb(
        name,
        &format!("{kind}_increment_mb"),
        threads,
        peak.saturating_sub(baseline),
    );
    print_mb(
        name,
        &format!("{kind}_construction_peak_mb"),
        threads,
        construction_peak,
    );
    for (figure, bytes) in [
        ("param_bytes", N::PARAM_BYTES),
        ("fixed_bytes", N::FIXED_BYTES),
        ("workspace_bytes_per_sample", N::WORKSPACE_BYTES_PER_SAMPLE),
        ("scratch_bytes", N::SCRATCH_BYTES),
    ] {
        println!("{{\"net\": \"{name}\", \"figure\": \"{figure}\", \"threads\": {threads}, \"value\": {bytes}}}");
    }
}

/// The networks `--nets` may name.
const NETS: [&str; 6] = [
    "lenet5",
    "vgg_mini",
    "resnet20",
    "lstm_rows",
    "gru_rows",
    "vgg16",
];

/// The networks run when `--nets` is not given: all but VGG-16, whose few
/// steps alone take minutes.
const DEFAULT_NETS: [&str; 5] = ["lenet5", "vgg_mini", "resnet20", "lstm_rows", "gru_rows"];

/// The command line.
struct Args {
    threads: usize,
    /// Empty: the default set.
    nets: Vec<String>,
    memory: Option<Memory>,
}

fn parse_args() -> Args {
    let usage = format!(
        "Measures training and inference speed and prints one JSON object per figure.

Usage: cargo run --release --example speed -- [OPTIONS]

Options:
  --threads N      threads for training and batch inference [default: 1]
  --nets LIST      comma-separated, from
                   {}
                   [default: all but vgg16, which takes minutes, and each
                   conv layer's GFLOP/s]
  --memory WHAT    instead, the peak resident memory of `train` (two steps
                   at batch {MEMORY_BATCH}) or `infer` (batch 1) of the one network in
                   --nets, and its increment over the network and data
  -h, --help       print this and exit
",
        NETS.join(",")
    );
    cli::parse(usage, |options| {
        let mut args = Args {
            threads: 1,
            nets: Vec::new(),
            memory: None,
        };
        while let Some(option) = options.next() {
            match option.as_str() {
                "--threads" => args.threads = options.value("--threads")?,
                "--nets" => {
                    let list: String = options.value("--nets")?;
                    args.nets = list.split(',').map(String::from).collect();
                }
                "--memory" => {
                    let what: String = options.value("--memory")?;
                    args.memory = Some(match what.as_str() {
                        "train" => Memory::Train,
                        "infer" => Memory::Infer,
                        _ => return Err(format!("--memory {what}: `train` or `infer`")),
                    });
                }
                other => return Err(cli::unknown(other)),
            }
        }
        if let Some(net) = args.nets.iter().find(|n| !NETS.contains(&n.as_str())) {
            return Err(format!("--nets: unknown network `{net}`"));
        }
        if args.memory.is_some() && args.nets.len() != 1 {
            return Err("--memory measures one network a process: name it in --nets".into());
        }
        Ok(args)
    })
}

fn main() {
    let Args {
        threads,
        nets,
        memory: what,
    } = parse_args();
    if let Some(what) = what {
        match nets[0].as_str() {
            "lenet5" => memory::<LeNet5, 784>("lenet5", what, threads),
            "vgg_mini" => memory::<VggMini, 3072>("vgg_mini", what, threads),
            "resnet20" => memory::<ResNet20, 3072>("resnet20", what, threads),
            "lstm_rows" => memory::<LstmRows, 784>("lstm_rows", what, threads),
            "gru_rows" => memory::<GruRows, 784>("gru_rows", what, threads),
            "vgg16" => memory::<Vgg16, 150_528>("vgg16", what, threads),
            other => unreachable!("{other} is checked against NETS"),
        }
        return;
    }
    let wanted = |name: &str| {
        if nets.is_empty() {
            DEFAULT_NETS.contains(&name)
        } else {
            nets.iter().any(|n| n == name)
        }
    };
    // the machine's large-matrix sgemm rate: matrixmultiply, which packs its
    // operands for large products (ours does not)
    let n = 512;
    let (a, b) = (random_vec(n * n, 5), random_vec(n * n, 6));
    let mut c = vec![0.0; n * n];
    let t = time(20, true, || {
        // SAFETY: a, b and c are n×n row-major matrices.
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                n as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    });
    let sgemm = 2.0 * (n * n * n) as f64 / t / 1e9;
    println!("{{\"net\": \"-\", \"figure\": \"sgemm_512_gflops\", \"threads\": 1, \"value\": {sgemm:.1}}}");
    let t = time(20, true, || {
        gemm(Mat::new(&a, n, n), Mat::new(&b, n, n), &mut c, false)
    });
    println!(
        "{{\"net\": \"-\", \"figure\": \"our_gemm_512_gflops\", \"threads\": 1, \"value\": {:.1}}}",
        2.0 * (n * n * n) as f64 / t / 1e9
    );
    if let Some(peak) = fma_peak_gflops() {
        println!("{{\"net\": \"-\", \"figure\": \"fma_peak_gflops\", \"threads\": 1, \"value\": {peak:.1}}}");
    }
    if wanted("lenet5") {
        report::<LeNet5, 784>("lenet5", &Plan::small(6400, 784), threads);
    }
    if wanted("vgg_mini") {
        report::<VggMini, 3072>("vgg_mini", &Plan::small(640, 3072), threads);
    }
    if wanted("resnet20") {
        report::<ResNet20, 3072>("resnet20", &Plan::small(640, 3072), threads);
    }
    if wanted("lstm_rows") {
        report::<LstmRows, 784>("lstm_rows", &Plan::small(2560, 784), threads);
    }
    if wanted("gru_rows") {
        report::<GruRows, 784>("gru_rows", &Plan::small(2560, 784), threads);
    }
    if wanted("vgg16") {
        report::<Vgg16, 150_528>("vgg16", &Plan::VGG16, threads);
    }
    if nets.is_empty() {
        all_conv_gflops(sgemm);
    }
}

/// One core's peak rate of single-precision fused multiply-adds, GFLOP/s
/// (two per lane): twelve independent chains on full vector registers,
/// more than the FMA units' latency times their throughput, so none waits.
/// No product runs faster; `None` without AVX2 and FMA.
fn fma_peak_gflops() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        const CHAINS: usize = 12;
        let steps = std::hint::black_box(20_000_000usize);
        let factor = std::hint::black_box(0.999_999_9f32);
        #[target_feature(enable = "avx512f")]
        fn wide(steps: usize, factor: f32) -> f32 {
            let (mut acc, b, c) = (
                [_mm512_set1_ps(1.0); CHAINS],
                _mm512_set1_ps(factor),
                _mm512_set1_ps(1e-7),
            );
            for _ in 0..steps {
                for a in &mut acc {
                    *a = _mm512_fmadd_ps(*a, b, c);
                }
            }
            acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
        }
        #[target_feature(enable = "avx2,fma")]
        fn narrow(steps: usize, factor: f32) -> f32 {
            let (mut acc, b, c) = (
                [_mm256_set1_ps(1.0); CHAINS],
                _mm256_set1_ps(factor),
                _mm256_set1_ps(1e-7),
            );
            for _ in 0..steps {
                for a in &mut acc {
                    *a = _mm256_fmadd_ps(*a, b, c);
                }
            }
            let mut lanes = [0.0f32; 8];
            acc.iter()
                .map(|&a| {
                    // SAFETY: `lanes` holds the register's 8 floats.
                    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), a) };
                    lanes.iter().sum::<f32>()
                })
                .sum()
        }
        let (lanes, seconds) = if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            (
                16,
                time(3, true, || {
                    std::hint::black_box(unsafe { wide(steps, factor) });
                }),
            )
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            (
                8,
                time(3, true, || {
                    std::hint::black_box(unsafe { narrow(steps, factor) });
                }),
            )
        } else {
            return None;
        };
        Some((steps * CHAINS * lanes * 2) as f64 / seconds / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    None
}
