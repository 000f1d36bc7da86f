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
//! A file that [`save`] writes also says which network it holds, in its
//! metadata: the network's name ([`NETWORK_KEY`]), its input shape
//! ([`INPUT_SHAPE_KEY`], `[1, 28, 28]`) and its layers ([`LAYERS_KEY`], a
//! JSON list of `{"name", "kind", "output"}`: the summary's rows, blocks'
//! included). [`load`] compares them with the network it loads into,
//! where the file has them, so that a file of another network is refused
//! with what differs (the input shape, the first layer that differs)
//! rather than only the tensors that do not fit. The name alone does not
//! have to match: a renamed struct of the same layers loads. A file
//! without them (a PyTorch `state_dict`) loads by its tensors' names and
//! shapes alone.
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

/// The metadata key of the name of the network a file was written from
/// (`"LeNet5"`).
pub const NETWORK_KEY: &str = "nn.network";
/// The metadata key of the input shape of the network a file was written
/// from (`"[1, 28, 28]"`).
pub const INPUT_SHAPE_KEY: &str = "nn.input_shape";
/// The metadata key of the layers of the network a file was written from:
/// a JSON list with an object per row of its summary,
/// `{"name": "c2", "kind": "conv 5x5", "output": [16, 10, 10]}`.
pub const LAYERS_KEY: &str = "nn.layers";

/// A layer as a weight file records it: a row of the network's summary
/// ([`LayerInfo`](crate::LayerInfo)'s name, kind and output shape).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerRecord {
    /// `"c2"`, `"3"`, `"res.0"`.
    pub name: String,
    /// `"conv 5x5 pad 2"`, `"relu"`, `"branch"`.
    pub kind: String,
    /// Output shape of one sample.
    pub output_shape: Vec<usize>,
}

impl LayerRecord {
    fn of(info: &crate::LayerInfo) -> Self {
        LayerRecord {
            name: info.name.to_string(),
            kind: info.kind.to_string(),
            output_shape: info.output_shape.to_vec(),
        }
    }
}

impl core::fmt::Display for LayerRecord {
    /// `` `c2` conv 5x5 → [16, 10, 10] ``
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let shape = shape_text(&self.output_shape);
        write!(f, "`{}` {} → {shape}", self.name, self.kind)
    }
}

/// The first layer at which a file's layer list and a network's differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerDifference {
    /// Its index in both lists (the rows of the summary, from 0).
    pub index: usize,
    /// The file's layer there (`None` past the end of its list).
    pub file: Option<LayerRecord>,
    /// The network's (`None` past the end of its list).
    pub network: Option<LayerRecord>,
    /// Layers in the file's list.
    pub file_layers: usize,
    /// Layers in the network's.
    pub network_layers: usize,
}

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
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: std::io::Error,
    },
    /// The file is not a valid safetensors file, or the tensors given to
    /// [`write()`] cannot make one.
    #[error("{}: not a valid safetensors file: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The error it comes from.
        source: SafeTensorError,
    },
    /// A tensor given to [`write()`] does not fit its shape, or a tensor listed
    /// in the file cannot be read.
    #[error("{}: tensor `{name}`: {source}", path.display())]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// The error it comes from.
        source: SafeTensorError,
    },
    /// A tensor of the file holds another type than f32 (or than an
    /// integer that an f32 holds exactly, for counts).
    #[error("{}: tensor `{name}` is {dtype:?}, expected F32", path.display())]
    NotF32 {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its element type.
        dtype: Dtype,
    },
    /// The file's tensors do not match the network's: every difference is listed.
    #[error(
        "{}: the tensors do not match `{network}`{}",
        path.display(),
        differences(missing, extra, wrong)
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The network's name.
        network: &'static str,
        /// The network's tensors that the file lacks.
        missing: Vec<String>,
        /// The file's tensors that the network lacks.
        extra: Vec<String>,
        /// Tensors of another shape or length, each with both.
        wrong: Vec<String>,
    },
    /// The file was written from another network: its metadata gives
    /// another input shape or other layers (every difference is listed;
    /// for the layers, the first that differs). Checked before the
    /// tensors, where the file has the metadata.
    #[error(
        "{}: {}{}",
        path.display(),
        written_for(network, file_network.as_deref()),
        network_differences(network, input_shape.as_ref(), layers.as_deref())
    )]
    OtherNetwork {
        /// The file.
        path: PathBuf,
        /// The network loaded into.
        network: &'static str,
        /// The name the file gives (`None` if it gives none).
        file_network: Option<String>,
        /// The file's input shape and the network's, if they differ.
        input_shape: Option<(Vec<usize>, Vec<usize>)>,
        /// The first layer that differs, if any does.
        layers: Option<Box<LayerDifference>>,
    },
    /// A metadata entry that describes the network cannot be read.
    #[error(
        "{}: metadata `{key}` is damaged: {problem} (found `{}`)",
        path.display(),
        excerpt(value)
    )]
    Metadata {
        /// The file.
        path: PathBuf,
        /// [`INPUT_SHAPE_KEY`] or [`LAYERS_KEY`].
        key: &'static str,
        /// What the file holds there.
        value: String,
        /// What was expected, and where the value departs from it.
        problem: String,
    },
}

