// AttentionPool under worker faults in Node (worker_threads): exits, uncaught exceptions,
// heap exhaustion (workers started with a small heap limit), WASM out-of-memory, traps
// and termination — see test/helpers/pool-faults.ts.
import { initInfo } from '../../ts/index.js';
import * as lib from '../../ts/pool/index.js';
import { poolFaultSuite } from '../helpers/pool-faults.js';

const INTERNALS = Symbol.for('wasm-attention.pool.internals');

poolFaultSuite({
  lib,
  kinds: ['exit', 'throw', 'heap', 'trap', 'wasm-memory'],
  // A 64 MiB JavaScript heap per worker: ample for the pool's work, and quick to exhaust.
  create: (shared) => lib.AttentionPool.create({
    workers: 2, module: initInfo()!.module, shared, [INTERNALS]: { heapLimitMb: 64 },
  } as lib.PoolOptions),
});
