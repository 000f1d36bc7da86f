#!/usr/bin/env python3
"""Generate PyTorch reference ("golden") data for the losses of ``nn::loss``.

Run from the repository root:

    pip install torch numpy
    python3 tools/golden/losses.py

It writes one JSON file per case into ``tests/golden/losses/<case>.json``,
read by ``nn-runtime/tests/loss.rs``.  The script is deterministic: running it
twice produces byte-identical files.

File format (one JSON object, keys in this order, one key per line):

    {
      "case":      "<name>",
      "loss":      "<Rust type in nn_runtime::loss>",  # MeanSquaredError, ...
      "torch":     "<the PyTorch expression the reference comes from>",
      "batch":     B,
      "classes":   N,                # values per sample (classes for classifiers)
      "outputs":   [B * N floats, sample after sample],
      "targets":   [B ints (class labels)] or [B * N floats],
      "value":     the mean loss (a float),
      "d_outputs": [B * N floats: d value / d outputs]
    }

* ``loss`` is one of ``MeanSquaredError`` (``nn.MSELoss()``),
  ``SoftmaxCrossEntropy`` (``nn.CrossEntropyLoss()`` on logits),
  ``SigmoidBinaryCrossEntropy`` (``nn.BCEWithLogitsLoss()``) and
  ``MulticlassHinge``.  Our hinge is ``sum_{j != y} max(0, s_j - s_y + 1)``
  per sample, averaged over the batch; PyTorch's ``nn.MultiMarginLoss`` divides
  each sample's sum by N as well, so the reference for ``MulticlassHinge`` is
  ``nn.MultiMarginLoss(margin=1)(x, y) * N`` (value and gradient).  All use
  PyTorch's default reduction, ``'mean'``.
* Numerics: outputs and float targets are float32 values (drawn with
  ``torch.manual_seed(crc32(case name))`` or written out by hand), so every one
  of them is exactly representable as an f32.  The loss is then computed in
  float64 from exactly those values (``module(x.double(), ...)``) and the
  gradient by autograd, so ``value`` and ``d_outputs`` are the (nearly) exact
  results for the given f32 data, not f32 results.
* Floats are written with Python's ``repr`` (shortest string that round-trips
  to the same float64).  For the f32-valued fields this is the float64 repr of
  the f32 value, which parses back to the same f32 whether read as f32 or as
  f64-then-cast.
* Cases cover an odd batch (B = 5), N = 7, 3 and 1 (where meaningful),
  large-magnitude logits (+-80, +-1000) that overflow a naive exp in f32,
  BCE targets at exactly 0 and 1 as well as fractional ones, MSE elements
  whose target equals the output, and a hinge term exactly at its kink
  (``s_j - s_y + 1 = 0``, where PyTorch's subgradient is 0).
"""

import json
import math
import os
import sys
import zlib

import torch
import torch.nn as nn

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "losses")

F32 = torch.float32


def f32(rows):
    return torch.tensor(rows, dtype=F32)


# --------------------------------------------------------------------------- #
# Inputs per case.  Each builder runs right after torch.manual_seed(crc32(name))
# and returns (outputs [B, N] float32, targets: [B] int64 or [B, N] float32).
# --------------------------------------------------------------------------- #
def labels(b, n):
    return torch.randint(0, n, (b,))


def mse_basic(b, n):
    def build():
        x = torch.randn(b, n, dtype=F32)
        t = torch.randn(b, n, dtype=F32)
        if n > 1:
            # A few exact matches: zero gradient, zero contribution.
            t.view(-1)[::5] = x.view(-1)[::5]
        return x, t
    return build


def mse_large():
    x = f32([[1000.0, -1000.0, 80.0, -80.0],
             [999.5, 0.25, -79.75, 1000.0],
             [-1000.0, 80.0, 3.0, -0.5]])
    t = f32([[-1000.0, 1000.0, 80.0, 79.5],
             [1000.0, 0.0, -80.0, -1000.0],
             [-999.0, -80.0, 3.0, 0.5]])
    x += torch.randn(x.shape, dtype=F32) * 0.01
    return x, t


