#!/usr/bin/env python3
"""Generate PyTorch reference trajectories for the optimizers of ``nn::optim``.

Run from the repository root:

    pip install torch numpy
    python3 tools/golden/optim.py

For each optimizer configuration below it runs 20 steps of ``torch.optim`` on
one fixed problem and writes ``tests/golden/optim/<config>.json``.  The script
is deterministic: running it twice produces byte-identical files.

The problem: 7 float32 parameters ``w`` and the function

    f(w) = sum_i a_i * (w_i - c_i)^2 + 0.1 * sum_i w_i^4

with fixed float32 ``a > 0`` and ``c`` (strictly convex, one minimum).  Its
gradient is taken by PyTorch autograd in float32, which computes

    g_i = 2 * (a_i * (w_i - c_i)) + float32(0.1) * (4 * ((w_i * w_i) * w_i))

with every operation rounded to float32 in exactly that order; the script
asserts this bit for bit at every step, so a float32 implementation of that
line reproduces PyTorch's gradients exactly.  ``a``, ``c`` and the initial
``w`` are drawn once (numpy PCG64, seed 7; ``a`` in [0.5, 2], ``c`` in
[-0.8, 0.8], ``w`` in [-1.5, 1.5]); the last coordinate is set by hand to
``a = 0.001, c = 0.5, w = 0.01`` so that its gradient is about 1e-3 and the
optimizers' epsilon terms visibly matter there.

Each step: gradient at the current ``w`` (autograd), then ``optimizer.step()``.
Optimizers are built with ``foreach=False``, i.e. the ``_single_tensor_*``
implementations in ``torch/optim/*.py`` (PyTorch's default on CPU).

Every configuration is run twice:

* ``trajectory``: ``torch.optim`` as it is.
* ``trajectory_ieee_sqrt``: the same ``torch.optim`` code, with one change:
  float32 square roots are correctly rounded (computed in float64, then
  rounded; exact, since float64 has more than twice float32's precision).
  PyTorch's CPU builds with MKL take float32 ``sqrt`` from MKL's vector
  math library, which is accurate to one unit in the last place but not
  always correctly rounded, while IEEE 754 (and Rust's ``f32::sqrt``)
  rounds correctly.  The change is made by running the optimizer on a
  tensor subclass (``IeeeSqrt``) whose ``sqrt``/``sqrt_`` are replaced; all
  other arithmetic is PyTorch's own.  For SGD, which takes no square root,
  both trajectories are the same (the script asserts it).
Learning rates are float32 values (passed to PyTorch as the float64 of that
float32), so that an implementation holding the learning rate as f32 starts
from exactly the number PyTorch used.  All other options are the float64
values written in the file.

File format (one JSON object, keys in this order):

    {
      "config":       "<name>",
      "optimizer":    "SGD" | "Adagrad" | "RMSprop" | "Adam" | "AdamW",
      "options":      {<keyword arguments of the torch.optim constructor,
                        lr first; options not listed take PyTorch's defaults>},
      "torch":        "<torch.__version__ that wrote the file>",
      "function":     "<f(w) above>",
      "gradient":     "<g_i above>",
      "a":            [7 floats],
      "c":            [7 floats],
      "initial":      [7 floats: w before the first step],
      "initial_grad": [7 floats: the gradient at "initial"],
      "trajectory":   [20 arrays of 7 floats: w after steps 1, 2, ..., 20],
      "trajectory_ieee_sqrt": [the same with correctly rounded square roots]
    }

Floats are written with Python's ``repr`` of the float32 value converted to
float64 (the shortest string that round-trips), so they parse back to the
same float32 whether read as f32 or as f64-then-cast.
"""

import json
import os

import numpy as np
import torch

OUT_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "optim"
)
STEPS = 20
N = 7

FUNCTION = "f(w) = sum_i a_i*(w_i - c_i)^2 + 0.1*sum_i w_i^4"
GRADIENT = (
    "g_i = 2*(a_i*(w_i - c_i)) + 0.1*(4*((w_i*w_i)*w_i)), every operation rounded to "
    "float32 in this order, 0.1 meaning float32(0.1); equal bit for bit to "
    "PyTorch autograd's float32 gradient of f"
)


def f32(x):
    """The float64 value of float32(x): a learning rate both sides hold exactly."""
    return float(np.float32(x))


