#!/usr/bin/env bash
# Builds the three WebAssembly binaries from crates/wasm: SIMD128 and scalar with
# wasm-pack, optimised with wasm-opt (the SIMD128 one then linked with the kernels written
# in WebAssembly text, scripts/link-wat.mjs), and relaxed-SIMD: the same Rust with the
# `relaxed` feature, linked with the relaxed kernels and fused by scripts/relaxed-fma.mjs
# (multiply-add; rustc 1.63 cannot emit those opcodes). Proves the SIMD ones hold SIMD opcodes (and the scalar
# one none), that only the relaxed one holds f32x4.relaxed_madd and the relaxed integer
# dot product, then bundles ts/ into dist/ with rollup.
#
# wasm-pack runs with Debian's cargo/rustc 1.63 first on PATH (the only Rust here
# with a wasm32 standard library) and --mode no-install (uses the wasm-bindgen
# 0.2.83 that scripts/setup.sh built).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[build] %s\n' "$*"; }
fail() { printf '[build] FAILED: %s\n' "$*" >&2; exit 1; }

export PATH="/usr/bin:$PATH:${WASM_ATTENTION_TOOLS_ROOT:-$HOME/.cargo}/bin"
# One build at a time: concurrent runs would write pkg/ and dist/ together.
mkdir -p target && exec 9>target/.build.lock && flock 9
# --if-needed: skip when dist/ is newer than every input (what `npm run bench` uses).
# The stamp lives in target/, so it is never packed with dist/.
STAMP=target/.build-stamp
INPUTS=(crates ts Cargo.toml Cargo.lock .cargo package.json package-lock.json rollup.config.mjs
  tsconfig.json tsconfig.build.json scripts/build.sh scripts/bundle-plugins.mjs scripts/relaxed-fma.mjs scripts/raw-exports.mjs scripts/link-wat.mjs)
if [ "${1:-}" = "--if-needed" ] && [ -f "$STAMP" ] && [ -f dist/index.js ] && [ -z "$(find "${INPUTS[@]}" -name target -prune -o -newer "$STAMP" -print -quit)" ]; then
  log "dist/ is up to date"
  exit 0
fi
rm -f "$STAMP"
command -v wasm-pack >/dev/null || fail "wasm-pack not found: run npm run setup"
command -v wasm-bindgen >/dev/null || fail "wasm-bindgen not found: run npm run setup"

build_variant() { # name rustflags cargo-features wasm-opt-flags...
  local name="$1" flags="$2" features="$3"; shift 3
  log "wasm-pack build ($name${features:+, --features $features})"
  RUSTC=/usr/bin/rustc RUSTFLAGS="$flags" CARGO_TARGET_DIR="target/wasm-$name" \
    wasm-pack --quiet build crates/wasm --release --target web --mode no-install \
      --out-dir "../../pkg/$name" --out-name wasm_attention ${features:+-- --features "$features"} \
    || fail "wasm-pack build ($name)"
  log "wasm-opt $* ($name)"
  wasm-opt "$@" "pkg/$name/wasm_attention_bg.wasm" -o "pkg/$name/wasm_attention_bg.wasm" \
    || fail "wasm-opt ($name)"
}

build_variant simd "-C target-feature=+simd128" "" -O3 --enable-simd
# The kernels written in WebAssembly text (crates/kernels/src/**/*.wat) into the SIMD128
# module, after wasm-opt so that they keep their order; the glue stops importing them.
log "link-wat (simd)"
node scripts/link-wat.mjs pkg/simd/wasm_attention_bg.wasm || fail "link-wat"
node scripts/link-wat.mjs --glue pkg/simd/wasm_attention.js || fail "link-wat --glue"
build_variant scalar "" "" -O3
# The relaxed-SIMD build: the same Rust with the `relaxed` feature (the integer tiles of the
# `*_relaxedsimd.wat` files, linked here), then its multiply-adds fused.
build_variant relaxed-simd "-C target-feature=+simd128" relaxed -O3 --enable-simd
log "link-wat --relaxed (relaxed-simd)"
node scripts/link-wat.mjs --relaxed pkg/relaxed-simd/wasm_attention_bg.wasm || fail "link-wat --relaxed"
node scripts/link-wat.mjs --glue pkg/relaxed-simd/wasm_attention.js || fail "link-wat --glue (relaxed-simd)"
cmp -s pkg/simd/wasm_attention.js pkg/relaxed-simd/wasm_attention.js || fail "SIMD and relaxed-SIMD glue differ"
log "relaxed-fma (relaxed-simd)"
node scripts/relaxed-fma.mjs pkg/relaxed-simd/wasm_attention_bg.wasm pkg/relaxed-simd/wasm_attention_bg.wasm \
  || fail "relaxed-fma"