/// The head of [`WeightsError::OtherNetwork`]'s message.
fn written_for(network: &str, file_network: Option<&str>) -> String {
    match file_network {
        Some(name) if name == network => {
            format!("written from another definition of `{network}`, which differs from this one")
        }
        Some(name) => format!("written from `{name}`, which differs from `{network}`"),
        None => format!("written from a network that differs from `{network}`"),
    }
}

/// The lines of [`WeightsError::OtherNetwork`]'s message after its head.
fn network_differences(
    network: &str,
    input_shape: Option<&(Vec<usize>, Vec<usize>)>,
    layers: Option<&LayerDifference>,
) -> String {
    let mut text = String::new();
    if let Some((file, net)) = input_shape {
        text += &format!(
            "\n  input shape: {} in the file, {} in `{network}`",
            shape_text(file),
            shape_text(net)
        );
    }
    if let Some(d) = layers {
        let side = |layer: &Option<LayerRecord>, count: usize| match layer {
            Some(l) => l.to_string(),
            None => format!("none (of {count})"),
        };
        text += &format!(
            "\n  layer {}: {} in the file, {} in `{network}`",
            d.index,
            side(&d.file, d.file_layers),
            side(&d.network, d.network_layers)
        );
        if d.file_layers != d.network_layers {
            text += &format!(
                "\n  layers: {} in the file, {} in `{network}`",
                d.file_layers, d.network_layers
            );
        }
    }
    text
}

/// `value`, or its first 60 characters and an ellipsis if longer.
fn excerpt(value: &str) -> String {
    match value.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_string(),
    }
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
    /// The tensor's name.
    pub name: String,
    /// Its shape, PyTorch's layout.
    pub shape: Vec<usize>,
    /// Its values, row-major.
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
/// `metadata` and the network's description ([`NETWORK_KEY`],
/// [`INPUT_SHAPE_KEY`], [`LAYERS_KEY`]), to `path` (atomically).
pub(crate) fn write_with<'a, N: Network>(
    net: &'a N,
    extra: &[(&'a str, &'a [usize], Values<'a>)],
    mut metadata: HashMap<String, String>,
    path: &Path,
) -> Result<(), WeightsError> {
    let mut tensors = entries(net);
    tensors.extend_from_slice(extra);
    metadata.extend(description::<N>());
    write_typed(path, &tensors, metadata)
}

/// The metadata that says which network a file holds.
fn description<N: Network>() -> [(String, String); 3] {
    let layers: Vec<serde_json::Value> = N::LAYERS
        .iter()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "kind": l.kind,
                "output": l.output_shape,
            })
        })
        .collect();
    [
        (NETWORK_KEY.to_string(), N::NAME.to_string()),
        (INPUT_SHAPE_KEY.to_string(), shape_text(N::INPUT_SHAPE)),
        (
            LAYERS_KEY.to_string(),
            serde_json::Value::Array(layers).to_string(),
        ),
    ]
}

/// Saves the network's parameters and buffers to `path` (atomically), with
/// the metadata that says which network they are (see the [module
/// documentation](self)).
pub fn save<N: Network>(net: &N, path: &Path) -> Result<(), WeightsError> {
    write_with(net, &[], HashMap::new(), path)
}

/// Loads parameters into `net` from `tensors`, read from `path` with
/// `metadata` ([`read()`] gives both).
///
/// Where `metadata` describes the network the file was written from (as
/// [`save`] writes it), its input shape and layers must be `N`'s
/// ([`WeightsError::OtherNetwork`] otherwise, [`WeightsError::Metadata`]
/// if they cannot be read); its name need not be. An empty `metadata`
/// loads by the tensors alone, as a PyTorch file does. Then every tensor
/// of the network must be there with its shape (and as many values as its
/// shape holds), and nothing else (names starting with one of
/// `ignore_prefixes` are skipped). Everything is checked before anything
/// is written: on error the network is unchanged.
pub fn load_tensors<N: Network>(
    net: &mut N,
    tensors: &[Tensor],
    metadata: &HashMap<String, String>,
    path: &Path,
    ignore_prefixes: &[&str],
) -> Result<(), WeightsError> {
    check_network::<N>(metadata, path)?;
    let checked = check_tensors::<N>(tensors, path, ignore_prefixes)?;
    checked.apply(net);
    Ok(())
}

