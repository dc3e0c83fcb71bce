// A batched KVCache (ragged sequences in one cache) against single caches fed the same
// rows and against the float64 reference, in every storage dtype: per-sequence and
// all-at-once appends and attends, runs of equal lengths, window, truncate, bad input.
import { describe, expect, it } from 'vitest';
import { KVCache, Tensor, memoryStats, type CacheDType } from '../../ts/index.js';
import { attention64, randoms, worstError } from '../helpers/reference.js';
import { decode, rows } from './helpers/kv-feed.js';

/** Worst absolute output error allowed for unit-scale data (as the single-cache dtype tests). */
const BOUND: Record<CacheDType, number> = { float32: 1e-5, float16: 3e-3, bfloat16: 2e-2, int8: 2e-2 };
const DTYPES: CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];

/** One sequence's queries, keys and values `[H, T, D]`. */
interface Seq { T: number; q: Float32Array; k: Float32Array; v: Float32Array }

function sequences(lengths: number[], Hq: number, Hkv: number, D: number, Dv: number, seed: number): Seq[] {
  return lengths.map((T, b) => ({
    T, q: randoms(Hq * T * D, seed + 10 * b), k: randoms(Hkv * T * D, seed + 10 * b + 1, -2, 2),
    v: randoms(Hkv * T * Dv, seed + 10 * b + 2),
  }));
}

/** Rows [from, to) of every sequence stacked as `[B, H, to − from, W]` (rows counted from each one's end). */
function stack(seqs: Seq[], pick: (s: Seq) => Float32Array, H: number, W: number, fromEnd: number, n: number): Float32Array {
  const out = new Float32Array(seqs.length * H * n * W);
  seqs.forEach((s, b) => out.set(rows(pick(s), H, s.T, W, s.T - fromEnd, s.T - fromEnd + n), b * H * n * W));
  return out;
}

function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: number, what: string): void {
  const w = worstError(got, want, bound, 0);
  expect(w.ratio, `${what}: worst at ${w.index}: ${w.got} vs ${w.want} (bound ${bound})`).toBeLessThanOrEqual(1);
}

/** Contents, lengths and positions of a float cache, to prove an error changed nothing. */
function snapshot(c: KVCache) {
  return { keys: c.keys.toArray(), values: c.values.toArray(), lengths: c.lengths, positions: c.positions };
}

