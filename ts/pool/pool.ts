/**
 * A pool of workers that computes one attention problem in parallel.
 *
 * Each worker holds its own instance of the same compiled module (instances do not
 * share memory), so inputs reach a worker's WASM memory by one copy there. They get
 * to the worker either in a SharedArrayBuffer that every worker reads (where one is
 * usable: Node, cross-origin-isolated pages) or as per-worker slices whose buffers
 * are transferred. See plan.ts for how work is divided, merge.ts for decoding and
 * member.ts for how a lost worker is noticed and replaced.
 */
import { init, initInfo, KVCache } from '../index.js';
import { checkInputs, choosePlan, dims } from './args.js';
import { stableSource } from '../raw.js';
import { INTERNALS, type InternalOptions, type PoolInternals } from './internal.js';
import { Member, type MemberEvents, type Reply } from './member.js';
import { mergeChunks } from './merge.js';
import type { PoolAttentionOptions, PoolCacheAttendOptions, PoolOptions, PoolResult, PoolShape } from './options.js';
import type { Dims, Plan } from './plan.js';
import type { CallPlan, Task, TaskOptions } from './protocol.js';
import { hardwareThreads, isNode, spawnWorkers } from './spawn.js';

/** Most workers a pool starts: each holds a whole WASM instance and a thread, so more than this only exhausts memory. */
const MAX_WORKERS = 256;

interface Start { readonly module: WebAssembly.Module; readonly workerUrl?: string | URL; readonly heapLimitMb?: number }

/**
 * Attention over several workers, each with its own WASM instance.
 *
 * A worker lost mid-call (it exited, was terminated, ran out of memory, threw an
 * uncaught exception or trapped) rejects every call in flight on it with a
 * {@link PoolWorkerError} naming the worker and the cause; a call split across
 * workers rejects once, and the other workers' parts are dropped. The pool starts a
 * replacement from the same compiled module at once, and later calls run on it.
 */
export class AttentionPool {
  /** Number of workers computing (the effective thread count). */
  readonly threads: number;
  /** Whether inputs and outputs go through SharedArrayBuffers (else: transferred slices). */
  readonly shared: boolean;
  readonly #start: Start;
  /** The current member of each worker slot. */
  readonly #slots: Member[] = [];
  /** Workers started per slot. */
  readonly #generations: number[] = [];
  /** Every member not yet dead, retiring ones included. */
  readonly #live = new Set<Member>();
  readonly #events: MemberEvents;
  #simd = false;
  #nextId = 1;
  #disposed = false;

