//! Data sets: IDX files, MNIST, CIFAR-10, CSV files, folders of images,
//! augmentation.
//!
//! [`Dataset<LEN, T>`] holds samples of `LEN` floats each with their targets:
//! a class label each (`T = u32`, the default) or a vector of floats each
//! (`T = f32`: regression values, or the 0/1 entries of multi-label
//! targets). The const generic lets the type system match a data set to a
//! network's input length, and `T` to a loss's kind of target. Data sets
//! shuffle, split (stratified by class), take subsets, concatenate, and
//! [`Normalization`] standardises them with statistics of the training part.
//! [`idx`] reads and writes IDX files (MNIST's format, plain or gzip),
//! [`mnist`] loads the four MNIST files into two data sets, and [`cifar`]
//! loads the six files of CIFAR-10's binary version into two data sets of
//! `[3, 32, 32]` images. [`csv`] reads tabular data (class labels or float
//! targets in chosen columns, the features in the others), and [`folder`] a
//! folder of images per class (PNG or JPEG, grey or RGB, checked or resized
//! to the network's input). [`augment`] transforms training samples at
//! random (crops, flips, shifts), each draw a function of a seed, the epoch
//! and the sample's index, so that a resumed run sees what an unbroken one
//! would.
//!
//! Reading data is the fallible part of the runtime: every failure is a
//! [`DataError`] naming the file (and the record, where there is one), what is
//! wrong and what was expected.

use std::path::PathBuf;

pub mod augment;
pub mod cifar;
pub mod csv;
mod dataset;
pub mod folder;
pub mod idx;
pub mod mnist;
mod normalize;

pub use dataset::{Dataset, Target, TrainsOn};
pub use normalize::Normalization;

/// What went wrong while reading a data set.
///
/// Every message starts with the path of the file (as given by the caller),
/// then says what is wrong and what was expected. Where the failure comes
/// from another error (the I/O error of a file that cannot be read, the
/// decompressor's error on a damaged gzip stream, the image decoder's on a
/// damaged image), the message includes it,
/// and [`Error::source`](std::error::Error::source) returns it, to match on
/// (e.g. its [`io::ErrorKind`](std::io::ErrorKind)).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read (not found, no permission, …).
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: std::io::Error,
    },
    /// The file starts as gzip but its stream is damaged or cut short: the
    /// decompressor's error is the source.
    #[error("{}: corrupt gzip data: {source}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: std::io::Error,
    },
    /// The file (or folder) was read but its contents are wrong: bad magic,
    /// unsupported type, truncated or trailing data, wrong image size, a
    /// label out of range, a CSV record of the wrong length or a field that
    /// is not a number, a folder with no images.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// An image file is damaged, or of a kind its decoder does not support:
    /// the `image` crate's error is the source.
    #[error("{}: cannot decode the image: {source}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: image::ImageError,
    },
    /// Two files that belong together disagree on the number of records.
    #[error(
        "{}: {label_count} labels but {}: {image_count} images (expected one label per image)",
        labels.display(),
        images.display()
    )]
    Mismatch {
        /// The labels' file.
        labels: PathBuf,
        /// Labels in it.
        label_count: usize,
        /// The images' file.
        images: PathBuf,
        /// Images in it.
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
        /// The directory looked in.
        dir: PathBuf,
        /// The names accepted.
        names: Vec<String>,
        /// What the directory must hold, if known.
        hint: Option<String>,
    },
    /// In-memory data given to [`Dataset::new`] is inconsistent, or a
    /// loader's options contradict themselves or the data set's type.
    #[error("invalid data set: {message}")]
    Invalid {
        /// What is wrong.
        message: String,
    },
}

/// `1 field`, `2 fields`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        _ => format!("{n} {what}s"),
    }
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
