// Type-checked in consumer projects against the packed declarations, with
// TypeScript's default lib and skipLibCheck: false (see package.test.ts).
import { attention, init, KVCache, Tensor, type AttentionWithLse, type BooleanMask, type InitInfo } from 'wasm-attention';
import { AttentionPool, type PoolResult } from 'wasm-attention/pool';
import { init as initSeparate } from 'wasm-attention/separate';
import simd from 'wasm-attention/simd.wasm';
import scalar from 'wasm-attention/scalar.wasm';
import type {} from 'wasm-attention/pool-worker.js';

export async function main(flag: boolean): Promise<number> {
  const info: InitInfo = await init();
  const again: InitInfo = await initSeparate({ module: flag ? simd : scalar });
  const q = Tensor.from([1, 2, 3, 4], [1, 2, 2]);
  const plain: Tensor = attention(q, q, q, { causal: true });
  const off: Tensor = attention(q, q, q, { returnLse: false });
  const withLse: AttentionWithLse = attention(q, q, q, { returnLse: true });
  const either: Tensor | AttentionWithLse = attention(q, q, q, { returnLse: flag });
  // @ts-expect-error a boolean known only at run time may give { out, lse }
  const wrong: Tensor = attention(q, q, q, { returnLse: flag });
  const mask: BooleanMask = { attend: [true, false, true, true], shape: [2, 2] };
  const cache = new KVCache({ maxLength: 8, numKvHeads: 1, headDim: 2 });
  const pool = await AttentionPool.create({ workers: 1 });
  const r: PoolResult = await pool.attention(q.toArray(), q.toArray(), q.toArray(), { headsQ: 1, lenQ: 2, headDim: 2 });
  pool[Symbol.dispose]();
  q[Symbol.dispose]();
  cache.dispose();
  return [info, again, plain, off, withLse, either, wrong, mask, r].length;
}
