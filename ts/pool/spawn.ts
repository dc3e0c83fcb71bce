/**
 * Starting pool workers in Node (worker_threads) or in browsers/Deno (Web Workers),
 * from the worker source embedded in the bundle — no file to locate:
 *
 * - Node: `new Worker(source, { eval: true })`, with `worker_threads` reached through
 *   `process.getBuiltinModule` (Node ≥ 20.16), so the bundle has no Node import.
 * - Web Workers: a Blob URL of the source, or `workerUrl` (the bundle's
 *   `pool/worker.js`) where a Content-Security-Policy forbids `blob:` workers.
 * @internal
 */
import workerSource from 'wasm-attention:pool-worker-source';
import type { FromWorker, ToWorker } from './protocol.js';

/** The pool's side of one worker. */
export interface WorkerHandle {
  post(message: ToWorker, transfer?: Transferable[]): void;
  onMessage(handler: (message: FromWorker) => void): void;
  /** An error event: an uncaught exception, a failed start, a message that could not be read. */
  onError(handler: (error: Error) => void): void;
  /** The worker ended (Node's `exit` event; browsers have none). */
  onExit(handler: (code: number) => void): void;
  /** Whether an idle worker may let the process exit (Node); no-op in browsers. */
  keepAlive(alive: boolean): void;
  terminate(): void;
}

interface NodeWorker {
  postMessage(m: unknown, transfer?: readonly unknown[]): void;
  on(event: 'message', f: (m: FromWorker) => void): void;
  on(event: 'error' | 'messageerror', f: (e: Error) => void): void;
  on(event: 'exit', f: (code: number) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreads {
  Worker: new (code: string, options: { eval: true; resourceLimits?: { maxOldGenerationSizeMb: number } }) => NodeWorker;
}

const GLOBAL = 'wasmAttentionPoolWorker';

function nodeWorkerThreads(): WorkerThreads | null {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } })
    .process;
  if (proc?.versions?.node === undefined) return null;
  const get = proc.getBuiltinModule;
  if (typeof get !== 'function') {
    throw new Error(`wasm-attention: AttentionPool needs Node >= 20.16 (process.getBuiltinModule); this is ${proc.versions.node}`);
  }
  return get('node:worker_threads') as WorkerThreads;
}

/** Whether workers here are Node worker threads. */
export function isNode(): boolean {
  return nodeWorkerThreads() !== null;
}

/** Started workers; call `started()` once all are running (frees the Blob URL). */
export interface Spawned { readonly handles: WorkerHandle[]; started(): void }

/**
 * Starts `count` workers running the pool worker. `heapLimitMb` (Node only) caps each
 * worker's JavaScript heap: tests use it to make a worker run out of memory quickly.
 */
export function spawnWorkers(count: number, workerUrl?: string | URL, heapLimitMb?: number): Spawned {
  const threads = nodeWorkerThreads();
  if (threads !== null) {
    const code = `${workerSource}\n${GLOBAL}.serveNode(require('node:worker_threads').parentPort);\n`;
    const resourceLimits = heapLimitMb === undefined ? undefined : { maxOldGenerationSizeMb: heapLimitMb };
    const start = () => nodeHandle(new threads.Worker(code, { eval: true, resourceLimits }));
    return { handles: Array.from({ length: count }, start), started() {} };
  }
  if (typeof Worker !== 'function') {
    throw new Error('wasm-attention: AttentionPool needs Web Workers or Node worker_threads, and this runtime has neither');
  }
  let url = workerUrl;
  let revoke = false;
  if (url === undefined) {
    const blob = new Blob([`${workerSource}\n${GLOBAL}.serveBrowser();\n`], { type: 'text/javascript' });
    url = URL.createObjectURL(blob);
    revoke = true;
  }
  const handles = Array.from({ length: count }, () => webHandle(new Worker(url)));
  const blobUrl = url;
  return { handles, started: () => { if (revoke) URL.revokeObjectURL(blobUrl as string); } };
}

function nodeHandle(w: NodeWorker): WorkerHandle {
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (f) => w.on('message', f),
    onError: (f) => {
      w.on('error', f);
      w.on('messageerror', (e) => f(new Error(`a message could not be deserialized (${e.message})`)));
    },
    onExit: (f) => w.on('exit', f),
    keepAlive: (alive) => (alive ? w.ref() : w.unref()),
    terminate: () => { void w.terminate(); },
  };
}

function webHandle(w: Worker): WorkerHandle {
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (f) => w.addEventListener('message', (e) => f((e as MessageEvent<FromWorker>).data)),
    onError: (f) => {
      // Handled here: preventDefault keeps the page from reporting it as its own uncaught error.
      w.addEventListener('error', (e) => { e.preventDefault(); f(new Error(e.message || 'the worker failed to start')); });
      w.addEventListener('messageerror', () => f(new Error('a message could not be deserialized')));
    },
    onExit: () => {},
    keepAlive: () => {},
    terminate: () => w.terminate(),
  };
}

/** Logical processors available here (at least 1). */
export function hardwareThreads(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}
