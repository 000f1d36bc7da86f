//! IDX files, the format of the MNIST distribution
//! (<http://yann.lecun.com/exdb/mnist/>), plain or gzip.
//!
//! All numbers are big-endian:
//!
//! ```text
//! 0x00 0x00 <type> <ndims>     magic; type 0x08 = unsigned byte
//! <dim 0> … <dim ndims-1>      one u32 per dimension
//! <data>                       dim 0 · … · dim ndims-1 elements, row-major
//! ```
//!
//! Only unsigned bytes (type 0x08) are supported; the other IDX types are
//! recognised and reported by name. Gzip is detected by its magic bytes
//! (0x1f 0x8b), not by the file name.
//!
//! The header is untrusted: nothing is allocated from the sizes it declares.
//! The data is read as it comes and compared with the declared size, so a
//! header claiming gigabytes over a short file costs nothing.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};

use super::DataError;

/// The only element type supported: unsigned byte.
pub const UNSIGNED_BYTE: u8 = 0x08;

/// The contents of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The dimensions, outermost first (`[count, rows, cols]` for MNIST images).
    pub dims: Vec<usize>,
    /// The elements in row-major order; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, plain or gzip.
///
/// Fails if the file cannot be read, the gzip stream is corrupt, the magic is
/// wrong, the type is not unsigned byte, or the data is shorter or longer than
/// the header declares.
pub fn read(path: &Path) -> Result<Idx, DataError> {
    let cannot_read = |source: io::Error| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = fs::read(path).map_err(cannot_read)?;
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    if raw.starts_with(&[0x1f, 0x8b]) {
        // Every read error of an in-memory gzip stream is a corrupt stream.
        let corrupt = |source: io::Error| DataError::Gzip {
            path: path.to_path_buf(),
            source,
        };
        parse(MultiGzDecoder::new(raw.as_slice()), true, &format, &corrupt)
    } else {
        // Reading a byte slice cannot fail; were it to, it is a read error.
        parse(raw.as_slice(), false, &format, &cannot_read)
    }
}

/// Parses an IDX stream. `gzip` only changes the wording of size messages
/// (sizes are then counted after decompression).
fn parse(
    mut reader: impl Read,
    gzip: bool,
    format: &dyn Fn(String) -> DataError,
    read_error: &dyn Fn(io::Error) -> DataError,
) -> Result<Idx, DataError> {
    let after = if gzip { " (after decompression)" } else { "" };

    let magic = read_up_to(&mut reader, 4).map_err(read_error)?;
    if magic.len() < 4 {
        return Err(format(format!(
            "truncated header: the file has {} bytes{after}, an IDX header needs at least 4",
            magic.len()
        )));
    }
    let value = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
    if magic[0] != 0 || magic[1] != 0 {
        return Err(format(format!(
            "magic number 0x{value:08x} is not an IDX magic (expected 0x00000801 or \
             0x00000803: two zero bytes, type 0x08 = unsigned byte, then the number of \
             dimensions)"
        )));
    }
    let kind = magic[2];
    if kind != UNSIGNED_BYTE {
        let message = match type_name(kind) {
            Some(name) => format!(
                "IDX type 0x{kind:02x} ({name}) is not supported (expected 0x08 = unsigned byte)"
            ),
            None => format!(
                "magic number 0x{value:08x} has type byte 0x{kind:02x}, which is not an IDX \
                 type (expected 0x08 = unsigned byte)"
            ),
        };
        return Err(format(message));
    }
    let ndims = usize::from(magic[3]);
    if ndims == 0 {
        return Err(format(
            "the header declares 0 dimensions (expected at least 1)".to_string(),
        ));
    }

    let header = read_up_to(&mut reader, 4 * ndims).map_err(read_error)?;
    if header.len() < 4 * ndims {
        return Err(format(format!(
            "truncated header: {ndims} dimensions need {} header bytes but the file has {}{after}",
            4 + 4 * ndims,
            4 + header.len()
        )));
    }
    let dims: Vec<usize> = header
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let shape = dims_text(&dims);
    // `None` when the product overflows: more than any file can hold.
    let expected = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let declared = match (expected, dims.len()) {
        (Some(n), 1) => format!("{n} bytes of data"),
        (Some(n), _) => format!("{shape} = {n} bytes of data"),
        (None, _) => format!("{shape} bytes of data (more than this machine can address)"),
    };

    // Read at most what the header declares; the vector grows with the data
    // actually present, never with the declared size.
    let limit = expected.map_or(u64::MAX, |n| n as u64);
    let mut data = Vec::new();
    reader
        .by_ref()
        .take(limit)
        .read_to_end(&mut data)
        .map_err(read_error)?;
    if expected != Some(data.len()) {
        return Err(format(format!(
            "truncated: the header declares {declared} but the file has {}{after}",
            data.len()
        )));
    }
    // Count what is left without storing it (this also reaches the gzip
    // trailer, whose checksum is verified at the end of the stream).
    let extra = io::copy(&mut reader, &mut io::sink()).map_err(read_error)?;
    if extra > 0 {
        return Err(format(format!(
            "{extra} trailing bytes{after} after the data (the header declares {declared}, \
             expected the file to end there)"
        )));
    }
    Ok(Idx { dims, data })
}

