//! A folder of images per class, as torchvision's `ImageFolder` reads them:
//!
//! ```text
//! root/cat/001.png
//! root/cat/kitten.jpg
//! root/dog/a.jpeg
//! root/dog/b.PNG
//! ```
//!
//! [`load`] makes a [`Dataset<LEN>`] of them: the class folders, sorted by
//! name, are the classes 0, 1, 2, … (their names are returned), and each
//! class's images, sorted by file name, are its samples, so the samples come
//! class after class (shuffle them, or let [`Batching`](crate::batch::Batching)
//! do it). [`read_image`] reads one image the same way, to predict on.
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::data::folder::{self, Filter, FolderOptions};
//!
//! let root = tempfile::tempdir()?;
//! for (class, shade) in [("dark", 30u8), ("light", 220)] {
//!     std::fs::create_dir(root.path().join(class))?;
//!     for i in 0..3 {
//!         let image = image::GrayImage::from_pixel(40, 30, image::Luma([shade + i]));
//!         image.save(root.path().join(class).join(format!("{i}.png")))?;
//!     }
//! }
//! // 40×30 images resized to 16×12, as one channel: samples of 1·12·16 floats
//! let options = FolderOptions::new([1, 12, 16]).resize(Filter::Bilinear);
//! let (data, classes) = folder::load::<192>(root.path(), &options)?;
//! assert_eq!(classes, ["dark", "light"]);
//! assert_eq!(data.labels(), &[0, 0, 0, 1, 1, 1]);
//! assert_eq!(data.input(4)[0], 221.0 / 255.0);
//!
//! // without `resize`, every image must be exactly the shape's size
//! let err = folder::load::<192>(root.path(), &FolderOptions::new([1, 12, 16])).unwrap_err();
//! assert!(err.to_string().ends_with(
//!     "the image is 40×30 pixels (width×height), expected 16×12 for the shape [1, 12, 16] \
//!      (or resize it: `FolderOptions::resize`)"
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **What is read.** The folders directly under the root are the classes;
//! in each, the files directly inside whose names end in `.png`, `.jpg` or
//! `.jpeg` (in any case) are its images. Other files (a `README`, a
//! `.gif`), files directly under the root and folders inside class folders
//! are skipped, and so is every file or folder whose name starts with `.`
//! (`.git`, `.ipynb_checkpoints`, `.DS_Store`). A file is decoded as what
//! its first bytes say (a `.png` that holds a JPEG is read as a JPEG); one
//! that is neither PNG nor JPEG is an error.
//!
//! **What a sample holds.** A shape `[C, H, W]` with `C` = 1 (grey) or 3
//! (RGB): floats in `[0, 1]` (`byte / 255`; a 16-bit PNG's values
//! `/ 65535`), channels first, as the network takes them: channel `c`,
//! row `y`, column `x` at `(c·H + y)·W + x`. Colour images become grey by
//! ITU-R 601 luma, `0.299·R + 0.587·G + 0.114·B` (PIL's `convert("L")` and
//! torchvision's `Grayscale`); grey images become RGB by repeating the
//! channel; alpha is dropped. Without [`FolderOptions::resize`], an image
//! must be `W×H` pixels; with it, one of any other size is resized to
//! `W×H` (not keeping its aspect ratio) with the [`Filter`] given, before
//! its colours are converted.
//!
//! **Damaged files.** Every failure is a [`DataError`] naming the file:
//! [`DataError::Io`] for a folder or file that cannot be read,
//! [`DataError::Format`] for a file that is not a PNG or JPEG image, an
//! image of the wrong size, or a folder with no images,
//! [`DataError::Image`] (the decoder's error as its source) for a damaged
//! image. Nothing is decoded before its size is checked against the file:
//! a header may not claim more than [`MAX_PIXELS_PER_BYTE`] pixels per byte
//! of the file (no valid PNG or JPEG holds more), nor more than
//! [`FolderOptions::max_bytes`] of decoded pixels, so a damaged or hostile
//! header cannot make the decoder allocate gigabytes. (Not every damaged
//! file is refused: the JPEG decoder makes do with data that stops short,
//! filling in the rest, and a PNG cut after its pixels, before its end
//! marker, still holds them all.)

