#!/usr/bin/env python3
"""Generate PyTorch reference ("golden") data for the `network!` layers.

Run from the repository root:

    pip install torch numpy
    python3 tools/golden/generate.py

It writes one JSON file per case into ``tests/golden/<case>.json`` (the layer
semantics being checked are described in docs/dsl.md).  The script is
deterministic: running it twice produces byte-identical files.

File format (one JSON object, keys in this order):

    {
      "case":        "<name>",
      "network":     "<the network! DSL text of the case, for documentation>",
      "input_shape": [C, H, W] or [N],          # per sample, channels first
      "batch":       B,
      "input":       [B * prod(input_shape) floats, row-major, batch first],
      "params":      {"<name>": {"shape": [...], "data": [...]}, ...},
      "output":      [B * prod(output shape) floats, row-major, batch first],
      "grad_output": [same length as "output"],
      "grad_input":  [same length as "input"],
      "grads":       {"<name>": [same length as params[name].data], ...}
    }

* Parameter names and layouts are PyTorch's, in ``named_parameters()`` order.
  Names follow ``nn.Sequential`` indexing over every item of the DSL list
  (activations, pools and flatten count too), e.g. ``"0.weight"``, ``"4.bias"``;
  a named item (``c2: conv(...)``) uses its name (``"c2.weight"``).
  Conv weights are ``[OUT, C, KH, KW]``, dense weights ``[OUT, N]``, biases
  ``[OUT]``, PReLU slopes ``[C]`` (or ``[N]`` for flat inputs).
* Numerics: the input, the parameters and ``grad_output`` are drawn as float32
  with a fixed seed per case (``torch.manual_seed(crc32(case name))``), so every
  one of those numbers is exactly representable as an f32.  The reference is
  then computed in float64 from exactly those values (``module.double()``), so
  ``output``, ``grad_input`` and ``grads`` are the (nearly) exact results for
  the given f32 data, not f32 results.
* ``grad_input`` and ``grads`` are the gradients of
  ``(output * grad_output).sum()``, i.e. the vector-Jacobian product with
  ``grad_output``, computed by autograd.
* Floats are written with Python's ``repr`` (shortest string that round-trips
  to the same float64).  For the f32-valued fields this is the float64 repr of
  the f32 value, which parses back to the same f32 whether read as f32 or as
  f64-then-cast.
* Initialisation: weights ~ N(0, 1/sqrt(fan_in)), biases ~ N(0, 0.1) (nonzero on
  purpose, unlike the library's default of 0), PReLU slopes ~ U[0.05, 0.5];
  inputs and grad_output ~ N(0, 1).
"""

import json
import math
import os
import sys
import zlib
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")


# --------------------------------------------------------------------------- #
# Modules that are not a single stock PyTorch module.
# --------------------------------------------------------------------------- #
class PadConv2d(nn.Module):
    """F.pad (one-sided / `same`) followed by a convolution.

    Owns `weight` [OUT, C, KH, KW] and `bias` [OUT] directly, so that the
    parameter names stay "<i>.weight" / "<i>.bias" like a plain nn.Conv2d.
    `pad` is (top, bottom, left, right).
    """

    def __init__(self, cin, cout, kernel, stride, pad, bias=True):
        super().__init__()
        kh, kw = kernel
        self.stride = stride
        self.pad = pad
        self.weight = nn.Parameter(torch.empty(cout, cin, kh, kw))
        if bias:
            self.bias = nn.Parameter(torch.empty(cout))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        t, b, l, r = self.pad
        x = F.pad(x, (l, r, t, b))  # zero padding
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


