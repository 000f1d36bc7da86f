"""Rounding error of Winograd's larger tiles against the golden files' tolerance.

Why the 3x3 convs use F(2x2, 3x3) and not a larger tile: a larger tile needs
fewer multiplications (2.25 per output for F(4x4, 3x3) against 4), but its
transforms have larger and less exact coefficients, and in float32 its error
grows past what `tests/golden.rs` allows, `|ours - torch| <= 1e-5 *
(|torch| + mean |torch|)` per element.

The script runs each algorithm in float32 (the transforms, the products
summed over the channels and the output transform, each rounded to float32
as the kernels do) on random convolutions with the default initialisation
(weights of standard deviation 1/sqrt(9 C)), input drawn from N(0, 1) and
zero-padded, and prints the largest error over the output divided by that
tolerance, against the float64 direct sum: below 1 passes.

Interpolation points: F(2x2) is the kernels' own matrices (points 0, 1,
-1, `nn-runtime/src/kernels/winograd.rs`); F(3x3) and F(4x4) are built by Toom-Cook from the points given (and infinity), the
rows of G and B^T scaled three ways (G's rows to a largest coefficient of 1,
B^T's, or balanced between them), the best of which is printed.

    python3 tools/winograd/error.py

Needs only numpy.
"""

import numpy as np

F32 = np.float32

# F(2x2, 3x3) as the kernels compute it
KERNELS_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
KERNELS_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
KERNELS_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])


def toom_cook(points, m, r=3):
    """A^T (m x n), G (n x r), B^T (n x n) of F(m, r) from `points` and infinity."""
    n = m + r - 1
    at = np.zeros((m, n))
    g = np.zeros((n, r))
    for j, p in enumerate(points):
        at[:, j] = [p**i for i in range(m)]
        f = np.prod([p - q for q in points if q != p])
        g[j] = [p**k / f for k in range(r)]
    at[m - 1, n - 1] = 1
    g[n - 1, r - 1] = 1
    # B^T from the identity sum_j A^T[i,j] G[j,k] B^T[j,l] = [l == i + k]
    rows, rhs = [], []
    for i in range(m):
        for k in range(r):
            for l in range(n):
                row = np.zeros((n, n))
                for j in range(n):
                    row[j, l] = at[i, j] * g[j, k]
                rows.append(row.ravel())
                rhs.append(1.0 if l == i + k else 0.0)
    bt, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    return at, g, bt.reshape(n, n)


def scaled(at, g, bt, mode):
    g, bt = g.copy(), bt.copy()
    for j in range(len(g)):
        if mode == "G":
            s = 1 / np.abs(g[j]).max()
        elif mode == "B":
            s = np.abs(bt[j]).max()
        else:
            s = np.sqrt(np.abs(bt[j]).max() / np.abs(g[j]).max())
        g[j] *= s
        bt[j] /= s
    return at, g, bt


def winograd(at, g, bt, m, x, w):
    at, g, bt = at.astype(F32), g.astype(F32), bt.astype(F32)
    a = m + 2
    h = x.shape[1] - 2
    u = np.einsum("ij,ocjk,lk->ocil", g, w, g).astype(F32)
    out = np.zeros((w.shape[0], h, h), F32)
    for ty in range(h // m):
        for tx in range(h // m):
            d = x[:, ty * m : ty * m + a, tx * m : tx * m + a]
            v = np.einsum("ij,cjk->cik", bt, d).astype(F32)
            v = np.einsum("cik,lk->cil", v, bt).astype(F32)
            prod = np.einsum("ocil,cil->oil", u, v).astype(F32)
            y = np.einsum("ij,ojk->oik", at, prod).astype(F32)
            out[:, ty * m : ty * m + m, tx * m : tx * m + m] = np.einsum("oik,lk->oil", y, at)
    return out


def worst(m, points, c, seed, h=24):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h + 2, h + 2)).astype(F32)
    x[:, [0, -1], :] = 0
    x[:, :, [0, -1]] = 0
    w = (rng.standard_normal((c, c, 3, 3)) / np.sqrt(9 * c)).astype(F32)
    ref = np.zeros((c, h, h))
    for i in range(3):
        for j in range(3):
            ref += np.einsum("oc,chw->ohw", w[:, :, i, j].astype(np.float64),
                             x[:, i : i + h, j : j + h].astype(np.float64))
    tol = 1e-5 * (np.abs(ref) + np.abs(ref).mean())
    if m == 2:
        kernels = [(KERNELS_AT, KERNELS_G, KERNELS_BT)]
    else:
        kernels = [scaled(*toom_cook(points, m), mode) for mode in ("G", "B", "balanced")]
    best = None
    for at, g, bt in kernels:
        y = winograd(at, g, bt, m, x, w)
        e = (np.abs(y - ref) / tol).max()
        best = e if best is None else min(best, e)
    return best


def main():
    cases = [
        ("F(2x2, 3x3)", 2, (0, 1, -1)),
        ("F(3x3, 3x3)", 3, (0, 1, -1, 2)),
        ("F(3x3, 3x3)", 3, (0, 1, -1, 0.5)),
        ("F(4x4, 3x3)", 4, (0, 1, -1, 2, -2)),
        ("F(4x4, 3x3)", 4, (0, 1, -1, 0.5, -2)),
        ("F(4x4, 3x3)", 4, (0, 1, -1, 0.5, -0.5)),
    ]
    channels = (16, 32, 64, 128)
    print("largest error / tolerance (below 1 passes), channels in = out:")
    print(f"{'tile':12} {'points':24} " + " ".join(f"{c:>6}" for c in channels))
    for name, m, points in cases:
        row = [worst(m, points, c, seed=c) for c in channels]
        print(f"{name:12} {str(points):24} " + " ".join(f"{e:6.2f}" for e in row))


if __name__ == "__main__":
    main()
