#!/usr/bin/env python3
"""Generate PyTorch reference ("golden") data for the `network!` layers.

Run from the repository root:

    pip install torch numpy
    python3 tools/golden/generate.py                   # every case
    python3 tools/golden/generate.py lstm_all gru_last # only the cases named

It writes one JSON file per case into ``tests/golden/<case>.json`` (the layer
semantics being checked are described in docs/dsl.md).  The script is
deterministic: running it twice produces byte-identical files (on the same
kind of CPU: the float64 results can differ in the last bit between CPUs whose
vector width makes PyTorch pick other kernels; see README.md).

File format (one JSON object, keys in this order):

    {
      "case":        "<name>",
      "network":     "<the network! DSL text of the case, for documentation>",
      "input_shape": [C, H, W], [N] or [T, F],  # per sample, channels first;
                                                # [T, F]: T steps of F features
      "batch":       B,
      "mode":        "train" or "eval",         # optional; absent means "train"
      "input":       [B * prod(input_shape) floats, row-major, batch first],
      "params":      {"<name>": {"shape": [...], "data": [...]}, ...},
      "buffers":     {"<name>": {"shape": [...], "data": [...]}, ...},  # optional
      "output":      [B * prod(output shape) floats, row-major, batch first],
      "grad_output": [same length as "output"],
      "grad_input":  [same length as "input"],
      "grads":       {"<name>": [same length as params[name].data], ...},
      "buffers_after": {"<name>": [same length as buffers[name].data], ...}  # optional
    }

Optional keys (the files written before they existed do not have them; a
reader must treat them as optional):

* ``mode``: whether the module runs in training (``module.train()``) or
  evaluation (``module.eval()``) mode for the forward and backward pass.
  Absent means ``"train"``.  The cases with batch norm, dropout or blocks
  write it.
* ``buffers`` and ``buffers_after``: present exactly when the network has
  buffers (batch norm).  ``buffers`` is the state loaded BEFORE the forward
  pass, in ``named_buffers()`` order; ``buffers_after`` the same buffers after
  the one forward pass (in training mode PyTorch updates the running
  statistics; in evaluation mode they are unchanged).  Per batch norm item:
  ``"<item>.running_mean"`` [C], ``"<item>.running_var"`` [C] and
  ``"<item>.num_batches_tracked"`` (shape ``[]``, one element, written as an
  integer: ``[3]`` before, ``[4]`` after a training pass).  The update is
  ``running = (1 - momentum) * running + momentum * batch_stat`` with the
  batch mean and the UNBIASED batch variance (n / (n - 1) times the biased
  variance that normalises the batch; n = B*H*W per channel, or B per feature
  for [N] inputs).

* Parameter names and layouts are PyTorch's, in ``named_parameters()`` order.
  Names follow ``nn.Sequential`` indexing over every item of the DSL list
  (activations, pools and flatten count too), e.g. ``"0.weight"``, ``"4.bias"``;
  a named item (``c2: conv(...)``) uses its name (``"c2.weight"``).
  Conv weights are ``[OUT, C, KH, KW]``, dense weights ``[OUT, N]``, biases
  ``[OUT]``, PReLU slopes ``[C]`` (or ``[N]`` for flat inputs), batch norm
  ``weight`` (scale) and ``bias`` (shift) ``[C]`` (or ``[N]``).
  Recurrent items (``rnn(H)``, ``lstm(H)``, ``gru(H)``) have PyTorch's
  ``"<item>.weight_ih_l0"`` [G*H, F], ``"<item>.weight_hh_l0"`` [G*H, H],
  ``"<item>.bias_ih_l0"`` [G*H] and ``"<item>.bias_hh_l0"`` [G*H], in that
  order, with G = 1 (rnn), 4 (lstm: gates i, f, g, o) or 3 (gru: r, z, n).
* Blocks nest like ``nn.Sequential``: a block item (``add``, ``concat``,
  ``residual``) is an ``nn.ModuleList`` of branches, each branch an
  ``nn.Sequential`` whose items are numbered again from 0 (or named), so
  item 5 being a block, its branch 0, item 1 is ``"5.0.1.weight"``.  An
  identity branch ``[]`` is an empty ``nn.Sequential()`` (no parameters), and
  ``residual { items }`` is ``add { [items], [] }``.  ``add`` sums its
  branches' outputs, ``concat`` concatenates them on channels (dim 1); every
  branch sees the block's input.
* Layer semantics: ``batch_norm(momentum = M, eps = E)`` (defaults 0.1 and
  1e-5) is ``nn.BatchNorm2d`` on [C, H, W] inputs and ``nn.BatchNorm1d`` on
  [N] inputs; ``dropout(P)`` is ``nn.Dropout(P)`` (only used in evaluation
  mode here, where it is the identity).
  ``rnn``, ``lstm`` and ``gru`` are ``nn.RNN`` (tanh), ``nn.LSTM`` and
  ``nn.GRU`` with one layer, unidirectional, ``batch_first=True`` (input
  [B, T, F]) and a zero initial state; ``seq = all`` outputs every step's
  hidden state [B, T, H] (PyTorch's ``output``), ``seq = last`` (the
  default) the last step's [B, H] (``output[:, -1]``).  They run in training
  mode (no ``"mode"`` key), which for them is the same as evaluation.
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
  purpose, unlike the library's default of 0; fan_in is a weight's row length,
  F for a recurrent ``weight_ih_l0`` and H for ``weight_hh_l0``, whose
  ``bias_ih_l0`` / ``bias_hh_l0`` count as biases), PReLU slopes ~ U[0.05, 0.5];
  batch norm weights ~ U[0.5, 1.5] and biases ~ N(0, 0.1); batch norm buffers
  (so that the loaded state is not PyTorch's default one): running_mean ~
  N(0, 0.5), running_var ~ U[0.5, 2], num_batches_tracked = 3;
  inputs and grad_output ~ N(0, 1).  Draw order per case: the module's own
  constructor initialisation (overwritten), input, parameters (in
  ``named_parameters()`` order), buffers (in ``named_buffers()`` order),
  grad_output.
* Self-check: every case is also run in float32 from the same values, and
  its outputs, gradients and buffers must agree with the float64 reference
  to 1e-4 relative to the largest magnitude of each field.
"""

