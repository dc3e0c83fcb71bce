// Property tests with fast-check: random shapes, options and values against the
// float64 reference, and random invalid calls that must throw cleanly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KVCache, Tensor, attention, decodeStep, matmul, memoryStats, softmax } from '../../ts/index.js';
import { attention64, matmul64, randoms, softmaxRow64, worstError } from '../helpers/reference.js';

const dim = (max: number) => fc.integer({ min: 1, max });

describe('fuzz against the float64 reference', () => {
  it('attention: random shapes and score options', () => {
    const arb = fc.record({
      B: dim(2), Hkv: dim(3), group: dim(3), Lq: dim(40), Lk: fc.integer({ min: 0, max: 70 }),
      D: fc.constantFrom(1, 2, 3, 4, 7, 8, 16, 33, 64), Dv: fc.constantFrom(1, 4, 8, 13, 64),
      causal: fc.boolean(), scale: fc.option(fc.double({ min: 0.01, max: 4, noNaN: true }), { nil: undefined }),
      window: fc.option(fc.tuple(fc.nat(20), fc.nat(20)), { nil: undefined }),
      softcap: fc.option(fc.double({ min: 0.5, max: 20, noNaN: true }), { nil: undefined }),
      alibi: fc.boolean(), sinks: fc.boolean(), seed: fc.nat(),
      valueScale: fc.constantFrom(0.1, 1, 10),
    });
    fc.assert(fc.property(arb, (c) => {
      const Hq = c.Hkv * c.group;
      const qd = randoms(c.B * Hq * c.Lq * c.D, c.seed, -c.valueScale, c.valueScale);
      const kd = randoms(c.B * c.Hkv * c.Lk * c.D, c.seed + 1, -c.valueScale, c.valueScale);
      const vd = randoms(c.B * c.Hkv * c.Lk * c.Dv, c.seed + 2);
      const alibi = c.alibi ? Array.from({ length: Hq }, (_, h) => 2 ** -(h + 1)) : undefined;
      const sinks = c.sinks ? Array.from({ length: Hq }, (_, h) => h / 2 - 1) : undefined;
      const opts = { causal: c.causal, scale: c.scale, window: c.window as [number, number] | undefined,
        softcap: c.softcap, alibi, sinks };
      const ref = attention64(qd, kd, vd, c.B, Hq, c.Hkv, c.Lq, c.Lk, c.D, c.Dv, opts);
      const q = Tensor.from(qd, [c.B, Hq, c.Lq, c.D]);
      const k = Tensor.from(kd, [c.B, c.Hkv, c.Lk, c.D]);
      const v = Tensor.from(vd, [c.B, c.Hkv, c.Lk, c.Dv]);
      try {
        const r = attention(q, k, v, { ...opts, alibiSlopes: alibi, returnLse: true });
        const wOut = worstError(r.out.data, ref.out, 3e-5, 3e-4);
        const wLse = worstError(r.lse.data, ref.lse, 3e-5, 3e-5);
        r.out.dispose();
        r.lse.dispose();
        expect(wOut.ratio, `out ${JSON.stringify(wOut)}`).toBeLessThanOrEqual(1);
        expect(wLse.ratio, `lse ${JSON.stringify(wLse)}`).toBeLessThanOrEqual(1);
      } finally {
        q.dispose(); k.dispose(); v.dispose();
      }
    }), { numRuns: 600, seed: 20261123 });
  });

  it('matmul and softmax: random shapes, transposes, alpha', () => {
    fc.assert(fc.property(
      fc.record({ m: fc.nat(40), k: fc.nat(40), n: dim(40), transB: fc.boolean(), alpha: fc.double({ min: -3, max: 3, noNaN: true }), seed: fc.nat() }),
      ({ m, k, n, transB, alpha, seed }) => {
        const ad = randoms(m * k, seed), bd = randoms(k * n, seed + 1);
        const bt = new Float32Array(k * n);
        for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = bd[p * n + j]!;
        using a = Tensor.from(ad, [m, k]);
        using b = transB ? Tensor.from(bt, [n, k]) : Tensor.from(bd, [k, n]);
        using c = matmul(a, b, { transposeB: transB, alpha });
        const w = worstError(c.data, matmul64(ad, bd, m, k, n, { alpha }), 1e-5 * (k + 1), 1e-5);
        expect(w.ratio, JSON.stringify(w)).toBeLessThanOrEqual(1);
        if (m > 0 && k > 0) {
          using s = softmax(a);
          for (let i = 0; i < m; i++) {
            const want = softmaxRow64(Array.from(ad.subarray(i * k, (i + 1) * k)));
            const wr = worstError(s.data.subarray(i * k, (i + 1) * k), want, 1e-6, 1e-5);
            expect(wr.ratio, JSON.stringify(wr)).toBeLessThanOrEqual(1);
          }
        }
      }), { numRuns: 600, seed: 7 });
  });

  it('random invalid calls throw TypeError/RangeError/Error with a message and change nothing', () => {
    const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 5 });
    const keep = Tensor.from([1, 2, 3]);
    const blocks = memoryStats().liveBlocks;
    let thrown = 0;
    fc.assert(fc.property(shapeArb, shapeArb, shapeArb, fc.boolean(), fc.boolean(), (sq, sk, sv, causal, tb) => {
      const ts = [sq, sk, sv].map((s) => Tensor.zeros(s));
      const [q, k, v] = ts as [Tensor, Tensor, Tensor];
      for (const call of [() => attention(q, k, v, { causal }), () => matmul(q, k, { transposeB: tb }),
        () => softmax(q, { mask: k })]) {
        try {
          call().dispose();
        } catch (e) {
          thrown++;
          expect(e instanceof TypeError || e instanceof RangeError || e instanceof Error).toBe(true);
          expect((e as Error).message).toMatch(/^wasm-attention: \w+: /);
        }
      }
      ts.forEach((t) => t.dispose());
    }), { numRuns: 1500, seed: 99 });
    expect(thrown).toBeGreaterThan(1000);
    expect(memoryStats().liveBlocks).toBe(blocks);
    expect(Array.from(keep.data)).toEqual([1, 2, 3]);
    keep.dispose();
  });

  it('random KVCache calls (shapes, sequences, options, junk): each succeeds or throws cleanly and changes nothing', () => {
    const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 });
    const junk = fc.oneof(fc.integer({ min: -2, max: 4 }), fc.constant(0.5), fc.constant(NaN), fc.constant('1'), fc.constant(null),
      fc.constant(undefined), fc.constant(Infinity), fc.constant(true));
    const opArb = fc.record({
      op: fc.constantFrom('append', 'attend', 'truncate', 'clear', 'decodeStep'),
      shapes: fc.tuple(shapeArb, shapeArb, shapeArb),
      sequence: junk, n: junk, scale: junk, softcap: junk, causal: junk,
    });
    let thrown = 0, ran = 0;
    for (const window of [undefined, 3]) {
      const cache = new KVCache({ batch: 2, maxLength: 5, numKvHeads: 2, headDim: 3, window });
      const state = () => JSON.stringify([cache.lengths, cache.positions, Array.from(cache.keys.data), Array.from(cache.values.data)]);
      const blocks = memoryStats().liveBlocks;
      fc.assert(fc.property(opArb, (c) => {
        const ts = c.shapes.map((sh, i) => Tensor.from(randoms(sh.reduce((p, d) => p * d, 1), i), sh));
        const [a, b, d] = ts as [Tensor, Tensor, Tensor];
        const seq = c.sequence === undefined ? {} : { sequence: c.sequence as number };
        const before = state();
        try {
          const r = c.op === 'append' ? cache.append(a, b, seq)
            : c.op === 'attend' ? cache.attend(a, { ...seq, scale: c.scale as number, softcap: c.softcap as number, causal: c.causal as boolean })
              : c.op === 'truncate' ? cache.truncate(c.n as number, seq)
                : c.op === 'clear' ? cache.clear(seq)
                  : decodeStep(cache, a, b, d, { ...seq, scale: c.scale as number });
          ran++;
          if (r instanceof Tensor) r.dispose();
        } catch (e) {
          thrown++;
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/^wasm-attention: [\w.]+: /);
          expect(state()).toBe(before);
        } finally {
          ts.forEach((t) => t.dispose());
        }
        expect(memoryStats().liveBlocks).toBe(blocks);
      }), { numRuns: 1500, seed: 18 + (window ?? 0) });
      cache.dispose();
    }
    expect(thrown).toBeGreaterThan(1500);
    expect(ran).toBeGreaterThan(30);
  });
});