/// Reads up to `n` bytes, fewer only at the end of the stream.
fn read_up_to(reader: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The names of the IDX types other than unsigned byte.
fn type_name(kind: u8) -> Option<&'static str> {
    match kind {
        0x09 => Some("signed byte"),
        0x0b => Some("16-bit integer"),
        0x0c => Some("32-bit integer"),
        0x0d => Some("32-bit float"),
        0x0e => Some("64-bit float"),
        _ => None,
    }
}

/// `60000×28×28`.
pub(crate) fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Writes an IDX file of unsigned bytes, gzip-compressed if `gzip`.
///
/// The gzip header has no time stamp and no file name, so the same data always
/// gives the same bytes. Fails with [`io::ErrorKind::InvalidInput`] unless there
/// are 1 to 255 dimensions, each fits in a u32, and their product is
/// `data.len()`.
pub fn write(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> io::Result<()> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    let ndims = u8::try_from(dims.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            invalid(format!(
                "{}: {} dimensions (expected 1 to 255)",
                path.display(),
                dims.len()
            ))
        })?;
    let expected = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if expected != Some(data.len()) {
        return Err(invalid(format!(
            "{}: dimensions {} do not match the {} bytes of data",
            path.display(),
            dims_text(dims),
            data.len()
        )));
    }
    let mut header = vec![0, 0, UNSIGNED_BYTE, ndims];
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            invalid(format!(
                "{}: dimension {d} does not fit in a u32",
                path.display()
            ))
        })?;
        header.extend_from_slice(&d.to_be_bytes());
    }

    let file = io::BufWriter::new(fs::File::create(path)?);
    if gzip {
        let mut encoder: GzEncoder<_> = GzBuilder::new()
            .mtime(0)
            .operating_system(255) // "unknown", whatever the host
            .write(file, Compression::best());
        encoder.write_all(&header)?;
        encoder.write_all(data)?;
        encoder.finish()?.into_inner()?.sync_all()
    } else {
        let mut file = file;
        file.write_all(&header)?;
        file.write_all(data)?;
        file.into_inner()?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("nn-idx-{}-{name}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// The message of a `Format` error for `path`, checking it starts with the path.
    fn format_error(path: &Path) -> String {
        match read(path) {
            Err(DataError::Format { path: p, message }) => {
                assert_eq!(p, path);
                let text = DataError::Format {
                    path: p,
                    message: message.clone(),
                }
                .to_string();
                assert!(text.starts_with(&format!("{}: ", path.display())), "{text}");
                message
            }
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_plain_and_gzip() {
        let dir = TempDir::new("round-trip");
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 11) as u8).collect();
        for gz in [false, true] {
            let path = dir.0.join(format!("x-{gz}"));
            write(&path, &[2, 3, 4], &data, gz).unwrap();
            let bytes = fs::read(&path).unwrap();
            assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), gz);
            let idx = read(&path).unwrap();
            assert_eq!(idx.dims, [2, 3, 4]);
            assert_eq!(idx.data, data);
        }
    }

    #[test]
    fn plain_layout_is_the_idx_layout() {
        let dir = TempDir::new("layout");
        let path = dir.0.join("labels");
        write(&path, &[3], &[7, 8, 9], false).unwrap();
        assert_eq!(fs::read(&path).unwrap(), [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
    }

    #[test]
    fn gzip_output_is_deterministic() {
        let dir = TempDir::new("deterministic");
        let data = vec![5u8; 1000];
        let a = dir.0.join("a");
        let b = dir.0.join("b-with-a-longer-name");
        write(&a, &[10, 100], &data, true).unwrap();
        write(&b, &[10, 100], &data, true).unwrap();
        let (a, b) = (fs::read(a).unwrap(), fs::read(b).unwrap());
        assert_eq!(a, b);
        assert_eq!(a[3], 0, "no FNAME or other optional header fields");
        assert_eq!(a[4..8], [0, 0, 0, 0], "mtime 0");
    }

    #[test]
    fn write_rejects_inconsistent_dims() {
        let dir = TempDir::new("write-dims");
        let path = dir.0.join("x");
        let err = write(&path, &[2, 3], &[0; 5], false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err
            .to_string()
            .ends_with("dimensions 2×3 do not match the 5 bytes of data"));
        let err = write(&path, &[], &[], false).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("0 dimensions (expected 1 to 255)"));
    }

    #[test]
    fn missing_file_is_an_io_error_with_the_path() {
        let dir = TempDir::new("missing");
        let path = dir.0.join("nothing-here");
        let err = read(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        let source = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::NotFound));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}: cannot read the file: ", path.display())),
            "{text}"
        );
    }

    #[test]
    fn bad_magic() {
        let dir = TempDir::new("magic");
        let path = dir.file("f", &[0, 0x0a, 8, 3, 0, 0, 0, 0]);
        assert_eq!(
            format_error(&path),
            "magic number 0x000a0803 is not an IDX magic (expected 0x00000801 or 0x00000803: \
             two zero bytes, type 0x08 = unsigned byte, then the number of dimensions)"
        );
    }

    #[test]
    fn unsupported_and_unknown_types() {
        let dir = TempDir::new("types");
        let path = dir.file("floats", &[0, 0, 0x0d, 1, 0, 0, 0, 0]);
        assert_eq!(
            format_error(&path),
            "IDX type 0x0d (32-bit float) is not supported (expected 0x08 = unsigned byte)"
        );
        let path = dir.file("junk", &[0, 0, 0x42, 1, 0, 0, 0, 0]);
        assert_eq!(
            format_error(&path),
            "magic number 0x00004201 has type byte 0x42, which is not an IDX type \
             (expected 0x08 = unsigned byte)"
        );
    }

    #[test]
    fn truncated_headers() {
        let dir = TempDir::new("headers");
        let path = dir.file("short", &[0, 0]);
        assert_eq!(
            format_error(&path),
            "truncated header: the file has 2 bytes, an IDX header needs at least 4"
        );
        let path = dir.file("dims", &[0, 0, 8, 3, 0, 0, 0, 1, 0, 0]);
        assert_eq!(
            format_error(&path),
            "truncated header: 3 dimensions need 16 header bytes but the file has 10"
        );
        let path = dir.file("zero", &[0, 0, 8, 0]);
        assert_eq!(
            format_error(&path),
            "the header declares 0 dimensions (expected at least 1)"
        );
    }

    #[test]
    fn truncated_data() {
        let dir = TempDir::new("truncated");
        let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3];
        bytes.extend([1; 17]);
        let path = dir.file("plain", &bytes);
        assert_eq!(
            format_error(&path),
            "truncated: the header declares 2×3×3 = 18 bytes of data but the file has 17"
        );
        let path = dir.file("gz", &gzip(&bytes));
        assert_eq!(
            format_error(&path),
            "truncated: the header declares 2×3×3 = 18 bytes of data but the file has 17 \
             (after decompression)"
        );
    }

    #[test]
    fn trailing_bytes() {
        let dir = TempDir::new("trailing");
        let mut bytes = vec![0, 0, 8, 1, 0, 0, 0, 4];
        bytes.extend([1; 7]);
        let path = dir.file("plain", &bytes);
        assert_eq!(
            format_error(&path),
            "3 trailing bytes after the data (the header declares 4 bytes of data, expected \
             the file to end there)"
        );
    }

    #[test]
    fn absurd_header_is_reported_without_allocating() {
        let dir = TempDir::new("absurd");
        // 4294967295^3 overflows usize; 65535×65535×65535 does not but is ~281 TB.
        let path = dir.file(
            "overflow",
            &[
                0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1,
            ],
        );
        assert_eq!(
            format_error(&path),
            "truncated: the header declares 4294967295×4294967295×4294967295 bytes of data \
             (more than this machine can address) but the file has 1"
        );
        let path = dir.file(
            "huge",
            &gzip(&[
                0, 0, 8, 3, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 9,
            ]),
        );
        assert_eq!(
            format_error(&path),
            "truncated: the header declares 65535×65535×65535 = 281462092005375 bytes of data \
             but the file has 1 (after decompression)"
        );
    }

    #[test]
    fn corrupt_gzip() {
        let dir = TempDir::new("gzip");
        let good = gzip(
            &[0, 0, 8, 1, 0, 0, 0, 200]
                .into_iter()
                .chain(0..200)
                .collect::<Vec<u8>>(),
        );
        // Cut off the end: the stream stops before its trailer.
        let path = dir.file("cut", &good[..good.len() - 12]);
        gzip_error(&path);
        // Damage the checksum in the trailer.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 8] ^= 0xff;
        let path = dir.file("crc", &bad);
        gzip_error(&path);
        // Gzip magic followed by garbage.
        let path = dir.file("garbage", &[0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        gzip_error(&path);
    }

    /// Checks that reading `path` fails with a `Gzip` error for `path` whose
    /// source is the decompressor's error, and whose message includes it.
    fn gzip_error(path: &Path) {
        let err = read(path).unwrap_err();
        let text = err.to_string();
        let source = std::error::Error::source(&err)
            .and_then(|s| s.downcast_ref::<io::Error>())
            .unwrap_or_else(|| panic!("no io::Error source: {err:?}"));
        assert_eq!(
            text,
            format!("{}: corrupt gzip data: {source}", path.display())
        );
        assert!(
            matches!(&err, DataError::Gzip { path: p, .. } if p == path),
            "{err:?}"
        );
    }
}
