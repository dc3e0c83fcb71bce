/**
 * Messages between an {@link AttentionPool} and its workers.
 * @internal
 */

/** One attention call of a task: offsets (in elements) into the task's arrays. */
export interface CallPlan {
  /** Start of `headsQ × lenQ × headDim` query values. */
  readonly q: number;
  /** Start of `headsKv × lenK × headDim` key values. */
  readonly k: number;
  /** Start of `headsKv × lenK × valueDim` values. */
  readonly v: number;
  /** Start of the `headsQ × lenQ × valueDim` output block. */
  readonly out: number;
  /** Start of the `headsQ × lenQ` log-sum-exp block (used when the task wants it). */
  readonly lse: number;
  readonly headsQ: number;
  readonly headsKv: number;
  readonly lenQ: number;
  readonly lenK: number;
  /** Index of the first query head among all `Hq` (selects ALiBi slopes and sinks). */
  readonly headStart: number;
  /** Whether this call's softmax includes the sink logits (only one key chunk may). */
  readonly sinks: boolean;
}

/** Score options forwarded to `attention()` in the worker. */
export interface TaskOptions {
  readonly causal: boolean;
  readonly scale?: number;
  readonly window?: number | readonly [number, number];
  readonly softcap?: number;
  readonly alibiSlopes?: Float32Array;
  readonly sinks?: Float32Array;
}

/** Work for one worker. */
export interface Task {
  readonly headDim: number;
  readonly valueDim: number;
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  /** Shared output arrays to write in place, or null: the worker returns new arrays. */
  readonly out: Float32Array | null;
  readonly lse: Float32Array | null;
  /** Sizes of the arrays to return when `out` is null. */
  readonly outSize: number;
  readonly lseSize: number;
  readonly wantLse: boolean;
  readonly calls: readonly CallPlan[];
  readonly options: TaskOptions;
}

/**
 * A fault a test makes a worker suffer (see internal.ts). `when: 'now'` strikes on
 * receipt; `'mid-call'` strikes in the next task, after its first call has written
 * its output (so a shared output already holds part of the result).
 * - `exit`: the worker ends itself (Node: `process.exit(3)`; browsers: `close()`).
 * - `throw`: an exception escapes the worker's message handler (the worker's error event).
 * - `heap`: JavaScript allocation until the worker's heap limit ends it (Node, with a limit only).
 * - `wasm-memory`: an allocation WASM memory cannot grow to (the library's out-of-memory RangeError).
 * - `trap`: a WebAssembly trap (`unreachable`).
 */
export interface Fault {
  readonly kind: 'exit' | 'throw' | 'heap' | 'wasm-memory' | 'trap';
  readonly when: 'now' | 'mid-call';
}

export type ToWorker =
  | { readonly type: 'init'; readonly module: WebAssembly.Module }
  | { readonly type: 'run'; readonly id: number; readonly task: Task }
  | { readonly type: 'fault'; readonly fault: Fault };

/**
 * How bad an error reply is for the worker that sent it: `trap` (a WebAssembly trap:
 * its instance can no longer be trusted) or `memory` (its WASM memory could not grow;
 * memory never shrinks, so the worker is spent).
 */
export type Severity = 'trap' | 'memory';

export type FromWorker =
  | { readonly type: 'ready'; readonly simd: boolean }
  | { readonly type: 'done'; readonly id: number; readonly out: Float32Array | null; readonly lse: Float32Array | null }
  | {
    readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string;
    readonly severity?: Severity;
  }
  /** The worker is ending itself (browsers give no event for that). */
  | { readonly type: 'exit'; readonly code: number };

/** The message channel of a worker, as the worker sees it. */
export interface WorkerSide {
  post(message: FromWorker, transfer?: Transferable[]): void;
  listen(handler: (message: ToWorker) => void): void;
  /** Ends the worker (Node: `process.exit`; browsers: posts `exit`, then `close()`). */
  exit(code: number): void;
}