describe('KVCache batch', () => {
  for (const dtype of DTYPES) {
    for (const [D, Dv] of [[16, 16], [64, 48]] as const) {
      it(`${dtype}, D = ${D}: ragged batch (5, 17, 300) equals single caches and float64 attention (GQA 4/2)`, () => {
        const [Hq, Hkv, S] = [4, 2, 4];
        const lengths = [5, 17, 300];
        const seqs = sequences(lengths, Hq, Hkv, D, Dv, 1000 + D);
        using batch = new KVCache({ batch: 3, maxLength: 304, numKvHeads: Hkv, headDim: D, valueDim: Dv, dtype });
        expect(batch.batch).toBe(3);
        const singles = seqs.map(() => new KVCache({ maxLength: 304, numKvHeads: Hkv, headDim: D, valueDim: Dv, dtype }));
        try {
          // Prefill each sequence on its own: all but the last S positions.
          seqs.forEach((s, b) => {
            const P = s.T - S;
            const pre = decode(batch, s.q, s.k, s.v, Hq, Hkv, s.T, D, Dv, [P], b);
            const one = decode(singles[b]!, s.q, s.k, s.v, Hq, Hkv, s.T, D, Dv, [P]);
            expect(Array.from(pre.subarray(0, Hq * P * Dv)), `prefill ${b}`).toEqual(Array.from(one.subarray(0, Hq * P * Dv)));
          });
          expect(batch.lengths).toEqual(lengths.map((T) => T - S));
          expect(batch.length).toBe(300 - S);
          // Then every sequence at once: a step of 2 rows, then two of 1.
          let done = 0;
          for (const n of [2, 1, 1]) {
            const from = S - done;
            using k = Tensor.from(stack(seqs, (s) => s.k, Hkv, D, from, n), [3, Hkv, n, D]);
            using v = Tensor.from(stack(seqs, (s) => s.v, Hkv, Dv, from, n), [3, Hkv, n, Dv]);
            using q = Tensor.from(stack(seqs, (s) => s.q, Hq, D, from, n), [3, Hq, n, D]);
            using out = batch.append(k, v).attend(q);
            expect(out.shape).toEqual([3, Hq, n, Dv]);
            seqs.forEach((s, b) => {
              const block = Hq * n * Dv;
              const got = out.data.subarray(b * block, (b + 1) * block);
              using qb = Tensor.from(rows(s.q, Hq, s.T, D, s.T - from, s.T - from + n), [Hq, n, D]);
              using kb = Tensor.from(rows(s.k, Hkv, s.T, D, s.T - from, s.T - from + n), [Hkv, n, D]);
              using vb = Tensor.from(rows(s.v, Hkv, s.T, Dv, s.T - from, s.T - from + n), [Hkv, n, Dv]);
              using want = singles[b]!.append(kb, vb).attend(qb);
              expect(Array.from(got), `step ${done}, sequence ${b} vs its single cache`).toEqual(Array.from(want.data));
              const ref = attention64(s.q, s.k, s.v, 1, Hq, Hkv, s.T, s.T, D, Dv, { causal: true }).out;
              const refRows = rows(Float32Array.from(ref), Hq, s.T, Dv, s.T - from, s.T - from + n);
              expectWithin(got, refRows, BOUND[dtype], `${dtype} step ${done}, sequence ${b} vs float64`);
            });
            done += n;
          }
          expect(batch.lengths).toEqual(lengths);
          expect(batch.positions).toEqual(lengths);
          // Per sequence: the last query row of sequence 1 alone.
          using q1 = Tensor.from(rows(seqs[1]!.q, Hq, 17, D, 16, 17), [Hq, 1, D]);
          using a = batch.attend(q1, { sequence: 1 });
          using b1 = singles[1]!.attend(q1);
          expect(Array.from(a.data)).toEqual(Array.from(b1.data));
        } finally {
          singles.forEach((c) => c.dispose());
        }
      });
    }

    it(`${dtype}: adjacent sequences of one length attend in one call with the same result as alone`, () => {
      const [Hq, Hkv, D] = [4, 2, 16];
      const lengths = [7, 7, 7, 20, 7];
      const seqs = sequences(lengths, Hq, Hkv, D, D, 2000);
      using batch = new KVCache({ batch: 5, maxLength: 24, numKvHeads: Hkv, headDim: D, dtype });
      seqs.forEach((s, b) => decode(batch, s.q, s.k, s.v, Hq, Hkv, s.T, D, D, [s.T], b));
      using q = Tensor.from(stack(seqs, (s) => s.q, Hq, D, 1, 1), [5, Hq, 1, D]);
      using out = batch.attend(q);
      seqs.forEach((s, b) => {
        using one = new KVCache({ maxLength: 24, numKvHeads: Hkv, headDim: D, dtype });
        decode(one, s.q, s.k, s.v, Hq, Hkv, s.T, D, D, [s.T]);
        using qb = Tensor.from(rows(s.q, Hq, s.T, D, s.T - 1, s.T), [Hq, 1, D]);
        using want = one.attend(qb);
        expect(Array.from(out.data.subarray(b * Hq * D, (b + 1) * Hq * D)), `sequence ${b}`).toEqual(Array.from(want.data));
      });
    });

    it(`${dtype}: sliding window and truncate act on one sequence only`, () => {
      const [Hq, Hkv, D, W] = [4, 2, 16, 9];
      const [s0, s1] = sequences([30, 90], Hq, Hkv, D, D, 3000);
      using cache = new KVCache({ batch: 2, maxLength: 20, numKvHeads: Hkv, headDim: D, window: W, dtype });
      const ref = (s: Seq) => attention64(s.q, s.k, s.v, 1, Hq, Hkv, s.T, s.T, D, D, { causal: true, window: [W - 1, 0] }).out;
      const got0 = decode(cache, s0!.q, s0!.k, s0!.v, Hq, Hkv, 30, D, D, [5, 2, ...Array<number>(23).fill(1)], 0);
      expectWithin(got0, ref(s0!), BOUND[dtype], `${dtype} window, sequence 0`);
      using q0 = Tensor.from(rows(s0!.q, Hq, 30, D, 29, 30), [Hq, 1, D]);
      using before = cache.attend(q0, { sequence: 0 });
      const lengths0 = cache.lengths[0];
      // Sequence 1 shifts many times; sequence 0 must not notice.
      const got1 = decode(cache, s1!.q, s1!.k, s1!.v, Hq, Hkv, 90, D, D, [3, ...Array<number>(87).fill(1)], 1);
      expectWithin(got1, ref(s1!), BOUND[dtype], `${dtype} window, sequence 1`);
      expect(cache.positions).toEqual([30, 90]);
      expect(cache.lengths[0]).toBe(lengths0);
      using after = cache.attend(q0, { sequence: 0 });
      expect(Array.from(after.data)).toEqual(Array.from(before.data));

      // Truncate one sequence: junk appended to it and rolled back leaves no trace.
      const l1 = cache.lengths[1]!, n = 20 - l1; // as many junk rows as fit without a shift
      expect(n).toBeGreaterThan(0);
      using junk = Tensor.from(randoms(Hkv * n * D, 99, -50, 50), [Hkv, n, D]);
      cache.append(junk, junk, { sequence: 1 }).truncate(l1, { sequence: 1 });
      expect(cache.lengths).toEqual([lengths0, l1]);
      expect(cache.positions).toEqual([30, 90]);
      using q1 = Tensor.from(rows(s1!.q, Hq, 90, D, 89, 90), [Hq, 1, D]);
      using r1 = cache.attend(q1, { sequence: 1 });
      expect(Array.from(r1.data)).toEqual(Array.from(lastRow(got1, Hq, 90, D)));
      // Clearing one sequence leaves the other.
      cache.clear({ sequence: 1 });
      expect(cache.lengths).toEqual([lengths0, 0]);
      expect(cache.positions).toEqual([30, 0]);
      using again = cache.attend(q0, { sequence: 0 });
      expect(Array.from(again.data)).toEqual(Array.from(before.data));
    });
  }

  it('a batch-1 cache takes [1, H, n, D] tensors as well as [H, n, D]', () => {
    const [H, D] = [2, 8];
    const k = randoms(H * 3 * D, 1), v = randoms(H * 3 * D, 2), q = randoms(H * D, 3);
    using a = new KVCache({ maxLength: 4, numKvHeads: H, headDim: D });
    using b = new KVCache({ batch: 1, maxLength: 4, numKvHeads: H, headDim: D });
    using k3 = Tensor.from(k, [H, 3, D]), v3 = Tensor.from(v, [H, 3, D]), q3 = Tensor.from(q, [H, 1, D]);
    using k4 = Tensor.from(k, [1, H, 3, D]), v4 = Tensor.from(v, [1, H, 3, D]), q4 = Tensor.from(q, [1, H, 1, D]);
    using oa = a.append(k3, v3).attend(q3);
    using ob = b.append(k4, v4).attend(q4);
    expect(ob.shape).toEqual([1, H, 1, D]);
    expect(Array.from(ob.data)).toEqual(Array.from(oa.data));
    expect(a.keys.shape).toEqual([H, 4, D]);
    expect(a.lengths).toEqual([3]);
  });

  it('sizes are checked before anything is allocated (no heap abort, no stack overflow on a large batch)', () => {
    const blocks = memoryStats().liveBlocks;
    for (const batch of [2 ** 30, 2 ** 32, 2 ** 53]) {
      expect(() => new KVCache({ batch, maxLength: 8, numKvHeads: 1, headDim: 1 }), String(batch))
        .toThrow(new RegExp(`KVCache: batch ${batch} × numKvHeads 1 × maxLength 8 × headDim 1 \\(float32\\) needs \\d+ bytes, more than WASM's 4 GiB`));
    }
    expect(() => new KVCache({ maxLength: 2 ** 31, numKvHeads: 1, headDim: 1, dtype: 'int8' })).toThrow(RangeError);
    expect(() => new KVCache({ maxLength: 16, numKvHeads: 1, headDim: 4, valueDim: 1e300 })).toThrow(/valueDim 1e\+300/);
    expect(() => new KVCache({ batch: 2 ** 24, maxLength: 1, numKvHeads: 1, headDim: 1, dtype: 'int8' })).toThrow(/batch 16777216 exceeds 1048576 sequences/);
    expect(memoryStats().liveBlocks).toBe(blocks);
    using big = new KVCache({ batch: 300_000, maxLength: 1, numKvHeads: 1, headDim: 1, dtype: 'int8' });
    using z = Tensor.zeros([1, 1, 1]);
    big.append(z, z, { sequence: 299_999 });
    expect([big.length, big.position]).toEqual([1, 1]);
    big.truncate(0, { sequence: 299_999 });
    expect(big.length).toBe(0);
  });

  it('bad input: a clear error, and nothing changed or leaked', () => {
    for (const batch of [0, -1, 1.5, '2', NaN]) {
      expect(() => new KVCache({ batch: batch as number, maxLength: 4, numKvHeads: 1, headDim: 2 }))
        .toThrow(/KVCache: batch must be an integer ≥ 1/);
    }
    const [B, H, D] = [3, 2, 4];
    using cache = new KVCache({ batch: B, maxLength: 6, numKvHeads: H, headDim: D });
    using k = Tensor.from(randoms(B * H * 2 * D, 5), [B, H, 2, D]);
    cache.append(k, k);
    using k1 = Tensor.from(randoms(H * 3 * D, 6), [H, 3, D]);
    cache.append(k1, k1, { sequence: 2 });
    const before = snapshot(cache);
    const blocks = memoryStats().liveBlocks;
    using q = Tensor.from(randoms(B * H * 1 * D, 7), [B, H, 1, D]);
    using q1 = Tensor.from(randoms(H * D, 8), [H, 1, D]);
    using q4 = Tensor.from(randoms(B * H * 4 * D, 9), [B, H, 4, D]);
    using big = Tensor.from(randoms(B * H * 3 * D, 10), [B, H, 3, D]);
    using wrongB = Tensor.from(randoms(2 * H * D, 11), [2, H, 1, D]);
    using k2 = Tensor.from(randoms(B * H * 1 * D, 12), [B, H, 1, D]);
    const tries: [() => unknown, RegExp][] = [
      [() => cache.append(k1, k1, { sequence: 3 }), /KVCache.append: sequence must be an integer in \[0, 3\), got number 3/],
      [() => cache.append(k1, k1, { sequence: -1 }), /sequence must be an integer in \[0, 3\)/],
      [() => cache.append(k1, k1, { sequence: 0.5 }), /sequence must be an integer in \[0, 3\)/],
      [() => cache.attend(q1, { sequence: 3 }), /KVCache.attend: sequence must be an integer in \[0, 3\)/],
      [() => cache.truncate(1, { sequence: 7 }), /KVCache.truncate: sequence must be an integer/],
      [() => cache.clear({ sequence: '1' as never }), /KVCache.clear: sequence must be an integer/],
      [() => cache.append(k1, k1), /k must be \[3, 2, n, 4\] \(every sequence; or pass \{ sequence \}\), got \[2, 3, 4\]/],
      [() => cache.append(wrongB, wrongB), /k must be \[3, 2, n, 4\]/],
      [() => cache.append(k, k, { sequence: 1 }), /with \{ sequence \} tensors are one sequence's/],
      [() => cache.append(k, k2), /hold different numbers of positions/],
      [() => cache.attend(q1), /q must be \[3, H_q, L_q, 4\] \(every sequence/],
      [() => cache.attend(q, { sequence: 0 }), /with \{ sequence \}/],
      // Sequence 0 holds 2 rows: 4 query rows for all is an error naming it.
      [() => cache.attend(q4), /sequence 0: 4 query rows but only 2 cached positions/],
      // Sequence 2 holds 5 of 6 rows: 3 more overflow it, so no sequence takes them.
      [() => cache.append(big, big), /sequence 2: 5 \+ 3 positions exceed maxLength 6/],
      [() => cache.truncate(3), /truncate: n must be an integer in \[0, 2\]/],
    ];
    for (const [f, re] of tries) {
      expect(f).toThrow(re);
      expect(snapshot(cache), String(re)).toEqual(before);
    }
    expect(memoryStats().liveBlocks).toBe(blocks + 6); // only the tensors made above
    // A sequence with no rows cannot be attended (its query rows must be appended first).
    using empty = new KVCache({ batch: 2, maxLength: 4, numKvHeads: 1, headDim: 2 });
    using z1 = Tensor.zeros([1, 1, 2]);
    using qz = Tensor.zeros([2, 1, 1, 2]);
    empty.append(z1, z1, { sequence: 0 });
    expect(() => empty.attend(qz)).toThrow(/sequence 1: 1 query rows but only 0 cached positions/);
    expect(() => empty.attend(z1, { sequence: 1 })).toThrow(/sequence 1: 1 query rows but only 0/);
    expect(empty.lengths).toEqual([1, 0]);
    const c2 = new KVCache({ batch: 2, maxLength: 4, numKvHeads: 1, headDim: 2, dtype: 'int8' });
    c2.dispose();
    using z = Tensor.zeros([2, 1, 1, 2]);
    expect(() => c2.append(z, z)).toThrow(/after dispose/);
    expect(() => c2.attend(z)).toThrow(/after dispose/);
  });
});

/** The last position's rows `[Hq, 1, Dv]` of a `[Hq, T, Dv]` decode output. */
function lastRow(x: Float32Array, Hq: number, T: number, Dv: number): Float32Array {
  return rows(x, Hq, T, Dv, T - 1, T);
}