def ce_basic(b, n, scale):
    def build():
        return torch.randn(b, n, dtype=F32) * scale, labels(b, n)
    return build


def ce_large():
    x = f32([
        [1000.0, -1000.0, 0.0, 999.0, -80.0, 80.0, 998.5],   # label at the max
        [1000.0, -1000.0, 0.0, 999.0, -80.0, 80.0, 998.5],   # label at the min: loss ~ 2000
        [80.0, -80.0, 79.0, 0.0, -79.5, 80.0, 1.0],          # tie for the max
        [-1000.0, -1000.0, -999.0, -1000.5, -998.0, -1000.0, -1001.0],  # all very negative
        [80.0, 80.0, 80.0, 80.0, 80.0, 80.0, 80.0],          # uniform softmax
    ])
    # A small perturbation (rounded to f32) so that row's entries are not round numbers.
    x[3] += torch.randn(7, dtype=F32) * 0.1
    return x, torch.tensor([0, 1, 5, 4, 3])


def bce_basic(b, n, scale):
    def build():
        x = torch.randn(b, n, dtype=F32) * scale
        t = torch.rand(b, n, dtype=F32)
        flat = t.view(-1)
        flat[0::4] = 0.0
        flat[1::4] = 1.0
        return x, t
    return build


def bce_large():
    x = f32([[1000.0, -1000.0, 80.0, -80.0, 1000.0, -1000.0, 0.0],
             [80.0, -80.0, 1000.0, -1000.0, 79.5, -0.001, 30.0],
             [-80.0, 80.0, -1000.0, 1000.0, 0.5, 17.0, -17.0]])
    t = f32([[1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.5],
             [0.0, 1.0, 0.25, 0.75, 0.5, 0.0, 1.0],
             [0.3, 0.7, 1.0, 0.0, 0.9, 0.0, 1.0]])
    return x, t


def hinge_basic(b, n, scale, kink=False):
    def build():
        x = torch.randn(b, n, dtype=F32) * scale
        y = labels(b, n)
        if kink:
            # Sample 0: s_j - s_y + 1 = 0 exactly for j = (y + 1) % n.
            j = (int(y[0]) + 1) % n
            x[0, int(y[0])] = 1.5
            x[0, j] = 0.5
        return x, y
    return build


def hinge_large():
    x = f32([
        [1000.0, -1000.0, 0.0, 999.5, -80.0, 80.0, 999.0],
        [1000.0, -1000.0, 0.0, 999.5, -80.0, 80.0, 999.0],
        [80.0, -80.0, 79.25, 0.0, -79.5, 80.0, 1.0],
        [-1000.0, -1000.0, -999.0, -1000.5, -998.0, -1000.0, -1001.0],
        [80.0, 80.0, 80.0, 80.0, 80.0, 80.0, 80.0],
    ])
    return x, torch.tensor([0, 1, 5, 4, 3])


# --------------------------------------------------------------------------- #
# Losses: Rust type -> (PyTorch expression as text, function of (x, t) in f64)
# --------------------------------------------------------------------------- #
def hinge(x, y):
    n = x.shape[1]
    return nn.MultiMarginLoss(margin=1.0)(x, y) * n


LOSSES = {
    "MeanSquaredError": ("nn.MSELoss()(x, t)", lambda x, t: nn.MSELoss()(x, t)),
    "SoftmaxCrossEntropy": ("nn.CrossEntropyLoss()(x, y)", lambda x, y: nn.CrossEntropyLoss()(x, y)),
    "SigmoidBinaryCrossEntropy": ("nn.BCEWithLogitsLoss()(x, t)", lambda x, t: nn.BCEWithLogitsLoss()(x, t)),
    "MulticlassHinge": ("nn.MultiMarginLoss(margin=1)(x, y) * N", hinge),
}

