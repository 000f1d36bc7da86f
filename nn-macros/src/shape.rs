//! Pure shape arithmetic: numbers in, sizes or a [`WindowError`] out. No
//! syn and no spans, so every rule and message is unit-tested here.

use std::fmt;

/// The shape of one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `[C, H, W]`
    Image { c: usize, h: usize, w: usize },
    /// `[T, F]`
    Seq { t: usize, f: usize },
    /// `[N]`
    Flat(usize),
}

impl Shape {
    pub fn len(&self) -> usize {
        match *self {
            Shape::Image { c, h, w } => c * h * w,
            Shape::Seq { t, f } => t * f,
            Shape::Flat(n) => n,
        }
    }

    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Image { c, h, w } => vec![c, h, w],
            Shape::Seq { t, f } => vec![t, f],
            Shape::Flat(n) => vec![n],
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d: Vec<String> = self.dims().iter().map(|d| d.to_string()).collect();
        write!(f, "[{}]", d.join(", "))
    }
}

/// Largest size of any one dimension or argument; larger numbers are
/// out-of-range errors, which keeps every product below in `usize`.
pub const MAX_DIM: u64 = 1 << 20;
/// Largest number of floats in one sample's tensor or in the parameters.
pub const MAX_LEN: usize = 1 << 31;

/// Product of sizes, or `None` past [`MAX_LEN`].
pub fn product(sizes: &[usize]) -> Option<usize> {
    sizes.iter().try_fold(1usize, |acc, &s| {
        acc.checked_mul(s).filter(|&p| p <= MAX_LEN)
    })
}

/// What to do with a remainder `(H + top + bottom − K) mod S`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// The default: a remainder is allowed only over padding or a stride gap.
    Exact,
    /// `round = floor` (and `pad = valid`): drop it, PyTorch's default.
    Floor,
    /// `round = ceil`: a last partial window, PyTorch's `ceil_mode`.
    Ceil,
}

/// One axis of a window: input size, kernel, stride, padding before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    pub size: usize,
    pub kernel: usize,
    pub stride: usize,
    pub before: usize,
    pub after: usize,
}

/// Which axis, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Height,
    Width,
}

impl Dir {
    fn names(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ) {
        match self {
            // (axis, input symbol, before, after, unit)
            Dir::Height => ("height", "H", "top", "bottom", "row"),
            Dir::Width => ("width", "W", "left", "right", "column"),
        }
    }
}

/// Why a window does not fit an axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowError {
    /// `size + before + after < kernel`
    TooLarge { dir: Dir, axis: Axis },
    /// A remainder that would drop real input.
    Drops {
        dir: Dir,
        axis: Axis,
        remainder: usize,
    },
}

impl WindowError {
    /// The first line of the message (after the layer's name).
    pub fn problem(&self) -> String {
        match self {
            WindowError::TooLarge { dir, axis } => {
                let (name, ..) = dir.names();
                format!(
                    "kernel {name} {} does not fit the padded input {name} {} + {} + {} = {}",
                    axis.kernel,
                    axis.size,
                    axis.before,
                    axis.after,
                    axis.size + axis.before + axis.after
                )
            }
            WindowError::Drops {
                dir,
                axis,
                remainder,
            } => {
                let (name, _, _, _, unit) = dir.names();
                let span = axis.size + axis.before + axis.after - axis.kernel;
                format!(
                    "output {name} ({} + {} + {} − {}) / {} + 1 leaves {} unused ({span} mod {} = {remainder})",
                    axis.size,
                    axis.before,
                    axis.after,
                    axis.kernel,
                    axis.stride,
                    unused_rows(unit, self.dropped()),
                    axis.stride,
                )
            }
        }
    }

    /// Real input rows (or columns) that no window reaches: the remainder
    /// less the padding it covers.
    pub fn dropped(&self) -> usize {
        match self {
            WindowError::Drops {
                axis, remainder, ..
            } => remainder - axis.after.min(*remainder),
            WindowError::TooLarge { .. } => 0,
        }
    }

