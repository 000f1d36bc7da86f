//! Weights as safetensors files with PyTorch's `state_dict` names and layouts
//! (`"0.weight"` is `[OUT, C, KH, KW]`, `"7.weight"` is `[OUT, IN]`, …), so a
//! PyTorch `state_dict` saved with `safetensors.torch.save_file` loads here
//! and ours loads there.
//!
//! Batch norm's buffers are saved beside the parameters under PyTorch's
//! names (`"1.running_mean"`, `"1.running_var"`, `"1.num_batches_tracked"`,
//! the last as `int64`, as PyTorch stores it), and an `int64` tensor of a
//! file loads into a count.
//!
//! Files are written atomically: to a temporary file of a unique name in
//! the same directory (the `tempfile` crate's), synced, renamed over `path`,
//! and (on Unix) the directory synced, so a crash never leaves a
//! half-written file under the real name and the new one is there after
//! it; a write that fails removes its temporary file, and two writers
//! never share one. The file gets the permissions of any new file.

use crate::network::Network;
use safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why weights could not be read or written.
///
/// Every message starts with the file's path. Where the failure comes from
/// another error (I/O, safetensors), the message includes it and
/// [`Error::source`](std::error::Error::source) returns it.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a valid safetensors file, or the tensors given to
    /// [`write()`] cannot make one.
    #[error("{}: not a valid safetensors file: {source}", path.display())]
    Format {
        path: PathBuf,
        source: SafeTensorError,
    },
    /// A tensor given to [`write()`] does not fit its shape, or a tensor listed
    /// in the file cannot be read.
    #[error("{}: tensor `{name}`: {source}", path.display())]
    Tensor {
        path: PathBuf,
        name: String,
        source: SafeTensorError,
    },
    /// A tensor of the file holds another type than f32 (or than an
    /// integer that an f32 holds exactly, for counts).
    #[error("{}: tensor `{name}` is {dtype:?}, expected F32", path.display())]
    NotF32 {
        path: PathBuf,
        name: String,
        dtype: Dtype,
    },
    /// The file's tensors do not match the network's: every difference is listed.
    #[error(
        "{}: the tensors do not match `{network}`{}",
        path.display(),
        differences(missing, extra, wrong)
    )]
    Mismatch {
        path: PathBuf,
        network: &'static str,
        missing: Vec<String>,
        extra: Vec<String>,
        wrong: Vec<String>,
    },
}

/// The lines that list a mismatch's differences, each starting a new line.
fn differences(missing: &[String], extra: &[String], wrong: &[String]) -> String {
    let mut text = String::new();
    if !missing.is_empty() {
        text += &format!("\n  missing: {}", missing.join(", "));
    }
    if !extra.is_empty() {
        text += &format!("\n  not in the network: {}", extra.join(", "));
    }
    for w in wrong {
        text += &format!("\n  {w}");
    }
    text
}