import copy
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


class Add(nn.ModuleList):
    """`add { [..], [..], .. }`: every branch sees the input; outputs summed."""

    def forward(self, x):
        y = self[0](x)
        for branch in self[1:]:
            y = y + branch(x)
        return y


class Concat(nn.ModuleList):
    """`concat { [..], [..], .. }`: every branch sees the input; outputs joined on channels."""

    def forward(self, x):
        return torch.cat([branch(x) for branch in self], dim=1)


class _SeqOutput:
    """Mixin for `rnn` / `lstm` / `gru`: one layer, unidirectional, batch first,
    zero initial state; returns every step's hidden state [B, T, H]
    (`seq = all`) or the last one [B, H] (`seq = last`). Being the stock
    module, its parameters are "<i>.weight_ih_l0", "<i>.weight_hh_l0",
    "<i>.bias_ih_l0", "<i>.bias_hh_l0"."""

    def __init__(self, features, hidden, seq="last"):
        assert seq in ("last", "all"), seq
        super().__init__(features, hidden, num_layers=1, bias=True, batch_first=True,
                         bidirectional=False)
        self.seq = seq

    def forward(self, x):
        output, _ = super().forward(x)
        return output if self.seq == "all" else output[:, -1]


class RNN(_SeqOutput, nn.RNN):
    """`rnn(H)`: nn.RNN with tanh."""


class LSTM(_SeqOutput, nn.LSTM):
    """`lstm(H)`: nn.LSTM (gates i, f, g, o)."""


class GRU(_SeqOutput, nn.GRU):
    """`gru(H)`: nn.GRU (gates r, z, n)."""