# 0xfd is the prefix byte of every SIMD128 opcode.
simd_ops=$(wasm-objdump -d pkg/simd/wasm_attention_bg.wasm | grep -cE '^ [0-9a-f]+: fd ' || true)
scalar_ops=$(wasm-objdump -d pkg/scalar/wasm_attention_bg.wasm | grep -cE '^ [0-9a-f]+: fd ' || true)
log "SIMD instructions: simd build $simd_ops, scalar build $scalar_ops"
[ "$simd_ops" -gt 0 ] || fail "the SIMD build holds no SIMD instructions"
[ "$scalar_ops" -eq 0 ] || fail "the scalar build holds SIMD instructions"
# Relaxed-SIMD opcodes (the prefix 0xfd, then the opcode as LEB128) in the relaxed build only.
relaxed_only() { # name leb128-bytes
  local relaxed simd
  relaxed=$(wasm-objdump -d pkg/relaxed-simd/wasm_attention_bg.wasm | grep -cE "^ [0-9a-f]+: fd $2 " || true)
  simd=$(wasm-objdump -d pkg/simd/wasm_attention_bg.wasm | grep -cE "^ [0-9a-f]+: fd $2 " || true)
  log "$1: relaxed-simd build $relaxed, simd build $simd"
  [ "$relaxed" -gt 0 ] || fail "the relaxed-SIMD build holds no $1"
  [ "$simd" -eq 0 ] || fail "the SIMD build holds $1"
}
relaxed_only f32x4.relaxed_madd "85 02"              # 0x105: the fused multiply-adds
relaxed_only i16x8.relaxed_dot_i8x16_i7x16_s "92 02" # 0x112: the integer tiles

# Both builds come from one source, so their JS glue is the same; ship one copy.
cmp -s pkg/simd/wasm_attention.js pkg/scalar/wasm_attention.js || fail "SIMD and scalar glue differ"
# The glue's default input (new URL(..., import.meta.url)) is never used: init()
# always passes a compiled module. Removing it keeps bundlers from chasing a file.
sed -e "s|input = new URL('wasm_attention_bg.wasm', import.meta.url);|throw new Error('wasm-attention: no module given');|" \
  pkg/simd/wasm_attention.js > pkg/glue.js
cp pkg/simd/wasm_attention.d.ts pkg/glue.d.ts
# The raw exports' types, generated from those declarations (ts/raw-exports.ts).
node scripts/raw-exports.mjs pkg/glue.d.ts ts/raw-exports.ts || fail "raw-exports"
# wasm-pack types the .wasm as its raw exports; ts/wasm-modules.d.ts types it as the rollup loader.
rm -f pkg/simd/wasm_attention_bg.wasm.d.ts pkg/scalar/wasm_attention_bg.wasm.d.ts
grep -q "import.meta.url" pkg/glue.js && fail "glue still refers to import.meta.url"

log "rollup"
rm -rf dist  # no files left over from an earlier layout end up in the package
npx rollup --silent -c rollup.config.mjs || fail "rollup"
log "type declarations"
npx tsc -p tsconfig.build.json || fail "tsc (declarations)"
# The pool's fault hooks are compiled out of the bundle (scripts/bundle-plugins.mjs); their
# declarations, which no other declaration imports, stay out of the package too.
rm -f dist/pool/faults.d.ts dist/pool/internal.d.ts
grep -rlE "/(faults|internal)\.js'" dist --include='*.d.ts' && fail "a declaration imports the fault hooks"
touch "$STAMP"
log "done: dist/"