/// Checks that `metadata`, where it describes the network a file was
/// written from, describes network `N`: the same input shape and the same
/// layers (name, kind and output shape of each row of the summary). The
/// name may differ (a renamed struct, or a file named by another tool).
pub(crate) fn check_network<N: Network>(
    metadata: &HashMap<String, String>,
    path: &Path,
) -> Result<(), WeightsError> {
    let damaged = |key: &'static str, value: &str, problem: String| WeightsError::Metadata {
        path: path.to_path_buf(),
        key,
        value: value.to_string(),
        problem,
    };
    let input_shape = match metadata.get(INPUT_SHAPE_KEY) {
        Some(v) => Some(parse_shape(v).map_err(|e| damaged(INPUT_SHAPE_KEY, v, e))?),
        None => None,
    };
    let layers = match metadata.get(LAYERS_KEY) {
        Some(v) => Some(parse_layers(v).map_err(|e| damaged(LAYERS_KEY, v, e))?),
        None => None,
    };
    let input_shape = input_shape
        .filter(|shape| shape != N::INPUT_SHAPE)
        .map(|shape| (shape, N::INPUT_SHAPE.to_vec()));
    let layers = layers
        .and_then(|file| first_difference(&file, N::LAYERS))
        .map(Box::new);
    if input_shape.is_none() && layers.is_none() {
        return Ok(());
    }
    Err(WeightsError::OtherNetwork {
        path: path.to_path_buf(),
        network: N::NAME,
        file_network: metadata.get(NETWORK_KEY).cloned(),
        input_shape,
        layers,
    })
}

/// The first row at which `file`'s layers and `network`'s differ.
fn first_difference(file: &[LayerRecord], network: &[crate::LayerInfo]) -> Option<LayerDifference> {
    let network: Vec<LayerRecord> = network.iter().map(LayerRecord::of).collect();
    let index = (0..file.len().max(network.len())).find(|&i| file.get(i) != network.get(i))?;
    Some(LayerDifference {
        index,
        file: file.get(index).cloned(),
        network: network.get(index).cloned(),
        file_layers: file.len(),
        network_layers: network.len(),
    })
}

/// A shape written as [`INPUT_SHAPE_KEY`] holds it: `[1, 28, 28]`.
fn parse_shape(text: &str) -> Result<Vec<usize>, String> {
    serde_json::from_str(text).map_err(|e| format!("expected a shape such as [1, 28, 28] ({e})"))
}

/// A layer list written as [`LAYERS_KEY`] holds it.
fn parse_layers(text: &str) -> Result<Vec<LayerRecord>, String> {
    const EXPECTED: &str = r#"expected a list of {"name": "…", "kind": "…", "output": [..]}"#;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{EXPECTED} ({e})"))?;
    let rows = value
        .as_array()
        .ok_or_else(|| format!("{EXPECTED}, found no list"))?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let text = |field: &str| {
                row.get(field)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("{EXPECTED}: entry {i} has no text `{field}`"))
            };
            let (name, kind) = (text("name")?, text("kind")?);
            let output_shape = row
                .get("output")
                .and_then(serde_json::Value::as_array)
                .and_then(|dims| {
                    dims.iter()
                        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                        .collect::<Option<Vec<usize>>>()
                })
                .ok_or_else(|| format!("{EXPECTED}: entry {i} has no shape `output`"))?;
            Ok(LayerRecord {
                name,
                kind,
                output_shape,
            })
        })
        .collect()
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

/// Loads the network's parameters and buffers from a safetensors file.
///
/// A file written from another network ([`save`]'s metadata gives another
/// input shape or other layers) is an error that says what differs
/// ([`WeightsError::OtherNetwork`]); one with missing, extra or wrongly
/// shaped tensors is an error that lists them all
/// ([`WeightsError::Mismatch`]). Either leaves the network unchanged. A
/// file without that metadata (from PyTorch) is checked by its tensors
/// alone; to load a file by its tensors whatever its metadata, pass
/// [`read()`]'s tensors with an empty map to [`load_tensors`].
pub fn load<N: Network>(net: &mut N, path: &Path) -> Result<(), WeightsError> {
    let (tensors, metadata) = read(path)?;
    load_tensors(net, &tensors, &metadata, path, &[])
}
