/**
 * One worker of a pool and the calls in flight on it, from start to end.
 *
 * A member is `starting` until the worker has instantiated the module, then `ready`.
 * It ends `dead` when the worker is lost: an error event (an uncaught exception, a
 * message that could not be read, Node's out-of-memory end), an exit (Node's `exit`
 * event; in browsers the worker's own notice), termination by the pool, or a
 * WebAssembly trap reported in a reply (its instance can no longer be trusted). Then
 * every call in flight on it rejects with one {@link PoolWorkerError} and the pool is
 * told, to start a replacement. A worker whose WASM memory could not grow is `retiring`
 * instead: that call rejects, the pool replaces the worker at once, and the old one
 * finishes the calls it already has and is then terminated (its memory never shrinks).
 * @internal
 */
import { PoolWorkerError } from './errors.js';
import type { FromWorker, Task } from './protocol.js';
import type { WorkerHandle } from './spawn.js';

export interface Reply { readonly out: Float32Array | null; readonly lse: Float32Array | null }

interface Pending { resolve(r: Reply): void; reject(e: Error): void }

/** What the pool hears from its members. */
export interface MemberEvents {
  /** `m` was lost; `started` is false when it failed to start. */
  ended(m: Member, started: boolean): void;
  /** `m` can serve no new calls (it is retiring): replace it now. */
  spent(m: Member): void;
}

const ERROR_TYPES: Record<string, new (message: string) => Error> = { RangeError, TypeError };

export class Member {
  #state: 'starting' | 'ready' | 'retiring' | 'dead' = 'starting';
  readonly #pending = new Map<number, Pending>();
  #death: Error | null = null;
  readonly #failStart: (e: Error) => void;
  /** Resolves with the worker's SIMD flag once it has started; rejects if it cannot. */
  readonly ready: Promise<boolean>;

  constructor(readonly index: number, readonly handle: WorkerHandle, module: WebAssembly.Module,
    private readonly events: MemberEvents) {
    let started!: (simd: boolean) => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => { started = resolve; failed = reject; });
    this.ready.catch(() => {}); // awaited by whoever needs it; never an unhandled rejection
    this.#failStart = failed;
    handle.onError((e) => this.lose(errorCause(e)));
    handle.onExit((code) => this.lose(`exited with code ${code}`));
    handle.onMessage((msg) => this.#receive(msg, started));
    handle.post({ type: 'init', module });
  }

  get dead(): boolean { return this.#state === 'dead'; }
  get starting(): boolean { return this.#state === 'starting'; }

  /** Posts one task; the promise settles with its reply or with the worker's loss. */
  send(id: number, task: Task, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.#death !== null) return Promise.reject(this.#death);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.handle.keepAlive(true);
      this.handle.post({ type: 'run', id, task }, transfer);
    });
  }

  /**
   * Ends the worker for `cause` (a phrase after "worker N"): every call in flight
   * rejects with one PoolWorkerError. Later events of the same worker are ignored.
   */
  lose(cause: string): void {
    if (this.#state === 'dead') return;
    const started = this.#state !== 'starting';
    this.#state = 'dead';
    this.handle.terminate();
    const error = new PoolWorkerError(this.index, started ? cause : `could not start: ${cause}`, started);
    this.#death = error;
    this.#failStart(error);
    this.#rejectAll(error);
    this.events.ended(this, started);
  }

  /** Ends the worker without it being a failure (dispose): calls in flight reject with `error`. */
  stop(error: Error): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.handle.terminate();
    this.#death = error;
    this.#failStart(error);
    this.#rejectAll(error);
  }

  #rejectAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  #receive(msg: FromWorker, started: (simd: boolean) => void): void {
    if (this.#state === 'dead') return;
    if (msg.type === 'ready') {
      this.#state = 'ready';
      this.handle.keepAlive(false);
      started(msg.simd);
      return;
    }
    if (msg.type === 'exit') return this.lose(`exited with code ${msg.code}`);
    if (msg.id === -1 && msg.type === 'error') return this.lose(`could not instantiate the module: ${msg.message}`);
    if (msg.type === 'error' && msg.severity === 'trap') return this.lose(`trapped in WebAssembly (${msg.message})`);
    const p = this.#pending.get(msg.id);
    if (p === undefined) return;
    this.#pending.delete(msg.id);
    if (msg.type === 'done') {
      p.resolve(msg);
    } else {
      const Ctor = ERROR_TYPES[msg.name] ?? Error;
      const spent = msg.severity === 'memory' ? '; the worker is being replaced (WASM memory never shrinks)' : '';
      p.reject(new Ctor(`wasm-attention: AttentionPool worker ${this.index}: ${msg.message}${spent}`));
      if (msg.severity === 'memory' && this.#state === 'ready') {
        this.#state = 'retiring';
        this.events.spent(this);
      }
    }
    if (this.#pending.size === 0) {
      this.handle.keepAlive(false);
      if (this.#state === 'retiring') {
        this.stop(new Error('wasm-attention: a retired pool worker has no calls'));
        this.events.ended(this, true);
      }
    }
  }
}

/** The cause of an error event, as a phrase after "worker N". */
function errorCause(e: Error): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `ran out of memory (${e.message})`;
  return `failed with an uncaught error (${e.message})`;
}
