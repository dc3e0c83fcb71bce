// Behaviour that needs a process of its own: garbage collection, a broken SIMD
// engine, and two workers computing at once.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Tensor, attention, initInfo } from '../../ts/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const script = (name: string) => fileURLToPath(new URL(`./scripts/${name}`, import.meta.url));
const runNode = (args: string[]) => JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }).trim());

describe('separate processes and workers', () => {
  it('tensors collected by the GC are freed (FinalizationRegistry)', () => {
    const r = runNode(['--expose-gc', script('gc-frees.mjs')]);
    expect(r.leaked).toBe(200);
    expect(r.remaining).toBe(0);
  });

  it('a SIMD build that fails the self-test is replaced by the scalar build', () => {
    const r = runNode([script('broken-simd.mjs')]);
    expect(r.simd).toBe(false);
    expect(r.fallbackReason).toMatch(/SIMD128 build failed its start-up self-test/);
    expect(r.warnings.join('\n')).toMatch(/falling back to the scalar build/);
    // softmax([1,0]·scale) rows: the uncorrupted scalar result.
    const e = Math.exp(1 / Math.SQRT2);
    expectClose(r.out, [e / (e + 1), 1 / (e + 1), 1 / (e + 1), e / (e + 1)], 'scalar output', 1e-6, 1e-6);
  });

  it('a kernel whose scratch memory cannot be allocated throws a RangeError and the instance survives', () => {
    const r = runNode([script('out-of-memory.mjs')]);
    expect(r.fillError).toMatch(/out of WASM memory allocating 268435456 bytes/);
    expect(r.oom).toEqual({ name: 'RangeError', message: expect.stringMatching(/attention rejected by the kernel: out of WASM memory/) });
    const e = Math.exp(1 / Math.SQRT2);
    expectClose(r.after, [e / (e + 1), 1 / (e + 1), 1 / (e + 1), e / (e + 1)], 'attention after the failure', 1e-6, 1e-6);
  });

  it('two workers computing at once get the same results as this thread', async () => {
    const [H, L, D] = [4, 33, 16];
    const q = randoms(H * L * D, 1), k = randoms(H * L * D, 2), v = randoms(H * L * D, 3);
    using qt = Tensor.from(q, [H, L, D]);
    using kt = Tensor.from(k, [H, L, D]);
    using vt = Tensor.from(v, [H, L, D]);
    using mine = attention(qt, kt, vt, { causal: true });
    expectClose(mine.data, attention64(q, k, v, 1, H, H, L, L, D, D, { causal: true }).out, 'main thread');
    const module = initInfo()!.module;
    const workers = [0, 1].map(() => new Worker(script('worker-attention.mjs'), { workerData: { module } }));
    try {
      const results = await Promise.all(workers.map((w) => new Promise<Float32Array[]>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage({ q, k, v, shape: [H, L, D], causal: true });
      })));
      for (const rs of results) for (const r of rs) expect(Array.from(r)).toEqual(Array.from(mine.data));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
