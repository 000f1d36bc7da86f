#!/usr/bin/env python3
"""Ours against PyTorch, alternately in one run: the figures of
`cargo run --release --example speed` and `tools/pytorch/speed.py`, for 1 and
2 threads, each side run `--rounds` times in turn; prints the medians and
ours / PyTorch per figure (for latencies, PyTorch / ours, so > 1 is ours
faster everywhere), and the same against ONNX Runtime for inference when
`onnxruntime` is installed.

    pip install torch onnx onnxruntime
    python3 tools/pytorch/compare_speed.py --rounds 3
    python3 tools/pytorch/compare_speed.py --nets vgg16 --rounds 1

VGG-16 at 224 × 224 (about 15.5 G multiply-adds an image) runs only when
`--nets` names it: three training steps of 16 images, 5 batch-1 runs and one
batch of 64 on each side, a few minutes for one round of 1 and 2 threads.

Inference runs in evaluation mode through `predict` on our side (a sample at
a time, batch norm and ReLU folded into the convs); batch-1 latency with 2
threads shares each convolution's output positions out between them, and
training and batch-64 inference split the batch across the threads.

`--baseline DIR` also runs the `speed` example of another checkout (built
there with `cargo build --release --example speed`) in the same rotation, and
prints its medians and ours / baseline: a before-and-after comparison of a
change under the same conditions.
"""
import argparse
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(cmd):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def fmt(value, width):
    """A figure with one decimal, or three significant digits below 10 (VGG-16's images/s)."""
    return f"{value:{width}.1f}" if abs(value) >= 10 else f"{value:{width}.3g}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline", type=Path, help="another checkout whose speed example to run alongside")
    parser.add_argument("--nets", help="comma-separated subset: lenet5, vgg_mini, resnet20, lstm_rows, gru_rows, "
                        "vgg16 (default: all but vgg16, which takes minutes, and the conv layers' GFLOP/s)")
    args = parser.parse_args()
    only = ["--nets", args.nets] if args.nets else []
    base_bin = None
    if args.baseline:
        base_bin = args.baseline.resolve() / "target/release/examples/speed"
        if not base_bin.exists():
            sys.exit(f"{base_bin} is missing: run `cargo build --release --example speed` in {args.baseline}")
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "speed"], cwd=ROOT, check=True)
    ours, theirs, onnx, extra = defaultdict(list), defaultdict(list), defaultdict(list), []
    base = defaultdict(list)
    for threads in args.threads:
        for _ in range(args.rounds):
            for r in run(["target/release/examples/speed", "--threads", str(threads)] + only):
                if r["figure"] in ("sgemm_512_gflops", "our_gemm_512_gflops", "conv_forward_gflops"):
                    if threads == args.threads[0]:
                        extra.append(r)
                    continue
                ours[(r["net"], r["figure"], threads)].append(r["value"])
            if base_bin:
                for r in run([str(base_bin), "--threads", str(threads)] + only):
                    if "net" in r and r["figure"] not in ("sgemm_512_gflops", "our_gemm_512_gflops", "conv_forward_gflops"):
                        base[(r["net"], r["figure"], threads)].append(r["value"])
            for r in run([sys.executable, "tools/pytorch/speed.py", "--threads", str(threads)] + only):
                target = onnx if r.get("engine") == "onnxruntime" else theirs
                target[(r["net"], r["figure"], threads)].append(r["value"])
    header = f"{'net':9} {'figure':38} {'threads':>7} {'ours':>10} {'PyTorch':>10} {'ratio':>7} {'ONNX RT':>10} {'ratio':>7}"
    if base_bin:
        header += f" {'baseline':>10} {'ours/base':>9}"
    print(header)
    for key in sorted(ours):
        o, t = statistics.median(ours[key]), statistics.median(theirs[key])
        ratio = (lambda other: other / o if key[1].endswith("_us") else o / other)
        line = f"{key[0]:9} {key[1]:38} {key[2]:>7} {fmt(o, 10)} {fmt(t, 10)} {ratio(t):7.2f}"
        if onnx.get(key):
            x = statistics.median(onnx[key])
            line += f" {fmt(x, 10)} {ratio(x):7.2f}"
        elif base_bin:
            line += f" {'':10} {'':7}"
        if base.get(key):
            b = statistics.median(base[key])
            line += f" {fmt(b, 10)} {ratio(b):9.2f}"
        print(line)
    by = defaultdict(list)
    for r in extra:
        by[(r["figure"], r.get("layer", ""))].append(r)
    for (figure, layer), rs in sorted(by.items()):
        v = statistics.median(x["value"] for x in rs)
        frac = statistics.median(x.get("fraction_of_sgemm", 0) for x in rs)
        print(f"{figure} {layer}: {v:.1f} GFLOP/s" + (f" ({frac:.2f} of sgemm)" if layer else ""))


if __name__ == "__main__":
    main()
