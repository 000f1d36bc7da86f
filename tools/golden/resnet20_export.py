#!/usr/bin/env python3
"""Export a PyTorch ResNet-20 (He et al.'s CIFAR-10 network, with projection
shortcuts where the shape changes: option B) with batch norm state, and a
float64 reference of one training step's forward and backward pass and of an
evaluation-mode forward pass.

Run from the repository root:

    pip install torch safetensors
    python3 tools/golden/resnet20_export.py

The network, as network! items (numbered from 0; BC stands for
`conv(C, kernel = 3, pad = 1, bias = false), batch_norm, relu,
conv(C, kernel = 3, pad = 1, bias = false), batch_norm`):

    conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,        // 0 1 2
    residual { B16 }, relu, residual { B16 }, relu, residual { B16 }, relu, // 3..8
    add { [conv(32, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
           conv(32, kernel = 3, pad = 1, bias = false), batch_norm],
          [conv(32, kernel = 1, stride = 2, bias = false), batch_norm] }, relu,   // 9 10
    residual { B32 }, relu, residual { B32 }, relu,                        // 11..14
    add { ...the same with 64... }, relu, residual { B64 }, relu, residual { B64 }, relu, // 15..20
    global_avg_pool, dense(10)                                              // 21 22

Input [3, 32, 32], output [10]. Module names follow nn.Sequential nesting, as
in generate.py: a block is an nn.ModuleList of branches, each branch an
nn.Sequential numbered from 0, the identity branch of `residual` an empty
nn.Sequential; so the first conv of item 9's branch 0 is "9.0.0.weight", its
shortcut batch norm "9.1.1.weight", "9.1.1.running_mean", ...

Writes
  tests/golden/resnet20_torch.safetensors
      the state_dict (parameters and buffers), float32, except
      "<bn>.num_batches_tracked" (int64, shape []).  Conv weights ~
      N(0, 1/sqrt(fan_in)); batch norm weight ~ U[0.5, 1.5], bias ~
      N(0, 0.1), running_mean ~ N(0, 0.5), running_var ~ U[0.5, 2],
      num_batches_tracked = 3 (so that the state is not PyTorch's default);
      dense weight ~ N(0, 1/sqrt(64)), bias ~ N(0, 0.1).
  tests/golden/resnet20_torch_io.safetensors
      "input"        [2, 3, 32, 32] float32, ~ N(0, 1)
      "grad_output"  [2, 10]        float32, ~ N(0, 1)
      and, computed in float64 (module.double()) from exactly those float32
      values and the state_dict above, in TRAINING mode (batch statistics):
      "output"       [2, 10]        float64
      "grad_input"   [2, 3, 32, 32] float64, gradient of (output * grad_output).sum()
      "grad.<name>"  float64, one per parameter, same shape as the parameter
      "buffers_after.<name>"  every buffer after that one training pass:
                     running_mean / running_var float64 (updated with momentum
                     0.1, the variance with the unbiased batch variance),
                     num_batches_tracked int64 (= 4)
      and, in EVALUATION mode from the state_dict's running statistics (the
      state before the training pass):
      "eval_output"  [2, 10]        float64

The script also runs both passes in float32 and checks that they agree with
the float64 reference to 1e-4 relative.  Deterministic: running it twice gives
identical files (on the same kind of CPU; see README.md).
"""
import copy
from collections import OrderedDict

import torch
from safetensors.torch import save_file
from torch import nn

torch.manual_seed(20)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


class Add(nn.ModuleList):
    """`add { [..], [..], .. }`: every branch sees the input; outputs summed."""

    def forward(self, x):
        y = self[0](x)
        for branch in self[1:]:
            y = y + branch(x)
        return y