def items(*mods):
    """An nn.Sequential over DSL items: a module, or (name, module) for a
    named item; unnamed items are keyed by their index in the list."""
    return nn.Sequential(OrderedDict(
        m if isinstance(m, tuple) else (str(i), m) for i, m in enumerate(mods)))


def add(*branches):
    """`add { [..], .. }`; each branch is a tuple of items, () the identity."""
    return Add([items(*b) for b in branches])


def concat(*branches):
    return Concat([items(*b) for b in branches])


def residual(*mods):
    """`residual { .. }` = `add { [..], [] }`."""
    return add(mods, ())


def batch_norm(channels, image=True, momentum=0.1, eps=1e-5):
    """`batch_norm` on [C, H, W] (image) or [N] inputs."""
    cls = nn.BatchNorm2d if image else nn.BatchNorm1d
    return cls(channels, eps=eps, momentum=momentum)


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
    # padding as large as the kernel or larger, as PyTorch allows: windows
    # wholly in the padding give the bias
    ("conv_pad_over_kernel", "conv(2, kernel = 1, pad = 1)", [1, 4, 4], 3,
     lambda: seq(conv(1, 2, 1, pad=1)), [2, 6, 6]),
    ("conv_pad_over_kernel_strided", "conv(3, kernel = 2, stride = 2, pad = (3, 2, 2, 3))", [2, 5, 4], 3,
     lambda: seq(conv(2, 3, 2, stride=2, pad=(3, 2, 2, 3))), [3, 5, 4]),
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

RESIDUAL_BASIC_DSL = (
    "residual { conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu, "
    "conv(4, kernel = 3, pad = 1, bias = false), batch_norm }, relu"
)
RESIDUAL_PROJECTION_DSL = (
    "add { [conv(8, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu, "
    "conv(8, kernel = 3, pad = 1, bias = false), batch_norm], "
    "[conv(8, kernel = 1, stride = 2, bias = false), batch_norm] }, relu"
)
INCEPTION_DSL = (
    "concat { [conv(2, kernel = 1), relu], "
    "[conv(3, kernel = 1), relu, conv(4, kernel = 3, pad = 1), relu], "
    "[conv(2, kernel = 1), relu, conv(3, kernel = 5, pad = 2), relu], "
    "[max_pool(3, stride = 1, pad = 1), conv(2, kernel = 1), relu] }"
)
NESTED_DSL = (
    "conv(4, kernel = 3, pad = 1), "
    "b: add { [conv(4, kernel = 1), concat { [conv(2, kernel = 3, pad = 1)], [conv(2, kernel = 1)] }], [] }, "
    "flatten, dense(3)"
)


STEM_DSL = ("conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu, "
            "max_pool(3, stride = 2, pad = 1)")


def stem():
    return seq(conv(3, 4, 3, pad=1, bias=False), batch_norm(4), nn.ReLU(),
               nn.MaxPool2d(3, 2, padding=1))


def residual_basic():
    return items(
        residual(
            conv(4, 4, 3, pad=1, bias=False), batch_norm(4), nn.ReLU(),
            conv(4, 4, 3, pad=1, bias=False), batch_norm(4),
        ),
        nn.ReLU(),
    )


