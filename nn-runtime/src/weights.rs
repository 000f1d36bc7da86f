//! Weights as safetensors files with the SPEC's names and PyTorch's layouts
//! (`"0.weight"` is `[OUT, C, KH, KW]`, `"7.weight"` is `[OUT, IN]`, …), so a
//! PyTorch `state_dict` saved with `safetensors.torch.save_file` loads here
//! and ours loads there.
//!
//! Files are written atomically: to `<path>.tmp`, synced, then renamed over
//! `path`, so a crash never leaves a half-written file under the real name.

use crate::network::Network;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why weights could not be read or written.
#[derive(Debug)]
pub enum WeightsError {
    /// The file could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a valid safetensors file.
    Format { path: PathBuf, message: String },
    /// The file's tensors do not match the network's: every difference is listed.
    Mismatch {
        path: PathBuf,
        network: &'static str,
        missing: Vec<String>,
        extra: Vec<String>,
        wrong: Vec<String>,
    },
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            WeightsError::Format { path, message } => write!(
                f,
                "{}: not a valid safetensors file: {message}",
                path.display()
            ),
            WeightsError::Mismatch {
                path,
                network,
                missing,
                extra,
                wrong,
            } => {
                write!(
                    f,
                    "{}: the tensors do not match `{network}`",
                    path.display()
                )?;
                if !missing.is_empty() {
                    write!(f, "\n  missing: {}", missing.join(", "))?;
                }
                if !extra.is_empty() {
                    write!(f, "\n  not in the network: {}", extra.join(", "))?;
                }
                for w in wrong {
                    write!(f, "\n  {w}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WeightsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
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

/// Writes f32 tensors and string metadata to `path` atomically.
pub fn write(
    path: &Path,
    tensors: &[(&str, &[usize], &[f32])],
    metadata: HashMap<String, String>,
) -> Result<(), WeightsError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, data)| data.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            TensorView::new(Dtype::F32, shape.to_vec(), b)
                .map(|v| (name.to_string(), v))
                .map_err(|e| WeightsError::Format {
                    path: path.to_path_buf(),
                    message: format!("tensor `{name}`: {e}"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let buffer = safetensors::serialize(views, &metadata).map_err(|e| WeightsError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(&buffer).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Reads every tensor (all must be f32) and the metadata of a safetensors file.
pub fn read(path: &Path) -> Result<(Vec<Tensor>, HashMap<String, String>), WeightsError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let format = |message: String| WeightsError::Format {
        path: path.to_path_buf(),
        message,
    };
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let file = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
    let mut tensors = Vec::new();
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    for name in names {
        let view = file.tensor(&name).map_err(|e| format(e.to_string()))?;
        if view.dtype() != Dtype::F32 {
            return Err(format(format!(
                "tensor `{name}` is {:?}, expected F32",
                view.dtype()
            )));
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.push(Tensor {
            name,
            shape: view.shape().to_vec(),
            data,
        });
    }
    Ok((tensors, metadata))
}

fn shape_text(shape: &[usize]) -> String {
    crate::summary::shape_string(shape)
}

/// Saves the network's parameters to `path` (atomically).
pub fn save<N: Network>(net: &N, path: &Path) -> Result<(), WeightsError> {
    let tensors: Vec<(&str, &[usize], &[f32])> = net
        .tensors()
        .map(|(t, data)| (t.name, t.shape, data))
        .collect();
    write(path, &tensors, HashMap::new())
}

/// Loads parameters into `net` from `tensors`; every tensor of the network
/// must be there with its shape, and nothing else (names starting with one
/// of `ignore_prefixes` are skipped). Nothing is changed on error.
pub fn load_tensors<N: Network>(
    net: &mut N,
    tensors: &[Tensor],
    path: &Path,
    ignore_prefixes: &[&str],
) -> Result<(), WeightsError> {
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for info in N::TENSORS {
        match tensors.iter().find(|t| t.name == info.name) {
            None => missing.push(format!("{} {}", info.name, shape_text(info.shape))),
            Some(t) if t.shape != info.shape => wrong.push(format!(
                "{}: shape {}, expected {}",
                info.name,
                shape_text(&t.shape),
                shape_text(info.shape)
            )),
            Some(_) => {}
        }
    }
    let extra: Vec<String> = tensors
        .iter()
        .filter(|t| !ignore_prefixes.iter().any(|p| t.name.starts_with(p)))
        .filter(|t| !N::TENSORS.iter().any(|i| i.name == t.name))
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
    for info in N::TENSORS {
        let t = tensors
            .iter()
            .find(|t| t.name == info.name)
            .expect("checked above");
        net.tensor_mut(info.name)
            .expect("the network's own tensor")
            .copy_from_slice(&t.data);
    }
    Ok(())
}

/// Loads the network's parameters from a safetensors file. A file with
/// missing, extra or wrongly shaped tensors is an error that lists them all,
/// and leaves the network unchanged.
pub fn load<N: Network>(net: &mut N, path: &Path) -> Result<(), WeightsError> {
    let (tensors, _) = read(path)?;
    load_tensors(net, &tensors, path, &[])
}
