#!/usr/bin/env node
// What the relaxed-SIMD 8-bit dot product would give the int8 matrix–vector kernels:
//
//   node --experimental-wasm-relaxed-simd bench/int8-dot.mjs
//
// Two WebAssembly loops of the shape of the q8_0 GEMV's block step (two weight rows against
// one activation block, 32 codes a block, one float32 scale product per row and block):
// - simd128: the kernels' way — four `i16x8.load8x8_s` (codes widened to 16 bits) and four
//   `i32x4.dot_i16x8_s` against activations held as 16-bit lanes;
// - relaxed: two 16-byte loads and two `i32x4.relaxed_dot_i8x16_i7x16_add_s`, exact only for
//   activations in [0, 127] (7-bit codes with an offset, corrected per block).
// Each runs over rows that fit in cache (16 KiB) and rows streamed from memory (16 MiB), the
// same weights for both. Figures: multiply-adds per second and weight bytes read per second
// (codes plus a 2-byte scale per block), medians of 9 runs, alternated.
import binaryen from 'binaryen';

const ROW2 = 1 << 26; // byte offset of the second row (64 MiB: rows never share pages)
const SCALES = 2 * ROW2; // the scale plane, then the activation codes
const ACT = SCALES + (ROW2 >> 3) + 64;
const PAGES = Math.ceil((ACT + 64) / 65536);

/** One kernel: `$dot` gives the i32x4 block sum of the row at `$p` (a WAT expression over `$p`). */
const kernel = (name, setup, dot) => `
 (func (export "${name}") (param $n i32) (param $reps i32) (result f32)
  (local $p i32) (local $s i32) (local $r i32) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
  (local $acc0 v128) (local $acc1 v128)
  ${setup}
  (loop $rep
   (local.set $p (i32.const 0)) (local.set $s (i32.const ${SCALES}))
   (loop $block
    (local.set $acc0 (f32x4.add (local.get $acc0)
     (f32x4.mul (f32x4.convert_i32x4_s ${dot('(local.get $p)')}) (v128.load32_splat (local.get $s)))))
    (local.set $acc1 (f32x4.add (local.get $acc1)
     (f32x4.mul (f32x4.convert_i32x4_s ${dot(`(i32.add (local.get $p) (i32.const ${ROW2}))`)}) (v128.load32_splat offset=4 (local.get $s)))))
    (local.set $p (i32.add (local.get $p) (i32.const 32)))
    (local.set $s (i32.add (local.get $s) (i32.const 8)))
    (br_if $block (i32.lt_u (local.get $p) (local.get $n))))
   (local.set $r (i32.add (local.get $r) (i32.const 1)))
   (br_if $rep (i32.lt_u (local.get $r) (local.get $reps))))
  (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc1))))`;

const act = (i) => `(v128.load offset=${ACT + 16 * i} (i32.const 0))`;
const wat = `(module (memory (export "mem") ${PAGES})
${kernel('simd128', [0, 1, 2, 3].map((i) => `(local.set $x${i} ${act(i)})`).join(' '), (p) => `
     (i32x4.add
      (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s ${p}) (local.get $x0)) (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 ${p}) (local.get $x1)))
      (i32x4.add (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 ${p}) (local.get $x2)) (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 ${p}) (local.get $x3))))`)}
${kernel('relaxed', [0, 1].map((i) => `(local.set $x${i} ${act(i)})`).join(' '), (p) => `
     (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load offset=16 ${p}) (local.get $x1)
      (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.load ${p}) (local.get $x0) (v128.const i32x4 0 0 0 0)))`)}
)`;

const module = binaryen.parseText(wat);
module.setFeatures(binaryen.Features.All);
if (!module.validate()) throw new Error('int8-dot: the probe module does not validate');
let instance;
try {
  ({ instance } = await WebAssembly.instantiate(module.emitBinary()));
} catch (e) {
  console.error(`int8-dot: this engine has no relaxed SIMD (${e.message}); run Node with --experimental-wasm-relaxed-simd`);
  process.exit(1);
}
const { simd128, relaxed, mem } = instance.exports;
const bytes = new Uint8Array(mem.buffer);
for (let i = 0; i < bytes.length; i += 4096) bytes.fill(i & 0x7f, i, i + 4096); // touch every page; codes in [0, 127]

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const [label, n, reps] of [['in cache, 16 KiB rows', 1 << 14, 4000], ['from memory, 16 MiB rows', 1 << 24, 4]]) {
  const time = (f) => { const t = performance.now(); f(n, reps); return performance.now() - t; };
  time(simd128); time(relaxed);
  const ts = [], tr = [];
  for (let k = 0; k < 9; k++) { ts.push(time(simd128)); tr.push(time(relaxed)); }
  const macs = 2 * n * reps, read = 2 * n * reps * (34 / 32);
  const s = median(ts), r = median(tr);
  rows.push(`| ${label} | ${(macs / s / 1e6).toFixed(1)} | ${(macs / r / 1e6).toFixed(1)} | ${(read / s / 1e6).toFixed(1)} | ${(s / r).toFixed(2)}× |`);
}
console.log('| rows | simd128 GMAC/s | relaxed GMAC/s | simd128 GB/s | relaxed ÷ simd128 speed |');
console.log('| --- | --- | --- | --- | --- |');
console.log(rows.join('\n'));
