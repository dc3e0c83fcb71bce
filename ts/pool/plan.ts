/**
 * How a pool divides one attention problem among its workers.
 *
 * - By heads: the `B·Hq` query heads are cut into `n` contiguous, nearly equal
 *   ranges. A range becomes calls that each share key/value heads: whole groups of
 *   `g = Hq/Hkv` query heads run as one grouped call, and a group cut at a range
 *   boundary runs as a call with a single key/value head.
 * - By keys (decoding: few query rows, long keys): every worker sees all query
 *   heads but only its chunk `[j0, j1)` of the keys; it returns a partial output
 *   and its log-sum-exp per row, merged afterwards (see merge.ts).
 *
 * A ragged batch (`lens`, keys per sequence) keeps the `[B, Hkv, Lk, D]` layout: each
 * call reads its sequence's first `lens[b]` rows of a head. A grouped call spans several
 * key/value heads only when they are contiguous (`lens[b] = Lk`); by keys, each sequence's
 * own length is cut into the `n` chunks, so a worker's chunk of a short sequence may be
 * empty (it writes nothing and weighs 0 in the merge).
 * @internal
 */
import type { AttentionDims } from '../ops/attention-call.js';
import type { CallPlan } from './protocol.js';

/** Sizes of a pool attention problem (see `PoolShape`), all given: the kernel's own dimensions. */
export type Dims = AttentionDims;

/** One call per entry, grouped by worker; offsets are into the full contiguous arrays. */
export interface Plan {
  readonly kind: 'heads' | 'keys';
  /** Calls of each worker (workers with no work get none). */
  readonly calls: readonly CallPlan[][];
  /** Elements of the output space the calls write: the output, or `n` partial outputs. */
  readonly outSize: number;
  readonly lseSize: number;
}

/** Splits the `B·Hq` query heads into `n` ranges; `lens` gives each sequence's keys. */
export function planHeads(d: Dims, n: number, lens?: readonly number[]): Plan {
  const total = d.batch * d.headsQ;
  const g = d.headsQ / d.headsKv;
  const calls: CallPlan[][] = [];
  for (let w = 0; w < n; w++) {
    const mine: CallPlan[] = [];
    const end = Math.floor(((w + 1) * total) / n);
    let t = Math.floor((w * total) / n);
    while (t < end) {
      const b = Math.floor(t / d.headsQ);
      const h = t - b * d.headsQ;
      const stop = Math.min(end - b * d.headsQ, d.headsQ); // end of this range inside batch b
      let upTo: number;
      if (h % g !== 0 || stop - h < g) {
        // A partial group: the query heads [h, upTo) of one key/value head.
        upTo = Math.min(stop, (Math.floor(h / g) + 1) * g);
        mine.push(headCall(d, b, h, upTo, Math.floor(h / g), 1, lens));
      } else {
        // Whole groups [h/g, h/g + m) as one grouped-query call (one call per group when
        // the sequence is shorter than Lk: its heads' live rows are then not contiguous).
        const m = Math.floor((stop - h) / g);
        upTo = h + m * g;
        if (lens === undefined || lens[b] === d.lenK) mine.push(headCall(d, b, h, upTo, h / g, m, lens));
        else for (let i = 0; i < m; i++) mine.push(headCall(d, b, h + i * g, h + (i + 1) * g, h / g + i, 1, lens));
      }
      t = b * d.headsQ + upTo;
    }
    calls.push(mine);
  }
  return { kind: 'heads', calls, outSize: total * d.lenQ * d.valueDim, lseSize: total * d.lenQ };
}

function headCall(d: Dims, b: number, h0: number, h1: number, kv0: number, kvCount: number,
  lens: readonly number[] | undefined): CallPlan {
  const row = (b * d.headsQ + h0) * d.lenQ;
  const kvRow = (b * d.headsKv + kv0) * d.lenK;
  return {
    q: row * d.headDim, k: kvRow * d.headDim, v: kvRow * d.valueDim, out: row * d.valueDim, lse: row,
    headsQ: h1 - h0, headsKv: kvCount, lenQ: d.lenQ, lenK: lens?.[b] ?? d.lenK, headStart: h0, sinks: true,
  };
}

/**
 * Splits the keys into `n` chunks (multiples of 64 where possible, so each chunk
 * keeps whole kernel blocks). Worker `w` writes partial output `w` at
 * `w·B·Hq·Lq·Dv` and its log-sum-exp at `w·B·Hq·Lq`; an empty chunk writes nothing,
 * so the caller fills the log-sum-exp space with −∞ first.
 */
export function planKeys(d: Dims, n: number, lens?: readonly number[]): Plan {
  if (d.lenK === 0) return planHeads(d, n, lens);
  const rows = d.batch * d.headsQ * d.lenQ;
  const g = d.headsQ / d.headsKv;
  const calls: CallPlan[][] = Array.from({ length: n }, () => []);
  for (let b = 0; b < d.batch; b++) {
    const len = lens?.[b] ?? d.lenK;
    const bounds = chunkBounds(len, n);
    // The sink logits join exactly one chunk's softmax: the first non-empty one (a
    // sequence with no keys gets an empty call on worker 0, so that its sinks still count).
    const sinkChunk = len === 0 ? 0 : bounds.findIndex((j, w) => w < n && bounds[w + 1]! > j);
    for (let w = 0; w < n; w++) {
      const [j0, j1] = [bounds[w]!, bounds[w + 1]!];
      if (j1 === j0 && w !== sinkChunk) continue;
      for (let kv = 0; kv < d.headsKv; kv++) {
        const row = (b * d.headsQ + kv * g) * d.lenQ;
        const key = (b * d.headsKv + kv) * d.lenK + j0;
        calls[w]!.push({
          q: row * d.headDim, k: key * d.headDim, v: key * d.valueDim,
          out: w * rows * d.valueDim + row * d.valueDim, lse: w * rows + row,
          headsQ: g, headsKv: 1, lenQ: d.lenQ, lenK: j1 - j0, headStart: kv * g, sinks: w === sinkChunk,
        });
      }
    }
  }
  return { kind: 'keys', calls, outSize: n * rows * d.valueDim, lseSize: n * rows };
}

/** `n + 1` chunk boundaries over `[0, len)`, nearly equal, rounded to multiples of 64 when len allows. */
export function chunkBounds(len: number, n: number): number[] {
  const unit = len >= 64 * n ? 64 : 1;
  const units = Math.ceil(len / unit);
  const bounds: number[] = [];
  for (let w = 0; w <= n; w++) bounds.push(Math.min(len, Math.floor((w * units) / n) * unit));
  bounds[n] = len;
  return bounds;
}
