#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need, skipping what
# is already there. Safe to run any number of times.
#
#   1. Debian packages: rustc 1.63 + its wasm32 standard library, lld, wasm-bindgen
#      0.2.83's crate sources, binaryen (wasm-opt), wabt (wasm-objdump), chromium,
#      firefox-esr, rustfmt and clippy 1.63 (npm run lint).
#   2. wasm-bindgen-cli 0.2.83 (must equal the crate's version), built from
#      crates.io sources with Debian's rustc: current rustc refuses to compile
#      wasm-bindgen crates older than 0.2.88.
#   3. wasm-pack, built with rustup's cargo from crates.io.
#   4. npm packages (npm ci on the committed lock; never rewrites it).
#
# Tool installs (steps 2 and 3) run in a scratch directory outside the repository:
# the repository's .cargo/config.toml (Debian's offline crate sources, for the wasm
# build only) must not apply to them. Network steps are tried up to 3 times; a
# failure names the step and the command to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

RUSTUP_CARGO="${RUSTUP_CARGO:-$HOME/.cargo/bin/cargo}"
# Where cargo installs the two tools (override to try a cold install elsewhere).
TOOLS_ROOT="${WASM_ATTENTION_TOOLS_ROOT:-$HOME/.cargo}"
TOOLS_BIN="$TOOLS_ROOT/bin"
WASM_BINDGEN_VERSION=0.2.83
WASM_PACK_VERSION=0.15.1

SETUP_START=$SECONDS
step() { printf '\n[setup] %s (at %s s)\n' "$*" $((SECONDS - SETUP_START)); }
fail() { printf '[setup] FAILED: %s\n' "$*" >&2; exit 1; }

# retry "step name" command...: up to 3 tries, 5 s then 15 s apart.
retry() {
  local name="$1"; shift
  local try
  for try in 1 2 3; do
    "$@" && return 0
    [ "$try" = 3 ] && break
    printf '[setup] %s failed (try %s of 3); retrying in %s s\n' "$name" "$try" $((try * try * 5)) >&2
    sleep $((try * try * 5))
  done
  fail "$name after 3 tries. Rerun: $(printf '%q ' "$@")"
}

sudo_maybe() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A scratch directory outside the repository, removed on exit.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
case "$WORK/" in "$REPO"/*) fail "TMPDIR ($WORK) lies inside the repository; point it elsewhere";; esac

# --- 1. Debian packages ------------------------------------------------------
APT_PACKAGES=(rustc cargo libstd-rust-dev-wasm32 lld-14 librust-wasm-bindgen-dev
  binaryen wabt chromium firefox-esr pkg-config libssl-dev ca-certificates rustfmt rust-clippy)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || fail "apt-get not found; install ${missing[*]} by hand"
  retry "apt-get update" sudo_maybe apt-get update -qq
  retry "apt-get install" sudo_maybe env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  step "Debian packages present"
fi
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || fail "Debian's wasm32 std is missing (libstd-rust-dev-wasm32)"
# The same package's wasm32-wasi std runs the kernel tests under Node (scripts/test-kernels-wasm.mjs).
[ -d /usr/lib/rustlib/wasm32-wasi ] || fail "Debian's wasm32-wasi std is missing (libstd-rust-dev-wasm32)"
[ -d /usr/share/cargo/registry/wasm-bindgen-$WASM_BINDGEN_VERSION ] \
  || fail "wasm-bindgen $WASM_BINDGEN_VERSION sources missing under /usr/share/cargo/registry (librust-wasm-bindgen-dev)"

[ -x "$RUSTUP_CARGO" ] || fail "rustup's cargo not found at $RUSTUP_CARGO (set RUSTUP_CARGO)"
mkdir -p "$TOOLS_BIN"

# --- 2. wasm-bindgen-cli, exactly the crate's version -------------------------
if "$TOOLS_BIN/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  step "wasm-bindgen $WASM_BINDGEN_VERSION present"
else
  step "building wasm-bindgen-cli $WASM_BINDGEN_VERSION with Debian's rustc (takes ~3 min)"
  # Fetch the CLI's published sources (with its own Cargo.lock) through rustup's
  # cargo, vendor its locked dependencies, then build offline with rustc 1.63.
  mkdir -p "$WORK/fetch/src" && touch "$WORK/fetch/src/lib.rs"
  cat > "$WORK/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-wasm-bindgen-cli"
version = "0.0.0"
edition = "2021"
[dependencies]
wasm-bindgen-cli = "=$WASM_BINDGEN_VERSION"
[workspace]
TOML
  cd "$WORK/fetch"
  retry "cargo vendor (wasm-bindgen-cli $WASM_BINDGEN_VERSION sources)" \
    "$RUSTUP_CARGO" vendor --quiet --versioned-dirs vendor >/dev/null
  cli="$WORK/cli"
  cp -r "$WORK/fetch/vendor/wasm-bindgen-cli-$WASM_BINDGEN_VERSION" "$cli"
  cd "$cli"
  retry "cargo vendor (wasm-bindgen-cli's locked dependencies)" \
    "$RUSTUP_CARGO" vendor --quiet --locked vendor >/dev/null
  mkdir -p "$cli/.cargo"
  printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n[net]\noffline = true\n' \
    > "$cli/.cargo/config.toml"
  RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$WORK/target" /usr/bin/cargo build --quiet --release --locked --offline --bin wasm-bindgen \
    || fail "building wasm-bindgen-cli with Debian's cargo/rustc"
  install -m 755 "$WORK/target/release/wasm-bindgen" "$TOOLS_BIN/wasm-bindgen"
  "$TOOLS_BIN/wasm-bindgen" --version
  cd "$REPO"
fi

# --- 3. wasm-pack --------------------------------------------------------------
if "$TOOLS_BIN/wasm-pack" --version 2>/dev/null | grep -q .; then
  step "wasm-pack present ($("$TOOLS_BIN/wasm-pack" --version))"
else
  step "installing wasm-pack $WASM_PACK_VERSION with rustup's cargo (takes ~2-4 min)"
  cd "$WORK"
  retry "cargo install wasm-pack" \
    "$RUSTUP_CARGO" install --quiet --locked --root "$TOOLS_ROOT" --version "=$WASM_PACK_VERSION" wasm-pack
  cd "$REPO"
fi

# --- 4. npm packages -------------------------------------------------------------
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm packages present"
else
  step "npm ci"
  # onnxruntime-web's Node sibling would download a binary at install; it is not used.
  export ONNXRUNTIME_NODE_INSTALL=skip
  retry "npm ci" npm ci --no-audit --no-fund
fi
step "done"
