#!/usr/bin/env bash
# Runs the tests of the unsafe code under Miri, which checks every memory
# access, alignment and data race they make: the GEMM and convolution
# kernels (gemm.rs, on small sizes under Miri), the transpose and the thread
# team. Twice: as compiled for any x86-64 (the portable loops), and with AVX2
# and FMA enabled (the vector kernels, which Miri runs through its
# emulation of the intrinsics). AVX-512 is not covered: Miri does not
# emulate it.
#
# Needs a nightly toolchain with Miri (not part of CI):
#   rustup toolchain install nightly --profile minimal --component miri,rust-src
#   bash tools/miri.sh
# Takes about half an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(kernels::gemm kernels::transpose team)
echo "== portable"
cargo +nightly miri test -p nn-runtime --lib -- "${tests[@]}"
echo "== AVX2 and FMA"
RUSTFLAGS="-C target-feature=+avx,+avx2,+fma" \
    cargo +nightly miri test -p nn-runtime --lib -- "${tests[@]}"