  private constructor(start: Start, count: number, shared: boolean) {
    this.#start = start;
    this.threads = count;
    this.shared = shared;
    this.#events = {
      ended: (m, started) => {
        this.#live.delete(m);
        // A worker that failed to start is replaced when a call next needs it, not in a loop.
        if (started) this.#replace(m);
      },
      spent: (m) => this.#replace(m),
    };
  }

  /** Starts the workers and instantiates the module in each; resolves when all are ready. */
  static async create(options: PoolOptions = {}): Promise<AttentionPool> {
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: AttentionPool.create: options must be an object, got ${String(options)}`);
    }
    const count = options.workers ?? Math.min(hardwareThreads(), MAX_WORKERS);
    if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
      throw new RangeError(`wasm-attention: AttentionPool workers must be an integer in [1, ${MAX_WORKERS}], got ${String(count)}`);
    }
    if (options.module !== undefined && !(options.module instanceof WebAssembly.Module)) {
      throw new TypeError('wasm-attention: AttentionPool module must be a compiled WebAssembly.Module');
    }
    const canShare = sharedUsable();
    if (options.shared === true && !canShare) {
      throw new Error('wasm-attention: shared: true needs SharedArrayBuffer (cross-origin isolation in browsers)');
    }
    const module = options.module ?? initInfo()?.module ?? (await init()).module;
    const internal = __POOL_FAULT_HOOKS__ ? (options as { [INTERNALS]?: InternalOptions })[INTERNALS] : undefined;
    const start: Start = { module, workerUrl: options.workerUrl, heapLimitMb: internal?.heapLimitMb };
    const pool = new AttentionPool(start, count, options.shared ?? canShare);
    try {
      for (let w = 0; w < count; w++) pool.#spawn(w);
      const flags = await Promise.all(pool.#slots.map((m) => m.ready));
      pool.#simd = flags.every(Boolean);
    } catch (e) {
      pool.dispose();
      throw e;
    }
    return pool;
  }

  /** Whether the workers run the SIMD128 build. */
  get simd(): boolean {
    return this.#simd;
  }

  /**
   * Starts the replacement of `m` if it is still its slot's member. If the worker cannot
   * even be constructed, the slot keeps the dead member and the next call that needs it
   * tries again (and rejects with the reason).
   */
  #replace(m: Member): void {
    if (this.#disposed || this.#slots[m.index] !== m) return;
    try {
      this.#spawn(m.index);
    } catch {
      // left for #send
    }
  }

  /** Starts a worker in slot `w` (a first start or a replacement). */
  #spawn(w: number): Member {
    const spawned = spawnWorkers(1, this.#start.workerUrl, this.#start.heapLimitMb);
    const m = new Member(w, spawned.handles[0]!, this.#start.module, this.#events);
    void m.ready.then(() => spawned.started(), () => spawned.started());
    this.#slots[w] = m;
    this.#generations[w] = (this.#generations[w] ?? 0) + 1;
    this.#live.add(m);
    return m;
  }

  /**
   * Exact attention `softmax(q·kᵀ·scale)·v` of contiguous `q [B, Hq, Lq, D]`,
   * `k [B, Hkv, Lk, D]`, `v [B, Hkv, Lk, Dv]`, computed by the workers. The inputs are
   * not modified. Fully masked rows give 0 (and lse −∞), as `attention()`. With
   * `options.seqLens` the batch is ragged: `k`/`v` are `[B, Hkv, Lk, D]` buffers of which
   * sequence `b` uses its first `seqLens[b]` rows.
   */
  async attention(q: Float32Array, k: Float32Array, v: Float32Array, shape: PoolShape,
    options: PoolAttentionOptions = {}): Promise<PoolResult> {
    if (this.#disposed) throw disposedError();
    const d = dims(shape);
    const lens = checkInputs(q, k, v, d, options);
    const plan = choosePlan(d, this.threads, options, lens);
    const rows = d.batch * d.headsQ * d.lenQ;
    const wantLse = plan.kind === 'keys' || options.returnLse === true;
    const taskOptions: TaskOptions = {
      causal: options.causal === true, scale: options.scale, window: options.window, softcap: options.softcap,
      alibiSlopes: options.alibiSlopes ? Float32Array.from(options.alibiSlopes) : undefined,
      sinks: options.sinks ? Float32Array.from(options.sinks) : undefined,
    };
    const space = this.shared
      ? await this.#runShared(plan, d, q, k, v, wantLse, taskOptions)
      : await this.#runTransfer(plan, d, q, k, v, wantLse, taskOptions);
    if (plan.kind === 'heads') {
      return options.returnLse ? { out: space.out, lse: space.lse! } : { out: space.out };
    }
    const out = new Float32Array(rows * d.valueDim);
    const lse = options.returnLse ? new Float32Array(rows) : null;
    mergeChunks(space.out, space.lse!, this.threads, rows, d.valueDim, out, lse);
    return lse ? { out, lse } : { out };
  }

  /**
   * `cache.attend(q)` for every sequence of a (batched) {@link KVCache}, computed by the
   * workers: `q [B, Hq, Lq, D]` (`Lq = options.lenQ`, `Hq` follows from `q.length`) gives
   * `[B, Hq, Lq, Dv]`, each sequence over its own length, causal, windowed like the cache.
   * The live rows are read as float32 when called (16-bit caches widen exactly, int8
   * dequantises to code·scale), so later appends do not affect the call.
   * A windowed cache with `Lq = 1` sends only the last `W` rows of each sequence (all the
   * query can see) without a window, so decoding may still split by keys.
   */
  async attend(cache: KVCache, q: Float32Array, options: PoolCacheAttendOptions = {}): Promise<PoolResult> {
    const op = 'AttentionPool.attend';
    if (this.#disposed) throw disposedError();
    if (!(cache instanceof KVCache)) throw new TypeError(`wasm-attention: ${op}: cache must be a KVCache`);
    if (cache.disposed) throw new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
    if (!(q instanceof Float32Array)) throw new TypeError(`wasm-attention: ${op}: q must be a Float32Array`);
    // A view of WASM memory (a tensor's data) is copied: reading the cache below may allocate and grow memory.
    q = stableSource(q, `${op}: q`);
    const lenQ = options.lenQ ?? 1;
    if (!Number.isInteger(lenQ) || lenQ < 1) {
      throw new RangeError(`wasm-attention: ${op}: lenQ must be an integer >= 1, got ${String(lenQ)}`);
    }
    const { batch: B, numKvHeads: Hkv, headDim: D, window: W } = cache;
    const headsQ = q.length / (B * lenQ * D);
    if (!Number.isInteger(headsQ) || headsQ < 1 || headsQ % Hkv !== 0) {
      throw new RangeError(`wasm-attention: ${op}: q has ${q.length} elements, not [${B}, Hq, ${lenQ}, ${D}] with Hq a multiple of ${Hkv}`);
    }
    const lengths = cache.lengths;
    lengths.forEach((l, b) => {
      if (l < lenQ) throw new RangeError(`wasm-attention: ${op}: sequence ${b} has ${l} cached positions, fewer than ${lenQ} query rows (append first)`);
    });
    // One query row sees the last W rows at most: send those, and no window.
    const trim = W !== undefined && lenQ === 1;
    const starts = lengths.map((l) => (trim ? Math.max(0, l - W) : 0));
    const { keys, values, extent } = cache.readRows(starts);
    return this.attention(q, keys, values, {
      batch: B, headsQ, headsKv: Hkv, lenQ, lenK: extent, headDim: D, valueDim: cache.valueDim,
    }, {
      causal: options.causal ?? true, scale: options.scale, softcap: options.softcap, returnLse: options.returnLse,
      split: options.split, window: W !== undefined && !trim ? [W - 1, 0] : undefined,
      seqLens: lengths.map((l, b) => l - starts[b]!),
    });
  }

  /** Inputs in SharedArrayBuffers read by every worker; outputs written in place. */
  async #runShared(plan: Plan, d: Dims, q: Float32Array, k: Float32Array, v: Float32Array, wantLse: boolean,
    options: TaskOptions): Promise<{ out: Float32Array; lse: Float32Array | null }> {
    const [sq, sk, sv] = [q, k, v].map(toShared) as [Float32Array, Float32Array, Float32Array];
    const out = new Float32Array(new SharedArrayBuffer(plan.outSize * 4));
    const lse = wantLse ? new Float32Array(new SharedArrayBuffer(plan.lseSize * 4)).fill(-Infinity) : null;
    await Promise.all(plan.calls.map((calls, w) => calls.length === 0 ? Promise.resolve(null) : this.#send(w, {
      headDim: d.headDim, valueDim: d.valueDim, q: sq, k: sk, v: sv, out, lse,
      outSize: 0, lseSize: 0, wantLse, calls, options,
    }, [])));
    return { out, lse };
  }

  /** Per-worker copies of the rows each worker needs, transferred; outputs copied back. */
  async #runTransfer(plan: Plan, d: Dims, q: Float32Array, k: Float32Array, v: Float32Array, wantLse: boolean,
    options: TaskOptions): Promise<{ out: Float32Array; lse: Float32Array | null }> {
    const out = new Float32Array(plan.outSize);
    const lse = wantLse ? new Float32Array(plan.lseSize).fill(-Infinity) : null;
    await Promise.all(plan.calls.map(async (calls, w) => {
      if (calls.length === 0) return;
      const packed = pack(calls, d, q, k, v);
      const r = await this.#send(w, {
        headDim: d.headDim, valueDim: d.valueDim, q: packed.q, k: packed.k, v: packed.v, out: null, lse: null,
        outSize: packed.outSize, lseSize: packed.lseSize, wantLse, calls: packed.calls, options,
      }, [packed.q.buffer, packed.k.buffer, packed.v.buffer]);
      // Copy each call's block from the worker's output to where the plan puts it.
      calls.forEach((c, i) => {
        const local = packed.calls[i]!;
        const n = c.headsQ * c.lenQ;
        out.set(r.out!.subarray(local.out, local.out + n * d.valueDim), c.out);
        if (lse) lse.set(r.lse!.subarray(local.lse, local.lse + n), c.lse);
      });
    }));
    return { out, lse };
  }

  /** Runs a task on the worker of slot `w`, waiting for it if it is being replaced. */
  async #send(w: number, task: Task, transfer: ArrayBuffer[]): Promise<Reply> {
    let m = this.#slots[w]!;
    if (m.dead) m = this.#spawn(w); // its replacement had failed to start: try once more
    if (m.starting) await m.ready;
    if (this.#disposed) throw disposedError();
    return m.send(this.#nextId++, task, transfer);
  }

  /** Stops the workers; pending calls reject. Calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const error = new Error('wasm-attention: AttentionPool was disposed while this call was in flight');
    for (const m of this.#live) m.stop(error);
    this.#live.clear();
  }

  /** The same as `dispose()`, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static {
    // The fault tests' accessor (internal.ts), defined only in builds that keep the fault hooks:
    // `pool[Symbol.for('wasm-attention.pool.internals')]()`. The package has no such method.
    if (__POOL_FAULT_HOOKS__) {
      Object.defineProperty(AttentionPool.prototype, INTERNALS, {
        value(this: AttentionPool): PoolInternals {
          const slot = (w: number) => {
            if (!Number.isInteger(w) || w < 0 || w >= this.threads) {
              throw new RangeError(`wasm-attention: worker index ${String(w)} out of range [0, ${this.threads})`);
            }
            return this.#slots[w]!;
          };
          return {
            terminate: (w) => slot(w).lose('was terminated'),
            inject: (w, fault) => {
              if (fault.kind === 'heap' && (this.#start.heapLimitMb === undefined || !isNode())) {
                throw new Error('wasm-attention: a heap fault needs Node workers created with a heap limit');
              }
              slot(w).handle.post({ type: 'fault', fault });
            },
            generation: (w) => { slot(w); return this.#generations[w]!; },
            live: () => this.#live.size,
            settled: async () => { await Promise.allSettled(this.#slots.map((m) => m.ready)); },
          };
        },
      });
    }
  }
}

function disposedError(): Error {
  return new Error('wasm-attention: AttentionPool was used after dispose()');
}

function sharedUsable(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } } };
  return g.crossOriginIsolated === true || g.process?.versions?.node !== undefined;
}

function toShared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

/** Copies the blocks of `calls` into compact arrays and rewrites the offsets. */
function pack(calls: readonly CallPlan[], d: Dims, q: Float32Array, k: Float32Array, v: Float32Array) {
  let nq = 0, nk = 0, nOut = 0, nLse = 0;
  for (const c of calls) { nq += c.headsQ * c.lenQ; nk += c.headsKv * c.lenK; }
  const pq = new Float32Array(nq * d.headDim), pk = new Float32Array(nk * d.headDim), pv = new Float32Array(nk * d.valueDim);
  let oq = 0, ok = 0;
  const local = calls.map((c) => {
    const rq = c.headsQ * c.lenQ, rk = c.headsKv * c.lenK;
    pq.set(q.subarray(c.q, c.q + rq * d.headDim), oq * d.headDim);
    pk.set(k.subarray(c.k, c.k + rk * d.headDim), ok * d.headDim);
    pv.set(v.subarray(c.v, c.v + rk * d.valueDim), ok * d.valueDim);
    const l: CallPlan = { ...c, q: oq * d.headDim, k: ok * d.headDim, v: ok * d.valueDim, out: nOut, lse: nLse };
    oq += rq; ok += rk; nOut += rq * d.valueDim; nLse += rq;
    return l;
  });
  return { q: pq, k: pk, v: pv, calls: local, outSize: nOut, lseSize: nLse };
}
