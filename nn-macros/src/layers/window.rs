//! The window shared by `conv`, `max_pool` and `avg_pool`: padding and
//! rounding resolved, the output size on both axes, the errors of a window
//! that does not fit or would drop input (with the padding that would fix
//! it), the summary's description, and the runtime geometry it becomes.

use super::lit;
use crate::args::Pad;
use crate::diagnostics::{Errors, Message};
use crate::ir::Window;
use crate::shape::{self, Axis, Dir, Round, Shape, WindowError, MAX_DIM};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

/// A conv's or pool's window, as its arguments gave it.
pub struct WindowSpec {
    /// "kernel" (conv) or "window" (pools), in messages.
    pub noun: &'static str,
    pub kernel: (usize, usize),
    pub kernel_at: (Span, Span),
    pub stride: (usize, usize),
    pub pad: Pad,
    pub round: Round,
    /// Output channels, for the shapes in helps.
    pub out_channels: usize,
    /// Largest padding a side may have (pools: half the window, PyTorch's rule).
    pub max_pad: Option<(usize, usize)>,
}

/// A resolved window and the output height and width it gives.
pub struct Resolved {
    pub window: Window,
    pub oh: usize,
    pub ow: usize,
}

impl WindowSpec {
    /// Resolves padding and rounding and computes the output size on both
    /// axes; a window that does not fit, or drops input, is one error.
    pub fn resolve(
        &self,
        head: &str,
        span: Span,
        input: Shape,
        (h, w): (usize, usize),
        errors: &mut Errors,
    ) -> Option<Resolved> {
        let (pads, round) = match self.pad {
            Pad::Explicit(t, b, l, r) => ((t, b, l, r), self.round),
            Pad::Same => {
                let (t, b) = shape::same_padding(h, self.kernel.0, self.stride.0);
                let (l, r) = shape::same_padding(w, self.kernel.1, self.stride.1);
                ((t, b, l, r), Round::Floor)
            }
            Pad::Valid => ((0, 0, 0, 0), Round::Floor),
        };
        // every dimension is at most MAX_DIM, the padded input's too (and
        // so the output's)
        let (ph, pw) = (h + pads.0 + pads.1, w + pads.2 + pads.3);
        if ph.max(pw) > MAX_DIM as usize {
            let m = Message::new(
                head,
                format!("the padded input is {ph}x{pw}; a dimension is at most {MAX_DIM}"),
            )
            .help(format!(
                "pad at most {} rows and {} columns in all",
                MAX_DIM as usize - h,
                MAX_DIM as usize - w
            ));
            errors.push(span, m.input(input));
            return None;
        }
        let axis = |size, i: usize, (before, after)| Axis {
            size,
            kernel: if i == 0 { self.kernel.0 } else { self.kernel.1 },
            stride: if i == 0 { self.stride.0 } else { self.stride.1 },
            before,
            after,
        };
        let (ax_h, ax_w) = (axis(h, 0, (pads.0, pads.1)), axis(w, 1, (pads.2, pads.3)));
        let results = [
            shape::window_out(Dir::Height, ax_h, round),
            shape::window_out(Dir::Width, ax_w, round),
        ];
        let errs: Vec<&WindowError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        let message = if errs
            .iter()
            .any(|e| matches!(e, WindowError::TooLarge { .. }))
        {
            let m = self.too_large(head, (h, w), pads, &errs);
            errors.push_range(self.kernel_at, m.input(input));
            return None;
        } else if !errs.is_empty() {
            self.drops(head, &errs)
                .help(drop_help(ax_h, ax_w, self, pads))
        } else {
            let (Ok(oh), Ok(ow)) = (results[0].clone(), results[1].clone()) else {
                unreachable!("no errors above")
            };
            let window = Window {
                kernel: self.kernel,
                stride: self.stride,
                pad: pads,
            };
            return Some(Resolved { window, oh, ow });
        };
        errors.push(span, message.input(input));
        None
    }

