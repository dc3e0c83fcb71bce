// The package from outside the repository (through its `exports`), and an edge
// runtime simulated in a child process: every one runs in its own process, since
// init() is global to a module instance.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { attention64, matmul64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const variant = process.env.WASM_ATTENTION_BUILD === 'scalar' ? 'scalar' : 'simd';
const node = (args: string[], cwd?: string) => JSON.parse(execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }));

describe('installed package', () => {
  // A project elsewhere with the package linked into its node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'wasm-attention'), 'dir');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("import { init, Tensor, matmul } from 'wasm-attention' works (node condition: inline build)", () => {
    writeFileSync(join(dir, 'main.mjs'), `
      import { init, Tensor, matmul } from 'wasm-attention';
      import { AttentionPool } from 'wasm-attention/pool';
      const info = await init({ simd: ${variant === 'simd'} });
      const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]), b = Tensor.from([1, 0, 0, 1, 1, 1], [3, 2]);
      const c = matmul(a, b);
      const pool = await AttentionPool.create({ workers: 2 });
      const q = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i));
      const r = await pool.attention(q, q, q, { headsQ: 2, lenQ: 3, headDim: 4 }, { causal: true });
      pool.dispose();
      console.log(JSON.stringify({ simd: info.simd, poolSimd: pool.simd, c: Array.from(c.data), q: Array.from(q), pool: Array.from(r.out) }));
    `);
    const r = node(['main.mjs'], dir);
    expect(r.simd).toBe(variant === 'simd');
    expect(r.poolSimd).toBe(r.simd); // the pool got the module of this thread's init()
    expectClose(r.c, matmul64([1, 2, 3, 4, 5, 6], [1, 0, 0, 1, 1, 1], 2, 3, 2), 'matmul');
    expectClose(r.pool, attention64(r.q, r.q, r.q, 1, 2, 2, 3, 3, 4, 4, { causal: true }).out, 'pool attention');
  });

  it("'wasm-attention/separate' finds its .wasm file beside the bundle in Node; init({ module }) with that file", () => {
    writeFileSync(join(dir, 'separate.mjs'), `
      import { readFileSync } from 'node:fs';
      import { init, initInfo, Tensor, softmax } from 'wasm-attention/separate';
      import { AttentionPool } from 'wasm-attention/pool';
      const resolved = import.meta.resolve('wasm-attention/separate');
      const info = await init({ simd: ${variant === 'simd'} });
      const pool = await AttentionPool.create({ workers: 1 });
      const poolSimd = pool.simd;
      pool.dispose();
      const x = Tensor.from([1, 2, 3, 1000], [1, 4]);
      const file = new URL(import.meta.resolve('wasm-attention/${variant}.wasm'));
      const other = await WebAssembly.compile(readFileSync(file));
      let second = '';
      try { await init({ module: other }); } catch (e) { second = e.message; }
      console.log(JSON.stringify({ resolved, simd: info.simd, poolSimd, same: initInfo() === info, second, y: Array.from(softmax(x).data) }));
    `);
    const r = node(['separate.mjs'], dir);
    expect(r.resolved).toMatch(/\/dist\/separate\.js$/);
    expect(r.simd).toBe(variant === 'simd');
    expect(r.poolSimd).toBe(r.simd);
    expect(r.same).toBe(true);
    expect(r.second).toMatch(/already initialised with another module/);
    expect(r.y).toEqual([0, 0, 0, 1]);
  });
});

describe('edge runtime (no compiling or fetching at run time)', () => {
  it('init({ module }) with a precompiled module serves attention (examples/edge)', () => {
    const r = node([join(root, 'examples/edge/simulate.mjs'), variant]);
    expect(r.status).toBe(200);
    expect(r.compileBlocked).toBe(true);
    expect(r.moduleBlocked).toBe(true);
    expect(r.sameModule).toBe(true);
    expect(r.simd).toBe(variant === 'simd');
    const [H, L, D] = r.input.shape;
    expectClose(r.out, attention64(r.input.q, r.input.k, r.input.v, 1, H, H, L, L, D, D, { causal: true }).out, 'edge attention');
  });
});