use std::ffi::OsString;
use std::fs;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{plural, DataError, Dataset};

/// The file name endings of images (compared in any case).
pub const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The most pixels an image file may claim per byte of the file: a header
/// that claims more is refused as damaged before anything is decoded.
///
/// No valid file holds more. A PNG's compressed data expands at most 1032
/// times (deflate's limit), to at most 8 pixels a byte (at 1 bit a pixel):
/// 8256 pixels a byte. A JPEG codes each 8×8 block of a component in at
/// least one bit, and a block covers at most 32×32 pixels (4×4 chroma
/// subsampling): 8192 pixels a byte.
pub const MAX_PIXELS_PER_BYTE: u64 = 8 * 1032;

/// The default of [`FolderOptions::max_bytes`]: 256 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;

/// How [`FolderOptions::resize`] resamples an image to the shape's size.
///
/// Each is the `image` crate's filter of that kind, applied to rows then to
/// columns; when shrinking, the filter is widened by the scale, so that
/// every pixel counts (antialiased, as PIL's resizing is).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Filter {
    /// The nearest pixel.
    Nearest,
    /// Bilinear (a triangle kernel): PIL's and torchvision's `Resize`
    /// default.
    #[default]
    Bilinear,
    /// Bicubic (Catmull-Rom).
    Bicubic,
    /// Lanczos with 3 lobes.
    Lanczos3,
}

impl From<Filter> for image::imageops::FilterType {
    fn from(filter: Filter) -> Self {
        use image::imageops::FilterType;
        match filter {
            Filter::Nearest => FilterType::Nearest,
            Filter::Bilinear => FilterType::Triangle,
            Filter::Bicubic => FilterType::CatmullRom,
            Filter::Lanczos3 => FilterType::Lanczos3,
        }
    }
}

/// What images become: their shape, whether they are resized, and how much
/// decoding one may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderOptions {
    /// `[C, H, W]`: 1 channel (grey) or 3 (RGB), `H` rows, `W` columns.
    pub shape: [usize; 3],
    /// `None` (the default): every image must be `W×H` pixels. `Some`:
    /// images of other sizes are resized to `W×H` with this filter.
    pub resize: Option<Filter>,
    /// The most bytes the decoded pixels of one image may take (default
    /// [`DEFAULT_MAX_BYTES`]): a 4000×3000 RGB photo takes 36 MB. Also the
    /// `image` crate's allocation limit while decoding.
    pub max_bytes: u64,
}

