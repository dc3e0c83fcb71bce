/**
 * Attention maps: the exact weights `softmax(q·kᵀ·scale + mask)` of chosen heads and
 * query rows, for inspection and heat maps.
 *
 * The weights come from the kernel's probability pass, which recomputes the score rows
 * it is asked for and normalises them with the log-sum-exp of each row — given `lse`
 * from `attention(..., { returnLse: true })` it does no extra pass; otherwise it finds
 * the row maximum and sum first. Only the requested `heads × rows × L_k` block is
 * written, so a few rows of a long sequence cost `O(rows·L_k·D)`, not `O(L²)`.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { attentionWeights, prepare, type AttentionWeightsOptions } from '../ops/attention.js';
import { callAttentionProbs, contiguous, type AttentionCall } from '../ops/attention-call.js';
import { tensorArg } from '../ops/args.js';
import { disposeAll } from './common.js';

/** Options of {@link attentionMap}. */
export interface AttentionMapOptions extends Omit<AttentionWeightsOptions, 'rowStart' | 'rowCount'> {
  /** Query heads to return, in this order (indices into `H_q`; `[0]` for `[L, D]` input). @defaultValue every head */
  heads?: readonly number[];
  /** Query rows `[start, end)`. @defaultValue [0, L_q] */
  rows?: readonly [number, number];
}

/**
 * The attention weights of `q` over `k` (same shapes and options as `attention`):
 * `[B, heads, rows, L_k]` for `q [B, H, L, D]` (`[heads, rows, L_k]` for `[H, L, D]`,
 * `[rows, L_k]` for `[L, D]`). Every row sums to 1 (0 when fully masked).
 */
export function attentionMap(q: Tensor, k: Tensor, options: AttentionMapOptions = {}): Tensor {
  const op = 'attentionMap';
  tensorArg(q, op, 'q');
  const lq = q.rank >= 2 ? q.shape[q.rank - 2]! : 0;
  const [start, end] = options.rows ?? [0, lq];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > lq) {
    throw new RangeError(`wasm-attention: ${op}: rows must be [start, end) within [0, ${lq}], got ${describe(options.rows)}`);
  }
  const { heads, rows: _rows, ...rest } = options;
  if (q.rank === 2 && heads !== undefined && (heads.length !== 1 || heads[0] !== 0)) {
    throw new RangeError(`wasm-attention: ${op}: q ${formatShape(q.shape)} has one head; heads must be [0], got ${describe(heads)}`);
  }
  if (heads === undefined || q.rank === 2) {
    return attentionWeights(q, k, { ...rest, rowStart: start, rowCount: end - start });
  }
  const p = prepare(q, k, null, rest, op);
  const temps: Tensor[] = [];
  try {
    const { dims, score } = p;
    const { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: Lq, lenK: Lk, headDim: D } = dims;
    if (!Array.isArray(heads) || heads.some((h) => !Number.isInteger(h) || h < 0 || h >= Hq)) {
      throw new RangeError(`wasm-attention: ${op}: heads must be indices in [0, ${Hq}), got ${describe(heads)}`);
    }
    let lse: Tensor | null = null;
    if (options.lse !== undefined) {
      lse = tensorArg(options.lse, op, 'lse');
      if (lse.size !== B * Hq * Lq) {
        throw new RangeError(`wasm-attention: ${op}: lse has shape ${formatShape(lse.shape)}, expected ${formatShape(p.lead)}`);
      }
    }
    const count = end - start, block = count * Lk;
    const out = Tensor.empty([...q.shape.slice(0, -3), heads.length, count, Lk]);
    // One kernel call per chosen head: pointers move to that head (and its K/V head,
    // ALiBi slope, sink and mask slice); the call sees a single head.
    const perHead = B > 1 ? Tensor.empty([B, count, Lk]) : null;
    const headLse = lse !== null && B > 1 ? Tensor.empty([B, Lq]) : null;
    temps.push(...[perHead, headLse].filter((t): t is Tensor => t !== null));
    try {
      heads.forEach((h, idx) => {
        const hk = Math.floor(h / (Hq / Hkv));
        const call: AttentionCall = {
          ...score,
          dims: { ...dims, headsQ: 1, headsKv: 1 },
          q: { ptr: q.ptr + h * Lq * D * 4, strides: contiguous(Hq, Lq, D) },
          k: { ptr: k.ptr + hk * Lk * D * 4, strides: contiguous(Hkv, Lk, D) },
          alibiPtr: score.alibiPtr ? score.alibiPtr + h * 4 : undefined,
          sinksPtr: score.sinksPtr ? score.sinksPtr + h * 4 : undefined,
          mask: score.mask ? { ptr: score.mask.ptr + h * score.mask.strides[1] * 4, strides: score.mask.strides } : undefined,
        };
        let lsePtr = 0;
        if (lse !== null && headLse === null) lsePtr = lse.ptr + h * Lq * 4;
        if (headLse !== null) {
          const src = lse!.data, dst = headLse.data;
          for (let b = 0; b < B; b++) dst.set(src.subarray((b * Hq + h) * Lq, (b * Hq + h + 1) * Lq), b * Lq);
          lsePtr = headLse.ptr;
        }
        if (perHead === null) {
          callAttentionProbs(call, start, count, out.ptr + idx * block * 4, lsePtr);
          return;
        }
        callAttentionProbs(call, start, count, perHead.ptr, lsePtr);
        const src = perHead.data, dst = out.data;
        for (let b = 0; b < B; b++) dst.set(src.subarray(b * block, (b + 1) * block), (b * heads.length + idx) * block);
      });
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  } finally {
    disposeAll(...temps);
    p.release();
  }
}

/**
 * The rows of a map as nested arrays (every axis but the last flattened into rows),
 * each value rounded to `digits` decimals when given — for printing and plotting.
 */
export function mapRows(map: Tensor, digits?: number): number[][] {
  tensorArg(map, 'mapRows', 'map');
  const cols = map.rank === 0 ? 1 : map.shape[map.rank - 1]!;
  const d = map.data, rows: number[][] = [];
  const round = digits === undefined ? (x: number) => x : (x: number) => Number(x.toFixed(digits));
  for (let r = 0; cols > 0 && r < map.size / cols; r++) rows.push(Array.from(d.subarray(r * cols, (r + 1) * cols), round));
  return rows;
}