# name -> (torch.optim class name, constructor keyword arguments)
CONFIGS = [
    ("sgd", "SGD", {"lr": f32(0.05)}),
    ("sgd_momentum", "SGD", {"lr": f32(0.02), "momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"lr": f32(0.02), "momentum": 0.9, "nesterov": True}),
    (
        "sgd_weight_decay_dampening",
        "SGD",
        {"lr": f32(0.02), "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05},
    ),
    ("adagrad", "Adagrad", {"lr": f32(0.1)}),
    (
        "adagrad_lr_decay_weight_decay",
        "Adagrad",
        {"lr": f32(0.1), "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    ),
    ("rmsprop", "RMSprop", {"lr": f32(0.01)}),
    (
        "rmsprop_centered_momentum_weight_decay",
        "RMSprop",
        {"lr": f32(0.01), "momentum": 0.9, "centered": True, "weight_decay": 0.01},
    ),
    ("adam", "Adam", {"lr": f32(0.05)}),
    ("adam_eps_1e-7", "Adam", {"lr": f32(0.05), "eps": 1e-7}),
    # β₂ = 0.99 so that the second moment shrinks within 20 steps and the
    # running maximum differs from it
    ("adam_amsgrad", "Adam", {"lr": f32(0.05), "betas": [0.9, 0.99], "amsgrad": True}),
    ("adam_weight_decay", "Adam", {"lr": f32(0.05), "weight_decay": 0.1}),
    ("adamw", "AdamW", {"lr": f32(0.05)}),
    ("adamw_weight_decay", "AdamW", {"lr": f32(0.05), "weight_decay": 0.1}),
]


def problem():
    """The fixed float32 a, c and initial w."""
    rng = np.random.default_rng(7)
    a = rng.uniform(0.5, 2.0, N).astype(np.float32)
    c = rng.uniform(-0.8, 0.8, N).astype(np.float32)
    w = rng.uniform(-1.5, 1.5, N).astype(np.float32)
    a[-1], c[-1], w[-1] = 0.001, 0.5, 0.01
    return a, c, w


def gradient(a, c, w):
    """PyTorch autograd's float32 gradient of f at w, checked against GRADIENT."""
    w = w.detach().clone().requires_grad_(True)
    loss = (a * (w - c) ** 2).sum() + 0.1 * (w**4).sum()
    loss.backward()
    g = w.grad.detach().clone()
    A, C, W = a.numpy(), c.numpy(), w.detach().numpy()
    by_hand = np.float32(2) * (A * (W - C)) + np.float32(0.1) * (np.float32(4) * ((W * W) * W))
    assert np.array_equal(g.numpy().view(np.int32), by_hand.view(np.int32)), (g, by_hand)
    return g


class IeeeSqrt(torch.Tensor):
    """A tensor whose ``sqrt`` and ``sqrt_`` are correctly rounded.

    The optimizers create their state with ``zeros_like(param)``, so a
    parameter of this class gives state buffers of this class too, and every
    square root ``torch.optim`` takes of them comes here.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_):
            x = args[0]
            with torch._C.DisableTorchFunctionSubclass():
                root = torch.sqrt(x.double()).float()
                if func is torch.Tensor.sqrt_:
                    return x.copy_(root)
            return root.as_subclass(cls)
        return super().__torch_function__(func, types, args, kwargs or {})


def run(cls, options, a, c, w0, ieee_sqrt):
    """Parameters after each of STEPS optimizer steps from w0."""
    kwargs = dict(options)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    w = w0.clone()
    if ieee_sqrt:
        w = w.as_subclass(IeeeSqrt)
    w.requires_grad_(True)
    opt = getattr(torch.optim, cls)([w], foreach=False, **kwargs)
    trajectory = []
    for _ in range(STEPS):
        opt.zero_grad()
        w.grad = gradient(a, c, w.detach().as_subclass(torch.Tensor))
        opt.step()
        trajectory.append(w.detach().as_subclass(torch.Tensor).clone())
    if ieee_sqrt and cls != "SGD":  # SGD takes no square root
        assert all(
            isinstance(v, IeeeSqrt) for k, v in opt.state[w].items() if k != "step"
        ), "optimizer state escaped the IeeeSqrt subclass"
    return trajectory


def floats(t):
    return "[" + ",".join(repr(float(x)) for x in t.tolist()) + "]"


def write(name, cls, options, a, c, w0, trajectory, ieee):
    lines = [
        '"config":' + json.dumps(name),
        '"optimizer":' + json.dumps(cls),
        '"options":' + json.dumps(options),
        '"torch":' + json.dumps(torch.__version__),
        '"function":' + json.dumps(FUNCTION),
        '"gradient":' + json.dumps(GRADIENT),
        '"a":' + floats(a),
        '"c":' + floats(c),
        '"initial":' + floats(w0),
        '"initial_grad":' + floats(gradient(a, c, w0)),
        '"trajectory":[\n' + ",\n".join(floats(w) for w in trajectory) + "\n]",
        '"trajectory_ieee_sqrt":[\n' + ",\n".join(floats(w) for w in ieee) + "\n]",
    ]
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT_DIR, exist_ok=True)
    a, c, w0 = (torch.from_numpy(x) for x in problem())
    for name, cls, options in CONFIGS:
        trajectory = run(cls, options, a, c, w0, ieee_sqrt=False)
        ieee = run(cls, options, a, c, w0, ieee_sqrt=True)
        differ = sum(int((x != y).sum()) for x, y in zip(trajectory, ieee))
        if cls == "SGD":
            assert differ == 0, name
        write(name, cls, options, a, c, w0, trajectory, ieee)
        print("%-40s %3d of %d values change with IEEE square roots" % (name, differ, STEPS * N))


if __name__ == "__main__":
    main()