/// A named f32 tensor read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WeightsError + '_ {
    move |source| WeightsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path) -> impl FnOnce(SafeTensorError) -> WeightsError + '_ {
    move |source| WeightsError::Format {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes f32 tensors and string metadata to `path` atomically.
pub fn write(
    path: &Path,
    tensors: &[(&str, &[usize], &[f32])],
    metadata: HashMap<String, String>,
) -> Result<(), WeightsError> {
    let typed: Vec<_> = tensors
        .iter()
        .map(|&(name, shape, data)| (name, shape, Values::F32(data)))
        .collect();
    write_typed(path, &typed, metadata)
}

/// A tensor's values as they are written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Values<'a> {
    F32(&'a [f32]),
    /// A count held in f32, written as `int64`.
    Count(&'a [f32]),
    /// Written as `float64` (a checkpoint's history).
    F64(&'a [f64]),
}

impl Values<'_> {
    fn dtype(self) -> Dtype {
        match self {
            Values::F32(_) => Dtype::F32,
            Values::Count(_) => Dtype::I64,
            Values::F64(_) => Dtype::F64,
        }
    }

    fn bytes(self) -> Vec<u8> {
        match self {
            Values::F32(data) => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Values::Count(data) => data
                .iter()
                .flat_map(|&v| (v as i64).to_le_bytes())
                .collect(),
            Values::F64(data) => data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// [`write()`] with each tensor's values of their own type.
fn write_typed(
    path: &Path,
    tensors: &[(&str, &[usize], Values<'_>)],
    metadata: HashMap<String, String>,
) -> Result<(), WeightsError> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|&(_, _, v)| v.bytes()).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(&(name, shape, values), b)| {
            TensorView::new(values.dtype(), shape.to_vec(), b)
                .map(|v| (name.to_string(), v))
                .map_err(|source| WeightsError::Tensor {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let buffer = safetensors::serialize(views, &metadata).map_err(invalid(path))?;
    let dir = directory(path);
    // dropped on any error before `persist`, which deletes it
    let mut tmp = temporary_in(dir, path)?;
    tmp.write_all(&buffer).map_err(io(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    sync_directory(dir).map_err(io(dir))
}

/// The directory a file at `path` goes in.
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new temporary file in `dir` for writing `path`, named after it, with
/// the permissions a new file gets (tempfile's own are owner-only).
fn temporary_in(dir: &Path, path: &Path) -> Result<tempfile::NamedTempFile, WeightsError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // less the umask, as `File::create` does
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir).map_err(io(dir))
}

/// Syncs the directory `dir`, so that a rename in it survives a crash
/// (on Unix; elsewhere a directory cannot be opened to sync it).
fn sync_directory(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Checks, without writing it, that a file can be written at `path`: its
/// directory exists and takes a new file, and `path` is not a directory.
/// The trainer calls it before the first epoch, so that a bad checkpoint
/// path is found at once rather than after an epoch's work.
pub fn check_writable(path: &Path) -> Result<(), WeightsError> {
    if path.is_dir() {
        let source = std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory");
        return Err(io(path)(source));
    }
    temporary_in(directory(path), path).map(drop)
}

/// Reads every tensor and the metadata of a safetensors file. Tensors must
/// be f32, or int64 with values an f32 holds exactly (|v| ≤ 2^24: PyTorch's
/// `num_batches_tracked`), read as f32.
pub fn read(path: &Path) -> Result<(Vec<Tensor>, HashMap<String, String>), WeightsError> {
    let file = read_file(path)?;
    match file.f64.first() {
        Some(t) => Err(WeightsError::NotF32 {
            path: path.to_path_buf(),
            name: t.name.clone(),
            dtype: Dtype::F64,
        }),
        None => Ok((file.tensors, file.metadata)),
    }
}

/// A named f64 tensor read from a file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tensor64 {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// What [`read_file`] found: the f32 tensors (counts included), the f64
/// ones apart, and the metadata.
pub(crate) struct File {
    pub tensors: Vec<Tensor>,
    pub f64: Vec<Tensor64>,
    pub metadata: HashMap<String, String>,
}

/// [`read()`], with f64 tensors kept apart instead of refused (a
/// checkpoint's history is one).
pub(crate) fn read_file(path: &Path) -> Result<File, WeightsError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(invalid(path))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let file = SafeTensors::deserialize(&bytes).map_err(invalid(path))?;
    let (mut tensors, mut f64) = (Vec::new(), Vec::new());
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    for name in names {
        let view = file.tensor(&name).map_err(|source| WeightsError::Tensor {
            path: path.to_path_buf(),
            name: name.clone(),
            source,
        })?;
        let not_f32 = || WeightsError::NotF32 {
            path: path.to_path_buf(),
            name: name.clone(),
            dtype: view.dtype(),
        };
        let data = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::I64 => view
                .data()
                .chunks_exact(8)
                .map(|c| {
                    let v = i64::from_le_bytes(c.try_into().expect("chunks of 8"));
                    (v.unsigned_abs() <= 1 << 24).then_some(v as f32)
                })
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(not_f32)?,
            Dtype::F64 => {
                let data = view
                    .data()
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
                    .collect();
                f64.push(Tensor64 {
                    name,
                    shape: view.shape().to_vec(),
                    data,
                });
                continue;
            }
            _ => return Err(not_f32()),
        };
        tensors.push(Tensor {
            name,
            shape: view.shape().to_vec(),
            data,
        });
    }
    Ok(File {
        tensors,
        f64,
        metadata,
    })
}

fn shape_text(shape: &[usize]) -> String {
    crate::summary::shape_string(shape)
}

/// The network's parameters and buffers as [`write_with`] takes them.
fn entries<N: Network>(net: &N) -> Vec<(&'static str, &'static [usize], Values<'_>)> {
    net.state_tensors()
        .map(|(t, data)| {
            let values = match t.count {
                true => Values::Count(data),
                false => Values::F32(data),
            };
            (t.name, t.shape, values)
        })
        .collect()
}

/// Writes the network's parameters and buffers, then `extra` tensors, with
/// `metadata`, to `path` (atomically).
pub(crate) fn write_with<'a, N: Network>(
    net: &'a N,
    extra: &[(&'a str, &'a [usize], Values<'a>)],
    metadata: HashMap<String, String>,
    path: &Path,
) -> Result<(), WeightsError> {
    let mut tensors = entries(net);
    tensors.extend_from_slice(extra);
    write_typed(path, &tensors, metadata)
}

/// Saves the network's parameters and buffers to `path` (atomically).
pub fn save<N: Network>(net: &N, path: &Path) -> Result<(), WeightsError> {
    write_with(net, &[], HashMap::new(), path)
}

/// Loads parameters into `net` from `tensors`; every tensor of the network
/// must be there with its shape (and as many values as its shape holds),
/// and nothing else (names starting with one of `ignore_prefixes` are
/// skipped). Everything is checked before anything is written: on error
/// the network is unchanged.
pub fn load_tensors<N: Network>(
    net: &mut N,
    tensors: &[Tensor],
    path: &Path,
    ignore_prefixes: &[&str],
) -> Result<(), WeightsError> {
    let checked = check_tensors::<N>(tensors, path, ignore_prefixes)?;
    checked.apply(net);
    Ok(())
}

/// Tensors found to fit network `N` by [`check_tensors`]: writing them
/// into it cannot fail.
pub(crate) struct Checked<'a, N> {
    tensors: Vec<(&'static str, &'a [f32])>,
    network: core::marker::PhantomData<N>,
}

impl<N: Network> Checked<'_, N> {
    /// Writes every tensor into `net`.
    pub(crate) fn apply(self, net: &mut N) {
        for (name, data) in self.tensors {
            net.state_tensor_mut(name)
                .expect("the network's own tensor")
                .copy_from_slice(data);
        }
    }
}

/// Checks that `tensors` are exactly network `N`'s (see [`load_tensors`])
/// without touching a network.
pub(crate) fn check_tensors<'a, N: Network>(
    tensors: &'a [Tensor],
    path: &Path,
    ignore_prefixes: &[&str],
) -> Result<Checked<'a, N>, WeightsError> {
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    let mut found = Vec::new();
    let expected = || N::TENSORS.iter().chain(N::BUFFERS);
    for info in expected() {
        match tensors.iter().find(|t| t.name == info.name) {
            None => missing.push(format!("{} {}", info.name, shape_text(info.shape))),
            Some(t) if t.shape != info.shape => wrong.push(format!(
                "{}: shape {}, expected {}",
                info.name,
                shape_text(&t.shape),
                shape_text(info.shape)
            )),
            // the fields are public: a tensor may claim a shape its data
            // does not fill
            Some(t) if t.data.len() != info.shape.iter().product::<usize>() => wrong.push(format!(
                "{}: {} values for shape {}, expected {}",
                info.name,
                t.data.len(),
                shape_text(info.shape),
                info.shape.iter().product::<usize>()
            )),
            Some(t) => found.push((info.name, &t.data[..])),
        }
    }
    let extra: Vec<String> = tensors
        .iter()
        .filter(|t| !ignore_prefixes.iter().any(|p| t.name.starts_with(p)))
        .filter(|t| !expected().any(|i| i.name == t.name))
        .map(|t| format!("{} {}", t.name, shape_text(&t.shape)))
        .collect();
    if !missing.is_empty() || !extra.is_empty() || !wrong.is_empty() {
        return Err(WeightsError::Mismatch {
            path: path.to_path_buf(),
            network: N::NAME,
            missing,
            extra,
            wrong,
        });
    }
    Ok(Checked {
        tensors: found,
        network: core::marker::PhantomData,
    })
}

/// Loads the network's parameters and buffers from a safetensors file. A file with
/// missing, extra or wrongly shaped tensors is an error that lists them all,
/// and leaves the network unchanged.
pub fn load<N: Network>(net: &mut N, path: &Path) -> Result<(), WeightsError> {
    let (tensors, _) = read(path)?;
    load_tensors(net, &tensors, path, &[])
}