class GlobalAvgPool(nn.Module):
    """`global_avg_pool`: AdaptiveAvgPool2d(1) then flatten, [B, C, H, W] -> [B, C]."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return torch.flatten(self.pool(x), 1)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pad(size, kernel, stride):
    """TensorFlow's `same` rule: smaller half on top/left. Returns (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv(cin, cout, kernel, stride=1, pad=0, bias=True, hw=None):
    """Build the PyTorch module for a DSL conv; `pad` as in the DSL
    (int, (PH, PW), (T, B, L, R), "same" or "valid")."""
    kernel, stride = pair(kernel), pair(stride)
    if pad == "valid":
        pad = 0
    if pad == "same":
        (t, b), (l, r) = same_pad(hw[0], kernel[0], stride[0]), same_pad(hw[1], kernel[1], stride[1])
        pad = (t, b, l, r)
    if isinstance(pad, tuple) and len(pad) == 4:
        t, b, l, r = pad
        if t == b and l == r:
            pad = (t, l)
        else:
            return PadConv2d(cin, cout, kernel, stride, pad, bias)
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=pair(pad), bias=bias)


# --------------------------------------------------------------------------- #
# Cases: (name, DSL text, input_shape, batch, module builder, expected output shape)
# --------------------------------------------------------------------------- #
LENET_DSL = (
    "conv(6, kernel = 5, pad = 2), relu, max_pool(2), c2: conv(16, kernel = 5), relu, "
    "max_pool(2), flatten, dense(120), relu, dense(84), relu, dense(10)"
)
CHAIN_DSL = (
    "conv(3, kernel = (3, 5), stride = (2, 3), pad = (1, 2)), tanh, avg_pool(2, round = floor), "
    "flatten, dense(4), sigmoid"
)


def seq(*mods):
    return nn.Sequential(*mods)