# Cases that depend on the mode (batch norm, dropout) or use blocks; the
# 7th field is the mode, written into the file as "mode".
CASES += [
    ("batch_norm_image_train", "batch_norm", [3, 5, 4], 4,
     lambda: seq(batch_norm(3)), [3, 5, 4], "train"),
    ("batch_norm_image_eval", "batch_norm", [3, 5, 4], 4,
     lambda: seq(batch_norm(3)), [3, 5, 4], "eval"),
    ("batch_norm_flat_train", "batch_norm", [6], 5,
     lambda: seq(batch_norm(6, image=False)), [6], "train"),
    ("batch_norm_flat_eval", "batch_norm", [6], 5,
     lambda: seq(batch_norm(6, image=False)), [6], "eval"),
    ("batch_norm_args", "batch_norm(momentum = 0.3, eps = 0.001)", [2, 3, 3], 3,
     lambda: seq(batch_norm(2, momentum=0.3, eps=0.001)), [2, 3, 3], "train"),
    ("conv_bn_relu", "conv(4, kernel = 3, pad = 1, bias = false), batch_norm, relu", [3, 6, 6], 3,
     lambda: seq(conv(3, 4, 3, pad=1, bias=False), batch_norm(4), nn.ReLU()), [4, 6, 6], "train"),
    # a ReLU that the max pool after it applies, in overlapping windows
    # with padding (a ResNet stem), in training and in evaluation
    ("conv_bn_relu_max_pool", STEM_DSL, [3, 8, 8], 3, stem, [4, 4, 4], "train"),
    ("conv_bn_relu_max_pool_eval", STEM_DSL, [3, 8, 8], 3, stem, [4, 4, 4], "eval"),
    ("residual_basic", RESIDUAL_BASIC_DSL, [4, 6, 6], 2,
     residual_basic, [4, 6, 6], "train"),
    ("residual_basic_eval", RESIDUAL_BASIC_DSL, [4, 6, 6], 2,
     residual_basic, [4, 6, 6], "eval"),
    ("residual_projection", RESIDUAL_PROJECTION_DSL, [4, 6, 6], 2,
     lambda: items(
         add(
             (conv(4, 8, 3, stride=2, pad=1, bias=False), batch_norm(8), nn.ReLU(),
              conv(8, 8, 3, pad=1, bias=False), batch_norm(8)),
             (conv(4, 8, 1, stride=2, bias=False), batch_norm(8)),
         ),
         nn.ReLU(),
     ), [8, 3, 3], "train"),
    ("inception", INCEPTION_DSL, [4, 8, 8], 2,
     lambda: items(concat(
         (conv(4, 2, 1), nn.ReLU()),
         (conv(4, 3, 1), nn.ReLU(), conv(3, 4, 3, pad=1), nn.ReLU()),
         (conv(4, 2, 1), nn.ReLU(), conv(2, 3, 5, pad=2), nn.ReLU()),
         (nn.MaxPool2d(3, 1, padding=1), conv(4, 2, 1), nn.ReLU()),
     )), [11, 8, 8], "train"),
    ("nested_blocks", NESTED_DSL, [2, 6, 6], 2,
     lambda: items(
         conv(2, 4, 3, pad=1),
         ("b", add(
             (conv(4, 4, 1), concat((conv(4, 2, 3, pad=1),), (conv(4, 2, 1),))),
             (),
         )),
         nn.Flatten(),
         nn.Linear(144, 3),
     ), [3], "train"),
    ("residual_dense", "residual { dense(6), relu, dense(6) }", [6], 3,
     lambda: items(residual(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6))), [6], "train"),
    ("dropout_eval", "dense(8), dropout(0.5), dense(3)", [10], 3,
     lambda: seq(nn.Linear(10, 8), nn.Dropout(0.5), nn.Linear(8, 3)), [3], "eval"),
]

RECURRENT_STACKED_DSL = "lstm(5, seq = all), tanh, gru(4, seq = all), rnn(3), dense(2)"

# Recurrent layers over [T, F] sequences, training mode like the plain layers.
CASES += [
    ("rnn_last", "rnn(4), dense(2)", [5, 3], 3,
     lambda: seq(RNN(3, 4), nn.Linear(4, 2)), [2]),
    ("rnn_all", "rnn(4, seq = all)", [5, 3], 3,
     lambda: seq(RNN(3, 4, seq="all")), [5, 4]),
    ("lstm_last", "lstm(5)", [6, 4], 3,
     lambda: seq(LSTM(4, 5)), [5]),
    ("lstm_all", "lstm(5, seq = all)", [6, 4], 3,
     lambda: seq(LSTM(4, 5, seq="all")), [6, 5]),
    ("gru_last", "gru(4)", [7, 3], 3,
     lambda: seq(GRU(3, 4)), [4]),
    ("gru_all", "gru(4, seq = all)", [7, 3], 3,
     lambda: seq(GRU(3, 4, seq="all")), [7, 4]),
    ("recurrent_stacked", RECURRENT_STACKED_DSL, [6, 4], 3,
     lambda: seq(LSTM(4, 5, seq="all"), nn.Tanh(), GRU(5, 4, seq="all"), RNN(4, 3), nn.Linear(3, 2)), [2]),
    ("recurrent_flatten", "gru(3, seq = all), flatten, dense(2)", [4, 2], 3,
     lambda: seq(GRU(2, 3, seq="all"), nn.Flatten(), nn.Linear(12, 2)), [2]),
]

