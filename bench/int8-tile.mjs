#!/usr/bin/env node
// The integer GEMM's 4×8 tiles on data in L1, multiply-adds per second:
//
//   node --experimental-wasm-relaxed-simd bench/int8-tile.mjs [--chromium]
//
// The tiles are the kernels' own WebAssembly text (crates/kernels/src/gemm/*.wat): the SIMD128
// tile (int8 codes widened to 16 bits, `i32x4.dot_i16x8_s`), the relaxed-SIMD q8_0-panels tile
// (`i16x8.relaxed_dot_i8x16_i7x16_s`, then `i32x4.dot_i16x8_s` by ones), the same with V8's
// accumulating `i32x4.relaxed_dot_i8x16_i7x16_add_s` in their place (not shipped), and the
// relaxed-SIMD q4_0-panels tile. One tile over 12 blocks of 32 depths (k = 384), called 200 000
// times per round, 8 rounds, the tiles alternated; prints each round. --chromium runs the same
// page in /usr/bin/chromium (playwright-core) instead of this Node.
import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../crates/kernels/src/gemm/', import.meta.url));
const wat = (f) => readFileSync(dir + f, 'utf8');
const q8 = wat('kernel_q8_4x8_relaxedsimd.wat');
// The accumulating instruction in place of the two-step dot product.
const fused = q8.replace('(export "gemm_q8_4x8")', '(export "gemm_q8_fused")').replace(
  /\(i32x4\.add \(local\.get (\$h\d\d)\) \(i32x4\.dot_i16x8_s \(i16x8\.relaxed_dot_i8x16_i7x16_s \(local\.get (\$w\d)\) \(local\.get \$x\)\) \(local\.get \$m\)\)\)/g,
  '(i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get $2) (local.get $x) (local.get $1))');
const q4 = wat('kernel_q4_4x8_relaxedsimd.wat').replace(/\(func \(export "relaxed_dot"\)[^\n]*\n/, '');
const TILES = [
  ['simd128 int8', 'gemm_q_4x8', 7],
  ['relaxed q8_0 panels', 'gemm_q8_4x8', 8],
  ['relaxed q8_0, accumulating dot', 'gemm_q8_fused', 8],
  ['relaxed q4_0 panels', 'gemm_q4_4x8', 7],
];
const driver = ([, name, params]) => `(func (export "run_${name}") (param $n i32) (param $nb i32)
  (loop $l (call $${name} (local.get $nb) (i32.const 1024) (i32.const 16384)${params === 8 ? ' (i32.const 40960) (i32.const 45056)' : ' (i32.const 40960)'}
    (i32.const 50000) (i32.const 32) (i32.const 0))
    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))`;
const named = (text, name) => text.replace(`(func (export "${name}")`, `(func $${name} (export "${name}")`);
let text = `(module (memory (export "memory") 2)\n${named(wat('kernel_q_4x8_simd128.wat'), 'gemm_q_4x8')}\n${named(q8, 'gemm_q8_4x8')}\n`
  + `${named(fused, 'gemm_q8_fused')}\n${named(q4, 'gemm_q4_4x8')}\n${TILES.map(driver).join('\n')})`;
const m = binaryen.parseText(text);
m.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.RelaxedSIMD);
if (!m.validate()) throw new Error('the tiles do not validate');
const bytes = m.emitBinary();

/** The measurement, as source that runs in Node or in a page (the module's bytes passed in). */
const page = (wasm, tiles) => {
  const { exports: e } = new WebAssembly.Instance(new WebAssembly.Module(wasm));
  const mem = new Uint8Array(e.memory.buffer);
  let s = 1;
  // Bytes 56…63: valid codes for every tile (7-bit too), and any four of them read as a float
  // (the scales) are normal numbers of 2⁻¹⁵ … 2⁻¹, so no product is subnormal (x86 slows on those).
  for (let i = 0; i < mem.length; i++) { s = (s * 1103515245 + 12345) >>> 0; mem[i] = 56 + (s >>> 29); }
  const N = 200000, nb = 12, lines = [];
  for (let round = 0; round < 8; round++) {
    const rates = tiles.map(([label, name]) => {
      const t = performance.now(); e[`run_${name}`](N, nb); const ms = performance.now() - t;
      return `${label} ${(N * nb * 1024 / ms / 1e6).toFixed(1)}`;
    });
    lines.push(`round ${round + 1}: ${rates.join(' · ')} GMAC/s`);
  }
  return lines;
};

if (process.argv.includes('--chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  try {
    const p = await browser.newPage();
    const lines = await p.evaluate(`(${page})(Uint8Array.from(atob('${Buffer.from(bytes).toString('base64')}'), (c) => c.charCodeAt(0)), ${JSON.stringify(TILES)})`);
    console.log(`Chromium ${browser.version()}, one 4×8 tile over ${12} blocks:\n${lines.join('\n')}`);
  } finally {
    await browser.close();
  }
} else {
  console.log(`Node ${process.version}, one 4×8 tile over 12 blocks:\n${page(bytes, TILES).join('\n')}`);
}
