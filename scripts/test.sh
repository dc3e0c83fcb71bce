#!/usr/bin/env bash
# The whole check from a fresh clone: set-up, build, native Rust tests, the kernel
# tests on wasm32 with SIMD128, then the TypeScript suite against the three
# WebAssembly builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --if-needed
# The kernels with rustup's current toolchain; kernels and bindings with Debian's
# rustc 1.63 (the wasm build's compiler; current rustc refuses wasm-bindgen 0.2.83).
echo "[test] cargo test: kernels, rustup's toolchain"
"${RUSTUP_CARGO:-$HOME/.cargo/bin/cargo}" test --quiet -p wasm-attention-kernels
echo "[test] cargo test: kernels and bindings, Debian's rustc 1.63"
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR=target/native-1.63 /usr/bin/cargo test --quiet -p wasm-attention-kernels -p wasm-attention
echo "[test] kernels on wasm32 with SIMD128, under Node's WASI"
node scripts/test-kernels-wasm.mjs
echo "[test] type check"
npx tsc -p tsconfig.json
echo "[test] relative links in README.md, CONTRIBUTING.md and docs/"
node scripts/check-links.mjs
echo "[test] vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=target/vitest.json "$@"
# One closing line for the whole TypeScript suite (Node, the three builds, and Chromium).
node -e 'const r = require("./target/vitest.json");
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);'