CASES = [
    ("conv_basic", "conv(4, kernel = 3)", [3, 7, 9], 3,
     lambda: seq(conv(3, 4, 3)), [4, 5, 7]),
    ("conv_stride2_pad1", "conv(3, kernel = 3, stride = 2, pad = 1)", [2, 9, 8], 3,
     lambda: seq(conv(2, 3, 3, stride=2, pad=1)), [3, 5, 4]),
    ("conv_stride3_nonsquare", "conv(5, kernel = (3, 2), stride = (3, 2), pad = (1, 0))", [2, 11, 10], 3,
     lambda: seq(conv(2, 5, (3, 2), stride=(3, 2), pad=(1, 0))), [5, 4, 5]),
    ("conv_one_sided", "conv(2, kernel = 3, stride = 2, pad = (0, 1, 0, 1))", [1, 4, 4], 3,
     lambda: seq(conv(1, 2, 3, stride=2, pad=(0, 1, 0, 1))), [2, 2, 2]),
    ("conv_same", "conv(4, kernel = 3, stride = 2, pad = same)", [3, 8, 7], 3,
     lambda: seq(conv(3, 4, 3, stride=2, pad="same", hw=(8, 7))), [4, 4, 4]),
    ("conv_valid", "conv(3, kernel = 3, stride = 2, pad = valid)", [2, 8, 8], 3,
     lambda: seq(conv(2, 3, 3, stride=2, pad="valid")), [3, 3, 3]),
    ("conv_no_bias", "conv(3, kernel = 2, bias = false)", [2, 5, 5], 3,
     lambda: seq(conv(2, 3, 2, bias=False)), [3, 4, 4]),
    ("conv_stride3_pad_rect", "conv(3, kernel = (2, 4), stride = 3, pad = (1, 2, 0, 1))", [2, 10, 13], 3,
     lambda: seq(conv(2, 3, (2, 4), stride=3, pad=(1, 2, 0, 1))), [3, 4, 4]),
    ("max_pool_basic", "max_pool(3, stride = 2)", [3, 7, 7], 3,
     lambda: seq(nn.MaxPool2d(3, 2)), [3, 3, 3]),
    ("max_pool_pad", "max_pool(3, stride = 2, pad = 1)", [2, 6, 6], 3,
     lambda: seq(nn.MaxPool2d(3, 2, padding=1)), [2, 3, 3]),
    ("max_pool_ceil", "max_pool(2, round = ceil)", [2, 7, 7], 3,
     lambda: seq(nn.MaxPool2d(2, ceil_mode=True)), [2, 4, 4]),
    ("max_pool_rect", "max_pool((2, 3))", [2, 6, 9], 3,
     lambda: seq(nn.MaxPool2d((2, 3))), [2, 3, 3]),
    ("avg_pool_rect", "avg_pool((2, 3))", [2, 6, 9], 3,
     lambda: seq(nn.AvgPool2d((2, 3))), [2, 3, 3]),
    ("avg_pool_pad", "avg_pool(3, stride = 2, pad = 1)", [2, 5, 5], 3,
     lambda: seq(nn.AvgPool2d(3, 2, padding=1, count_include_pad=True)), [2, 3, 3]),
    ("avg_pool_ceil", "avg_pool(2, round = ceil)", [2, 7, 5], 3,
     lambda: seq(nn.AvgPool2d(2, ceil_mode=True, count_include_pad=True)), [2, 4, 3]),
    ("global_avg_pool", "global_avg_pool", [3, 5, 4], 3,
     lambda: seq(GlobalAvgPool()), [3]),
    ("dense", "dense(5)", [7], 3,
     lambda: seq(nn.Linear(7, 5)), [5]),
    ("dense_no_bias", "dense(3, bias = false)", [6], 3,
     lambda: seq(nn.Linear(6, 3, bias=False)), [3]),
    ("flatten", "flatten", [2, 3, 4], 3,
     lambda: seq(nn.Flatten()), [24]),
    ("relu", "relu", [3, 4, 5], 3,
     lambda: seq(nn.ReLU()), [3, 4, 5]),
    ("leaky_relu", "leaky_relu(0.2)", [3, 4, 5], 3,
     lambda: seq(nn.LeakyReLU(0.2)), [3, 4, 5]),
    ("leaky_relu_default", "leaky_relu", [11], 3,
     lambda: seq(nn.LeakyReLU(0.01)), [11]),
    ("prelu_channels", "prelu", [3, 4, 5], 3,
     lambda: seq(nn.PReLU(num_parameters=3)), [3, 4, 5]),
    ("prelu_features", "prelu", [6], 3,
     lambda: seq(nn.PReLU(num_parameters=6)), [6]),
    ("sigmoid", "sigmoid", [3, 4, 5], 3,
     lambda: seq(nn.Sigmoid()), [3, 4, 5]),
    ("tanh", "tanh", [3, 4, 5], 3,
     lambda: seq(nn.Tanh()), [3, 4, 5]),
    ("softmax", "softmax", [7], 3,
     lambda: seq(nn.Softmax(dim=1)), [7]),
    ("lenet5", LENET_DSL, [1, 28, 28], 4,
     lambda: nn.Sequential(OrderedDict([
         ("0", conv(1, 6, 5, pad=2)),
         ("1", nn.ReLU()),
         ("2", nn.MaxPool2d(2)),
         ("c2", conv(6, 16, 5)),
         ("4", nn.ReLU()),
         ("5", nn.MaxPool2d(2)),
         ("6", nn.Flatten()),
         ("7", nn.Linear(400, 120)),
         ("8", nn.ReLU()),
         ("9", nn.Linear(120, 84)),
         ("10", nn.ReLU()),
         ("11", nn.Linear(84, 10)),
     ])), [10]),
    ("conv_chain", CHAIN_DSL, [2, 9, 11], 2,
     lambda: seq(
         conv(2, 3, (3, 5), stride=(2, 3), pad=(1, 2)),
         nn.Tanh(),
         nn.AvgPool2d(2),
         nn.Flatten(),
         nn.Linear(12, 4),
         nn.Sigmoid(),
     ), [4]),
]

EXPECTED_PARAMS = {
    "conv_no_bias": ["0.weight"],
    "dense_no_bias": ["0.weight"],
    "prelu_channels": ["0.weight"],
    "prelu_features": ["0.weight"],
    "lenet5": ["0.weight", "0.bias", "c2.weight", "c2.bias", "7.weight", "7.bias",
               "9.weight", "9.bias", "11.weight", "11.bias"],
    "conv_chain": ["0.weight", "0.bias", "4.weight", "4.bias"],
}


