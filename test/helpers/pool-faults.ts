// The AttentionPool fault suite, run in Node (test/workers/pool-faults.test.ts) and in
// Chromium (test/browser/pool-faults.spec.ts) from the ts/ sources. Faults are made
// through the pool's documented-internal accessor; every wait is bounded by the test
// timeout or an explicit vi.waitFor timeout, and nothing is timed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attention64, randoms } from './reference.js';
import { expectClose } from './expect-close.js';

type PoolModule = typeof import('../../ts/pool/index.js');
type Pool = import('../../ts/pool/index.js').AttentionPool;
type FaultKind = 'exit' | 'throw' | 'heap' | 'wasm-memory' | 'trap';

interface Internals {
  terminate(w: number): void;
  inject(w: number, fault: { kind: FaultKind; when: 'now' | 'mid-call' }): void;
  generation(w: number): number;
  live(): number;
  settled(): Promise<void>;
}

export function internals(pool: Pool): Internals {
  return (pool as unknown as Record<symbol, () => Internals>)[Symbol.for('wasm-attention.pool.internals')]!();
}

/** A causal GQA problem: 4 query heads over 2 KV heads, so a 2-worker head split gives each worker a group. */
export function problem(seed: number, lenQ = 40, lenK = lenQ) {
  const [Hq, Hkv, D] = [4, 2, 16];
  const q = randoms(Hq * lenQ * D, seed, -2, 2), k = randoms(Hkv * lenK * D, seed + 1, -2, 2);
  const v = randoms(Hkv * lenK * D, seed + 2);
  const shape = { headsQ: Hq, headsKv: Hkv, lenQ, lenK, headDim: D };
  const want = attention64(q, k, v, 1, Hq, Hkv, lenQ, lenK, D, D, { causal: true });
  return { q, k, v, shape, want };
}

/** What each fault's rejection says: the class and message naming worker 1 and the cause. */
const EXPECTED: Record<FaultKind, { name: string; message: RegExp }> = {
  exit: { name: 'PoolWorkerError', message: /^wasm-attention: AttentionPool worker 1 exited with code 3; the calls in flight on it were rejected and the pool is replacing it$/ },
  throw: { name: 'PoolWorkerError', message: /^wasm-attention: AttentionPool worker 1 failed with an uncaught error \(.*injected fault: an exception escaped the worker\); the calls in flight/ },
  heap: { name: 'PoolWorkerError', message: /^wasm-attention: AttentionPool worker 1 ran out of memory \(.*memory limit.*\); the calls in flight/ },
  trap: { name: 'PoolWorkerError', message: /^wasm-attention: AttentionPool worker 1 trapped in WebAssembly \(.*unreachable.*\); the calls in flight/ },
  'wasm-memory': { name: 'RangeError', message: /^wasm-attention: AttentionPool worker 1: wasm-attention: out of WASM memory allocating \d+ bytes .*; the worker is being replaced/ },
};

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('the call resolved, but it should have rejected');
}

export interface FaultSuiteOptions {
  readonly lib: PoolModule;
  /** Fault kinds this runtime can suffer (browsers: no heap limit, so no `heap`). */
  readonly kinds: readonly FaultKind[];
  /** Creates a 2-worker pool on the given data path (the suite disposes it). */
  create(shared: boolean): Promise<Pool>;
}