CASES = [
    # (case, loss, builder)
    ("mse_b5_n7", "MeanSquaredError", mse_basic(5, 7)),
    ("mse_b5_n1", "MeanSquaredError", mse_basic(5, 1)),
    ("mse_large", "MeanSquaredError", mse_large),
    ("softmax_ce_b5_n7", "SoftmaxCrossEntropy", ce_basic(5, 7, 2.0)),
    ("softmax_ce_b5_n3", "SoftmaxCrossEntropy", ce_basic(5, 3, 1.0)),
    ("softmax_ce_b5_n1", "SoftmaxCrossEntropy", ce_basic(5, 1, 1.0)),
    ("softmax_ce_large", "SoftmaxCrossEntropy", ce_large),
    ("sigmoid_bce_b5_n7", "SigmoidBinaryCrossEntropy", bce_basic(5, 7, 2.0)),
    ("sigmoid_bce_b5_n1", "SigmoidBinaryCrossEntropy", bce_basic(5, 1, 2.0)),
    ("sigmoid_bce_large", "SigmoidBinaryCrossEntropy", bce_large),
    ("hinge_b5_n7", "MulticlassHinge", hinge_basic(5, 7, 1.0)),
    ("hinge_b5_n3_kink", "MulticlassHinge", hinge_basic(5, 3, 1.0, kink=True)),
    ("hinge_b5_n1", "MulticlassHinge", hinge_basic(5, 1, 1.0)),
    ("hinge_large", "MulticlassHinge", hinge_large),
]


# --------------------------------------------------------------------------- #
def dumps_floats(values):
    for v in values:
        if not math.isfinite(v):
            raise ValueError("non-finite value %r" % v)
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def flat(t):
    """A tensor's values, row-major, as Python floats (float64)."""
    return t.detach().to(torch.float64).reshape(-1).tolist()


def run_case(name, loss, build):
    torch.manual_seed(zlib.crc32(name.encode()))
    x32, t = build()
    assert x32.dtype == F32 and x32.dim() == 2, name
    b, n = x32.shape
    classifier = not t.dtype.is_floating_point
    if classifier:
        assert t.shape == (b,) and int(t.min()) >= 0 and int(t.max()) < n, name
        targets = json.dumps([int(v) for v in t.tolist()])
        t_ref = t
    else:
        assert t.dtype == F32 and t.shape == x32.shape, name
        targets = dumps_floats(flat(t))
        t_ref = t.double()

    text_expr, fn = LOSSES[loss]
    x = x32.double().requires_grad_(True)
    value = fn(x, t_ref)
    value.backward()
    grad = x.grad

    if name == "hinge_b5_n3_kink":
        # PyTorch's subgradient at the kink is 0.
        j = (int(t[0]) + 1) % n
        assert float(x32[0, j].double() - x32[0, int(t[0])].double() + 1) == 0.0
        assert float(grad[0, j]) == 0.0

    lines = [
        '"case":' + json.dumps(name),
        '"loss":' + json.dumps(loss),
        '"torch":' + json.dumps(text_expr),
        '"batch":' + json.dumps(b),
        '"classes":' + json.dumps(n),
        '"outputs":' + dumps_floats(flat(x32)),
        '"targets":' + targets,
        '"value":' + dumps_floats([value.item()])[1:-1],
        '"d_outputs":' + dumps_floats(flat(grad)),
    ]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    json.loads(text)  # sanity check

    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("%-20s %-26s B=%d N=%d  loss %.17g" % (name, loss, b, n, value.item()))
    return path


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for case in CASES:
        total += os.path.getsize(run_case(*case))
    print("wrote %d files to %s (%d bytes)" % (len(CASES), os.path.normpath(OUT_DIR), total))


if __name__ == "__main__":
    sys.exit(main())
