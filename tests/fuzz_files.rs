//! Byte-level fuzzing of every file reader: seeded mutations of valid IDX
//! (plain and gzip), CIFAR-10, CSV, PNG, JPEG, safetensors weight and
//! checkpoint files, and of a PNG whose header claims 100000×100000 pixels.
//!
//! Each mutated file must give `Ok` or an error, never a panic; no single
//! allocation made while reading it may be much larger than the file
//! (nothing is sized from an untrusted header); and a load into a network
//! that fails leaves the network (and a resuming trainer) as it was.
//!
//! A mutation that breaks one of these is written to
//! `tests/fuzz/<reader>/<seed>-<case>.bin` and fails the test; every file
//! saved there is read again first on every run, so a failure found once
//! stays a regression test. `NN_FUZZ_CASES` sets the mutations per reader
//! (default 400); `NN_FUZZ_SEED` the seed (default a fixed one).
//! (One test in this binary, so that no other test allocates on the
//! thread being watched.)

use nn::data::csv::{self, CsvOptions, Labels};
use nn::data::folder::{self, Filter, FolderOptions};
use nn::data::{cifar, idx};
use nn::loss::SoftmaxCrossEntropy;
use nn::optim::{Optimizer, Sgd};
use nn::prelude::*;
use nn::train::{TrainConfig, Trainer};
use nn::weights;
use nn_runtime::testing::{env_or, TempDir};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

struct Watching;

