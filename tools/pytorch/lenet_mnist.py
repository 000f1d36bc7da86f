#!/usr/bin/env python3
"""LeNet-5 on the bundled MNIST split with PyTorch: the same recipe as
`cargo run --release --example lenet_mnist`, for the comparison in
BENCHMARKS.md.

    pip install torch
    python3 tools/pytorch/lenet_mnist.py --seeds 1 2 3 --threads 2

Recipe (the example's): LeNet-5 as the example defines it; weights drawn from
N(0, 1/fan_in), biases 0 (nn's default initialisation); pixels in [0, 1]; SGD
with momentum 0.9, learning rate 0.01, batch 64, shuffled every epoch, the
short last batch kept; mean softmax cross-entropy; 10 epochs; test accuracy
after each epoch. Training throughput counts the training loop only (not
evaluation).
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


def lenet5():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, 1.0 / math.sqrt(fan_in))
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
    model = lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    train_seconds, seen = 0.0, 0
    for epoch in range(epochs):
        order = torch.randperm(len(train_y))
        start = time.perf_counter()
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
            seen += len(idx)
        train_seconds += time.perf_counter() - start
        acc = accuracy(model, test_x, test_y)
        if verbose:
            print(f"seed {seed} epoch {epoch + 1}: loss {loss.item():.4f} test accuracy {100 * acc:.2f}%", flush=True)
    return {"seed": seed, "threads": threads, "test_accuracy": acc, "images_per_second": seen / train_seconds}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    results = [run(s, args.epochs, args.threads, verbose=True) for s in args.seeds]
    for r in results:
        print(json.dumps(r))
    accs = [r["test_accuracy"] for r in results]
    print(f"test accuracy: mean {100 * sum(accs) / len(accs):.2f}%, min {100 * min(accs):.2f}%, max {100 * max(accs):.2f}%")


if __name__ == "__main__":
    main()
