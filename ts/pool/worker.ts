/**
 * The pool's worker: instantiates the module it is sent (`initSync`, no compilation)
 * and runs the attention calls of each task on its own WASM instance.
 *
 * Built on its own into an IIFE (see rollup.config.mjs); the pool starts it with
 * `serveNode` (worker_threads) or `serveBrowser` (Web Worker).
 * @internal
 */
import { attention, initSync, Tensor } from '../index.js';
import type { CallPlan, FromWorker, Task, ToWorker, WorkerSide } from './protocol.js';

/** Serves pool messages on `side`. */
export function serve(side: WorkerSide): void {
  side.listen((message) => {
    if (message.type === 'init') {
      try {
        side.post({ type: 'ready', simd: initSync({ module: message.module }).simd });
      } catch (e) {
        side.post({ type: 'error', id: -1, message: (e as Error).message });
      }
      return;
    }
    try {
      const { out, lse } = run(message.task);
      const transfer = [out, lse].filter((a): a is Float32Array => a !== null).map((a) => a.buffer as ArrayBuffer);
      side.post({ type: 'done', id: message.id, out, lse }, transfer);
    } catch (e) {
      side.post({ type: 'error', id: message.id, message: (e as Error).message });
    }
  });
}

/** Starts serving in a Web Worker. */
export function serveBrowser(): void {
  const scope = globalThis as unknown as {
    postMessage(m: unknown, t?: Transferable[]): void;
    onmessage: ((e: { data: ToWorker }) => void) | null;
  };
  serve({
    post: (m, t) => scope.postMessage(m, t ?? []),
    listen: (handler) => { scope.onmessage = (e) => handler(e.data); },
  });
}

/** Starts serving in a Node worker thread, given `require('node:worker_threads').parentPort`. */
export function serveNode(port: {
  postMessage(m: unknown, t?: readonly unknown[]): void;
  on(event: 'message', handler: (m: ToWorker) => void): void;
}): void {
  serve({ post: (m, t) => port.postMessage(m, t ?? []), listen: (handler) => port.on('message', handler) });
}

/** Runs every call of a task; writes into the shared arrays or into new ones it returns. */
function run(task: Task): { out: Float32Array | null; lse: Float32Array | null } {
  const out = task.out ?? new Float32Array(task.outSize);
  const lse = task.wantLse ? task.lse ?? new Float32Array(task.lseSize) : null;
  for (const call of task.calls) runCall(task, call, out, lse);
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