BN = ["weight", "bias"]
RECURRENT = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
BN_BUFFERS = ["running_mean", "running_var", "num_batches_tracked"]


def prefixed(prefix, names):
    return [prefix + "." + n for n in names]


EXPECTED_PARAMS = {
    "conv_no_bias": ["0.weight"],
    "dense_no_bias": ["0.weight"],
    "prelu_channels": ["0.weight"],
    "prelu_features": ["0.weight"],
    "lenet5": ["0.weight", "0.bias", "c2.weight", "c2.bias", "7.weight", "7.bias",
               "9.weight", "9.bias", "11.weight", "11.bias"],
    "conv_chain": ["0.weight", "0.bias", "4.weight", "4.bias"],
    "batch_norm_image_train": prefixed("0", BN),
    "batch_norm_image_eval": prefixed("0", BN),
    "batch_norm_flat_train": prefixed("0", BN),
    "batch_norm_flat_eval": prefixed("0", BN),
    "batch_norm_args": prefixed("0", BN),
    "conv_bn_relu": ["0.weight"] + prefixed("1", BN),
    "conv_bn_relu_max_pool": ["0.weight"] + prefixed("1", BN),
    "conv_bn_relu_max_pool_eval": ["0.weight"] + prefixed("1", BN),
    "residual_basic": ["0.0.0.weight"] + prefixed("0.0.1", BN) + ["0.0.3.weight"] + prefixed("0.0.4", BN),
    "residual_basic_eval": ["0.0.0.weight"] + prefixed("0.0.1", BN) + ["0.0.3.weight"] + prefixed("0.0.4", BN),
    "residual_projection": ["0.0.0.weight"] + prefixed("0.0.1", BN) + ["0.0.3.weight"] + prefixed("0.0.4", BN)
                           + ["0.1.0.weight"] + prefixed("0.1.1", BN),
    "inception": ["0.0.0.weight", "0.0.0.bias",
                  "0.1.0.weight", "0.1.0.bias", "0.1.2.weight", "0.1.2.bias",
                  "0.2.0.weight", "0.2.0.bias", "0.2.2.weight", "0.2.2.bias",
                  "0.3.1.weight", "0.3.1.bias"],
    "nested_blocks": ["0.weight", "0.bias", "b.0.0.weight", "b.0.0.bias",
                      "b.0.1.0.0.weight", "b.0.1.0.0.bias", "b.0.1.1.0.weight", "b.0.1.1.0.bias",
                      "3.weight", "3.bias"],
    "residual_dense": ["0.0.0.weight", "0.0.0.bias", "0.0.2.weight", "0.0.2.bias"],
    "dropout_eval": ["0.weight", "0.bias", "2.weight", "2.bias"],
    "rnn_last": prefixed("0", RECURRENT) + ["1.weight", "1.bias"],
    "rnn_all": prefixed("0", RECURRENT),
    "lstm_last": prefixed("0", RECURRENT),
    "lstm_all": prefixed("0", RECURRENT),
    "gru_last": prefixed("0", RECURRENT),
    "gru_all": prefixed("0", RECURRENT),
    "recurrent_stacked": prefixed("0", RECURRENT) + prefixed("2", RECURRENT) + prefixed("3", RECURRENT)
                         + ["4.weight", "4.bias"],
    "recurrent_flatten": prefixed("0", RECURRENT) + ["2.weight", "2.bias"],
}