    /// The formula line: the rule, with symbols and then the numbers.
    pub fn formula(&self) -> String {
        let (dir, axis) = match self {
            WindowError::TooLarge { dir, axis } | WindowError::Drops { dir, axis, .. } => {
                (dir, axis)
            }
        };
        let (_, sym, before, after, _) = dir.names();
        let (k, s) = if *dir == Dir::Height {
            ("KH", "SH")
        } else {
            ("KW", "SW")
        };
        match self {
            WindowError::TooLarge { .. } => format!(
                "the window must fit: {sym} + {before} + {after} ≥ {k}, but {} + {} + {} < {}",
                axis.size, axis.before, axis.after, axis.kernel
            ),
            WindowError::Drops { remainder, .. } => format!(
                "the remainder may only cover padding or a stride gap: {remainder} > {after} + max({s} − {k}, 0) = {}",
                axis.after + axis.stride.saturating_sub(axis.kernel)
            ),
        }
    }
}

/// `the last input row`, `the last 2 input columns`
pub fn unused_rows(unit: &str, n: usize) -> String {
    if n == 1 {
        format!("the last input {unit}")
    } else {
        format!("the last {n} input {unit}s")
    }
}

/// Output size along one axis, or why there is none:
/// `out = floor((size + before + after − kernel) / stride) + 1`, and with
/// [`Round::Exact`] the remainder may only cover padding or a stride gap.
pub fn window_out(dir: Dir, a: Axis, round: Round) -> Result<usize, WindowError> {
    let padded = a.size + a.before + a.after;
    if padded < a.kernel {
        return Err(WindowError::TooLarge { dir, axis: a });
    }
    let span = padded - a.kernel;
    let floor = span / a.stride + 1;
    let remainder = span % a.stride;
    match round {
        Round::Floor => Ok(floor),
        Round::Exact => {
            if remainder <= a.after + a.stride.saturating_sub(a.kernel) {
                Ok(floor)
            } else {
                Err(WindowError::Drops {
                    dir,
                    axis: a,
                    remainder,
                })
            }
        }
        Round::Ceil => {
            // PyTorch's ceil_mode: one more window if a remainder is left,
            // unless it would start in the bottom/right padding.
            let mut out = span.div_ceil(a.stride) + 1;
            if (out - 1) * a.stride >= a.size + a.before {
                out -= 1;
            }
            Ok(out)
        }
    }
}

