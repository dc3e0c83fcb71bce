// AttentionPool under worker faults in Chromium (Web Workers): a worker's uncaught
// exception (its error event), its own close(), WASM out-of-memory, traps and
// termination — see test/helpers/pool-faults.ts — and a worker script that cannot load.
import { beforeAll, expect, it } from 'vitest';
import { init } from '../../ts/separate.js';
import * as lib from '../../ts/pool/index.js';
import { poolFaultSuite } from '../helpers/pool-faults.js';

beforeAll(async () => { await init(); });

poolFaultSuite({
  lib,
  // No 'heap': a browser gives a worker no heap limit of its own to run into.
  kinds: ['exit', 'throw', 'trap', 'wasm-memory'],
  create: (shared) => lib.AttentionPool.create({ workers: 2, shared }),
});

it('a worker script that cannot load rejects create() naming the worker', async () => {
  const e = await lib.AttentionPool.create({ workers: 2, workerUrl: '/no/such/pool-worker.js' }).then(
    () => null, (err: Error) => err);
  expect(e).toBeInstanceOf(lib.PoolWorkerError);
  expect(e!.message).toMatch(/^wasm-attention: AttentionPool worker [01] could not start: failed with an uncaught error \(/);
});
