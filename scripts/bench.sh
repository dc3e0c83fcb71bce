#!/usr/bin/env bash
# The main job: set-up and build as needed, then the benchmark suite.
#   npm run bench -- [--quick] [--only=gemm,softmax,attention,decode,long,models,encoders] [--json] [--threads=1]
#                    [--build=auto|relaxed-simd|simd|scalar] [--shapes=MiniLM-L6,...] [--peer-threads=1,2]
# --build=relaxed-simd runs Node with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD behind it).
# With --json, stdout carries only the JSON result (set-up, build and progress go to stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
json=0
relaxed=0
for arg in "$@"; do
  [ "$arg" = "--json" ] && json=1
  [ "$arg" = "--build=relaxed-simd" ] && relaxed=1
done
if [ "$json" = 1 ]; then
  { bash scripts/setup.sh && bash scripts/build.sh --if-needed; } 1>&2
else
  bash scripts/setup.sh
  bash scripts/build.sh --if-needed
fi
# V8 flags are not allowed in NODE_OPTIONS, so node is started with the flag and tsx as a loader.
if [ "$relaxed" = 1 ]; then exec node --experimental-wasm-relaxed-simd --import tsx bench/main.ts "$@"; fi
exec npx tsx bench/main.ts "$@"
