#!/usr/bin/env python3
"""List the parameter and buffer tensors of torchvision's AlexNet, VGG-16 and
ResNet-18 (1000 classes), for tests/classics.rs.

Run from the repository root:

    pip install torch torchvision
    python3 tools/golden/classics_export.py

Writes tests/golden/classics_torchvision.json:

    {"alexnet": {"param_count": N,
                 "parameters": [[name, shape], ...],   named_parameters() order
                 "buffers": [[name, shape], ...]},     named_buffers() order
     "vgg16": {...}, "resnet18": {...}}

Only names and shapes: no weights are drawn or downloaded (weights=None).
"""
import json

import torchvision
from torchvision import models

out = {}
for name in ["alexnet", "vgg16", "resnet18"]:
    model = getattr(models, name)(weights=None, num_classes=1000)
    out[name] = {
        "param_count": sum(p.numel() for p in model.parameters()),
        "parameters": [[n, list(p.shape)] for n, p in model.named_parameters()],
        "buffers": [[n, list(b.shape)] for n, b in model.named_buffers()],
    }
    print("%-9s %12d parameters in %3d tensors, %2d buffers (torchvision %s)" % (
        name, out[name]["param_count"], len(out[name]["parameters"]),
        len(out[name]["buffers"]), torchvision.__version__))

with open("tests/golden/classics_torchvision.json", "w") as f:
    f.write("{\n")
    for i, (name, entry) in enumerate(out.items()):
        f.write('  "%s": {\n    "param_count": %d,\n' % (name, entry["param_count"]))
        for key in ["parameters", "buffers"]:
            rows = ",\n".join("      " + json.dumps(t) for t in entry[key])
            f.write('    "%s": [%s%s%s]%s\n' % (
                key, "\n" if rows else "", rows, "\n    " if rows else "",
                "," if key == "parameters" else ""))
        f.write("  }%s\n" % ("," if i + 1 < len(out) else ""))
    f.write("}\n")
