//! CIFAR-10: 32×32 colour images in 10 classes.
//!
//! [`load`] reads a directory holding the binary version of CIFAR-10
//! (`cifar-10-binary.tar.gz` from <https://www.cs.toronto.edu/~kriz/cifar.html>,
//! which unpacks to `cifar-10-batches-bin/`), six files of records:
//!
//! ```text
//! data_batch_1.bin … data_batch_5.bin   training, 10,000 records each
//! test_batch.bin                        test, 10,000 records
//! ```
//!
//! so the full data set has 50,000 training and 10,000 test images
//! (30,730,000 bytes per file). [`read`] reads one file. Neither requires
//! 10,000 records: any whole number of records, at least one, is read.
//!
//! A record is 3073 bytes, with nothing before, between or after them:
//!
//! ```text
//! <label>                  1 byte, the class 0 to 9
//! <red> <green> <blue>     3 planes of 1024 bytes, each 32×32 row-major
//! ```
//!
//! so a sample is an image of shape `[3, 32, 32]`, channels first, as the
//! network takes it: red pixel `(y, x)` is float `32·y + x` of the sample,
//! green `1024 + 32·y + x`, blue `2048 + 32·y + x`. Pixels become
//! `byte / 255`, in `[0, 1]`, with no other normalisation. The classes are
//! [`CLASS_NAMES`] in label order.
//!
//! The full data set takes 737 MB as floats (614 MB for training, 123 MB for
//! testing). Each file is checked before its records are used: nothing is
//! allocated but from a file's real length, and a file that fails a check
//! gives a [`DataError`] naming it (and the record, where there is one).

use std::fs;
use std::path::Path;

use super::{DataError, Dataset};

/// Rows and columns of an image.
pub const SIDE: usize = 32;
/// Colour channels: red, green, blue.
pub const CHANNELS: usize = 3;
/// Floats per image: 3 · 32 · 32.
pub const PIXELS: usize = CHANNELS * SIDE * SIDE;
/// Bytes per record: a label byte, then the pixels.
pub const RECORD_BYTES: usize = 1 + PIXELS;
/// The classes, labels 0 to 9.
pub const CLASSES: usize = 10;
/// The class of each label, as the data set's `batches.meta.txt` names them.
pub const CLASS_NAMES: [&str; CLASSES] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
/// The training files, in the order [`load`] reads them.
pub const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test file.
pub const TEST_FILE: &str = "test_batch.bin";

/// The training and test sets of CIFAR-10.
#[derive(Clone, Debug, PartialEq)]
pub struct Cifar10 {
    /// The 50,000 images of `data_batch_1.bin` to `data_batch_5.bin`, in
    /// order.
    pub train: Dataset<PIXELS>,
    /// The 10,000 images of `test_batch.bin`.
    pub test: Dataset<PIXELS>,
}

/// Loads CIFAR-10 from `dir` (see the [module docs](self) for the files):
/// the training set is the records of the five training files, in order.
///
/// All six files are looked for before any is read. Fails if one is
/// missing, cannot be read, is empty, is not a whole number of records, or
/// has a label of 10 or more.
pub fn load(dir: &Path) -> Result<Cifar10, DataError> {
    if let Some(name) = TRAIN_FILES
        .iter()
        .chain([&TEST_FILE])
        .find(|name| !dir.join(name).exists())
    {
        return Err(DataError::Missing {
            dir: dir.to_path_buf(),
            names: vec![name.to_string()],
            hint: Some(missing_hint(dir)),
        });
    }
    let mut train = Records::default();
    for name in TRAIN_FILES {
        train.append(&dir.join(name))?;
    }
    Ok(Cifar10 {
        train: train.into_dataset(),
        test: read(&dir.join(TEST_FILE))?,
    })
}

/// Reads one CIFAR-10 file (a training file or the test file).
///
/// Fails if the file cannot be read, is empty, is not a whole number of
/// records, or has a label of 10 or more.
pub fn read(path: &Path) -> Result<Dataset<PIXELS>, DataError> {
    let mut records = Records::default();
    records.append(path)?;
    Ok(records.into_dataset())
}

/// What the error for a missing file adds: what the directory must hold, and
/// what it seems to hold instead when that is recognisable.
fn missing_hint(dir: &Path) -> String {
    let mut hint = format!(
        "the directory must hold the six files of CIFAR-10's binary version \
         (`cifar-10-batches-bin`): {} and {TEST_FILE}",
        TRAIN_FILES.join(", ")
    );
    if dir.join("cifar-10-batches-bin").is_dir() {
        hint.push_str("; it has a `cifar-10-batches-bin` subdirectory: load that instead");
    } else if dir.join("data_batch_1").is_file() {
        hint.push_str(
            "; it holds `data_batch_1`, a file of the Python version (`cifar-10-batches-py`), \
             which is not read here",
        );
    }
    hint
}

