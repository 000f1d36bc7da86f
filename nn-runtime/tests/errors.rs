//! The runtime's errors chain: an error that wraps another returns it from
//! `std::error::Error::source`, and its message names the file and includes
//! the wrapped error's message. (Data errors are checked in `data.rs`,
//! optimizer-state errors in `optim.rs`, checkpoint metadata errors in
//! `train.rs`'s unit tests.)

use nn_runtime::data::DataError;
use nn_runtime::optim::StateError;
use nn_runtime::testing::TempDir;
use nn_runtime::train::{plot_curves, History, PlotError, ResumeError, TrainError};
use nn_runtime::weights::{self, WeightsError};
use safetensors::tensor::{Dtype, SafeTensorError, TensorView};
use std::collections::HashMap;
use std::error::Error;
use std::io;

/// The source of `err`, which must be an `E`.
fn source_of<'a, E: Error + 'static>(err: &'a (dyn Error + 'static)) -> &'a E {
    let source = err.source().and_then(|s| s.downcast_ref());
    source.unwrap_or_else(|| panic!("{err:?}: no source of type {}", std::any::type_name::<E>()))
}

// ------------------------------------------------------------------------
// Weights
// ------------------------------------------------------------------------

#[test]
fn weights_missing_file_has_the_io_error_as_source() {
    let tmp = TempDir::new("nn-errors", "weights-missing");
    let path = tmp.0.join("absent.safetensors");
    let err = weights::read(&path).unwrap_err();
    assert!(
        matches!(&err, WeightsError::Io { path: p, .. } if *p == path),
        "{err:?}"
    );
    let io = source_of::<io::Error>(&err);
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), format!("{}: {io}", path.display()));
}

#[test]
fn weights_garbage_has_the_safetensors_error_as_source() {
    let tmp = TempDir::new("nn-errors", "weights-garbage");
    let path = tmp.0.join("garbage.safetensors");
    std::fs::write(&path, b"not a safetensors file at all").unwrap();
    let err = weights::read(&path).unwrap_err();
    assert!(matches!(&err, WeightsError::Format { .. }), "{err:?}");
    let source = source_of::<SafeTensorError>(&err);
    assert_eq!(
        err.to_string(),
        format!("{}: not a valid safetensors file: {source}", path.display())
    );
}

#[test]
fn weights_write_of_a_tensor_that_does_not_fit_its_shape_names_it() {
    let tmp = TempDir::new("nn-errors", "weights-shape");
    let path = tmp.0.join("w.safetensors");
    let data = [1.0f32; 5];
    let err = weights::write(&path, &[("0.weight", &[2, 3], &data)], HashMap::new()).unwrap_err();
    assert!(
        matches!(&err, WeightsError::Tensor { name, .. } if name == "0.weight"),
        "{err:?}"
    );
    let source = source_of::<SafeTensorError>(&err);
    assert_eq!(
        err.to_string(),
        format!("{}: tensor `0.weight`: {source}", path.display())
    );
    assert!(!path.exists(), "nothing written");
}

#[test]
fn weights_of_another_type_than_f32_name_the_tensor_and_type() {
    let tmp = TempDir::new("nn-errors", "weights-f16");
    let path = tmp.0.join("half.safetensors");
    let bytes = [0u8; 4];
    let view = TensorView::new(Dtype::F16, vec![2], &bytes).unwrap();
    safetensors::serialize_to_file([("0.bias", view)], &None, &path).unwrap();
    let err = weights::read(&path).unwrap_err();
    assert!(
        matches!(&err, WeightsError::NotF32 { name, dtype: Dtype::F16, .. } if name == "0.bias"),
        "{err:?}"
    );
    assert!(err.source().is_none());
    assert_eq!(
        err.to_string(),
        format!("{}: tensor `0.bias` is F16, expected F32", path.display())
    );
}

// ------------------------------------------------------------------------
// Curves
// ------------------------------------------------------------------------

#[test]
fn curves_in_a_missing_directory_are_an_io_error() {
    let tmp = TempDir::new("nn-errors", "curves");
    let path = tmp.0.join("no-such-dir").join("curves.svg");
    let err = plot_curves(&History::default(), &path).unwrap_err();
    let io = match &err {
        PlotError::Io { path: p, source } => {
            assert_eq!(*p, path);
            source
        }
        other => panic!("expected PlotError::Io, got {other:?}"),
    };
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    assert!(std::ptr::eq(source_of::<io::Error>(&err), io));
    assert_eq!(
        err.to_string(),
        format!("{}: cannot write the curves: {io}", path.display())
    );

    // in training, the curves' error is the source of the training error
    let err = TrainError::from(err);
    assert!(
        matches!(&err, TrainError::Curves(PlotError::Io { .. })),
        "{err:?}"
    );
    let plot = source_of::<PlotError>(&err);
    assert_eq!(source_of::<io::Error>(plot).kind(), io::ErrorKind::NotFound);
}

// ------------------------------------------------------------------------
// All
// ------------------------------------------------------------------------

/// Every error can cross threads and go into `Box<dyn Error + Send + Sync>`:
/// checked as this file compiles.
const _: () = {
    fn send_sync_static<E: Error + Send + Sync + 'static>() {}
    let _ = send_sync_static::<DataError>;
    let _ = send_sync_static::<WeightsError>;
    let _ = send_sync_static::<StateError>;
    let _ = send_sync_static::<ResumeError>;
    let _ = send_sync_static::<PlotError>;
    let _ = send_sync_static::<TrainError>;
};