/// `pad = same`: `out = ceil(size / stride)` and the padding that gives it,
/// the smaller half before (TensorFlow's rule). Returns `(before, after)`.
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// Receptive field bookkeeping along one axis: (field, jump).
pub fn receptive(prev: (usize, usize), kernel: usize, stride: usize) -> (usize, usize) {
    // saturating: a deep stack of large strides must not overflow
    (
        prev.0.saturating_add((kernel - 1).saturating_mul(prev.1)),
        prev.1.saturating_mul(stride),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn axis(size: usize, kernel: usize, stride: usize, before: usize, after: usize) -> Axis {
        Axis {
            size,
            kernel,
            stride,
            before,
            after,
        }
    }

    #[test]
    fn table_of_output_sizes() {
        let cases = [
            // (size, kernel, stride, before, after, round, expected)
            (28, 5, 1, 2, 2, Round::Exact, Some(28)),
            (14, 5, 1, 0, 0, Round::Exact, Some(10)),
            (28, 2, 2, 0, 0, Round::Exact, Some(14)),
            // the textbook one-sided example: W = 4, F = 3, S = 2, one pad on one side
            (4, 3, 2, 0, 1, Round::Exact, Some(2)),
            (4, 3, 2, 1, 0, Round::Exact, Some(2)),
            (4, 3, 2, 0, 0, Round::Exact, None),
            // ResNet's 3x3 stride-2 pad-1 conv on an even size: remainder over padding
            (56, 3, 2, 1, 1, Round::Exact, Some(28)),
            // AlexNet's 11x11 stride 4 pad 2 on 224
            (224, 11, 4, 2, 2, Round::Exact, Some(55)),
            // stride larger than the window leaves a gap anyway
            (6, 2, 3, 0, 0, Round::Exact, Some(2)),
            (7, 2, 3, 0, 0, Round::Exact, None),
            (14, 5, 2, 0, 0, Round::Exact, None),
            (14, 5, 2, 0, 0, Round::Floor, Some(5)),
            (7, 2, 2, 0, 0, Round::Ceil, Some(4)),
            (6, 3, 2, 1, 1, Round::Ceil, Some(4)),
            (5, 2, 2, 0, 0, Round::Ceil, Some(3)),
            (5, 5, 1, 0, 0, Round::Exact, Some(1)),
            (4, 5, 1, 0, 0, Round::Exact, None),
        ];
        for (size, k, s, b, a, round, want) in cases {
            let got = window_out(Dir::Height, axis(size, k, s, b, a), round).ok();
            assert_eq!(
                got, want,
                "size {size} kernel {k} stride {s} pad {b}/{a} {round:?}"
            );
        }
    }

    #[test]
    fn messages_show_the_numbers() {
        let e = window_out(Dir::Height, axis(14, 5, 2, 0, 0), Round::Exact).unwrap_err();
        assert_eq!(
            e.problem(),
            "output height (14 + 0 + 0 − 5) / 2 + 1 leaves the last input row unused (9 mod 2 = 1)"
        );
        assert_eq!(e.formula(), "the remainder may only cover padding or a stride gap: 1 > bottom + max(SH − KH, 0) = 0");
        // 13 + 0 + 1 − 3 = 11, 11 mod 4 = 3: one padding row and two real rows are left over
        let e = window_out(Dir::Height, axis(13, 3, 4, 0, 1), Round::Exact).unwrap_err();
        assert_eq!(e.dropped(), 2);
        assert!(
            e.problem()
                .contains("leaves the last 2 input rows unused (11 mod 4 = 3)"),
            "{}",
            e.problem()
        );
        let e = window_out(Dir::Width, axis(4, 5, 1, 0, 0), Round::Exact).unwrap_err();
        assert_eq!(
            e.problem(),
            "kernel width 5 does not fit the padded input width 4 + 0 + 0 = 4"
        );
        let e = window_out(Dir::Width, axis(10, 4, 4, 0, 0), Round::Exact).unwrap_err();
        assert!(
            e.problem()
                .contains("leaves the last 2 input columns unused (6 mod 4 = 2)"),
            "{}",
            e.problem()
        );
    }

    #[test]
    fn same_padding_follows_tensorflow() {
        assert_eq!(same_padding(8, 3, 2), (0, 1));
        assert_eq!(same_padding(7, 3, 2), (1, 1));
        assert_eq!(same_padding(28, 5, 1), (2, 2));
        assert_eq!(same_padding(5, 1, 2), (0, 0));
        assert_eq!(same_padding(6, 2, 2), (0, 0));
    }

    /// Brute force: count the window positions that start inside the
    /// padded input and end inside it.
    fn brute_count(a: Axis) -> usize {
        let padded = a.size + a.before + a.after;
        (0..padded)
            .step_by(a.stride)
            .filter(|&s| s + a.kernel <= padded)
            .count()
    }

    proptest! {
        #[test]
        fn floor_matches_brute_force(size in 1usize..60, k in 1usize..9, s in 1usize..5, b in 0usize..4, a in 0usize..4) {
            let ax = axis(size, k, s, b, a);
            match window_out(Dir::Height, ax, Round::Floor) {
                Ok(out) => { prop_assert!(out >= 1); prop_assert_eq!(out, brute_count(ax)); }
                Err(_) => prop_assert!(size + b + a < k),
            }
        }

        #[test]
        fn exact_never_drops_real_input(size in 1usize..60, k in 1usize..9, s in 1usize..5, b in 0usize..4, a in 0usize..4) {
            let ax = axis(size, k, s, b, a);
            if let Ok(out) = window_out(Dir::Height, ax, Round::Exact) {
                // the last real row is covered by a window or lies in a stride gap
                let last_real = b + size - 1;
                let end = (out - 1) * s + k;
                prop_assert!(end > last_real || s > k && last_real < out * s);
            }
        }

        #[test]
        fn same_gives_ceil(size in 1usize..60, k in 1usize..9, s in 1usize..5) {
            let (b, a) = same_padding(size, k, s);
            let out = window_out(Dir::Height, axis(size, k, s, b, a), Round::Floor).unwrap();
            prop_assert_eq!(out, size.div_ceil(s));
        }
    }
}
