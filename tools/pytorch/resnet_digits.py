#!/usr/bin/env python3
"""A small ResNet on the bundled MNIST split with PyTorch: the same network
and recipe as `cargo run --release --example resnet_digits`, for the
comparison in BENCHMARKS.md.

    pip install torch
    python3 tools/pytorch/resnet_digits.py --seeds 1 2 3 --threads 1

Network (the example's, 77,754 parameters): a stem conv 3x3 (16, no bias) +
batch norm + ReLU; three basic blocks of two 3x3 convs with batch norm, of
16, 32 and 64 channels, the 32 and 64 ones stride 2 with a projection
shortcut (conv 1x1 stride 2, no bias, + batch norm), each followed by a ReLU;
global average pooling; Linear(64, 10). Names follow the example's
nn.Sequential nesting ("3.0.0.weight", "5.1.0.weight").

Recipe: conv and linear weights drawn from N(0, 1/fan_in), biases 0 (nn's
default initialisation); batch norm weight 1, bias 0, momentum 0.1, eps
1e-5; pixels in [0, 1]; SGD with momentum 0.9 and weight decay 5e-4 (on
every parameter); OneCycleLR peaking at 0.1 (cosine, pct_start 0.3,
div_factor 25, final_div_factor 1e4, momentum kept at 0.9:
cycle_momentum=False), stepped after every batch; batch 64, shuffled every
epoch, the short last batch kept; mean softmax cross-entropy; 10 epochs;
test accuracy (evaluation mode) after each epoch. Training time and
throughput count the training loop only (not evaluation).
"""
import argparse
import gzip
import json
import math
import struct
import time
from pathlib import Path

import torch
from torch import nn

DATA = Path(__file__).resolve().parents[2] / "data" / "mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8)
    return data.reshape(dims)


def load(split):
    images = read_idx(DATA / f"{split}-images-idx3-ubyte.gz").float().div(255).unsqueeze(1)
    labels = read_idx(DATA / f"{split}-labels-idx1-ubyte.gz").long()
    return images, labels


class Add(nn.ModuleList):
    """`add { [..], [..] }`: the sum of its branches, named "0", "1" as in
    nn; an empty branch is the identity."""

    def forward(self, x):
        return sum(b(x) for b in self)


def conv_bn(c_in, c_out, kernel, stride=1):
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out)]


def block(c_in, c_out, stride):
    main = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), nn.ReLU(), *conv_bn(c_out, c_out, 3))
    shortcut = nn.Sequential(*conv_bn(c_in, c_out, 1, stride)) if stride != 1 else nn.Sequential()
    return Add([main, shortcut])


def resnet():
    model = nn.Sequential(
        *conv_bn(1, 16, 3), nn.ReLU(),   # 0, 1, 2: [16, 28, 28]
        block(16, 16, 1), nn.ReLU(),     # 3, 4
        block(16, 32, 2), nn.ReLU(),     # 5, 6: [32, 14, 14]
        block(32, 64, 2), nn.ReLU(),     # 7, 8: [64, 7, 7]
        nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),  # 9: global_avg_pool, [64]
        nn.Linear(64, 10),               # 10
    )
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, 1.0 / math.sqrt(fan_in))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
    return model


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(1) == labels[i:i + 500]).sum().item() for i in range(0, len(labels), 500))
    model.train()
    return correct / len(labels)


def run(seed, epochs, threads, verbose=False):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = resnet()
    batches = math.ceil(len(train_y) / 64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, epochs=epochs, steps_per_epoch=batches,
        pct_start=0.3, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, cycle_momentum=False,
    )
    loss_fn = nn.CrossEntropyLoss()
    train_seconds, seen, per_epoch = 0.0, 0, []
    for epoch in range(epochs):
        order = torch.randperm(len(train_y))
        start = time.perf_counter()
        total, n = 0.0, 0
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            total += loss.item() * len(idx)
            n += len(idx)
        seconds = time.perf_counter() - start
        train_seconds += seconds
        acc = accuracy(model, test_x, test_y)
        per_epoch.append(acc)
        if verbose:
            print(f"seed {seed} threads {threads} epoch {epoch + 1}: train loss {total / n:.4f} "
                  f"test accuracy {100 * acc:.2f}% ({seconds:.1f} s, {n / seconds:.0f} images/s)", flush=True)
    if verbose:
        print(f"seed {seed} threads {threads}: test accuracy {100 * acc:.2f}%, training {train_seconds:.1f} s, "
              f"{seen / train_seconds:.0f} images/s", flush=True)
    return {
        "seed": seed, "threads": threads, "test_accuracy": acc, "train_seconds": train_seconds,
        "images_per_second": seen / train_seconds, "test_accuracy_per_epoch": per_epoch,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"parameters: {sum(p.numel() for p in resnet().parameters()):,}", flush=True)
    results = [run(s, args.epochs, args.threads, verbose=True) for s in args.seeds]
    accs = [r["test_accuracy"] for r in results]
    secs = [r["train_seconds"] for r in results]
    print(f"test accuracy: mean {100 * sum(accs) / len(accs):.2f}%, min {100 * min(accs):.2f}%, max {100 * max(accs):.2f}%; "
          f"training time: mean {sum(secs) / len(secs):.1f} s")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
