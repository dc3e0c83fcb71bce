#!/usr/bin/env bash
# The whole check from a fresh clone: set-up, build, native Rust tests, then the
# TypeScript suite against both WebAssembly builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo "[test] cargo test (native, rustup's toolchain)"
"${RUSTUP_CARGO:-$HOME/.cargo/bin/cargo}" test --quiet -p wasm-attention-kernels -p wasm-attention
echo "[test] type check"
npx tsc -p tsconfig.json
echo "[test] vitest"
npx vitest run "$@"