export function poolFaultSuite({ lib, kinds, create }: FaultSuiteOptions): void {
  let pools: Pool[] = [];
  const make = async (shared: boolean) => { const p = await create(shared); pools.push(p); return p; };
  afterEach(() => { for (const p of pools) p.dispose(); pools = []; });

  describe.each([{ path: 'shared memory', shared: true }, { path: 'transferred slices', shared: false }])(
    'a worker lost mid-call ($path)', ({ shared }) => {
      it.each(kinds.filter((k) => k !== 'wasm-memory'))('%s: both calls on it reject naming worker 1; it is replaced; later calls are right', async (kind) => {
        const pool = await make(shared);
        const io = internals(pool);
        const a = problem(10), b = problem(20, 24, 56);
        const qCopy = a.q.slice();
        // Armed in worker 1, the fault strikes during the first task it runs, after that
        // task's first call has written its output; the second task waits behind it.
        io.inject(1, { kind, when: 'mid-call' });
        const first = pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads' });
        const second = pool.attention(b.q, b.k, b.v, b.shape, { causal: true, split: 'heads' });
        const [e1, e2] = await Promise.all([rejection(first), rejection(second)]);
        for (const e of [e1, e2]) {
          expect(e).toBeInstanceOf(lib.PoolWorkerError);
          expect(e.name).toBe(EXPECTED[kind].name);
          expect(e.message).toMatch(EXPECTED[kind].message);
          expect((e as import('../../ts/pool/index.js').PoolWorkerError).worker).toBe(1);
        }
        expect(e2).toBe(e1); // one loss, one error for every call it took down
        // The runtime's own error, where there is one, is kept as the cause.
        if (kind === 'throw' || kind === 'heap') expect(e1.cause).toBeInstanceOf(Error);
        if (kind === 'heap') expect((e1.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
        expect(io.generation(1)).toBe(2);
        expect(io.generation(0)).toBe(1);
        expect(Array.from(a.q)).toEqual(Array.from(qCopy));
        // The replacement serves at once; results are right on both workers, for both problems.
        const [ra, rb] = await Promise.all([
          pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads', returnLse: true }),
          pool.attention(b.q, b.k, b.v, b.shape, { causal: true, split: 'heads' }),
        ]);
        expectClose(ra.out, a.want.out, `${kind}: out after replacement`);
        expectClose(ra.lse!, a.want.lse, `${kind}: lse after replacement`);
        expectClose(rb.out, b.want.out, `${kind}: second problem after replacement`);
        expect(io.live()).toBe(2);
      });

      it('out of WASM memory: that call rejects with a RangeError naming worker 1, the call queued behind it completes, the worker is replaced', async () => {
        const pool = await make(shared);
        const io = internals(pool);
        const a = problem(30), b = problem(40, 24, 56);
        io.inject(1, { kind: 'wasm-memory', when: 'mid-call' });
        const first = pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads' });
        const second = pool.attention(b.q, b.k, b.v, b.shape, { causal: true, split: 'heads' });
        const e = await rejection(first);
        expect(e).toBeInstanceOf(RangeError);
        expect(e.message).toMatch(EXPECTED['wasm-memory'].message);
        // The spent worker finishes the call it already had, then ends; its replacement is ready.
        expectClose((await second).out, b.want.out, 'the call queued behind the failed one');
        expect(io.generation(1)).toBe(2);
        await vi.waitFor(() => expect(io.live()).toBe(2), { timeout: 20_000, interval: 20 });
        expectClose((await pool.attention(a.q, a.k, a.v, a.shape, { causal: true })).out, a.want.out, 'after replacement');
      });
    });

  it('a key-split decoding call rejects once when one chunk\'s worker dies; the merge never sees the other part', async () => {
    const pool = await make(true);
    const io = internals(pool);
    const d = problem(50, 1, 1500);
    io.inject(0, { kind: 'exit', when: 'mid-call' });
    const e = await rejection(pool.attention(d.q, d.k, d.v, d.shape, { split: 'keys' }));
    expect(e.message).toMatch(/^wasm-attention: AttentionPool worker 0 exited with code 3;/);
    const r = await pool.attention(d.q, d.k, d.v, d.shape, { split: 'keys', returnLse: true });
    const plain = attention64(d.q, d.k, d.v, 1, 4, 2, 1, 1500, 16, 16);
    expectClose(r.out, plain.out, 'decode after replacement');
    expectClose(r.lse!, plain.lse, 'decode lse after replacement');
  });

  it('both workers lost in one call: it rejects once, with the loss seen first; both are replaced', async () => {
    const pool = await make(true);
    const io = internals(pool);
    const a = problem(55);
    io.inject(0, { kind: 'exit', when: 'mid-call' });
    io.inject(1, { kind: 'trap', when: 'mid-call' });
    const e = await rejection(pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads' }));
    expect(e).toBeInstanceOf(lib.PoolWorkerError);
    expect(e.message).toMatch(/^wasm-attention: AttentionPool worker (0 exited with code 3|1 trapped in WebAssembly)/);
    await vi.waitFor(() => expect([io.generation(0), io.generation(1)]).toEqual([2, 2]), { timeout: 20_000, interval: 20 });
    expectClose((await pool.attention(a.q, a.k, a.v, a.shape, { causal: true })).out, a.want.out, 'after both were replaced');
  });

  it('an idle worker that exits is replaced before the next call needs it', async () => {
    const pool = await make(true);
    const io = internals(pool);
    io.inject(0, { kind: 'exit', when: 'now' });
    await vi.waitFor(() => expect(io.generation(0)).toBe(2), { timeout: 20_000, interval: 20 });
    const a = problem(60);
    expectClose((await pool.attention(a.q, a.k, a.v, a.shape, { causal: true })).out, a.want.out, 'after idle exit');
  });

  it('a call made while a terminated worker is being replaced waits for the replacement', async () => {
    const pool = await make(false);
    const io = internals(pool);
    const a = problem(70);
    io.terminate(1);
    io.terminate(0);
    expect([io.generation(0), io.generation(1)]).toEqual([2, 2]);
    const r = await pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads' });
    expectClose(r.out, a.want.out, 'after both were terminated');
  });

  it('terminating a worker mid-call rejects the call naming it', async () => {
    const pool = await make(true);
    const io = internals(pool);
    const a = problem(80, 200);
    const call = pool.attention(a.q, a.k, a.v, a.shape, { causal: true, split: 'heads' });
    io.terminate(0);
    const e = await rejection(call);
    expect(e).toBeInstanceOf(lib.PoolWorkerError);
    expect(e.message).toMatch(/^wasm-attention: AttentionPool worker 0 was terminated; the calls in flight on it were rejected/);
    expectClose((await pool.attention(a.q, a.k, a.v, a.shape, { causal: true })).out, a.want.out, 'after termination');
  });

  it('dispose rejects the calls in flight and later calls, and stops every worker, replacements included', async () => {
    const pool = await make(true);
    const io = internals(pool);
    const a = problem(90);
    const inFlight = pool.attention(a.q, a.k, a.v, a.shape, { causal: true });
    io.terminate(1); // a replacement is starting when the pool is disposed
    pool.dispose();
    const e = await rejection(inFlight);
    expect(e.message).toMatch(/AttentionPool (worker 1 was terminated|was disposed while this call was in flight)/);
    expect(io.live()).toBe(0);
    await expect(pool.attention(a.q, a.k, a.v, a.shape)).rejects.toThrow(/^wasm-attention: AttentionPool was used after dispose\(\)$/);
    await io.settled(); // the replacement's start settles (rejected) instead of hanging
    expect(io.live()).toBe(0);
  });

  it('the accessor checks its worker index, and refuses a heap fault to a worker with no heap limit', async () => {
    const pool = await make(true);
    expect(() => internals(pool).terminate(2)).toThrow(/worker index 2 out of range \[0, 2\)/);
    const plain = await lib.AttentionPool.create({ workers: 1 });
    pools.push(plain);
    expect(() => internals(plain).inject(0, { kind: 'heap', when: 'now' }))
      .toThrow(/a heap fault needs Node workers created with a heap limit/);
  });
}
