#!/usr/bin/env bash
# The main job: set-up and build as needed, then the benchmark suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec npx tsx bench/main.ts "$@"