    /// The window is larger than the padded input on one axis or both.
    fn too_large(
        &self,
        head: &str,
        (h, w): (usize, usize),
        pads: (usize, usize, usize, usize),
        errs: &[&WindowError],
    ) -> Message {
        let (ph, pw) = (h + pads.0 + pads.1, w + pads.2 + pads.3);
        let padded = if pads == (0, 0, 0, 0) {
            "input"
        } else {
            "padded input"
        };
        let formula = match errs {
            [WindowError::TooLarge { axis: a, .. }, WindowError::TooLarge { axis: b, .. }] => format!(
                "the window must fit the padded input: {} + {} + {} < {} (height), {} + {} + {} < {} (width)",
                a.size, a.before, a.after, a.kernel, b.size, b.before, b.after, b.kernel
            ),
            _ => errs
                .iter()
                .filter(|e| matches!(e, WindowError::TooLarge { .. }))
                .map(|e| e.formula())
                .collect::<Vec<_>>()
                .join("; "),
        };
        let need = self
            .kernel
            .0
            .saturating_sub(h)
            .max(self.kernel.1.saturating_sub(w))
            .div_ceil(2);
        let keep = if self.max_pad.is_none_or(|(mh, mw)| need <= mh.min(mw)) {
            format!(", or pad = {need} to keep this {}", self.noun)
        } else {
            String::new()
        };
        let problem = format!(
            "{} {} does not fit the {ph}x{pw} {padded}",
            kernel_text(self.kernel),
            self.noun
        );
        Message::new(head, problem)
            .formula(formula)
            .help(format!("use a {} of at most {ph}x{pw}{keep}", self.noun))
    }

    /// The window leaves real input rows or columns unused.
    fn drops(&self, head: &str, errs: &[&WindowError]) -> Message {
        let (problem, formula) = match errs {
            // the same numbers on both axes: say it once
            [WindowError::Drops {
                axis: a,
                remainder: r,
                ..
            }, WindowError::Drops {
                axis: b,
                remainder: s,
                ..
            }] if a == b && r == s => {
                let span = a.size + a.before + a.after - a.kernel;
                let n = errs[0].dropped();
                let unused = if n == 1 {
                    "the last input row and column".to_string()
                } else {
                    format!("the last {n} input rows and columns")
                };
                (
                    format!(
                        "output height and width ({} + {} + {} − {}) / {} + 1 leave {unused} unused ({span} mod {} = {r})",
                        a.size, a.before, a.after, a.kernel, a.stride, a.stride
                    ),
                    format!("{} (and likewise for the width)", errs[0].formula()),
                )
            }
            _ => (
                errs.iter()
                    .map(|e| e.problem())
                    .collect::<Vec<_>>()
                    .join("; "),
                errs.iter()
                    .map(|e| e.formula())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        };
        Message::new(head, problem).formula(formula)
    }
}

/// The runtime geometry of a window layer: a type whose
/// `Window::GEOMETRY` holds the sizes, for `Conv2d<ident, BIAS>`,
/// `MaxPool2d<ident>` or `AvgPool2d<ident>`, and its name. The name is made
/// of the numbers, so layers of one geometry share one type (the expansion
/// emits it once) and their kernels are compiled once: ResNet-20's 21
/// convolutions have 7 geometries.
pub fn geometry_items(
    (c, h, w): (usize, usize, usize),
    (oc, oh, ow): (usize, usize, usize),
    window: &Window,
) -> (Ident, TokenStream) {
    let (pt, pb, pl, pr) = window.pad;
    let numbers = [
        c,
        h,
        w,
        oc,
        oh,
        ow,
        window.kernel.0,
        window.kernel.1,
        window.stride.0,
        window.stride.1,
        pt,
        pb,
        pl,
        pr,
    ]
    .map(|n| n.to_string());
    let ident = format_ident!("__Window_{}", numbers.join("_"));
    let [c, h, w, oc, oh, ow] = [c, h, w, oc, oh, ow].map(lit);
    let [kh, kw, sh, sw] = [
        window.kernel.0,
        window.kernel.1,
        window.stride.0,
        window.stride.1,
    ]
    .map(lit);
    let [pt, pb, pl, pr] = [pt, pb, pl, pr].map(lit);
    let items = quote! {
        struct #ident;
        impl ::nn::__private::Window for #ident {
            const GEOMETRY: ::nn::__private::Geometry = ::nn::__private::Geometry {
                c: #c, h: #h, w: #w, oc: #oc, oh: #oh, ow: #ow,
                kh: #kh, kw: #kw, sh: #sh, sw: #sw,
                pt: #pt, pb: #pb, pl: #pl, pr: #pr,
            };
        }
    };
    (ident, items)
}

