//! MNIST: 28×28 grey-scale handwritten digits, 10 classes.
//!
//! [`load`] reads a directory with the four IDX files of the MNIST
//! distribution, each plain or gzip:
//!
//! ```text
//! train-images-idx3-ubyte[.gz]   train-labels-idx1-ubyte[.gz]
//! t10k-images-idx3-ubyte[.gz]    t10k-labels-idx1-ubyte[.gz]
//! ```
//!
//! so the full 60,000/10,000 data set works as downloaded. [`bundled`] loads
//! the 10,000 real digits shipped in the repository's `data/mnist/`
//! (7,996 for training, 2,004 for testing; `data/README.md` says where they
//! come from and how they were split).
//!
//! Pixels become `byte / 255`, in `[0, 1]`.

use std::path::{Path, PathBuf};

use super::idx::{self, dims_text};
use super::{DataError, Dataset};

/// Rows and columns of an image.
pub const SIDE: usize = 28;
/// Floats per image: 28 · 28.
pub const PIXELS: usize = SIDE * SIDE;
/// The digits 0 to 9.
pub const CLASSES: usize = 10;

/// The training and test sets of MNIST.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    /// The training split (`train-*` files).
    pub train: Dataset<PIXELS>,
    /// The test split (`t10k-*` files).
    pub test: Dataset<PIXELS>,
}

/// Loads MNIST from `dir` (see the [module docs](self) for the file names).
///
/// Fails if a file is missing, damaged, has images other than 28×28 or labels
/// of 10 or more, or if a split has a different number of labels and images.
pub fn load(dir: &Path) -> Result<Mnist, DataError> {
    Ok(Mnist {
        train: load_split(dir, "train")?,
        test: load_split(dir, "t10k")?,
    })
}

/// Loads the digits bundled in the repository's `data/mnist/`.
///
/// The path is fixed at compile time from this crate's manifest directory, so
/// it works in a checkout of the repository, not from a published crate.
pub fn bundled() -> Result<Mnist, DataError> {
    load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/mnist"
    )))
}

/// One split: `prefix` is `train` or `t10k`.
fn load_split(dir: &Path, prefix: &str) -> Result<Dataset<PIXELS>, DataError> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let inputs = read_images(&images_path)?;
    let labels = read_labels(&labels_path)?;
    let image_count = inputs.len() / PIXELS;
    if labels.len() != image_count {
        return Err(DataError::Mismatch {
            labels: labels_path,
            label_count: labels.len(),
            images: images_path,
            image_count,
        });
    }
    // Sizes and labels are checked above, against the files they came from.
    Ok(Dataset::checked(inputs, labels, CLASSES))
}

/// `dir/name` if it exists, else `dir/name.gz`.
fn find(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let names = [name.to_string(), format!("{name}.gz")];
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.exists())
        .ok_or_else(|| DataError::Missing {
            dir: dir.to_path_buf(),
            names: names.to_vec(),
            hint: None,
        })
}

/// The pixels of an images file, `count · 784` floats in `[0, 1]`.
fn read_images(path: &Path) -> Result<Vec<f32>, DataError> {
    let idx = idx::read(path)?;
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    if idx.dims.len() != 3 {
        return Err(format(format!(
            "images need 3 dimensions (count×{SIDE}×{SIDE}) but the header declares {} ({})",
            idx.dims.len(),
            dims_text(&idx.dims)
        )));
    }
    if idx.dims[1..] != [SIDE, SIDE] {
        return Err(format(format!(
            "images are {}, expected {SIDE}×{SIDE}",
            dims_text(&idx.dims[1..])
        )));
    }
    Ok(idx.data.iter().map(|&b| f32::from(b) / 255.0).collect())
}

/// The labels of a labels file, each checked to be below 10.
fn read_labels(path: &Path) -> Result<Vec<u32>, DataError> {
    let idx = idx::read(path)?;
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    if idx.dims.len() != 1 {
        return Err(format(format!(
            "labels need 1 dimension (the count) but the header declares {} ({})",
            idx.dims.len(),
            dims_text(&idx.dims)
        )));
    }
    if let Some((record, &label)) = idx
        .data
        .iter()
        .enumerate()
        .find(|&(_, &label)| usize::from(label) >= CLASSES)
    {
        return Err(format(format!(
            "label {label} at record {record} is not below {CLASSES} classes"
        )));
    }
    Ok(idx.data.iter().map(|&label| u32::from(label)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_directory_names_the_files_looked_for() {
        let dir = std::env::temp_dir().join(format!("nn-mnist-absent-{}", std::process::id()));
        let err = load(&dir).unwrap_err();
        assert!(matches!(&err, DataError::Missing { names, .. } if names.len() == 2));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no file named `train-images-idx3-ubyte` or `train-images-idx3-ubyte.gz` found",
                dir.display()
            )
        );
    }

    #[test]
    fn bundled_splits_are_in_digit_order() {
        let mnist = bundled().unwrap();
        for set in [&mnist.train, &mnist.test] {
            assert!(set.labels().windows(2).all(|w| w[0] <= w[1]));
            assert_eq!(set.label(0), 0);
            assert_eq!(set.label(set.len() - 1), 9);
        }
    }
}
