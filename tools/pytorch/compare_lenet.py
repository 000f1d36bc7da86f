#!/usr/bin/env python3
"""LeNet-5 on the bundled MNIST split, ours against PyTorch, in one run.

    pip install torch
    python3 tools/pytorch/compare_lenet.py            # seeds 1 2 3, threads 1 and 2

For each thread count and seed it runs `cargo run --release --example
lenet_mnist` and the same recipe in PyTorch (tools/pytorch/lenet_mnist.py),
one after the other, and prints both test accuracies and both training
throughputs (images/s of the training loop, evaluation excluded), then the
means. The example is built first, so compiling is not timed.
"""
import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import lenet_mnist  # noqa: E402


def ours(seed, threads, epochs):
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "lenet_mnist", "--",
         "--seed", str(seed), "--threads", str(threads), "--epochs", str(epochs), "--out", "runs/compare"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    acc = float(re.search(r"test accuracy: ([0-9.]+)%", out).group(1)) / 100
    ips = float(re.search(r"training speed: ([0-9.]+) images/s", out).group(1))
    return acc, ips


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "lenet_mnist"], cwd=ROOT, check=True)
    rows = []
    print("threads seed | ours: accuracy images/s | PyTorch: accuracy images/s | speed ratio", flush=True)
    for threads in args.threads:
        for seed in args.seeds:
            acc, ips = ours(seed, threads, args.epochs)
            t = lenet_mnist.run(seed, args.epochs, threads)
            rows.append((threads, seed, acc, ips, t["test_accuracy"], t["images_per_second"]))
            r = rows[-1]
            print(f"{r[0]:>7} {r[1]:>4} | {100 * r[2]:6.2f}% {r[3]:9.0f} | {100 * r[4]:6.2f}% {r[5]:9.0f} | {r[3] / r[5]:.2f}", flush=True)
    for threads in args.threads:
        sel = [r for r in rows if r[0] == threads]
        mean = lambda i: sum(r[i] for r in sel) / len(sel)  # noqa: E731
        print(f"threads {threads}: ours {100 * mean(2):.2f}% at {mean(3):.0f} images/s, "
              f"PyTorch {100 * mean(4):.2f}% at {mean(5):.0f} images/s, speed ratio {mean(3) / mean(5):.2f}")


if __name__ == "__main__":
    main()