impl FolderOptions {
    /// Images of `shape` (`[C, H, W]`), not resized.
    pub fn new(shape: [usize; 3]) -> Self {
        FolderOptions {
            shape,
            resize: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// Resizes images of other sizes with `filter`.
    pub fn resize(self, filter: Filter) -> Self {
        FolderOptions {
            resize: Some(filter),
            ..self
        }
    }

    /// At most `max_bytes` of decoded pixels per image.
    pub fn max_bytes(self, max_bytes: u64) -> Self {
        FolderOptions { max_bytes, ..self }
    }

    /// Floats per image, `C·H·W`, once the shape is checked: 1 or 3
    /// channels, at least one row and column, each fitting an image's size.
    fn sample_len(&self) -> Result<usize, DataError> {
        let [c, h, w] = self.shape;
        let invalid = |why: &str| {
            Err(DataError::Invalid {
                message: format!("images of shape {:?}: {why}", self.shape),
            })
        };
        if c != 1 && c != 3 {
            return invalid("an image has 1 channel (grey) or 3 (RGB)");
        }
        if h == 0 || w == 0 || u32::try_from(h).is_err() || u32::try_from(w).is_err() {
            return invalid("the height and width must be from 1 to 4294967295");
        }
        match h.checked_mul(w).and_then(|n| n.checked_mul(c)) {
            Some(len) => Ok(len),
            None => invalid("more floats than this machine can address"),
        }
    }
}

/// Loads the images under `root`, one folder per class (see the
/// [module docs](self)): returns the data set and the class names, class
/// `i` being the folder named at `i`.
///
/// Every folder is listed before any image is decoded. Fails with
/// [`DataError::Invalid`] if the shape is not 1 or 3 channels or its
/// `C·H·W` is not `LEN`; [`DataError::Io`] if a folder or an image cannot
/// be read; [`DataError::Format`] if `root` has no class folders, a class
/// folder has no images, or an image is not PNG or JPEG, claims more pixels
/// than its file can hold or than [`FolderOptions::max_bytes`] allows, or
/// (not resizing) is not `W×H`; [`DataError::Image`] if an image is
/// damaged.
pub fn load<const LEN: usize>(
    root: &Path,
    options: &FolderOptions,
) -> Result<(Dataset<LEN>, Vec<String>), DataError> {
    let len = options.sample_len()?;
    if len != LEN {
        return Err(DataError::Invalid {
            message: format!(
                "images of shape {:?} are samples of {len} floats, but the data set's sample \
                 length is {LEN}",
                options.shape
            ),
        });
    }
    let classes = class_folders(root)?;
    let mut files = Vec::new();
    for (label, (_, dir)) in classes.iter().enumerate() {
        let images = image_files(dir)?;
        // a class per folder: fewer than 2³² of them
        files.extend(images.into_iter().map(|path| (label as u32, path)));
    }
    let mut inputs = Vec::with_capacity(files.len().saturating_mul(LEN));
    let mut labels = Vec::with_capacity(files.len());
    for (label, path) in files {
        decode(&path, options, &mut inputs)?;
        labels.push(label);
    }
    let names: Vec<String> = classes.into_iter().map(|(name, _)| name).collect();
    let data = Dataset::new(inputs, labels, names.len())?;
    Ok((data, names))
}

/// Reads one image as [`load`] reads each: `C·H·W` floats in `[0, 1]`,
/// channels first.
///
/// Fails as [`load`] does for an image.
pub fn read_image(path: &Path, options: &FolderOptions) -> Result<Vec<f32>, DataError> {
    let mut sample = Vec::with_capacity(options.sample_len()?);
    decode(path, options, &mut sample)?;
    Ok(sample)
}

/// The class folders under `root`, sorted by name, with their names.
fn class_folders(root: &Path) -> Result<Vec<(String, PathBuf)>, DataError> {
    let (folders, files) = list(root)?;
    if folders.is_empty() {
        let images = files.iter().filter(|(_, path)| is_image(path)).count();
        let holds = match (images, files.len()) {
            (0, 0) => "it is empty".to_string(),
            (0, n) => format!("it holds {}", plural(n, "file")),
            (n, _) => format!(
                "it holds {} directly, not in a class folder",
                plural(n, "image")
            ),
        };
        return Err(DataError::Format {
            path: root.to_path_buf(),
            message: format!(
                "no class folders (expected a folder per class, each holding that class's \
                 .png, .jpg or .jpeg images; {holds})"
            ),
        });
    }
    Ok(folders
        .into_iter()
        .map(|(name, path)| (name.to_string_lossy().into_owned(), path))
        .collect())
}

/// The images of a class folder, sorted by file name.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let (_, files) = list(dir)?;
    let (images, others): (Vec<_>, Vec<_>) = files.into_iter().partition(|(_, p)| is_image(p));
    if images.is_empty() {
        const SHOWN: usize = 5;
        let holds = match others.len() {
            0 => "it holds no files".to_string(),
            n => {
                let names: Vec<String> = (others.iter().take(SHOWN))
                    .map(|(name, _)| name.to_string_lossy().into_owned())
                    .collect();
                let more = match n > SHOWN {
                    true => format!(" and {} more", n - SHOWN),
                    false => String::new(),
                };
                format!("it holds {}{more}", names.join(", "))
            }
        };
        return Err(DataError::Format {
            path: dir.to_path_buf(),
            message: format!(
                "a class folder with no images (expected .png, .jpg or .jpeg files; {holds})"
            ),
        });
    }
    Ok(images.into_iter().map(|(_, path)| path).collect())
}

/// The folders and the files in `dir` (following links), each sorted by
/// name, without those whose names start with `.`.
#[allow(clippy::type_complexity)]
fn list(dir: &Path) -> Result<(Vec<(OsString, PathBuf)>, Vec<(OsString, PathBuf)>), DataError> {
    let cannot_read = |source: io::Error| DataError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let (mut folders, mut files) = (Vec::new(), Vec::new());
    for entry in fs::read_dir(dir).map_err(cannot_read)? {
        let entry = entry.map_err(cannot_read)?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            folders.push((name, path));
        } else {
            files.push((name, path));
        }
    }
    folders.sort();
    files.sort();
    Ok((folders, files))
}

