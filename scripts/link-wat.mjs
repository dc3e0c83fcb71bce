#!/usr/bin/env node
// Links the kernels written in WebAssembly text into a SIMD128 module:
//
//   node scripts/link-wat.mjs [--relaxed] <module.wasm> [<out.wasm>]   (in place without <out.wasm>)
//   node scripts/link-wat.mjs --glue <wasm_attention.js>         (drops the glue's import of them)
//
// The Rust kernels declare them as imports of the module `wa_kernels`
// (crates/kernels/src/wat_simd128.rs). This script
//   1. wraps every `crates/kernels/src/**/*.wat` file (each a list of exported `func`s) in one
//      module that imports the memory of the module it links into;
//   2. merges the two with binaryen's `wasm-merge`, which turns each import into the
//      kernel itself, so the Rust code calls it directly;
//   3. removes the kernels' exports and checks that nothing is left importing `wa_kernels`.
// The `*_relaxedsimd.wat` kernels (relaxed-SIMD opcodes) are linked only with --relaxed (the
// relaxed-SIMD build, whose Rust is compiled with the `relaxed` feature and imports them).
// The merged module is not optimised again: the kernels keep the order they were written in,
// which is their reason to exist. A module that imports nothing from `wa_kernels` (the
// scalar build) is left as it is.
//
// wasm-bindgen, which runs before this, sees the imports too and makes its JavaScript glue
// import a module named 'wa_kernels'; `--glue` removes those two lines (the linked module
// no longer asks for it).
import binaryen from 'binaryen';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = 'wa_kernels';

/** Every `.wat` file under `dir` for the build, sorted (a stable function order). */
function watFiles(dir, relaxed) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.wat') && (relaxed || !e.name.endsWith('_relaxedsimd.wat')))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

/** Names the module at `bytes` imports from `wa_kernels` (read by binaryen: Node 20 cannot compile relaxed SIMD). */
function kernelImports(bytes) {
  const m = binaryen.readBinary(bytes);
  const names = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (f.module === IMPORT) names.push(f.base);
  }
  m.dispose();
  return names;
}

/** Links the kernels into the module at `input`, writing `output`; returns the names linked. */
export function linkWat(input, output = input, { relaxed = false } = {}) {
  const bytes = readFileSync(input);
  const wanted = kernelImports(bytes);
  if (wanted.length === 0) {
    if (output !== input) writeFileSync(output, bytes);
    return [];
  }
  const sources = watFiles(join(root, 'crates', 'kernels', 'src'), relaxed);
  const features = binaryen.Features.MVP | binaryen.Features.SIMD128 | (relaxed ? binaryen.Features.RelaxedSIMD : 0);
  const text = `(module (import "main" "memory" (memory 0))\n${sources.map((f) => readFileSync(f, 'utf8')).join('\n')}\n)`;
  const kernels = binaryen.parseText(text);
  kernels.setFeatures(features);
  if (!kernels.validate()) throw new Error('link-wat: the .wat kernels do not validate');
  const exported = [];
  for (let i = 0; i < kernels.getNumExports(); i++) exported.push(binaryen.getExportInfo(kernels.getExportByIndex(i)).name);
  const missing = wanted.filter((n) => !exported.includes(n));
  if (missing.length > 0) throw new Error(`link-wat: no .wat kernel exports ${missing.join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'link-wat-'));
  try {
    const kernelPath = join(dir, 'kernels.wasm'), merged = join(dir, 'merged.wasm');
    writeFileSync(kernelPath, kernels.emitBinary());
    kernels.dispose();
    const merge = join(root, 'node_modules', '.bin', 'wasm-merge');
    const flags = ['--enable-simd', ...(relaxed ? ['--enable-relaxed-simd'] : [])];
    execFileSync(merge, [input, 'main', kernelPath, IMPORT, ...flags, '-o', merged], { stdio: ['ignore', 'ignore', 'inherit'] });
    // The kernels' own exports came along; the module keeps only its own.
    const m = binaryen.readBinary(readFileSync(merged));
    m.setFeatures(m.getFeatures() | features);
    for (const name of exported) m.removeExport(name);
    if (!m.validate()) throw new Error('link-wat: the linked module does not validate');
    const out = m.emitBinary();
    m.dispose();
    const left = kernelImports(out);
    if (left.length > 0) throw new Error(`link-wat: still imported from ${IMPORT}: ${left.join(', ')}`);
    writeFileSync(output, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return wanted;
}

/** Drops wasm-bindgen's import of `wa_kernels` from its glue (two lines), in place. */
export function dropGlueImport(path) {
  const src = readFileSync(path, 'utf8');
  const out = src
    .split('\n')
    .filter((l) => !/^import \* as __wbg_star\d+ from 'wa_kernels';$/.test(l) && !/^\s*imports\['wa_kernels'\] = __wbg_star\d+;$/.test(l))
    .join('\n');
  if (out.includes(IMPORT)) throw new Error(`link-wat: ${path} still mentions ${IMPORT}`);
  writeFileSync(path, out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--glue' && args[1]) {
    dropGlueImport(args[1]);
  } else if (args[args[0] === '--relaxed' ? 1 : 0] && !args[args[0] === '--relaxed' ? 1 : 0].startsWith('-')) {
    const relaxed = args[0] === '--relaxed';
    const [input, output] = args.slice(relaxed ? 1 : 0);
    const names = linkWat(input, output ?? input, { relaxed });
    console.log(`[link-wat] ${names.length ? names.join(', ') : 'nothing to link'}`);
  } else {
    console.error('usage: node scripts/link-wat.mjs [--relaxed] <module.wasm> [<out.wasm>] | --glue <glue.js>');
    process.exit(2);
  }
}
