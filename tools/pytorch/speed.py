#!/usr/bin/env python3
"""PyTorch's side of the speed comparison: the figures of
`cargo run --release --example speed`, for the same networks (LeNet-5,
VGG-mini, ResNet-20, and an LSTM and a GRU of 128 reading a digit's 28 rows,
the last step's output into a linear layer).

    pip install torch
    python3 tools/pytorch/speed.py --threads 1

Prints one JSON object per figure: training images/s (batch 64, SGD with
momentum 0.9, random data, the median of 3 passes over 100 batches),
inference latency at batch 1 (median, eval mode, no_grad) and inference
images/s at batch 64. With `pip install onnx onnxruntime`, also the inference
figures of ONNX Runtime running PyTorch's ONNX export of the same network
(`"engine": "onnxruntime"`, as many intra-op threads as `--threads`).
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def vgg_mini():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10))


class Add(nn.ModuleList):
    """`add { [..], [..] }`: the branches' outputs summed; an empty
    nn.Sequential is the identity. Branches are children `0`, `1`, …, so the
    names are nn's (`"3.0.1.weight"`)."""

    def forward(self, x):
        out = self[0](x)
        for branch in self[1:]:
            out = out + branch(x)
        return out


def basic_block(cin, cout, stride):
    """A ResNet basic block: `residual { .. }`, or `add` with a 1×1
    projection where the shape changes."""
    body = nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout))
    if stride == 1 and cin == cout:
        shortcut = nn.Sequential()
    else:
        shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
    return Add([body, shortcut])


def resnet20():
    """examples/nets/resnet20.rs: He et al.'s CIFAR ResNet-20 with projection shortcuts."""
    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout in (16, 32, 64):
        for i in range(3):
            stride = 2 if (i == 0 and cout != 16) else 1
            layers += [basic_block(cin, cout, stride), nn.ReLU()]
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


class LastStep(nn.Module):
    """`lstm(128)` or `gru(128)` (the last step's output) then `dense(10)`:
    a digit's 28 rows of 28 pixels, batch first as nn's `[T, F]` samples."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.fc(output[:, -1])


def lstm_rows():
    return LastStep(nn.LSTM)


def gru_rows():
    return LastStep(nn.GRU)


NETS = {
    "lenet5": (lenet5, (1, 28, 28), 100),
    "vgg_mini": (vgg_mini, (3, 32, 32), 10),
    "resnet20": (resnet20, (3, 32, 32), 10),
    "lstm_rows": (lstm_rows, (28, 28), 40),
    "gru_rows": (gru_rows, (28, 28), 40),
}


def median_time(runs, f):
    f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name, model, shape, batches, threads):
    torch.manual_seed(1)
    x = torch.randn(batches * 64, *shape)
    y = torch.randint(0, 10, (batches * 64,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for i in range(batches):
            opt.zero_grad()
            loss_fn(model(x[i * 64:(i + 1) * 64]), y[i * 64:(i + 1) * 64]).backward()
            opt.step()

    t = median_time(3, epoch)
    print(json.dumps({"net": name, "figure": "train_images_per_second", "threads": threads, "value": batches * 64 / t}))
    model.eval()
    one, batch = torch.randn(1, *shape), torch.randn(64, *shape)
    with torch.no_grad():
        t1 = median_time(2000 if name == "lenet5" else 300, lambda: model(one))
        t64 = median_time(50, lambda: model(batch))
    print(json.dumps({"net": name, "figure": "inference_batch1_us", "threads": threads, "value": t1 * 1e6}))
    print(json.dumps({"net": name, "figure": "inference_batch64_images_per_second", "threads": threads, "value": 64 / t64}))


def report_onnxruntime(name, model, shape, threads):
    try:
        import onnxruntime as ort
    except ImportError:
        return
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / f"{name}.onnx")
        torch.onnx.export(model, torch.randn(1, *shape), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    one = torch.randn(1, *shape).numpy()
    batch = torch.randn(64, *shape).numpy()
    t1 = median_time(2000 if name == "lenet5" else 300, lambda: session.run(None, {"x": one}))
    t64 = median_time(50, lambda: session.run(None, {"x": batch}))
    for figure, value in (("inference_batch1_us", t1 * 1e6), ("inference_batch64_images_per_second", 64 / t64)):
        print(json.dumps({"net": name, "figure": figure, "threads": threads, "value": value, "engine": "onnxruntime"}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--nets", default=",".join(NETS), help="comma-separated: " + ", ".join(NETS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    nets = args.nets.split(",")
    for name in nets:
        build, shape, batches = NETS[name]
        report(name, build().train(), shape, batches, args.threads)
    for name in nets:
        build, shape, _ = NETS[name]
        report_onnxruntime(name, build(), shape, args.threads)


if __name__ == "__main__":
    main()