/// Whether `path` names an image by its ending.
fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Decodes the image at `path` and appends its `C·H·W` floats to `out`.
fn decode(path: &Path, options: &FolderOptions, out: &mut Vec<f32>) -> Result<(), DataError> {
    let [channels, height, width] = options.shape;
    let format = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    let damaged = |source: image::ImageError| DataError::Image {
        path: path.to_path_buf(),
        source,
    };
    let bytes = fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(format(
            "the file is empty (expected a PNG or JPEG image)".to_string(),
        ));
    }
    let kind = match image::guess_format(&bytes) {
        Ok(kind @ (ImageFormat::Png | ImageFormat::Jpeg)) => kind,
        Ok(other) => {
            return Err(format(format!(
                "a {} image, not PNG or JPEG (the formats read)",
                format!("{other:?}").to_uppercase()
            )))
        }
        Err(_) => {
            return Err(format(
                "not a PNG or JPEG image (its first bytes are neither format's signature)"
                    .to_string(),
            ))
        }
    };

    let mut reader = ImageReader::with_format(Cursor::new(bytes.as_slice()), kind);
    let mut limits = Limits::default();
    limits.max_alloc = Some(options.max_bytes);
    reader.limits(limits);
    // reads the header only
    let decoder = reader.into_decoder().map_err(damaged)?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    let file_len = bytes.len() as u64;
    if pixels > MAX_PIXELS_PER_BYTE.saturating_mul(file_len) {
        return Err(format(format!(
            "the header declares {w}×{h} pixels, more than a file of {file_len} bytes can hold \
             (at most {MAX_PIXELS_PER_BYTE} pixels a byte): the file is damaged"
        )));
    }
    let resize = match (options.resize, (w as usize, h as usize) == (width, height)) {
        (_, true) => None,
        (Some(filter), false) => Some(filter),
        (None, false) => {
            return Err(format(format!(
                "the image is {w}×{h} pixels (width×height), expected {width}×{height} for the \
                 shape {:?} (or resize it: `FolderOptions::resize`)",
                options.shape
            )))
        }
    };
    let decoded = decoder.total_bytes();
    if decoded > options.max_bytes {
        return Err(format(format!(
            "the image is {w}×{h} pixels, {decoded} bytes decoded, more than the limit of {} \
             bytes (`FolderOptions::max_bytes`)",
            options.max_bytes
        )));
    }
    let mut image = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    if let Some(filter) = resize {
        // the shape's sizes fit in u32: `sample_len` checked them
        image = image.resize_exact(width as u32, height as u32, filter.into());
    }

    let plane = height * width;
    match channels {
        1 if image.color().has_color() => {
            let rgb = image.to_rgb32f();
            // the weights add up to 1, the sum's rounding may not
            out.extend(
                rgb.pixels()
                    .map(|p| (0.299 * p.0[0] + 0.587 * p.0[1] + 0.114 * p.0[2]).min(1.0)),
            );
        }
        1 => out.extend_from_slice(image.to_luma32f().as_raw()),
        _ => {
            let rgb = image.to_rgb32f();
            let start = out.len();
            out.resize(start + 3 * plane, 0.0);
            let planes = &mut out[start..];
            for (i, p) in rgb.pixels().enumerate() {
                for (c, &v) in p.0.iter().enumerate() {
                    planes[c * plane + i] = v;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma, Rgb, Rgba};

    fn folder(root: &Path, class: &str) -> PathBuf {
        let dir = root.join(class);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A 4×3 RGB image whose pixel (x, y) is (10x + 50, 20y + 5, 7 + k).
    fn colours(k: u8) -> image::RgbImage {
        ImageBuffer::from_fn(4, 3, |x, y| {
            Rgb([10 * x as u8 + 50, 20 * y as u8 + 5, 7 + k])
        })
    }

    #[test]
    fn rgb_images_channels_first_in_class_and_name_order() {
        let root = tempfile::tempdir().unwrap();
        // written out of order: classes and files are sorted by name
        colours(2)
            .save(folder(root.path(), "b").join("z.png"))
            .unwrap();
        colours(1)
            .save(folder(root.path(), "b").join("a.PNG"))
            .unwrap();
        colours(0)
            .save(folder(root.path(), "a").join("only.png"))
            .unwrap();
        let (data, classes) = load::<36>(root.path(), &FolderOptions::new([3, 3, 4])).unwrap();
        assert_eq!(classes, ["a", "b"]);
        assert_eq!(data.labels(), &[0, 1, 1]);
        for (i, k) in [0u8, 1, 2].into_iter().enumerate() {
            let x = data.input(i);
            for y in 0..3 {
                for col in 0..4 {
                    let at = |c: usize| x[(c * 3 + y) * 4 + col];
                    assert_eq!(at(0), f32::from(10 * col as u8 + 50) / 255.0);
                    assert_eq!(at(1), f32::from(20 * y as u8 + 5) / 255.0);
                    assert_eq!(at(2), f32::from(7 + k) / 255.0);
                }
            }
        }
    }

    #[test]
    fn grey_from_colour_and_colour_from_grey() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("c.png");
        ImageBuffer::from_pixel(2, 2, Rgba([100u8, 150, 200, 9]))
            .save(&path)
            .unwrap();
        let grey = read_image(&path, &FolderOptions::new([1, 2, 2])).unwrap();
        let luma = (0.299 * 100.0 + 0.587 * 150.0 + 0.114 * 200.0) / 255.0;
        assert!(grey.iter().all(|&v| (v - luma).abs() < 1e-6), "{grey:?}");
        // alpha dropped
        let rgb = read_image(&path, &FolderOptions::new([3, 2, 2])).unwrap();
        assert_eq!(rgb[..4], [100.0 / 255.0; 4]);
        assert_eq!(rgb[8..], [200.0 / 255.0; 4]);

        let path = root.path().join("g.png");
        ImageBuffer::from_fn(2, 1, |x, _| Luma([if x == 0 { 0u8 } else { 255 }]))
            .save(&path)
            .unwrap();
        let rgb = read_image(&path, &FolderOptions::new([3, 1, 2])).unwrap();
        assert_eq!(rgb, [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(
            read_image(&path, &FolderOptions::new([1, 1, 2])).unwrap(),
            [0.0, 1.0]
        );

        let path = root.path().join("deep.png");
        ImageBuffer::from_fn(2, 1, |x, _| Luma([if x == 0 { 1u16 } else { 65535 }]))
            .save(&path)
            .unwrap();
        let grey = read_image(&path, &FolderOptions::new([1, 1, 2])).unwrap();
        assert_eq!(grey, [1.0 / 65535.0, 1.0]);
    }

    #[test]
    fn resizing() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("flat.png");
        ImageBuffer::from_pixel(40, 30, Luma([200u8]))
            .save(&path)
            .unwrap();
        for filter in [
            Filter::Nearest,
            Filter::Bilinear,
            Filter::Bicubic,
            Filter::Lanczos3,
        ] {
            let options = FolderOptions::new([1, 5, 7]).resize(filter);
            let grey = read_image(&path, &options).unwrap();
            assert_eq!(grey, [200.0 / 255.0; 35], "{filter:?}");
        }
        // halves of 0 and 255, shrunk 4 times: the bilinear filter widened
        // to 8 pixels averages across the edge, nearest does not
        let path = root.path().join("halves.png");
        ImageBuffer::from_fn(16, 4, |x, _| Luma([if x < 8 { 0u8 } else { 255 }]))
            .save(&path)
            .unwrap();
        let near = read_image(
            &path,
            &FolderOptions::new([1, 1, 4]).resize(Filter::Nearest),
        );
        assert_eq!(near.unwrap(), [0.0, 0.0, 1.0, 1.0]);
        let soft = read_image(
            &path,
            &FolderOptions::new([1, 1, 4]).resize(Filter::Bilinear),
        );
        let soft = soft.unwrap();
        assert!(soft[0] == 0.0 && soft[3] == 1.0, "{soft:?}");
        assert!(soft[1] > 0.0 && soft[2] < 1.0, "{soft:?}");
        // an image of the right size is not resampled
        let path = root.path().join("right.png");
        colours(0).save(&path).unwrap();
        let options = FolderOptions::new([3, 3, 4]);
        assert_eq!(
            read_image(&path, &options.resize(Filter::Lanczos3)).unwrap(),
            read_image(&path, &options).unwrap()
        );
    }

    #[test]
    fn jpeg_by_content_whatever_the_name() {
        let root = tempfile::tempdir().unwrap();
        let dir = folder(root.path(), "x");
        let image = ImageBuffer::from_pixel(16, 16, Rgb([40u8, 120, 200]));
        image.save(dir.join("a.jpg")).unwrap();
        fs::copy(dir.join("a.jpg"), dir.join("b.png")).unwrap();
        fs::copy(dir.join("a.jpg"), dir.join("c.JPEG")).unwrap();
        let (data, _) = load::<768>(root.path(), &FolderOptions::new([3, 16, 16])).unwrap();
        assert_eq!(data.len(), 3);
        // lossy, but close
        for i in 0..3 {
            let x = data.input(i);
            for (c, want) in [40.0, 120.0, 200.0].into_iter().enumerate() {
                let mean = x[c * 256..(c + 1) * 256].iter().sum::<f32>() / 256.0 * 255.0;
                assert!((mean - want).abs() < 3.0, "channel {c}: {mean}");
            }
        }
        assert_eq!(data.input(0), data.input(1));
    }

    #[test]
    fn what_is_skipped() {
        let root = tempfile::tempdir().unwrap();
        let cat = folder(root.path(), "cat");
        colours(0).save(cat.join("1.png")).unwrap();
        fs::write(cat.join("notes.txt"), "not an image").unwrap();
        fs::write(cat.join("anim.gif"), b"GIF89a").unwrap();
        fs::write(cat.join(".hidden.png"), b"not read").unwrap();
        colours(1)
            .save(folder(&cat, "nested").join("2.png"))
            .unwrap();
        fs::write(root.path().join("labels.csv"), "x").unwrap();
        colours(2).save(root.path().join("stray.png")).unwrap();
        let hidden = folder(root.path(), ".ipynb_checkpoints");
        colours(3).save(hidden.join("3.png")).unwrap();
        let (data, classes) = load::<36>(root.path(), &FolderOptions::new([3, 3, 4])).unwrap();
        assert_eq!(classes, ["cat"]);
        assert_eq!(data.len(), 1);
    }

    #[test]
    fn shapes_that_cannot_be() {
        let root = Path::new("never-read");
        let message = |result: Result<(Dataset<12>, Vec<String>), DataError>| match result {
            Err(DataError::Invalid { message }) => message,
            other => panic!("expected DataError::Invalid, got {other:?}"),
        };
        assert_eq!(
            message(load::<12>(root, &FolderOptions::new([2, 2, 3]))),
            "images of shape [2, 2, 3]: an image has 1 channel (grey) or 3 (RGB)"
        );
        assert_eq!(
            message(load::<12>(root, &FolderOptions::new([1, 3, 3]))),
            "images of shape [1, 3, 3] are samples of 9 floats, but the data set's sample \
             length is 12"
        );
        assert_eq!(
            message(load::<12>(root, &FolderOptions::new([3, 0, 4]))),
            "images of shape [3, 0, 4]: the height and width must be from 1 to 4294967295"
        );
    }
}