EXPECTED_BUFFERS = {
    "batch_norm_image_train": prefixed("0", BN_BUFFERS),
    "batch_norm_image_eval": prefixed("0", BN_BUFFERS),
    "batch_norm_flat_train": prefixed("0", BN_BUFFERS),
    "batch_norm_flat_eval": prefixed("0", BN_BUFFERS),
    "batch_norm_args": prefixed("0", BN_BUFFERS),
    "conv_bn_relu": prefixed("1", BN_BUFFERS),
    "conv_bn_relu_max_pool": prefixed("1", BN_BUFFERS),
    "conv_bn_relu_max_pool_eval": prefixed("1", BN_BUFFERS),
    "residual_basic": prefixed("0.0.1", BN_BUFFERS) + prefixed("0.0.4", BN_BUFFERS),
    "residual_basic_eval": prefixed("0.0.1", BN_BUFFERS) + prefixed("0.0.4", BN_BUFFERS),
    "residual_projection": prefixed("0.0.1", BN_BUFFERS) + prefixed("0.0.4", BN_BUFFERS)
                           + prefixed("0.1.1", BN_BUFFERS),
}


# --------------------------------------------------------------------------- #
def init_params(model):
    """Draw every parameter as float32, in named_parameters() order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            module = model.get_submodule(name.rsplit(".", 1)[0])
            if isinstance(module, nn.PReLU):
                p.uniform_(0.05, 0.5)
            elif isinstance(module, nn.modules.batchnorm._BatchNorm) and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            elif name.rsplit(".", 1)[1].startswith("bias"):  # bias, bias_ih_l0, bias_hh_l0
                p.normal_(0.0, 0.1)
            else:
                fan_in = p[0].numel()  # C*KH*KW for conv, N for dense, F or H for recurrent
                p.normal_(0.0, 1.0 / math.sqrt(fan_in))


def init_buffers(model):
    """Draw the batch norm buffers, in named_buffers() order, so that the
    loaded state is not the default one (mean 0, variance 1, count 0)."""
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.normal_(0.0, 0.5)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                b.fill_(3)
            else:
                raise ValueError("unknown buffer " + name)


def flat(t):
    """A tensor's values, row-major, as Python floats (float64)."""
    return t.detach().to(torch.float64).reshape(-1).tolist()


def dumps_floats(values):
    for v in values:
        if not math.isfinite(v):
            raise ValueError("non-finite value %r" % v)
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def dumps_buffer(t):
    """A buffer's values: integers for integer buffers (num_batches_tracked)."""
    if t.dtype.is_floating_point:
        return dumps_floats(flat(t))
    return "[" + ",".join(str(int(v)) for v in t.reshape(-1).tolist()) + "]"


def check_f32(name, got, want):
    """The float32 run agrees with the float64 reference: max |got - want|
    within 1e-4 of the largest |want| of the field. Returns the ratio."""
    got, want = got.detach().double(), want.detach().double()
    assert got.shape == want.shape, (name, got.shape, want.shape)
    scale = want.abs().max().item() if want.numel() else 0.0
    err = (got - want).abs().max().item() if want.numel() else 0.0
    ratio = err / scale if scale > 0 else err
    assert ratio <= 1e-4, (name, err, scale)
    return ratio


