/**
 * The pool's worker: instantiates the module it is sent (`initSync`, no compilation)
 * and runs the attention calls of each task on its own WASM instance.
 *
 * Built on its own into an IIFE (see scripts/bundle-plugins.mjs); the pool starts it with
 * `serveNode` (worker_threads) or `serveBrowser` (Web Worker).
 * @internal
 */
import { attention, initSync, Tensor } from '../index.js';
import { Ended, EscapingFault, strike } from './faults.js';
import type { CallPlan, Fault, Severity, Task, ToWorker, WorkerSide } from './protocol.js';

/** Serves pool messages on `side`. */
export function serve(side: WorkerSide): void {
  let armed: Fault | null = null;
  side.listen((message) => {
    if (message.type === 'init') {
      try {
        side.post({ type: 'ready', simd: initSync({ module: message.module }).simd });
      } catch (e) {
        side.post({ type: 'error', id: -1, name: errorName(e), message: errorMessage(e) });
      }
      return;
    }
    // Faults exist only in builds that keep the fault hooks (internal.ts); the package's pool sends none.
    // This code stays outside the try below: rollup keeps everything a try block names, dead or not.
    if (message.type === 'fault') {
      if (__POOL_FAULT_HOOKS__) {
        try {
          if (message.fault.when === 'now') strike(message.fault, side);
          else armed = message.fault;
        } catch (e) {
          // A fault message has no caller to answer: only the escaping exception leaves the handler.
          if (e instanceof EscapingFault) throw e;
        }
      }
      return;
    }
    const afterFirstCall = () => {
      if (__POOL_FAULT_HOOKS__ && armed !== null) {
        const f = armed;
        armed = null;
        strike(f, side);
      }
    };
    try {
      const { out, lse } = run(message.task, afterFirstCall);
      const transfer = [out, lse].filter((a): a is Float32Array => a !== null).map((a) => a.buffer as ArrayBuffer);
      side.post({ type: 'done', id: message.id, out, lse }, transfer);
    } catch (e) {
      if (__POOL_FAULT_HOOKS__ && e instanceof EscapingFault) throw e;
      if (__POOL_FAULT_HOOKS__ && e instanceof Ended) return;
      side.post({ type: 'error', id: message.id, name: errorName(e), message: errorMessage(e), severity: severity(e) });
    }
  });
}

/** Errors after which this worker must not serve on (see `Severity`). */
function severity(e: unknown): Severity | undefined {
  if (e instanceof WebAssembly.RuntimeError) return 'trap';
  if (e instanceof RangeError && /out of WASM memory/.test(e.message)) return 'memory';
  return undefined;
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'Error';
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Starts serving in a Web Worker. */
export function serveBrowser(): void {
  const scope = globalThis as unknown as {
    postMessage(m: unknown, t?: Transferable[]): void;
    onmessage: ((e: { data: ToWorker }) => void) | null;
    close(): void;
  };
  serve({
    post: (m, t) => scope.postMessage(m, t ?? []),
    listen: (handler) => { scope.onmessage = (e) => handler(e.data); },
    exit: (code) => { scope.postMessage({ type: 'exit', code }); scope.close(); },
  });
}

/** Starts serving in a Node worker thread, given `require('node:worker_threads').parentPort`. */
export function serveNode(port: {
  postMessage(m: unknown, t?: readonly unknown[]): void;
  on(event: 'message', handler: (m: ToWorker) => void): void;
}): void {
  const proc = (globalThis as unknown as { process: { exit(code: number): never } }).process;
  serve({
    post: (m, t) => port.postMessage(m, t ?? []), listen: (handler) => port.on('message', handler),
    exit: (code) => proc.exit(code),
  });
}

/**
 * Runs every call of a task; writes into the shared arrays or into new ones it returns.
 * `afterFirstCall` runs after the first call, half-way through the task (where a test build's armed fault hits).
 */
function run(task: Task, afterFirstCall: () => void): { out: Float32Array | null; lse: Float32Array | null } {
  const out = task.out ?? new Float32Array(task.outSize);
  const lse = task.wantLse ? task.lse ?? new Float32Array(task.lseSize) : null;
  task.calls.forEach((call, i) => {
    runCall(task, call, out, lse);
    if (i === 0) afterFirstCall();
  });
  return task.out === null ? { out, lse } : { out: null, lse: null };
}

function runCall(task: Task, c: CallPlan, out: Float32Array, lse: Float32Array | null): void {
  const { headDim: D, valueDim: Dv, options: o } = task;
  const nq = c.headsQ * c.lenQ, nk = c.headsKv * c.lenK;
  const tensors: Tensor[] = [];
  const track = (t: Tensor) => { tensors.push(t); return t; };
  try {
    const q = track(Tensor.from(task.q.subarray(c.q, c.q + nq * D), [c.headsQ, c.lenQ, D]));
    const k = track(Tensor.from(task.k.subarray(c.k, c.k + nk * D), [c.headsKv, c.lenK, D]));
    const v = track(Tensor.from(task.v.subarray(c.v, c.v + nk * Dv), [c.headsKv, c.lenK, Dv]));
    const heads = (a: Float32Array | undefined) => a?.subarray(c.headStart, c.headStart + c.headsQ);
    const r = attention(q, k, v, {
      causal: o.causal, scale: o.scale, window: o.window, softcap: o.softcap,
      alibiSlopes: heads(o.alibiSlopes), sinks: c.sinks ? heads(o.sinks) : undefined, returnLse: true,
    });
    track(r.out); track(r.lse);
    out.set(r.out.data, c.out);
    if (lse !== null) lse.set(r.lse.data, c.lse);
  } finally {
    for (const t of tensors) t.dispose();
  }
}
