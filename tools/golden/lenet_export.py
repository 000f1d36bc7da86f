#!/usr/bin/env python3
"""Export a PyTorch LeNet-5 (examples/lenet.rs) for the weights-loading test.

Run from the repository root:

    pip install torch safetensors
    python3 tools/golden/lenet_export.py

Writes
  tests/golden/lenet5_torch.safetensors   the model's state_dict, saved with
                                          safetensors.torch.save_file (float32)
  tests/golden/lenet5_torch_io.json       {"input": [3·784 floats], "logits": [3·10 floats]}
                                          the model's float32 forward pass on 3 inputs

The module names follow the network! items: unnamed items are named by their
index ("0", "7", ...), the second conv is named "c2", so the state_dict keys
are the names nn uses ("0.weight", "c2.bias", ...). Deterministic: running it
twice gives identical files.
"""
import json
from collections import OrderedDict

import torch
from safetensors.torch import save_file
from torch import nn

torch.manual_seed(5)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

model = nn.Sequential(OrderedDict([
    ("0", nn.Conv2d(1, 6, 5, padding=2)),
    ("1", nn.ReLU()),
    ("2", nn.MaxPool2d(2)),
    ("c2", nn.Conv2d(6, 16, 5)),
    ("4", nn.ReLU()),
    ("5", nn.MaxPool2d(2)),
    ("6", nn.Flatten()),
    ("7", nn.Linear(400, 120)),
    ("8", nn.ReLU()),
    ("9", nn.Linear(120, 84)),
    ("10", nn.ReLU()),
    ("11", nn.Linear(84, 10)),
]))
# PyTorch's own default initialisation, with the biases moved off zero
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.copy_(torch.randn_like(p) * 0.1)

x = torch.rand(3, 1, 28, 28)
with torch.no_grad():
    logits = model(x)

save_file({k: v.contiguous() for k, v in model.state_dict().items()}, "tests/golden/lenet5_torch.safetensors")
with open("tests/golden/lenet5_torch_io.json", "w") as f:
    json.dump({"input": [float(v) for v in x.flatten()], "logits": [float(v) for v in logits.flatten()]}, f)
    f.write("\n")
print("state_dict:", {k: list(v.shape) for k, v in model.state_dict().items()})
print("logits[0]:", [round(float(v), 6) for v in logits[0]])
