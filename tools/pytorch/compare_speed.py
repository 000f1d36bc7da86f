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

`--memory` measures memory instead: for each network (default: vgg16,
resnet20, vgg_mini) and thread count, the peak resident memory (Linux's
`VmHWM`) of two training steps at batch 16 (SGD with momentum; the second
step runs with the momentum buffers the first made) and of batch-1
inference in evaluation mode, ours (`speed --memory`), PyTorch's
(`speed.py --memory`) and, for inference, ONNX Runtime's
(`peak_memory.py`, in a process without PyTorch): each in a process of its
own, measured once. The baseline is the resident memory once the network and
its data are built, the increment the peak less it; the peak counts from the
baseline on (the construction peak is the one before). Ratios > 1 are ours
smaller. Our network's constants follow (`PARAM_BYTES`, `FIXED_BYTES`,
`SCRATCH_BYTES`, `WORKSPACE_BYTES_PER_SAMPLE`), to explain our figures.

    python3 tools/pytorch/compare_speed.py --memory --threads 1

`--baseline DIR` also runs the `speed` example of another checkout (built
there with `cargo build --release --example speed`) in the same rotation, and
prints its medians and ours / baseline: a before-and-after comparison of a
change under the same conditions.
"""
import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# figures of the machine, not of a network: printed once, below the table
MACHINE_FIGURES = ("sgemm_512_gflops", "our_gemm_512_gflops", "fma_peak_gflops", "conv_forward_gflops")


def run(cmd):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def fmt(value, width):
    """A figure with one decimal, or three significant digits below 10 (VGG-16's images/s)."""
    return f"{value:{width}.1f}" if abs(value) >= 10 else f"{value:{width}.3g}"


# the networks of `--memory` when `--nets` is not given
MEMORY_NETS = ["vgg16", "resnet20", "vgg_mini"]
MEMORY_FIGURES = ["peak_mb", "increment_mb", "baseline_mb", "construction_peak_mb"]


def memory(nets, thread_counts):
    """`--memory`: every measurement in a process of its own, ours and
    PyTorch's in turn; then the table and our constants."""
    onnx = importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("onnx") is not None
    figures, constants = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        exported = {}
        for threads in thread_counts:
            for net in nets:
                for kind in ("train", "infer"):
                    t = ["--threads", str(threads), "--nets", net, "--memory", kind]
                    for side, cmd in (("ours", ["target/release/examples/speed"] + t),
                                      ("PyTorch", [sys.executable, "tools/pytorch/speed.py"] + t)):
                        for r in run(cmd):
                            if r["figure"].endswith("_bytes") or r["figure"].endswith("_per_sample"):
                                constants[(net, r["figure"])] = r["value"]
                            else:
                                figures[(net, r["figure"], threads, side)] = r["value"]
                    if kind == "infer" and onnx:
                        if net not in exported:
                            exported[net] = str(Path(tmp) / f"{net}.onnx")
                            run([sys.executable, "tools/pytorch/speed.py", "--nets", net, "--export-onnx", exported[net]])
                        for r in run([sys.executable, "tools/pytorch/peak_memory.py", "--model", exported[net],
                                      "--net", net, "--threads", str(threads)]):
                            figures[(net, r["figure"], threads, "ONNX RT")] = r["value"]
    print("peak resident memory, MB (2^20 bytes); ratio: theirs / ours, > 1 is ours smaller")
    print(f"{'net':9} {'figure':30} {'threads':>7} {'ours':>10} {'PyTorch':>10} {'ratio':>7} {'ONNX RT':>10} {'ratio':>7}")
    for net in nets:
        for kind in ("train", "infer"):
            for threads in thread_counts:
                for name in MEMORY_FIGURES:
                    figure = f"{kind}_{name}"
                    o = figures.get((net, figure, threads, "ours"))
                    if o is None:
                        continue
                    line = f"{net:9} {figure:30} {threads:>7} {o:10.1f}"
                    for side in ("PyTorch", "ONNX RT"):
                        x = figures.get((net, figure, threads, side))
                        if x is not None:
                            line += f" {x:10.1f} {x / o if o else float('nan'):7.2f}"
                    print(line)
    print("\nour constants, MB (what they count: nn-runtime/src/network.rs)")
    print(f"{'net':9} {'PARAM_BYTES':>12} {'FIXED_BYTES':>12} {'SCRATCH_BYTES':>14} {'WORKSPACE_BYTES_PER_SAMPLE':>27} "
          f"{'FIXED + 16 × WORKSPACE':>23}")
    mb = 1 << 20
    for net in nets:
        p, f, s, w = (constants.get((net, c)) for c in
                      ("param_bytes", "fixed_bytes", "scratch_bytes", "workspace_bytes_per_sample"))
        if None not in (p, f, s, w):
            print(f"{net:9} {p / mb:12.1f} {f / mb:12.1f} {s / mb:14.1f} {w / mb:27.2f} {(f + 16 * w) / mb:23.1f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline", type=Path, help="another checkout whose speed example to run alongside")
    parser.add_argument("--nets", help="comma-separated subset: lenet5, vgg_mini, resnet20, lstm_rows, gru_rows, "
                        "vgg16 (default: all but vgg16, which takes minutes, and the conv layers' GFLOP/s)")
    parser.add_argument("--memory", action="store_true",
                        help="instead, the peak resident memory of training (batch 16) and batch-1 inference, each in "
                        "a process of its own (nets: default vgg16, resnet20, vgg_mini)")
    args = parser.parse_args()
    if args.memory:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "speed"], cwd=ROOT, check=True)
        memory(args.nets.split(",") if args.nets else MEMORY_NETS, args.threads)
        return
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
                if r["figure"] in MACHINE_FIGURES:
                    if threads == args.threads[0]:
                        extra.append(r)
                    continue
                ours[(r["net"], r["figure"], threads)].append(r["value"])
            if base_bin:
                for r in run([str(base_bin), "--threads", str(threads)] + only):
                    if "net" in r and r["figure"] not in MACHINE_FIGURES:
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
