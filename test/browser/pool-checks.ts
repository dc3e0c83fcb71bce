// An AttentionPool's two ways of splitting one attention call, checked against the float64
// reference: by heads (causal GQA, with log-sum-exp) and by keys for a decoding step (merged
// by log-sum-exp). pool.spec.ts runs them on the ts/ sources, package.spec.ts on dist/.
import { it } from 'vitest';
import type { AttentionPool } from '../../ts/pool/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

/** dist/'s pool has the same method; its class's private fields make TypeScript tell the classes apart. */
type Pool = Pick<AttentionPool, 'attention'>;

export function poolSplitChecks(pool: () => Pool): void {
  it('splits heads: causal GQA attention', async () => {
    const [B, Hq, Hkv, L, D] = [1, 6, 3, 50, 16];
    const q = randoms(B * Hq * L * D, 41, -2, 2), k = randoms(B * Hkv * L * D, 42, -2, 2), v = randoms(B * Hkv * L * D, 43);
    const r = await pool().attention(q, k, v, { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: L, headDim: D },
      { causal: true, returnLse: true });
    const want = attention64(q, k, v, B, Hq, Hkv, L, L, D, D, { causal: true });
    expectClose(r.out, want.out, 'out');
    expectClose(r.lse!, want.lse, 'lse');
  });

  it('splits keys for one decoding step and merges by log-sum-exp', async () => {
    const [H, Lk, D] = [4, 1500, 32];
    const q = randoms(H * D, 51, -2, 2), k = randoms(H * Lk * D, 52, -2, 2), v = randoms(H * Lk * D, 53);
    const r = await pool().attention(q, k, v, { headsQ: H, lenQ: 1, lenK: Lk, headDim: D }, { split: 'keys', causal: true });
    expectClose(r.out, attention64(q, k, v, 1, H, H, 1, Lk, D, D).out, 'out');
  });
}
