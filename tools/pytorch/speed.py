#!/usr/bin/env python3
"""PyTorch's side of the speed comparison: the figures of
`cargo run --release --example speed`, for the same networks (LeNet-5,
VGG-mini, ResNet-20, and an LSTM and a GRU of 128 reading a digit's 28 rows,
the last step's output into a linear layer; and, only when `--nets` names
it, VGG-16 at 224 × 224, torchvision's architecture).

    pip install torch
    python3 tools/pytorch/speed.py --threads 1
    python3 tools/pytorch/speed.py --threads 1 --nets vgg16

Prints one JSON object per figure: training images/s (batch 64, SGD with
momentum 0.9, random data, the median of 3 passes over 10 to 100 batches
after one more; VGG-16: batch 16, the median of 2 single steps after one
more), inference latency at batch 1 (median, eval mode, no_grad; VGG-16: of
5 runs) and inference images/s at batch 64 (VGG-16: one batch, no warm-up
beyond the batch-1 runs). With `pip install onnx onnxruntime`, also the inference
figures of ONNX Runtime running PyTorch's ONNX export of the same network
(`"engine": "onnxruntime"`, as many intra-op threads as `--threads`).

With `--memory train` or `--memory infer` and one network in `--nets`, it
measures memory instead, as `speed --memory` does for ours: the peak
resident memory (Linux's `VmHWM`) of two training steps at batch 16 (SGD
with momentum; the second step runs with the momentum buffers that the
first made) or of batch-1 inference (eval mode, no_grad), and its increment
over the resident memory once the model and the data are built.
`--export-onnx PATH` writes the network's ONNX export for
`tools/pytorch/peak_memory.py`, which measures ONNX Runtime's in a process
without PyTorch.
"""
import argparse
import json
import statistics
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

import peak_memory


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


def vgg16():
    """torchvision's `vgg16()` (configuration D, no batch norm; torchvision
    is not needed): `features`, `avgpool`, `classifier`, with the same
    layers and names; as in torchvision, the flatten is in the forward pass
    (here a module between `avgpool` and `classifier`). 138,357,544
    parameters; examples/nets/vgg16.rs leaves out the adaptive pool, the
    identity on a 224 × 224 image."""
    layers, cin = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(OrderedDict([
        ("features", nn.Sequential(*layers)),
        ("avgpool", nn.AdaptiveAvgPool2d((7, 7))),
        ("flatten", nn.Flatten()),
        ("classifier", nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
            nn.Linear(4096, 1000))),
    ]))


def lstm_rows():
    return LastStep(nn.LSTM)


def gru_rows():
    return LastStep(nn.GRU)


class Plan:
    """How much work each figure of a network takes: training batch size,
    batches a pass and timed passes (after one more), timed batch-1 runs,
    timed batches of 64 and whether one more warms up first."""

    def __init__(self, batches, batch=64, passes=3, latency_runs=300, batch64_runs=50, batch64_warm_up=True):
        self.batches, self.batch, self.passes = batches, batch, passes
        self.latency_runs, self.batch64_runs, self.batch64_warm_up = latency_runs, batch64_runs, batch64_warm_up


NETS = {
    "lenet5": (lenet5, (1, 28, 28), Plan(100, latency_runs=2000)),
    "vgg_mini": (vgg_mini, (3, 32, 32), Plan(10)),
    "resnet20": (resnet20, (3, 32, 32), Plan(10)),
    "lstm_rows": (lstm_rows, (28, 28), Plan(40)),
    "gru_rows": (gru_rows, (28, 28), Plan(40)),
    # about 15.5 G multiply-adds an image: three training steps of 16
    # (as ours), a few batch-1 runs, one batch of 64
    "vgg16": (vgg16, (3, 224, 224), Plan(1, batch=16, passes=2, latency_runs=5, batch64_runs=1,
                                         batch64_warm_up=False)),
}

# run when `--nets` is not given: all but VGG-16, whose few steps alone take
# minutes
DEFAULT_NETS = [name for name in NETS if name != "vgg16"]