thread_local! {
    /// Whether this thread's allocations are being watched.
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    /// The largest one since watching began.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the allocator may run while the thread's locals are torn down
    let _ = WATCHING.try_with(|w| {
        if w.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Watching = Watching;

nn::network! {
    struct Small<[1, 6, 6]> {
        conv(2, kernel = 3), batch_norm, relu, flatten, dense(3),
    }
}

/// Allocations up to this many times the file's length, plus a megabyte,
/// are the reader's own work (bytes to floats, a decoded tensor).
const GROWTH: usize = 16;

/// What reading one file may do: `Ok` or an error, checked by `check`.
type Reader = fn(&Path) -> Result<(), String>;

/// How a reader failed a mutated file.
fn failure(read: Reader, path: &Path, len: usize, limit: Option<usize>) -> Option<String> {
    LARGEST.with(|l| l.set(0));
    WATCHING.with(|w| w.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| read(path)));
    WATCHING.with(|w| w.set(false));
    let largest = LARGEST.with(Cell::get);
    match outcome {
        Err(p) => Some(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
        Ok(Err(broken)) => Some(broken),
        Ok(Ok(())) => {
            let limit = limit.unwrap_or(GROWTH * len + (1 << 20));
            (largest > limit)
                .then(|| format!("allocated {largest} bytes at once for a file of {len} bytes"))
        }
    }
}

/// One mutation of `bytes`, drawn from `rng`.
fn mutate(bytes: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        let n = b.len().max(1);
        match rng.gen_range(0..8) {
            // a bit flipped
            0 if !b.is_empty() => {
                let i = rng.gen_range(0..b.len());
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            // a byte set to an edge value
            1 if !b.is_empty() => {
                let i = rng.gen_range(0..b.len());
                b[i] = [0x00, 0xff, 0x7f, 0x80][rng.gen_range(0..4)];
            }
            // cut short
            2 => b.truncate(rng.gen_range(0..n)),
            // bytes added
            3 => {
                let extra = rng.gen_range(1..64);
                let at = rng.gen_range(0..=b.len());
                let noise: Vec<u8> = (0..extra).map(|_| rng.gen()).collect();
                b.splice(at..at, noise);
            }
            // a field of the header made huge or zero (the headers are
            // the first bytes: sizes, dimensions, lengths)
            4 => {
                let at = rng.gen_range(0..n.min(64));
                let value: u64 =
                    [0, 1, u64::MAX, u32::MAX as u64, 1 << 40, rng.gen()][rng.gen_range(0..6)];
                let be = rng.gen_bool(0.5);
                for k in 0..8 {
                    if at + k < b.len() {
                        let byte = if be { 7 - k } else { k };
                        b[at + k] = (value >> (8 * byte)) as u8;
                    }
                }
            }
            // a stretch repeated
            5 if b.len() > 2 => {
                let start = rng.gen_range(0..b.len() - 1);
                let end = rng.gen_range(start + 1..=b.len().min(start + 256));
                let copy = b[start..end].to_vec();
                let at = rng.gen_range(0..=b.len());
                b.splice(at..at, copy);
            }
            // a stretch removed
            6 if b.len() > 2 => {
                let start = rng.gen_range(0..b.len() - 1);
                let end = rng.gen_range(start + 1..=b.len().min(start + 64));
                b.drain(start..end);
            }
            // random bytes in place
            _ => {
                for _ in 0..rng.gen_range(1..16) {
                    if !b.is_empty() {
                        let i = rng.gen_range(0..b.len());
                        b[i] = rng.gen();
                    }
                }
            }
        }
    }
    b
}

/// The directory of the saved failures of reader `name`.
fn saved_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(name)
}

/// Reads the saved failures of `name`, then `cases` mutations of `valid`;
/// returns what failed (and saves the new failures).
fn fuzz(
    name: &str,
    valid: &[u8],
    read: Reader,
    limit: Option<usize>,
    (seed, cases): (u64, usize),
    dir: &Path,
) -> Vec<String> {
    let path = dir.join(format!("{name}.bin"));
    let mut failed = Vec::new();
    let mut try_bytes = |bytes: &[u8], what: &str, save: Option<PathBuf>| {
        std::fs::write(&path, bytes).unwrap();
        if let Some(why) = failure(read, &path, bytes.len(), limit) {
            let saved = save.map(|to| {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::write(&to, bytes).unwrap();
                format!(" (saved as {})", to.display())
            });
            failed.push(format!(
                "{name}, {what}: {why}{}",
                saved.unwrap_or_default()
            ));
        }
    };
    let saved = saved_dir(name);
    let mut regressions: Vec<PathBuf> = std::fs::read_dir(&saved)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    regressions.sort();
    for file in regressions
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
    {
        let bytes = std::fs::read(file).unwrap();
        try_bytes(&bytes, &format!("saved {}", file.display()), None);
    }
    try_bytes(valid, "the valid file", None);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ name.len() as u64);
    for case in 0..cases {
        let bytes = mutate(valid, &mut rng);
        let to = saved.join(format!("{seed}-{case}.bin"));
        try_bytes(&bytes, &format!("mutation {case} of seed {seed}"), Some(to));
    }
    failed
}

fn read_idx(path: &Path) -> Result<(), String> {
    let _ = idx::read(path);
    Ok(())
}

fn read_cifar(path: &Path) -> Result<(), String> {
    let _ = cifar::read(path);
    Ok(())
}

/// A CSV file read as class names, class indices and regression targets.
fn read_csv(path: &Path) -> Result<(), String> {
    let names = CsvOptions::new("label").labels(Labels::Names);
    let _ = csv::read_classes::<2>(path, &names);
    let _ = csv::read_classes::<2>(path, &CsvOptions::new(2).has_header(false));
    let _ = csv::read_regression::<1>(path, &CsvOptions::new(0).targets([0, 2]));
    Ok(())
}

/// An image read as an 8×8 RGB sample, resized if it is another size.
fn read_image(path: &Path) -> Result<(), String> {
    let options = FolderOptions::new([3, 8, 8]).resize(Filter::Bilinear);
    let _ = folder::read_image(path, &options);
    Ok(())
}

/// The bytes of `image` encoded as `format`.
fn encoded(image: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// `png` with the width and height in its header changed, and the header's
/// checksum made right again.
fn claiming(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    png
}

/// A weights file loaded into a network: on error, the network unchanged.
fn load_weights(path: &Path) -> Result<(), String> {
    let mut net = Small::new(7);
    let before = (
        net.params().to_vec(),
        net.buffer("1.running_var").unwrap().to_vec(),
    );
    match weights::load(&mut net, path) {
        Ok(()) => Ok(()),
        Err(e) => {
            let after = (
                net.params().to_vec(),
                net.buffer("1.running_var").unwrap().to_vec(),
            );
            (after == before)
                .then_some(())
                .ok_or_else(|| format!("refused ({e}) but changed the network"))
        }
    }
}

/// A checkpoint resumed from: on error, the network and trainer unchanged.
fn resume(path: &Path) -> Result<(), String> {
    let mut net = Small::new(7);
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        Sgd::new(0.1).momentum(0.9),
        TrainConfig {
            threads: 0,
            ..TrainConfig::new(3, 4)
        },
    );
    let network = |net: &Small| {
        let buffers: Vec<f32> = (Small::BUFFERS.iter())
            .flat_map(|b| net.buffer(b.name).unwrap().to_vec())
            .collect();
        (net.params().to_vec(), buffers, net.dropout_state())
    };
    let trainer_now = |t: &Trainer<SoftmaxCrossEntropy, Sgd>| {
        (t.history.clone(), t.optimizer.state(), t.config.threads)
    };
    let before = (network(&net), trainer_now(&trainer));
    match trainer.resume(&mut net, path) {
        Ok(()) => Ok(()),
        Err(e) if network(&net) != before.0 => {
            Err(format!("refused ({e}) but changed the network"))
        }
        Err(e) if trainer_now(&trainer) != before.1 => {
            Err(format!("refused ({e}) but changed the trainer"))
        }
        Err(_) => Ok(()),
    }
}

#[test]
fn mutated_files_are_refused_cleanly() {
    let tmp = TempDir::new("nn-fuzz", "files");
    let dir = tmp.0.clone();
    let run = (
        env_or("NN_FUZZ_SEED", 20261126),
        env_or("NN_FUZZ_CASES", 400) as usize,
    );

    // the valid files
    let pixels: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 7) as u8).collect();
    let (plain, gz) = (dir.join("plain.idx"), dir.join("packed.idx.gz"));
    idx::write(&plain, &[5, 4, 3], &pixels, false).unwrap();
    idx::write(&gz, &[5, 4, 3], &pixels, true).unwrap();
    let cifar: Vec<u8> = (0..2 * 3073)
        .map(|i| {
            if i % 3073 == 0 {
                (i / 3073) as u8
            } else {
                (i % 251) as u8
            }
        })
        .collect();
    let table = b"x0,x1,label\n0.5,1.5,cat\n2,-3,dog\n4e-1,7,cat\n".to_vec();
    let picture = image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([(x * 31) as u8, (y * 29) as u8, ((x ^ y) * 17) as u8])
    });
    let png = encoded(&picture, image::ImageFormat::Png);
    let jpeg = encoded(&picture, image::ImageFormat::Jpeg);
    let huge = claiming(png.clone(), 100_000, 100_000);
    let net = Small::new(3);
    let (weights_file, checkpoint) = (dir.join("w.safetensors"), dir.join("c.safetensors"));
    weights::save(&net, &weights_file).unwrap();
    let data = nn::data::Dataset::<36>::new(
        (0..8 * 36).map(|i| (i % 13) as f32 / 13.0).collect(),
        (0..8).map(|i| i % 3).collect(),
        3,
    )
    .unwrap();
    let mut trained = Small::new(3);
    let mut trainer = Trainer::new(
        SoftmaxCrossEntropy,
        Sgd::new(0.1).momentum(0.9),
        TrainConfig {
            checkpoint: Some(checkpoint.clone()),
            ..TrainConfig::new(1, 4)
        },
    );
    trainer.fit(&mut trained, &data, &data).unwrap();
    // the valid files load
    assert!(idx::read(&plain).is_ok() && idx::read(&gz).is_ok());
    let options = FolderOptions::new([3, 8, 8]);
    for (name, bytes) in [("p.png", &png), ("j.jpg", &jpeg)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        assert!(folder::read_image(&path, &options).is_ok());
    }
    let path = dir.join("huge.png");
    std::fs::write(&path, &huge).unwrap();
    assert!(folder::read_image(&path, &options.resize(Filter::Bilinear)).is_err());
    resume(&checkpoint).unwrap();

    let mut failed = Vec::new();
    let read = |p: &Path| std::fs::read(p).unwrap();
    failed.extend(fuzz("idx", &read(&plain), read_idx, None, run, &dir));
    // decompressed, a gzip stream may be far longer than the file: a
    // fixed bound
    failed.extend(fuzz(
        "idx-gzip",
        &read(&gz),
        read_idx,
        Some(64 << 20),
        run,
        &dir,
    ));
    failed.extend(fuzz("cifar", &cifar, read_cifar, None, run, &dir));
    // with class indices, the largest label (at most 65,535) sizes the list
    // of class names
    failed.extend(fuzz("csv", &table, read_csv, Some(4 << 20), run, &dir));
    // decoded, an image may be far larger than its file (at most
    // `folder::MAX_PIXELS_PER_BYTE` pixels a byte): a fixed bound
    for (name, bytes) in [("png", &png), ("jpeg", &jpeg), ("png-huge", &huge)] {
        failed.extend(fuzz(name, bytes, read_image, Some(64 << 20), run, &dir));
    }
    failed.extend(fuzz(
        "weights",
        &read(&weights_file),
        load_weights,
        None,
        run,
        &dir,
    ));
    failed.extend(fuzz(
        "checkpoint",
        &read(&checkpoint),
        resume,
        None,
        run,
        &dir,
    ));
    assert!(
        failed.is_empty(),
        "{} failures:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
