#!/usr/bin/env python3
"""Peak resident memory, for `compare_speed.py --memory`: the helpers that
`speed.py --memory` uses, and ONNX Runtime's side, run as a script: batch-1
inference of an ONNX file (written by `speed.py --export-onnx`) in a
process that does not load PyTorch, so that its resident memory is ONNX
Runtime's.

Each measurement reads Linux's /proc/self/status: the resident memory
(`VmRSS`) once the model and its data are made (the baseline), then sets the
peak (`VmHWM`) back to it (`5` into /proc/self/clear_refs, Linux 4.0 on) so
that what building the model touched and let go does not count, runs the
work, and reads the peak. Prints one JSON object per figure, in MB (2^20
bytes): `<kind>_baseline_mb`, `<kind>_peak_mb`, `<kind>_increment_mb` (the
peak less the baseline) and `<kind>_construction_peak_mb` (the peak before
the reset).

    pip install onnxruntime numpy
    python3 tools/pytorch/speed.py --nets vgg16 --export-onnx /tmp/vgg16.onnx
    python3 tools/pytorch/peak_memory.py --model /tmp/vgg16.onnx --net vgg16 --threads 1
"""
import argparse
import json
import sys


def resident():
    """This process's resident memory and its peak so far (`VmRSS`, `VmHWM`), in bytes."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def reset_peak():
    """Sets `VmHWM` back to the resident memory now; False if refused (the
    peak then counts from the start of the process)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(net, kind, threads, run, **extra):
    """Runs `run` between the baseline and the peak and prints the figures."""
    baseline, construction_peak = resident()
    if not reset_peak():
        print("could not reset VmHWM; the peak counts from the start of the process", file=sys.stderr)
    run()
    _, peak = resident()
    mb = 1 << 20
    for figure, value in (("baseline_mb", baseline), ("peak_mb", peak), ("increment_mb", peak - baseline),
                          ("construction_peak_mb", construction_peak)):
        print(json.dumps({"net": net, "figure": f"{kind}_{figure}", "threads": threads, "value": value / mb,
                          **extra}))


def main():
    import numpy as np
    import onnxruntime as ort

    parser = argparse.ArgumentParser(description="ONNX Runtime's peak resident memory of batch-1 inference")
    parser.add_argument("--model", required=True, help="the ONNX file")
    parser.add_argument("--net", required=True, help="the network's name, for the output")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads")
    args = parser.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    # the input's shape after its batch axis, from the model
    shape = session.get_inputs()[0].shape[1:]
    one = np.random.default_rng(1).standard_normal((1, *shape), dtype=np.float32)

    def run():
        for _ in range(2):
            session.run(None, {"x": one})

    measure(args.net, "infer", args.threads, run, engine="onnxruntime")


if __name__ == "__main__":
    main()
