#!/usr/bin/env bash
# The format, lint and type gates (`npm run lint`; .ci/run runs them before npm test):
#
#   1. rustfmt --check on both crates (rustfmt.toml);
#   2. clippy -D warnings on both crates for wasm32 with SIMD128 (the shipped build:
#      the SIMD128 kernels and the wasm-bindgen exports), and on the kernel crate
#      for the host (the scalar kernels, as native cargo test compiles them);
#   3. ESLint on the TypeScript and JavaScript (eslint.config.mjs);
#   4. tsc --noEmit on ts/, test/ and bench/.
#
# Rust gates use Debian's rustc 1.63 with its rustfmt and clippy (Debian packages
# rustfmt and rust-clippy): the one Rust here that compiles the wasm32 build, so the
# only clippy that sees the SIMD128 code and the wasm-bindgen 0.2.83 crate. ESLint's
# type-aware rules and tsc read the generated glue and dist/ types, so the TypeScript
# gates come after an up-to-date build. Every gate runs; the failed ones are listed last.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

failed=()
gate() { # name command...
  local name="$1"; shift
  echo "[lint] $name"
  "$@" || failed+=("$name")
}
# Debian's cargo, rustc, rustfmt and clippy (cargo-fmt and cargo-clippy are found on PATH).
debian() { PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc "$@"; }

gate "cargo fmt --check" debian cargo fmt --all -- --check
# --all-features: the relaxed-SIMD build's code too (the `relaxed` feature only adds code).
gate "cargo clippy, wasm32 +simd128" debian env RUSTFLAGS="-C target-feature=+simd128" \
  CARGO_TARGET_DIR=target/clippy-simd128 cargo clippy --quiet --workspace --all-targets --all-features \
  --target wasm32-unknown-unknown -- -D warnings
gate "cargo clippy, host (scalar kernels)" debian env CARGO_TARGET_DIR=target/clippy-host \
  cargo clippy --quiet -p wasm-attention-kernels --all-targets -- -D warnings

if bash scripts/build.sh --if-needed; then
  gate "eslint" npx eslint --max-warnings 0 .
  gate "tsc --noEmit" npx tsc -p tsconfig.json --noEmit
else
  failed+=("build (needed by eslint and tsc)")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf '[lint] FAILED: %s\n' "${failed[@]}" >&2
  echo "[lint] npm run format applies rustfmt and the style fixes of ESLint" >&2
  exit 1
fi
echo "[lint] all gates passed"
