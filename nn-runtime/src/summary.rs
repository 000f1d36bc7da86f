//! The summary table of a network: a row per layer with its name, kind,
//! output shape, parameters, multiply-adds, receptive field and the
//! strategy this machine runs it with; then the totals.
//!
//! A block (`add`, `concat`, `residual`) has a row of its own with its
//! totals, a row per branch with the branch's totals and output shape, the
//! branch's layers indented under it, and a merge row with the block's
//! output shape; an identity branch (`[]`) is a branch row without layers.

use crate::layers::Strategy;
use core::fmt;

/// What a row of the summary stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A layer.
    Layer,
    /// The start of a block: its parameters and multiply-adds are the
    /// totals of its branches and merge, and it has no output shape.
    Block,
    /// The start of one of a block's branches, with the branch's totals and
    /// output shape (an identity branch `[]` has no layers).
    Branch,
    /// A block's merge (the sum or the concatenation of its branches), with
    /// the block's output shape.
    Merge,
}

/// What the summary shows of one layer (or block row); the macro writes
/// these as constants.
#[derive(Clone, Copy, Debug)]
pub struct LayerInfo {
    /// The item's name: its own (`c2`) or its index in the list (`"3"`).
    pub name: &'static str,
    /// The layer as written, with its resolved arguments (`conv 5x5 pad 2`,
    /// `max_pool 2x2`).
    pub kind: &'static str,
    /// Output shape of one sample.
    pub output_shape: &'static [usize],
    /// Learnable parameters.
    pub params: usize,
    /// Values in the layer's named buffers (batch norm's running
    /// statistics), not counted in `params`.
    pub buffers: usize,
    /// Multiply-adds per sample.
    pub macs: usize,
    /// Receptive field `[height, width]` in input pixels of one output value,
    /// at most the network's input size; for flat layers, the whole input.
    pub receptive_field: [usize; 2],
    /// How the layer is computed on this machine: the runtime layer's own
    /// choice, from its geometry and the CPU (see [`LayerInfo::strategy`]).
    #[doc(hidden)]
    pub strategy_of: fn() -> Strategy,
    /// How many blocks and branches the row is inside (0 at the top).
    pub depth: usize,
    /// A layer, or one of a block's rows.
    pub role: Role,
}

impl LayerInfo {
    /// How this machine computes the layer (`implicit gemm`,
    /// `im2col + gemm`, `gemm`, `direct`, `view`).
    pub fn strategy(&self) -> Strategy {
        (self.strategy_of)()
    }
}

/// The summary of a network: a table with a row per layer and the totals;
/// print it with `{}`.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// The network's name.
    pub name: &'static str,
    /// Shape of one input sample.
    pub input_shape: &'static [usize],
    /// One entry per layer, in order.
    pub layers: &'static [LayerInfo],
    /// Learnable parameters.
    pub params: usize,
    /// Values in the named buffers (saved, not trained).
    pub buffers: usize,
    /// Bytes of the parameters.
    pub param_bytes: usize,
    /// Bytes of training workspace per sample: the values kept for
    /// backward and the gradients, as planned
    /// ([`Network::WORKSPACE_BYTES_PER_SAMPLE`](crate::Network::WORKSPACE_BYTES_PER_SAMPLE)).
    pub workspace_bytes_per_sample: usize,
    /// Of those, the values kept for backward.
    pub kept_bytes_per_sample: usize,
    /// Bytes of values per sample without the plan: a slot per value (an
    /// in-place activation's too); twice that for training, values and
    /// gradients.
    pub unplanned_bytes_per_sample: usize,
    /// Bytes of activations per sample in inference, as planned
    /// ([`Network::INFERENCE_BYTES_PER_SAMPLE`](crate::Network::INFERENCE_BYTES_PER_SAMPLE)).
    pub inference_bytes_per_sample: usize,
    /// Bytes held whatever the batch ([`Network::FIXED_BYTES`](crate::Network::FIXED_BYTES)).
    pub fixed_bytes: usize,
    /// Of those, the layers' shared scratch.
    pub scratch_bytes: usize,
}

impl Summary {
    /// Total multiply-adds per sample.
    pub fn macs(&self) -> usize {
        self.layers
            .iter()
            .filter(|l| matches!(l.role, Role::Layer | Role::Merge))
            .map(|l| l.macs)
            // saturating: a layer may count up to 2^62
            .fold(0, usize::saturating_add)
    }
}

/// `[16, 10, 10]`
pub(crate) fn shape_string(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// `61706` → `61,706`
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "layer",
            "kind",
            "output",
            "params",
            "mult-adds",
            "receptive field",
            "strategy",
        ];
        let mut rows: Vec<[String; 7]> = vec![[
            "input".into(),
            String::new(),
            shape_string(self.input_shape),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]];
        for l in self.layers {
            let indent = "  ".repeat(l.depth);
            let shape = match l.role {
                Role::Block => String::new(),
                _ => shape_string(l.output_shape),
            };
            let (field, strategy) = match l.role {
                Role::Layer | Role::Merge => (
                    format!("{}x{}", l.receptive_field[0], l.receptive_field[1]),
                    l.strategy().to_string(),
                ),
                Role::Block | Role::Branch => (String::new(), String::new()),
            };
            let params = match l.buffers {
                0 => thousands(l.params),
                b => format!("{} + {} buffers", thousands(l.params), thousands(b)),
            };
            rows.push([
                format!("{indent}{}", l.name),
                l.kind.into(),
                shape,
                params,
                thousands(l.macs),
                field,
                strategy,
            ]);
        }
        let mut width = header.map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            let mut s = String::new();
            for (i, (c, w)) in cells.iter().zip(width).enumerate() {
                let pad = w - c.chars().count();
                // numbers right-aligned, text left-aligned
                if (3..=4).contains(&i) {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
                s.push_str("  ");
            }
            writeln!(f, "{}", s.trim_end())
        };
        writeln!(f, "{}", self.name)?;
        line(f, &header.map(String::from))?;
        let total: usize = width.iter().sum::<usize>() + 2 * (width.len() - 1);
        writeln!(f, "{}", "-".repeat(total))?;
        for r in &rows {
            line(f, r)?;
        }
        writeln!(f, "{}", "-".repeat(total))?;
        writeln!(
            f,
            "parameters: {} ({} bytes)",
            thousands(self.params),
            thousands(self.param_bytes)
        )?;
        if self.buffers > 0 {
            writeln!(
                f,
                "buffers (running statistics, not trained): {}",
                thousands(self.buffers)
            )?;
        }
        writeln!(f, "mult-adds per sample: {}", thousands(self.macs()))?;
        writeln!(
            f,
            "memory whatever the batch: {} bytes (parameters, gradients, buffers, {} bytes of scratch)",
            thousands(self.fixed_bytes),
            thousands(self.scratch_bytes)
        )?;
        let (kept, workspace) = (self.kept_bytes_per_sample, self.workspace_bytes_per_sample);
        let unplanned = self.unplanned_bytes_per_sample;
        writeln!(
            f,
            "training workspace per sample: {} bytes ({} of values kept for backward, {} of gradients; {} without the memory plan)",
            thousands(workspace),
            thousands(kept),
            thousands(workspace - kept),
            thousands(2 * unplanned),
        )?;
        write!(
            f,
            "inference activations per sample: {} bytes ({} without the memory plan)",
            thousands(self.inference_bytes_per_sample),
            thousands(unplanned),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(61706), "61,706");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