def run_case(name, dsl, input_shape, batch, build, expected_out, mode=None):
    torch.manual_seed(zlib.crc32(name.encode()))
    model = build().float()
    x32 = torch.randn([batch] + input_shape, dtype=torch.float32)
    if name == "relu":
        # Exercise ReLU's gradient at exactly 0 (PyTorch: 0).
        x32.view(-1)[::7] = 0.0
    init_params(model)
    init_buffers(model)
    params32 = OrderedDict((n, p.detach().clone()) for n, p in model.named_parameters())
    buffers32 = OrderedDict((n, b.detach().clone()) for n, b in model.named_buffers())
    out_shape_b = [batch] + expected_out
    gy32 = torch.randn(out_shape_b, dtype=torch.float32)
    model.train(mode != "eval")
    model32 = copy.deepcopy(model)

    # Reference in float64 from exactly the f32 values.
    model = model.double()
    for n, p in model.named_parameters():
        assert torch.equal(p.detach(), params32[n].double()), n
    for n, b in model.named_buffers():
        assert torch.equal(b, buffers32[n].to(b.dtype)), n
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
    buffer_names = list(buffers32)
    assert buffer_names == EXPECTED_BUFFERS.get(name, []), (name, buffer_names)
    buffers_after = OrderedDict(model.named_buffers())
    if mode == "eval":
        for n, b in buffers_after.items():
            assert torch.equal(b, buffers32[n].to(b.dtype)), n

    # The same pass in float32 agrees with the float64 reference.
    x_32 = x32.clone().requires_grad_(True)
    y32 = model32(x_32)
    (y32 * gy32).sum().backward()
    worst = max([check_f32(name + ": output", y32, y), check_f32(name + ": grad_input", x_32.grad, x.grad)]
                + [check_f32(name + ": " + n, p.grad, model.get_parameter(n).grad)
                   for n, p in model32.named_parameters()]
                + [check_f32(name + ": " + n, b, buffers_after[n]) for n, b in model32.named_buffers()])

    if name == "relu":
        zero = x32 == 0
        assert zero.any() and bool((x.grad[zero] == 0).all())

    # Write with a fixed layout: one top-level key per line.
    lines = [
        '"case":' + json.dumps(name),
        '"network":' + json.dumps(dsl),
        '"input_shape":' + json.dumps(input_shape),
        '"batch":' + json.dumps(batch),
    ]
    if mode is not None:
        lines.append('"mode":' + json.dumps(mode))
    lines.append('"input":' + dumps_floats(flat(x32)))
    plines = ['%s:{"shape":%s,"data":%s}' % (json.dumps(n), json.dumps(list(p.shape)), dumps_floats(flat(p)))
              for n, p in params32.items()]
    lines.append('"params":{' + ("\n" + ",\n".join(plines) + "\n" if plines else "") + "}")
    if buffers32:
        blines = ['%s:{"shape":%s,"data":%s}' % (json.dumps(n), json.dumps(list(b.shape)), dumps_buffer(b))
                  for n, b in buffers32.items()]
        lines.append('"buffers":{\n' + ",\n".join(blines) + "\n}")
    lines += [
        '"output":' + dumps_floats(flat(y)),
        '"grad_output":' + dumps_floats(flat(gy32)),
        '"grad_input":' + dumps_floats(flat(x.grad)),
    ]
    glines = ["%s:%s" % (json.dumps(n), dumps_floats(flat(p.grad))) for n, p in model.named_parameters()]
    lines.append('"grads":{' + ("\n" + ",\n".join(glines) + "\n" if glines else "") + "}")
    if buffers32:
        alines = ["%s:%s" % (json.dumps(n), dumps_buffer(b)) for n, b in buffers_after.items()]
        lines.append('"buffers_after":{\n' + ",\n".join(alines) + "\n}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    json.loads(text)  # sanity check

    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print("%-24s input %-14s batch %d%s -> output %-12s f32 %.1e (%s)" % (
        name, input_shape, batch, " eval" if mode == "eval" else "", expected_out, worst,
        ", ".join(names) or "no params"))
    return path


def main(argv):
    """Writes every case, or only the cases named on the command line."""
    known = [case[0] for case in CASES]
    assert len(set(known)) == len(known), "duplicate case names"
    unknown = [n for n in argv if n not in known]
    if unknown:
        print("unknown case(s): %s\nknown cases: %s" % (" ".join(unknown), " ".join(known)),
              file=sys.stderr)
        return 2
    cases = [case for case in CASES if not argv or case[0] in argv]
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for case in cases:
        path = run_case(*case)
        total += os.path.getsize(path)
    print("wrote %d files to %s (%d bytes)" % (len(cases), os.path.normpath(OUT_DIR), total))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
