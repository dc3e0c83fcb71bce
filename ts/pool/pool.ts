/**
 * A pool of workers that computes one attention problem in parallel.
 *
 * Each worker holds its own instance of the same compiled module (instances do not
 * share memory), so inputs reach a worker's WASM memory by one copy there. They get
 * to the worker either in a SharedArrayBuffer that every worker reads (where one is
 * usable: Node, cross-origin-isolated pages) or as per-worker slices whose buffers
 * are transferred. See plan.ts for how work is divided and merge.ts for decoding.
 */
import { init, initInfo } from '../index.js';
import { checkInputs, choosePlan, dims } from './args.js';
import { mergeChunks } from './merge.js';
import type { PoolAttentionOptions, PoolOptions, PoolResult, PoolShape } from './options.js';
import type { Dims, Plan } from './plan.js';
import type { CallPlan, FromWorker, Task, TaskOptions } from './protocol.js';
import { hardwareThreads, spawnWorkers, type WorkerHandle } from './spawn.js';

interface Pending { resolve(r: { out: Float32Array | null; lse: Float32Array | null }): void; reject(e: Error): void }

interface Member { readonly handle: WorkerHandle; readonly pending: Map<number, Pending> }

/** Attention over several workers, each with its own WASM instance. */
export class AttentionPool {
  /** Number of workers computing (the effective thread count). */
  readonly threads: number;
  /** Whether the workers run the SIMD128 build. */
  readonly simd: boolean;
  /** Whether inputs and outputs go through SharedArrayBuffers (else: transferred slices). */
  readonly shared: boolean;
  #members: Member[];
  #nextId = 1;
  #disposed = false;

  private constructor(members: Member[], simd: boolean, shared: boolean) {
    this.#members = members;
    this.threads = members.length;
    this.simd = simd;
    this.shared = shared;
  }

  /** Starts the workers and instantiates the module in each; resolves when all are ready. */
  static async create(options: PoolOptions = {}): Promise<AttentionPool> {
    const count = options.workers ?? hardwareThreads();
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`wasm-attention: AttentionPool workers must be an integer >= 1, got ${String(count)}`);
    }
    if (options.module !== undefined && !(options.module instanceof WebAssembly.Module)) {
      throw new TypeError('wasm-attention: AttentionPool module must be a compiled WebAssembly.Module');
    }
    const canShare = sharedUsable();
    if (options.shared === true && !canShare) {
      throw new Error('wasm-attention: shared: true needs SharedArrayBuffer (cross-origin isolation in browsers)');
    }
    const module = options.module ?? initInfo()?.module ?? (await init()).module;
    const spawned = spawnWorkers(count, options.workerUrl);
    const members: Member[] = spawned.handles.map((handle) => ({ handle, pending: new Map() }));
    let simd = false;
    try {
      const flags = await Promise.all(members.map((m) => start(m, module)));
      simd = flags.every(Boolean);
    } catch (e) {
      for (const m of members) m.handle.terminate();
      throw e;
    } finally {
      spawned.started();
    }
    return new AttentionPool(members, simd, options.shared ?? canShare);
  }

  /**
   * Exact attention `softmax(q·kᵀ·scale)·v` of contiguous `q [B, Hq, Lq, D]`,
   * `k [B, Hkv, Lk, D]`, `v [B, Hkv, Lk, Dv]`, computed by the workers. The inputs are
   * not modified. Fully masked rows give 0 (and lse −∞), as `attention()`.
   */
  async attention(q: Float32Array, k: Float32Array, v: Float32Array, shape: PoolShape,
    options: PoolAttentionOptions = {}): Promise<PoolResult> {
    if (this.#disposed) throw new Error('wasm-attention: AttentionPool was used after dispose()');
    const d = dims(shape);
    checkInputs(q, k, v, d, options);
    const plan = choosePlan(d, this.threads, options);
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

  /** Inputs in SharedArrayBuffers read by every worker; outputs written in place. */
  async #runShared(plan: Plan, d: Dims, q: Float32Array, k: Float32Array, v: Float32Array, wantLse: boolean,
    options: TaskOptions): Promise<{ out: Float32Array; lse: Float32Array | null }> {
    const [sq, sk, sv] = [q, k, v].map(toShared) as [Float32Array, Float32Array, Float32Array];
    const out = new Float32Array(new SharedArrayBuffer(plan.outSize * 4));
    const lse = wantLse ? new Float32Array(new SharedArrayBuffer(plan.lseSize * 4)).fill(-Infinity) : null;
    await Promise.all(plan.calls.map((calls, w) => calls.length === 0 ? null : this.#send(w, {
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

  #send(w: number, task: Task, transfer: ArrayBuffer[]): Promise<{ out: Float32Array | null; lse: Float32Array | null }> {
    const member = this.#members[w]!;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      member.pending.set(id, { resolve, reject });
      member.handle.keepAlive(true);
      member.handle.post({ type: 'run', id, task }, transfer);
    });
  }

  /** Stops the workers; pending calls reject. Calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const m of this.#members) {
      m.handle.terminate();
      for (const p of m.pending.values()) p.reject(new Error('wasm-attention: AttentionPool was disposed'));
      m.pending.clear();
    }
  }

  /** The same as `dispose()`, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Sends the module, wires replies to pending calls, resolves with the worker's SIMD flag. */
function start(m: Member, module: WebAssembly.Module): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      reject(e);
      for (const p of m.pending.values()) p.reject(e);
      m.pending.clear();
    };
    m.handle.onError((e) => fail(new Error(`wasm-attention: a pool worker failed: ${e.message}`)));
    m.handle.onMessage((msg: FromWorker) => {
      if (msg.type === 'ready') {
        m.handle.keepAlive(false);
        resolve(msg.simd);
        return;
      }
      if (msg.type === 'error' && msg.id === -1) {
        fail(new Error(`wasm-attention: a pool worker could not instantiate the module: ${msg.message}`));
        return;
      }
      const p = m.pending.get(msg.id);
      if (p === undefined) return;
      m.pending.delete(msg.id);
      if (m.pending.size === 0) m.handle.keepAlive(false);
      if (msg.type === 'done') p.resolve(msg);
      else p.reject(new Error(`wasm-attention: AttentionPool worker: ${msg.message}`));
    });
    m.handle.post({ type: 'init', module });
  });
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