class GlobalAvgPool(nn.Module):
    """`global_avg_pool`: [B, C, H, W] -> [B, C]."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def items(*mods):
    return nn.Sequential(OrderedDict((str(i), m) for i, m in enumerate(mods)))


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def basic(c):
    """`residual { BC }`."""
    return Add([items(conv3(c, c), nn.BatchNorm2d(c), nn.ReLU(), conv3(c, c), nn.BatchNorm2d(c)), items()])


def down(cin, cout):
    """The first block of a stage: stride 2, projection shortcut."""
    return Add([
        items(conv3(cin, cout, 2), nn.BatchNorm2d(cout), nn.ReLU(), conv3(cout, cout), nn.BatchNorm2d(cout)),
        items(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout)),
    ])


model = items(
    conv3(3, 16), nn.BatchNorm2d(16), nn.ReLU(),                            # 0 1 2
    basic(16), nn.ReLU(), basic(16), nn.ReLU(), basic(16), nn.ReLU(),       # 3..8
    down(16, 32), nn.ReLU(), basic(32), nn.ReLU(), basic(32), nn.ReLU(),    # 9..14
    down(32, 64), nn.ReLU(), basic(64), nn.ReLU(), basic(64), nn.ReLU(),    # 15..20
    GlobalAvgPool(), nn.Linear(64, 10),                                     # 21 22
)

with torch.no_grad():
    for name, p in model.named_parameters():
        module = model.get_submodule(name.rsplit(".", 1)[0])
        if isinstance(module, nn.BatchNorm2d):
            if name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.1)
        elif name.endswith("bias"):
            p.normal_(0.0, 0.1)
        else:
            p.normal_(0.0, p[0].numel() ** -0.5)
    for name, b in model.named_buffers():
        if name.endswith("running_mean"):
            b.normal_(0.0, 0.5)
        elif name.endswith("running_var"):
            b.uniform_(0.5, 2.0)
        else:
            assert name.endswith("num_batches_tracked"), name
            b.fill_(3)

x32 = torch.randn(2, 3, 32, 32)
gy32 = torch.randn(2, 10)

n_params = sum(p.numel() for p in model.parameters())
state = OrderedDict((k, v.detach().clone().contiguous()) for k, v in model.state_dict().items())
param_names = [n for n, _ in model.named_parameters()]
buffer_names = [n for n, _ in model.named_buffers()]


def run(m, dtype):
    """Training pass (forward and backward) on a copy, and an eval forward on another."""
    m = copy.deepcopy(m).to(dtype)
    m_eval = copy.deepcopy(m).eval()
    m.train()
    x = x32.to(dtype).requires_grad_(True)
    y = m(x)
    (y * gy32.to(dtype)).sum().backward()
    with torch.no_grad():
        y_eval = m_eval(x32.to(dtype))
    out = OrderedDict([("output", y.detach()), ("grad_input", x.grad), ("eval_output", y_eval)])
    for n, p in m.named_parameters():
        out["grad." + n] = p.grad
    for n, b in m.named_buffers():
        out["buffers_after." + n] = b.detach().clone()
    return out


ref = run(model, torch.float64)
check = run(model, torch.float32)
worst = 0.0
for k, want in ref.items():
    got = check[k].double()
    want = want.double()
    ratio = ((got - want).abs().max() / want.abs().max()).item()
    assert ratio <= 1e-4, (k, ratio)
    worst = max(worst, ratio)
assert ref["buffers_after.1.num_batches_tracked"].item() == 4

io = OrderedDict([("input", x32.contiguous()), ("grad_output", gy32.contiguous())])
io.update((k, v.contiguous()) for k, v in ref.items())

save_file(dict(state), "tests/golden/resnet20_torch.safetensors")
save_file(dict(io), "tests/golden/resnet20_torch_io.safetensors")
print("parameters: %d (%.3f M) in %d tensors; buffers: %d tensors" % (
    n_params, n_params / 1e6, len(param_names), len(buffer_names)))
print("state_dict: %d tensors, first: %s" % (len(state), list(state)[:12]))
print("float32 run vs float64 reference: worst max-abs / max %.1e" % worst)
print("output[0]:", [round(v, 6) for v in ref["output"][0].tolist()])
print("eval_output[0]:", [round(v, 6) for v in ref["eval_output"][0].tolist()])