/// Samples gathered from one or more files.
#[derive(Default)]
struct Records {
    inputs: Vec<f32>,
    labels: Vec<u32>,
}

impl Records {
    /// Appends the records of the file at `path`, all or none: the file is
    /// checked whole before anything is added.
    fn append(&mut self, path: &Path) -> Result<(), DataError> {
        let bytes = fs::read(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        check(&bytes).map_err(|message| DataError::Format {
            path: path.to_path_buf(),
            message,
        })?;
        let count = bytes.len() / RECORD_BYTES;
        self.inputs.reserve(count * PIXELS);
        self.labels.reserve(count);
        for record in bytes.chunks_exact(RECORD_BYTES) {
            self.labels.push(u32::from(record[0]));
            self.inputs
                .extend(record[1..].iter().map(|&b| f32::from(b) / 255.0));
        }
        Ok(())
    }

    fn into_dataset(self) -> Dataset<PIXELS> {
        // Sizes and labels are checked by `append`, against the files they
        // came from.
        Dataset::checked(self.inputs, self.labels, CLASSES)
    }
}

/// Checks the contents of a file: at least one record, a whole number of
/// them, every label below 10. The error is the message, without the path.
fn check(bytes: &[u8]) -> Result<(), String> {
    let layout = format!(
        "records of {RECORD_BYTES} bytes: a label byte, then {PIXELS} pixel bytes \
         ({CHANNELS}×{SIDE}×{SIDE})"
    );
    if bytes.is_empty() {
        return Err(format!("the file is empty (expected {layout})"));
    }
    let rest = bytes.len() % RECORD_BYTES;
    if rest != 0 {
        return Err(format!(
            "the file has {} bytes, not a multiple of the record size {RECORD_BYTES}: \
             the last record, record {}, is truncated after {rest} bytes (expected {layout})",
            bytes.len(),
            bytes.len() / RECORD_BYTES
        ));
    }
    if let Some((record, label)) = bytes
        .chunks_exact(RECORD_BYTES)
        .map(|record| record[0])
        .enumerate()
        .find(|&(_, label)| usize::from(label) >= CLASSES)
    {
        return Err(format!(
            "label {label} at record {record} is not below {CLASSES} classes (expected 0 to {})",
            CLASSES - 1
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;
    use std::io;
    use std::path::PathBuf;

    /// A record with `label` whose pixel `i` (0 to 3071) is `pixel(i)`.
    fn record(label: u8, pixel: impl Fn(usize) -> u8) -> Vec<u8> {
        std::iter::once(label)
            .chain((0..PIXELS).map(pixel))
            .collect()
    }

    /// Records whose labels are `labels` and whose pixels differ from record
    /// to record: pixel `i` of record `r` is `(i + 7·r) mod 256`.
    fn records(labels: &[u8]) -> Vec<u8> {
        labels
            .iter()
            .enumerate()
            .flat_map(|(r, &label)| record(label, move |i| ((i + 7 * r) % 256) as u8))
            .collect()
    }

    fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.0.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    /// The message of a `Format` error for `path`, checking that the error's
    /// text starts with the path.
    fn format_error(path: &Path) -> String {
        let err = read(path).unwrap_err();
        let text = err.to_string();
        match err {
            DataError::Format { path: p, message } => {
                assert_eq!(p, path);
                assert_eq!(text, format!("{}: {message}", path.display()));
                message
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    /// A directory with the six files, holding records with labels
    /// `train[k]` in training file k and `test` in the test file.
    fn six_files(name: &str, train: [&[u8]; 5], test: &[u8]) -> TempDir {
        let dir = TempDir::new("nn-cifar", name);
        for (file, labels) in TRAIN_FILES.iter().zip(train) {
            write(&dir, file, &records(labels));
        }
        write(&dir, TEST_FILE, &records(test));
        dir
    }

    #[test]
    fn sizes() {
        assert_eq!(PIXELS, 3072);
        assert_eq!(RECORD_BYTES, 3073);
    }

    #[test]
    fn read_keeps_labels_and_pixels_channels_first() {
        let dir = TempDir::new("nn-cifar", "round-trip");
        // Red, green and blue planes of distinct constant values but for a
        // few marked pixels, so that a mixed-up channel order shows.
        let first = record(3, |i| match i {
            0 => 10,     // red (0, 0)
            1024 => 20,  // green (0, 0): file byte 1 + 1024
            2048 => 30,  // blue (0, 0)
            33 => 40,    // red (1, 1)
            1055 => 50,  // green (0, 31): 1024 + 31
            3071 => 255, // blue (31, 31)
            i if i < 1024 => 1,
            i if i < 2048 => 2,
            _ => 3,
        });
        assert_eq!(first[1 + 1024], 20);
        let second = record(9, |i| (i % 256) as u8);
        let path = write(&dir, "batch.bin", &[first, second].concat());

        let data = read(&path).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.classes(), CLASSES);
        assert_eq!(data.labels(), &[3, 9]);
        let x = data.input(0);
        assert_eq!(x.len(), 3 * 32 * 32);
        // [3, 32, 32]: channel c, row y, column x at (c·32 + y)·32 + x.
        let at = |c: usize, y: usize, col: usize| x[(c * 32 + y) * 32 + col];
        assert_eq!(at(0, 0, 0), 10.0 / 255.0);
        assert_eq!(at(1, 0, 0), 20.0 / 255.0);
        assert_eq!(at(2, 0, 0), 30.0 / 255.0);
        assert_eq!(at(0, 1, 1), 40.0 / 255.0);
        assert_eq!(at(1, 0, 31), 50.0 / 255.0);
        assert_eq!(at(2, 31, 31), 1.0);
        assert_eq!(at(0, 5, 7), 1.0 / 255.0);
        assert_eq!(at(1, 5, 7), 2.0 / 255.0);
        assert_eq!(at(2, 5, 7), 3.0 / 255.0);
        let expected: Vec<f32> = (0..PIXELS)
            .map(|i| f32::from((i % 256) as u8) / 255.0)
            .collect();
        assert_eq!(data.input(1), expected.as_slice());
    }

    #[test]
    fn every_length_is_an_error_or_whole_records() {
        let dir = TempDir::new("nn-cifar", "lengths");
        let full = records(&[4, 7]);
        let all = read(&write(&dir, "full.bin", &full)).unwrap();
        let mut bytes = full.clone();
        bytes.extend([0; 5]);
        for len in 0..=bytes.len() {
            let path = write(&dir, "cut.bin", &bytes[..len]);
            match (read(&path), len % RECORD_BYTES) {
                (Ok(data), 0) => {
                    let count = len / RECORD_BYTES;
                    assert!(count >= 1, "length {len}");
                    assert_eq!(data.labels(), &all.labels()[..count], "length {len}");
                    assert_eq!(data.inputs(), &all.inputs()[..count * PIXELS]);
                }
                (Err(DataError::Format { path: p, message }), rest) => {
                    assert_eq!(p, path);
                    if len == 0 {
                        assert!(message.starts_with("the file is empty"), "{message}");
                    } else {
                        assert_ne!(rest, 0, "length {len}: {message}");
                        assert!(
                            message.starts_with(&format!(
                                "the file has {len} bytes, not a multiple of the record size \
                                 3073: the last record, record {}, is truncated after {rest} \
                                 bytes",
                                len / RECORD_BYTES
                            )),
                            "{message}"
                        );
                    }
                }
                (other, _) => panic!("length {len}: {other:?}"),
            }
        }
    }

    #[test]
    fn truncated_and_empty_messages() {
        let dir = TempDir::new("nn-cifar", "messages");
        let path = write(&dir, "empty.bin", &[]);
        assert_eq!(
            format_error(&path),
            "the file is empty (expected records of 3073 bytes: a label byte, then 3072 pixel \
             bytes (3×32×32))"
        );
        let path = write(&dir, "cut.bin", &records(&[1, 2, 3])[..2 * 3073 + 100]);
        assert_eq!(
            format_error(&path),
            "the file has 6246 bytes, not a multiple of the record size 3073: the last record, \
             record 2, is truncated after 100 bytes (expected records of 3073 bytes: a label \
             byte, then 3072 pixel bytes (3×32×32))"
        );
    }

    #[test]
    fn bad_label() {
        let dir = TempDir::new("nn-cifar", "label");
        let path = write(&dir, "bad.bin", &records(&[0, 9, 10, 255]));
        assert_eq!(
            format_error(&path),
            "label 10 at record 2 is not below 10 classes (expected 0 to 9)"
        );
    }

    #[test]
    fn unreadable_file_is_an_io_error_with_the_path() {
        let dir = TempDir::new("nn-cifar", "io");
        let path = dir.0.join("absent.bin");
        let err = read(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::Io { path: p, source }
                if p == &path && source.kind() == io::ErrorKind::NotFound),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("{}: cannot read the file: ", path.display())));
    }

    #[test]
    fn load_reads_the_six_files_in_order() {
        let dir = six_files(
            "load",
            [&[1], &[2, 2], &[3, 3, 3], &[4], &[5, 0]],
            &[9, 8, 7],
        );
        let cifar = load(&dir.0).unwrap();
        assert_eq!(cifar.train.len(), 9);
        assert_eq!(cifar.train.labels(), &[1, 2, 2, 3, 3, 3, 4, 5, 0]);
        assert_eq!(cifar.train.inputs().len(), 9 * PIXELS);
        assert_eq!(cifar.test.len(), 3);
        assert_eq!(cifar.test.labels(), &[9, 8, 7]);
        assert_eq!(cifar.train.classes(), 10);
        assert_eq!(cifar.test.classes(), 10);
        // The first record of the second file follows the first file's.
        let second = read(&dir.0.join(TRAIN_FILES[1])).unwrap();
        assert_eq!(cifar.train.input(1), second.input(0));
        assert_eq!(cifar.test, read(&dir.0.join(TEST_FILE)).unwrap());
    }

    #[test]
    fn load_names_the_missing_file() {
        let dir = six_files("missing", [&[1], &[2], &[3], &[4], &[5]], &[6]);
        fs::remove_file(dir.0.join("data_batch_4.bin")).unwrap();
        let err = load(&dir.0).unwrap_err();
        assert!(
            matches!(&err, DataError::Missing { dir: d, names, .. }
                if d == &dir.0 && names == &["data_batch_4.bin"]),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no file named `data_batch_4.bin` found; the directory must hold the six \
                 files of CIFAR-10's binary version (`cifar-10-batches-bin`): data_batch_1.bin, \
                 data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin and \
                 test_batch.bin",
                dir.0.display()
            )
        );

        fs::write(dir.0.join("data_batch_4.bin"), records(&[4])).unwrap();
        fs::remove_file(dir.0.join(TEST_FILE)).unwrap();
        let err = load(&dir.0).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "{}: no file named `test_batch.bin` found; ",
                dir.0.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn missing_files_hint_at_what_the_directory_holds() {
        let parent = TempDir::new("nn-cifar", "parent");
        fs::create_dir(parent.0.join("cifar-10-batches-bin")).unwrap();
        let text = load(&parent.0).unwrap_err().to_string();
        assert!(text.starts_with(&format!(
            "{}: no file named `data_batch_1.bin` found; ",
            parent.0.display()
        )));
        assert!(
            text.ends_with("; it has a `cifar-10-batches-bin` subdirectory: load that instead"),
            "{text}"
        );

        let python = TempDir::new("nn-cifar", "python");
        fs::write(python.0.join("data_batch_1"), b"\x80\x02}q\x00").unwrap();
        let text = load(&python.0).unwrap_err().to_string();
        assert!(
            text.ends_with(
                "; it holds `data_batch_1`, a file of the Python version \
                 (`cifar-10-batches-py`), which is not read here"
            ),
            "{text}"
        );

        let absent = python.0.join("absent");
        let text = load(&absent).unwrap_err().to_string();
        assert!(
            text.ends_with("data_batch_5.bin and test_batch.bin"),
            "{text}"
        );
    }

    #[test]
    fn load_fails_on_a_damaged_file_and_names_it() {
        let dir = six_files("damaged", [&[1], &[2], &[3], &[4], &[5]], &[6]);
        let path = write(&dir, "data_batch_3.bin", &records(&[3, 3])[..3073 + 1]);
        match load(&dir.0) {
            Err(DataError::Format { path: p, message }) => {
                assert_eq!(p, path);
                assert!(
                    message.contains("record 1, is truncated after 1 bytes"),
                    "{message}"
                );
            }
            other => panic!("expected a format error, got {other:?}"),
        }
        let path = write(&dir, "data_batch_3.bin", &records(&[3, 3]));
        write(&dir, TEST_FILE, &records(&[6, 12]));
        match load(&dir.0) {
            Err(DataError::Format { path: p, message }) => {
                assert_eq!(p, dir.0.join(TEST_FILE));
                assert_ne!(p, path);
                assert_eq!(
                    message,
                    "label 12 at record 1 is not below 10 classes (expected 0 to 9)"
                );
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }
}
