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

export type ToWorker =
  | { readonly type: 'init'; readonly module: WebAssembly.Module }
  | { readonly type: 'run'; readonly id: number; readonly task: Task };

export type FromWorker =
  | { readonly type: 'ready'; readonly simd: boolean }
  | { readonly type: 'done'; readonly id: number; readonly out: Float32Array | null; readonly lse: Float32Array | null }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** The message channel of a worker, as the worker sees it. */
export interface WorkerSide {
  post(message: FromWorker, transfer?: Transferable[]): void;
  listen(handler: (message: ToWorker) => void): void;
}
