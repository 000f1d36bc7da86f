//! Data sets: IDX files, MNIST, CIFAR-10, batching.
//!
//! [`Dataset<LEN>`] holds labelled samples of `LEN` floats each; the const
//! generic lets the type system match a data set to a network's input length.
//! [`idx`] reads and writes IDX files (MNIST's format, plain or gzip),
//! [`mnist`] loads the four MNIST files into two data sets, and [`cifar`]
//! loads the six files of CIFAR-10's binary version into two data sets of
//! `[3, 32, 32]` images.
//!
//! Reading data is the fallible part of the runtime: every failure is a
//! [`DataError`] naming the file (and the record, where there is one), what is
//! wrong and what was expected.

use std::fmt;
use std::path::PathBuf;

pub mod cifar;
pub mod idx;
pub mod mnist;

/// Labelled samples of `LEN` floats each, stored one after another.
#[derive(Clone, PartialEq)]
pub struct Dataset<const LEN: usize> {
    inputs: Vec<f32>,
    labels: Vec<u32>,
    classes: usize,
}

impl<const LEN: usize> Dataset<LEN> {
    /// A data set of `labels.len()` samples: sample `i` is
    /// `inputs[i·LEN .. (i+1)·LEN]` with class `labels[i]`.
    ///
    /// Fails with [`DataError::Invalid`] unless `inputs.len() == labels.len() · LEN`,
    /// `classes ≥ 1` and every label is below `classes`.
    pub fn new(inputs: Vec<f32>, labels: Vec<u32>, classes: usize) -> Result<Self, DataError> {
        let invalid = |message: String| Err(DataError::Invalid { message });
        if classes == 0 {
            return invalid("0 classes (expected at least 1)".to_string());
        }
        match labels.len().checked_mul(LEN) {
            Some(expected) if expected == inputs.len() => {}
            _ => {
                return invalid(format!(
                    "{} labels need {} × {LEN} input floats but {} were given",
                    labels.len(),
                    labels.len(),
                    inputs.len()
                ))
            }
        }
        if let Some((record, &label)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &label)| label as usize >= classes)
        {
            return invalid(format!(
                "label {label} at record {record} is not below {classes} classes"
            ));
        }
        Ok(Self {
            inputs,
            labels,
            classes,
        })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of classes; every label is below it.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// All inputs, `len() · LEN` floats, sample after sample.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }

    /// All labels, one per sample.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The `LEN` floats of sample `i`. Panics if `i >= len()`.
    pub fn input(&self, i: usize) -> &[f32] {
        &self.inputs[i * LEN..(i + 1) * LEN]
    }

    /// The label of sample `i`. Panics if `i >= len()`.
    pub fn label(&self, i: usize) -> u32 {
        self.labels[i]
    }
}

impl<const LEN: usize> fmt::Debug for Dataset<LEN> {
    /// Sizes only: the samples themselves would fill the screen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(&format!("Dataset<{LEN}>"))
            .field("len", &self.len())
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

/// What went wrong while reading a data set.
///
/// Every message starts with the path of the file (as given by the caller),
/// then says what is wrong and what was expected. Where the failure comes
/// from another error (the I/O error of a file that cannot be read, the
/// decompressor's error on a damaged gzip stream), the message includes it,
/// and [`Error::source`](std::error::Error::source) returns it, to match on
/// (e.g. its [`io::ErrorKind`](std::io::ErrorKind)).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read (not found, no permission, …).
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file starts as gzip but its stream is damaged or cut short: the
    /// decompressor's error is the source.
    #[error("{}: corrupt gzip data: {source}", path.display())]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read but its contents are wrong: bad magic, unsupported
    /// type, truncated or trailing data, wrong image size, a label out of
    /// range.
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// Two files that belong together disagree on the number of records.
    #[error(
        "{}: {label_count} labels but {}: {image_count} images (expected one label per image)",
        labels.display(),
        images.display()
    )]
    Mismatch {
        labels: PathBuf,
        label_count: usize,
        images: PathBuf,
        image_count: usize,
    },
    /// None of the accepted names of a required file exists in `dir`. The
    /// hint, if any, says what the directory must hold (and what it seems to
    /// hold instead).
    #[error(
        "{}: no file named {} found{}",
        dir.display(),
        quoted_names(names),
        hint.as_ref().map(|hint| format!("; {hint}")).unwrap_or_default()
    )]
    Missing {
        dir: PathBuf,
        names: Vec<String>,
        hint: Option<String>,
    },
    /// In-memory data given to [`Dataset::new`] is inconsistent.
    #[error("invalid data set: {message}")]
    Invalid { message: String },
}

/// "`a` or `a.gz`".
fn quoted_names(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keeps_samples_in_order() {
        let data = Dataset::<2>::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 0, 1], 3).unwrap();
        assert_eq!(data.len(), 3);
        assert!(!data.is_empty());
        assert_eq!(data.classes(), 3);
        assert_eq!(data.input(1), &[3.0, 4.0]);
        assert_eq!(data.label(0), 2);
        assert_eq!(data.labels(), &[2, 0, 1]);
        assert_eq!(data.inputs().len(), 6);
        assert_eq!(format!("{data:?}"), "Dataset<2> { len: 3, classes: 3, .. }");
    }

    #[test]
    fn new_accepts_an_empty_set() {
        let data = Dataset::<4>::new(Vec::new(), Vec::new(), 10).unwrap();
        assert!(data.is_empty());
    }

    fn invalid<const LEN: usize>(inputs: Vec<f32>, labels: Vec<u32>, classes: usize) -> String {
        match Dataset::<LEN>::new(inputs, labels, classes) {
            Err(DataError::Invalid { message }) => message,
            other => panic!("expected DataError::Invalid, got {other:?}"),
        }
    }

    #[test]
    fn new_rejects_inputs_of_the_wrong_length() {
        assert_eq!(
            invalid::<2>(vec![0.0; 5], vec![0, 1, 1], 2),
            "3 labels need 3 × 2 input floats but 5 were given"
        );
    }

    #[test]
    fn new_rejects_a_label_out_of_range() {
        assert_eq!(
            invalid::<1>(vec![0.0; 3], vec![0, 3, 1], 3),
            "label 3 at record 1 is not below 3 classes"
        );
    }

    #[test]
    fn new_rejects_zero_classes() {
        assert_eq!(
            invalid::<1>(Vec::new(), Vec::new(), 0),
            "0 classes (expected at least 1)"
        );
    }

    #[test]
    fn messages_name_the_files() {
        let err = DataError::Mismatch {
            labels: "d/train-labels-idx1-ubyte".into(),
            label_count: 3,
            images: "d/train-images-idx3-ubyte.gz".into(),
            image_count: 2,
        };
        assert_eq!(
            err.to_string(),
            "d/train-labels-idx1-ubyte: 3 labels but d/train-images-idx3-ubyte.gz: 2 images \
             (expected one label per image)"
        );
        let err = DataError::Missing {
            dir: "d".into(),
            names: vec!["a".into(), "a.gz".into()],
            hint: None,
        };
        assert_eq!(err.to_string(), "d: no file named `a` or `a.gz` found");
        let err = DataError::Missing {
            dir: "d".into(),
            names: vec!["b".into()],
            hint: Some("the directory must hold b".into()),
        };
        assert_eq!(
            err.to_string(),
            "d: no file named `b` found; the directory must hold b"
        );
    }
}
