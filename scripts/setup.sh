#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need, skipping what
# is already there. Safe to run any number of times.
#
#   1. Debian packages: rustc 1.63 + its wasm32 standard library, lld, wasm-bindgen
#      0.2.83's crate sources, binaryen (wasm-opt), wabt (wasm-objdump), chromium.
#   2. wasm-bindgen-cli 0.2.83 (must equal the crate's version), built from
#      crates.io sources with Debian's rustc: current rustc refuses to compile
#      wasm-bindgen crates older than 0.2.88.
#   3. wasm-pack, built with rustup's cargo from crates.io.
#   4. npm packages (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTUP_CARGO="${RUSTUP_CARGO:-$HOME/.cargo/bin/cargo}"
# Where cargo installs the two tools (override to try a cold install elsewhere).
TOOLS_ROOT="${WASM_ATTENTION_TOOLS_ROOT:-$HOME/.cargo}"
TOOLS_BIN="$TOOLS_ROOT/bin"
WASM_BINDGEN_VERSION=0.2.83

step() { printf '\n[setup] %s\n' "$*"; }
fail() { printf '[setup] FAILED: %s\n' "$*" >&2; exit 1; }

sudo_maybe() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- 1. Debian packages ------------------------------------------------------
APT_PACKAGES=(rustc cargo libstd-rust-dev-wasm32 lld-14 librust-wasm-bindgen-dev
  binaryen wabt chromium pkg-config libssl-dev ca-certificates)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || fail "apt-get not found; install ${missing[*]} by hand"
  sudo_maybe apt-get update -qq || fail "apt-get update"
  DEBIAN_FRONTEND=noninteractive sudo_maybe apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]}"
else
  step "Debian packages present"
fi
[ -d /usr/lib/rustlib/wasm32-unknown-unknown ] || fail "Debian's wasm32 std is missing (libstd-rust-dev-wasm32)"
[ -d /usr/share/cargo/registry/wasm-bindgen-$WASM_BINDGEN_VERSION ] \
  || fail "wasm-bindgen $WASM_BINDGEN_VERSION sources missing under /usr/share/cargo/registry (librust-wasm-bindgen-dev)"

[ -x "$RUSTUP_CARGO" ] || fail "rustup's cargo not found at $RUSTUP_CARGO (set RUSTUP_CARGO)"
mkdir -p "$TOOLS_BIN"

# --- 2. wasm-bindgen-cli, exactly the crate's version -------------------------
if "$TOOLS_BIN/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  step "wasm-bindgen $WASM_BINDGEN_VERSION present"
else
  step "building wasm-bindgen-cli $WASM_BINDGEN_VERSION with Debian's rustc (takes ~3-6 min)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # Fetch the CLI's published sources (with its own Cargo.lock) through rustup's
  # cargo, vendor its locked dependencies, then build offline with rustc 1.63.
  mkdir -p "$work/fetch/src" && touch "$work/fetch/src/lib.rs"
  cat > "$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-wasm-bindgen-cli"
version = "0.0.0"
edition = "2021"
[dependencies]
wasm-bindgen-cli = "=$WASM_BINDGEN_VERSION"
[workspace]
TOML
  (cd "$work/fetch" && "$RUSTUP_CARGO" vendor --quiet --versioned-dirs vendor >/dev/null) \
    || fail "could not fetch wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io"
  cli="$work/cli"
  cp -r "$work/fetch/vendor/wasm-bindgen-cli-$WASM_BINDGEN_VERSION" "$cli"
  (cd "$cli" && "$RUSTUP_CARGO" vendor --quiet --locked vendor >/dev/null) \
    || fail "could not vendor wasm-bindgen-cli's dependencies"
  mkdir -p "$cli/.cargo"
  printf '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n[net]\noffline = true\n' \
    > "$cli/.cargo/config.toml"
  (cd "$cli" && RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$work/target" /usr/bin/cargo build --quiet --release --locked --offline --bin wasm-bindgen) \
    || fail "building wasm-bindgen-cli with Debian's cargo/rustc"
  install -m 755 "$work/target/release/wasm-bindgen" "$TOOLS_BIN/wasm-bindgen"
  "$TOOLS_BIN/wasm-bindgen" --version
fi

# --- 3. wasm-pack --------------------------------------------------------------
if [ -x "$TOOLS_BIN/wasm-pack" ]; then
  step "wasm-pack present ($("$TOOLS_BIN/wasm-pack" --version))"
else
  step "installing wasm-pack with rustup's cargo (takes ~4 min)"
  "$RUSTUP_CARGO" install --quiet --locked --root "$TOOLS_ROOT" wasm-pack \
    || "$RUSTUP_CARGO" install --quiet --root "$TOOLS_ROOT" wasm-pack \
    || fail "cargo install wasm-pack"
fi

# --- 4. npm packages -------------------------------------------------------------
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm packages present"
else
  step "npm ci"
  # npm as configured here (omit-lockfile-registry-resolved) records only this
  # platform's optional packages (rollup's and esbuild's native builds) in the lock,
  # and `npm ci` then calls the lock out of sync; `npm install` reads the same lock.
  export ONNXRUNTIME_NODE_INSTALL=skip
  npm ci --no-audit --no-fund \
    || { step "npm ci refused the lock file; npm install with the same lock"; npm install --no-audit --no-fund; } \
    || fail "npm install"
fi
step "done"