/// `5x5`
fn kernel_text(k: (usize, usize)) -> String {
    format!("{}x{}", k.0, k.1)
}

pub fn pad_text(p: (usize, usize, usize, usize)) -> String {
    if p.0 == p.1 && p.1 == p.2 && p.2 == p.3 {
        p.0.to_string()
    } else if p.0 == p.1 && p.2 == p.3 {
        format!("({}, {})", p.0, p.2)
    } else {
        format!("({}, {}, {}, {})", p.0, p.1, p.2, p.3)
    }
}

/// The summary's description: `conv 5x5 stride 2 pad 1 floor`.
pub fn window_text(name: &str, w: &Window, default_stride: (usize, usize), round: Round) -> String {
    let mut s = format!("{name} {}", kernel_text(w.kernel));
    if w.stride != default_stride {
        let stride = if w.stride.0 == w.stride.1 {
            w.stride.0.to_string()
        } else {
            format!("({}, {})", w.stride.0, w.stride.1)
        };
        s.push_str(&format!(" stride {stride}"));
    }
    if w.pad != (0, 0, 0, 0) {
        s.push_str(&format!(" pad {}", pad_text(w.pad)));
    }
    match round {
        Round::Exact => {}
        Round::Floor => s.push_str(" floor"),
        Round::Ceil => s.push_str(" ceil"),
    }
    s
}

/// The help of a window that drops input: the smallest padding that keeps
/// it (symmetric when both axes need it and that works, else on the bottom
/// or right of the failing axis only), `pad = same`, and `round = floor`.
fn drop_help(
    ax_h: Axis,
    ax_w: Axis,
    ws: &WindowSpec,
    pads: (usize, usize, usize, usize),
) -> String {
    let fits = |a: Axis| shape::window_out(Dir::Height, a, Round::Exact).ok();
    let allowed = |p: usize, axis: usize| {
        ws.max_pad
            .is_none_or(|m| p <= if axis == 0 { m.0 } else { m.1 })
    };
    let shape_of = |oh: usize, ow: usize| Shape::Image {
        c: ws.out_channels,
        h: oh,
        w: ow,
    };
    let (h_bad, w_bad) = (fits(ax_h).is_none(), fits(ax_w).is_none());
    let limit = ws
        .kernel
        .0
        .max(ws.kernel.1)
        .max(ws.stride.0)
        .max(ws.stride.1);
    let mut fix = None;
    if h_bad && w_bad && pads == (0, 0, 0, 0) {
        fix = (1..=limit).find_map(|p| {
            let oh = fits(Axis {
                before: p,
                after: p,
                ..ax_h
            })?;
            let ow = fits(Axis {
                before: p,
                after: p,
                ..ax_w
            })?;
            (allowed(p, 0) && allowed(p, 1))
                .then(|| format!("pad = {p} gives {}", shape_of(oh, ow)))
        });
    }
    if fix.is_none() {
        let extra = |a: Axis, axis: usize| {
            (1..=limit).find(|e| {
                allowed(a.after + e, axis)
                    && fits(Axis {
                        after: a.after + e,
                        ..a
                    })
                    .is_some()
            })
        };
        let eh = if h_bad { extra(ax_h, 0) } else { Some(0) };
        let ew = if w_bad { extra(ax_w, 1) } else { Some(0) };
        if let (Some(eh), Some(ew)) = (eh, ew) {
            let p = (pads.0, pads.1 + eh, pads.2, pads.3 + ew);
            let oh = fits(Axis { after: p.1, ..ax_h }).unwrap_or(0);
            let ow = fits(Axis { after: p.3, ..ax_w }).unwrap_or(0);
            fix = Some(format!("pad = {} gives {}", pad_text(p), shape_of(oh, ow)));
        }
    }
    let same = shape_of(
        ax_h.size.div_ceil(ws.stride.0),
        ax_w.size.div_ceil(ws.stride.1),
    );
    let mut help = fix.map(|f| format!("{f}; ")).unwrap_or_default();
    help.push_str(&format!(
        "pad = same gives {same}; round = floor drops the rest on purpose"
    ));
    help
}