def median_time(runs, f, warm_up=True):
    if warm_up:
        f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name, model, shape, plan, threads):
    torch.manual_seed(1)
    batches, b = plan.batches, plan.batch
    x = torch.randn(batches * b, *shape)
    y = torch.randint(0, 10, (batches * b,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        for i in range(batches):
            opt.zero_grad()
            loss_fn(model(x[i * b:(i + 1) * b]), y[i * b:(i + 1) * b]).backward()
            opt.step()

    t = median_time(plan.passes, epoch)
    print(json.dumps({"net": name, "figure": "train_images_per_second", "threads": threads, "value": batches * b / t}))
    model.eval()
    one, batch = torch.randn(1, *shape), torch.randn(64, *shape)
    with torch.no_grad():
        t1 = median_time(plan.latency_runs, lambda: model(one))
        t64 = median_time(plan.batch64_runs, lambda: model(batch), plan.batch64_warm_up)
    print(json.dumps({"net": name, "figure": "inference_batch1_us", "threads": threads, "value": t1 * 1e6}))
    print(json.dumps({"net": name, "figure": "inference_batch64_images_per_second", "threads": threads, "value": 64 / t64}))


def export(model, shape, path):
    """The model's ONNX export, its batch size left free."""
    torch.onnx.export(model, torch.randn(1, *shape), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)


def report_onnxruntime(name, model, shape, plan, threads):
    try:
        import onnxruntime as ort
    except ImportError:
        return
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / f"{name}.onnx")
        export(model, shape, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    one = torch.randn(1, *shape).numpy()
    batch = torch.randn(64, *shape).numpy()
    t1 = median_time(plan.latency_runs, lambda: session.run(None, {"x": one}))
    t64 = median_time(plan.batch64_runs, lambda: session.run(None, {"x": batch}), plan.batch64_warm_up)
    for figure, value in (("inference_batch1_us", t1 * 1e6), ("inference_batch64_images_per_second", 64 / t64)):
        print(json.dumps({"net": name, "figure": figure, "threads": threads, "value": value, "engine": "onnxruntime"}))


MEMORY_BATCH = 16


def report_memory(name, kind, threads):
    build, shape, _ = NETS[name]
    torch.manual_seed(1)
    model = build()
    if kind == "train":
        model.train()
        x = torch.randn(MEMORY_BATCH, *shape)
        y = torch.randint(0, 10, (MEMORY_BATCH,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()

        def run():
            for _ in range(2):
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
    else:
        model.eval()
        one = torch.randn(1, *shape)

        def run():
            with torch.no_grad():
                for _ in range(2):
                    model(one)
    peak_memory.measure(name, kind, threads, run)


def export_onnx(name, path):
    build, shape, _ = NETS[name]
    torch.manual_seed(1)
    export(build().eval(), shape, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--nets", default=",".join(DEFAULT_NETS),
                        help="comma-separated: " + ", ".join(NETS) + " (default: all but vgg16)")
    parser.add_argument("--memory", choices=["train", "infer"],
                        help="instead, the peak resident memory of two training steps at batch 16 or of batch-1 "
                        "inference of the one network in --nets")
    parser.add_argument("--export-onnx", metavar="PATH", help="instead, write the ONNX export of the one network in --nets")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    nets = args.nets.split(",")
    for name in nets:
        if name not in NETS:
            parser.error(f"--nets: unknown network {name!r}")
    if args.memory or args.export_onnx:
        if len(nets) != 1:
            parser.error("--memory and --export-onnx take one network in --nets")
        if args.export_onnx:
            export_onnx(nets[0], args.export_onnx)
        else:
            report_memory(nets[0], args.memory, args.threads)
        return
    for name in nets:
        build, shape, plan = NETS[name]
        report(name, build().train(), shape, plan, args.threads)
    for name in nets:
        build, shape, plan = NETS[name]
        report_onnxruntime(name, build(), shape, plan, args.threads)


if __name__ == "__main__":
    main()
