//! Reference kernels shared by the benchmarks.

use nn_runtime::kernels::conv2d::Geometry;

/// Direct convolution of one sample, seven nested loops: the naive reference.
pub fn naive_conv(g: &Geometry, w: &[f32], x: &[f32], y: &mut [f32]) {
    for o in 0..g.oc {
        for i in 0..g.oh {
            for j in 0..g.ow {
                let mut s = 0.0;
                for c in 0..g.c {
                    for u in 0..g.kh {
                        for v in 0..g.kw {
                            let yy = (i * g.sh + u) as isize - g.pt as isize;
                            let xx = (j * g.sw + v) as isize - g.pl as isize;
                            if yy >= 0 && xx >= 0 && (yy as usize) < g.h && (xx as usize) < g.w {
                                s += w[((o * g.c + c) * g.kh + u) * g.kw + v]
                                    * x[(c * g.h + yy as usize) * g.w + xx as usize];
                            }
                        }
                    }
                }
                y[(o * g.oh + i) * g.ow + j] = s;
            }
        }
    }
}

/// The gradients of [`naive_conv`] for one sample, direct loops:
/// accumulates `dx += Σ w · dy` and `dw += Σ x · dy` (used by one bench
/// target, not the other).
#[allow(dead_code)]
pub fn naive_conv_backward(
    g: &Geometry,
    w: &[f32],
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dw: &mut [f32],
) {
    for o in 0..g.oc {
        for i in 0..g.oh {
            for j in 0..g.ow {
                let d = dy[(o * g.oh + i) * g.ow + j];
                for c in 0..g.c {
                    for u in 0..g.kh {
                        for v in 0..g.kw {
                            let yy = (i * g.sh + u) as isize - g.pt as isize;
                            let xx = (j * g.sw + v) as isize - g.pl as isize;
                            if yy >= 0 && xx >= 0 && (yy as usize) < g.h && (xx as usize) < g.w {
                                let xi = (c * g.h + yy as usize) * g.w + xx as usize;
                                let wi = ((o * g.c + c) * g.kh + u) * g.kw + v;
                                dx[xi] += w[wi] * d;
                                dw[wi] += x[xi] * d;
                            }
                        }
                    }
                }
            }
        }
    }
}
