//! The per-layer summary table of a network (SPEC §5).

use core::fmt;

/// What the summary shows of one layer; the macro writes these as constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// The item's name: its own (`c2`) or its index in the list (`"3"`).
    pub name: &'static str,
    /// The layer as written, with its resolved arguments (`conv 5x5 /1 pad 2`).
    pub kind: &'static str,
    /// Output shape of one sample.
    pub output_shape: &'static [usize],
    /// Learnable parameters.
    pub params: usize,
    /// Multiply-adds per sample.
    pub macs: usize,
    /// Receptive field `[height, width]` in input pixels of one output value,
    /// clipped to the padded input; for flat layers, the whole input.
    pub receptive_field: [usize; 2],
    /// How the layer is computed (`im2col + sgemm`, `sgemm`, `direct`).
    pub strategy: &'static str,
}

/// The summary of a network: a table with a row per layer and the totals.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub name: &'static str,
    pub input_shape: &'static [usize],
    pub layers: &'static [LayerInfo],
    pub params: usize,
    pub param_bytes: usize,
    pub workspace_bytes_per_sample: usize,
}

impl Summary {
    /// Total multiply-adds per sample.
    pub fn macs(&self) -> usize {
        self.layers.iter().map(|l| l.macs).sum()
    }
}

/// `[16, 10, 10]`
pub fn shape_string(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// `61706` → `61,706`
pub fn thousands(n: usize) -> String {
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
            rows.push([
                l.name.into(),
                l.kind.into(),
                shape_string(l.output_shape),
                thousands(l.params),
                thousands(l.macs),
                format!("{}x{}", l.receptive_field[0], l.receptive_field[1]),
                l.strategy.into(),
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
        writeln!(f, "mult-adds per sample: {}", thousands(self.macs()))?;
        write!(
            f,
            "training workspace per sample: {} bytes",
            thousands(self.workspace_bytes_per_sample)
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
