// scripts/relaxed-fma.mjs on a small module written here: which f32x4.add(f32x4.mul) pairs
// it fuses into f32x4.relaxed_madd and which it must leave alone.
import binaryen from 'binaryen';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/relaxed-fma.mjs', import.meta.url));
const SOURCE = `(module
 (func $wa_simd (export "wa_simd") (result i32) (i32.const 1))
 (func (export "mul_first") (param $a v128) (param $b v128) (param $c v128) (result v128)
  (f32x4.add (f32x4.mul (local.get $a) (local.get $b)) (local.get $c)))
 (func (export "mul_second") (param $a v128) (param $b v128) (param $c v128) (result v128)
  (f32x4.add (local.get $c) (f32x4.mul (local.get $a) (local.get $b))))
 (func (export "order_matters") (param $a v128) (param $b v128) (result v128) (local $x v128)
  (f32x4.add (local.tee $x (local.get $a)) (f32x4.mul (local.get $x) (local.get $b))))
 (func (export "product_reused") (param $a v128) (param $b v128) (param $c v128) (result v128) (local $t v128)
  (local.set $t (f32x4.mul (local.get $a) (local.get $b)))
  (f32x4.add (f32x4.add (local.get $t) (local.get $c)) (local.get $t)))
 (func $store (param $p i32) (param $a v128) (result v128)
  (v128.store (local.get $p) (local.get $a)) (local.get $a))
 (func (export "store_between") (param $p i32) (param $a v128) (param $b v128) (result v128)
  (f32x4.add (v128.load (local.get $p)) (f32x4.mul (call $store (local.get $p) (local.get $a)) (local.get $b))))
 (memory 1)
)`;

let dir = '';
let out = '';
let report = '';
/** The body of the exported function `name` in the rewritten module, as text. */
const body = (name: string) => {
  const m = binaryen.readBinary(readFileSync(join(dir, 'out.wasm')));
  m.setFeatures(binaryen.Features.All);
  const e = binaryen.getExportInfo(m.getExport(name));
  const text = binaryen.emitText(binaryen.getFunctionInfo(m.getFunction(e.value)).body);
  m.dispose();
  return text;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaxed-fma-'));
  const m = binaryen.parseText(SOURCE);
  m.setFeatures(binaryen.Features.All);
  if (!m.validate()) throw new Error('the test module does not validate');
  writeFileSync(join(dir, 'in.wasm'), m.emitBinary());
  m.dispose();
  report = execFileSync(process.execPath, [SCRIPT, join(dir, 'in.wasm'), join(dir, 'out.wasm')], { encoding: 'utf8' });
  out = join(dir, 'out.wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relaxed-fma', () => {
  it('fuses add(mul(a, b), c) and add(c, mul(a, b)) into relaxed_madd(a, b, c)', () => {
    for (const name of ['mul_first', 'mul_second']) {
      const text = body(name).replace(/\s+/g, ' ');
      expect(text).toMatch(/^\(f32x4\.relaxed_madd \(local\.get \$0\) \(local\.get \$1\) \(local\.get \$2\) \)/);
      expect(text).not.toMatch(/f32x4\.(add|mul)/);
    }
  });

  it('leaves a pair whose operands would be evaluated in an observable new order', () => {
    expect(body('order_matters')).toMatch(/f32x4\.add[\s\S]*local\.tee[\s\S]*f32x4\.mul/);
    expect(body('store_between')).toMatch(/f32x4\.add[\s\S]*v128\.load[\s\S]*f32x4\.mul[\s\S]*call/);
    expect(body('store_between')).not.toMatch(/relaxed_madd/);
  });

  it('never fuses a product kept in a local', () => {
    const text = body('product_reused');
    expect(text).not.toMatch(/relaxed_madd/);
    expect(text.match(/f32x4\.mul/g)).toHaveLength(1);
  });

  it('marks the module as the relaxed-SIMD build, validates it and reports the counts', () => {
    expect(body('wa_simd').replace(/\s+/g, ' ')).toMatch(/^\(i32\.const 2\)/);
    const m = binaryen.readBinary(readFileSync(out));
    m.setFeatures(binaryen.Features.All);
    expect(m.validate()).toBeTruthy();
    m.dispose();
    expect(report).toMatch(/fused 2 f32x4\.add\(f32x4\.mul\) into f32x4\.relaxed_madd in 2 functions \(2 left unfused/);
  });
});