# --------------------------------------------------------------------------- #
def init_params(model):
    """Draw every parameter as float32, in named_parameters() order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            module = model.get_submodule(name.rsplit(".", 1)[0])
            if isinstance(module, nn.PReLU):
                p.uniform_(0.05, 0.5)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1)
            else:
                fan_in = p[0].numel()  # C*KH*KW for conv, N for dense
                p.normal_(0.0, 1.0 / math.sqrt(fan_in))


def flat(t):
    """A tensor's values, row-major, as Python floats (float64)."""
    return t.detach().to(torch.float64).reshape(-1).tolist()


def dumps_floats(values):
    for v in values:
        if not math.isfinite(v):
            raise ValueError("non-finite value %r" % v)
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def run_case(name, dsl, input_shape, batch, build, expected_out):
    torch.manual_seed(zlib.crc32(name.encode()))
    model = build().float()
    x32 = torch.randn([batch] + input_shape, dtype=torch.float32)
    if name == "relu":
        # Exercise ReLU's gradient at exactly 0 (PyTorch: 0).
        x32.view(-1)[::7] = 0.0
    init_params(model)
    params32 = OrderedDict((n, p.detach().clone()) for n, p in model.named_parameters())
    out_shape_b = [batch] + expected_out
    gy32 = torch.randn(out_shape_b, dtype=torch.float32)

    # Reference in float64 from exactly the f32 values.
    model = model.double()
    for n, p in model.named_parameters():
        assert torch.equal(p.detach(), params32[n].double()), n
    x = x32.double().requires_grad_(True)
    y = model(x)
    assert list(y.shape) == out_shape_b, (name, list(y.shape), out_shape_b)
    gy = gy32.double()
    (y * gy).sum().backward()

    names = [n for n, _ in model.named_parameters()]
    expected_names = EXPECTED_PARAMS.get(name)
    if expected_names is None:
        has_params = name.startswith("conv") or name.startswith("dense")
        expected_names = ["0.weight", "0.bias"] if has_params else []
    assert names == expected_names, (name, names, expected_names)

    if name == "relu":
        zero = x32 == 0
        assert zero.any() and bool((x.grad[zero] == 0).all())

    # Write with a fixed layout: one top-level key per line.
    lines = [
        '"case":' + json.dumps(name),
        '"network":' + json.dumps(dsl),
        '"input_shape":' + json.dumps(input_shape),
        '"batch":' + json.dumps(batch),
        '"input":' + dumps_floats(flat(x32)),
    ]
    plines = ['%s:{"shape":%s,"data":%s}' % (json.dumps(n), json.dumps(list(p.shape)), dumps_floats(flat(p)))
              for n, p in params32.items()]
    lines.append('"params":{' + ("\n" + ",\n".join(plines) + "\n" if plines else "") + "}")
    lines += [
        '"output":' + dumps_floats(flat(y)),
        '"grad_output":' + dumps_floats(flat(gy32)),
        '"grad_input":' + dumps_floats(flat(x.grad)),
    ]
    glines = ["%s:%s" % (json.dumps(n), dumps_floats(flat(p.grad))) for n, p in model.named_parameters()]
    lines.append('"grads":{' + ("\n" + ",\n".join(glines) + "\n" if glines else "") + "}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    json.loads(text)  # sanity check

    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("%-24s input %-14s batch %d -> output %-12s (%s)" % (
        name, input_shape, batch, expected_out, ", ".join(names) or "no params"))
    return path


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for case in CASES:
        path = run_case(*case)
        total += os.path.getsize(path)
    print("wrote %d files to %s (%d bytes)" % (len(CASES), os.path.normpath(OUT_DIR), total))


if __name__ == "__main__":
    sys.exit(main())
