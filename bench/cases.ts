/**
 * The benchmark cases, shared by the Node run and the browser page. Sizes and
 * sampling depend only on `quick`; every input is generated from a fixed seed.
 */
import type { Group } from './cli.js';
import type { AttentionShape } from './peers/peer.js';
import type { CacheDType } from '../dist/index.js';
import type { SamplingPlan } from './timing.js';

interface CaseBase {
  /** Stable identifier, e.g. `attention-causal-1024`. */
  readonly id: string;
  readonly group: Group;
  /** Human-readable description with sizes. */
  readonly label: string;
  /** Floating-point operations per call used for GFLOP/s. */
  readonly flops: number;
  /** Why the TS baseline is not run, if it is not. */
  readonly skipTs?: string;
  /** Why the peers are not run, if they are not. */
  readonly skipPeers?: string;
}

export type Case =
  | (CaseBase & { readonly op: 'gemm'; readonly n: number })
  | (CaseBase & { readonly op: 'softmax'; readonly rows: number; readonly cols: number })
  | (CaseBase & { readonly op: 'attention'; readonly shape: AttentionShape })
  | (CaseBase & DecodeCase);

/**
 * One decode step, `KVCache.attend` of one query row per head over a cache of `lenK`
 * positions stored as `dtype`. The peers get the same step as float32 attention.
 */
export interface DecodeCase {
  readonly op: 'decode';
  readonly shape: AttentionShape;
  readonly dtype: CacheDType;
  /** Bytes of K and V (and int8 scales) per cached position, all kv heads. */
  readonly kvBytesPerToken: number;
  /** A ragged batch: positions cached per sequence (`shape.batch` of them, the longest `shape.lenK`). */
  readonly lengths?: readonly number[];
}

/** Positions cached over the whole batch. */
export function cachedTokens(c: DecodeCase): number {
  return c.lengths ? c.lengths.reduce((a, b) => a + b, 0) : c.shape.batch * c.shape.lenK;
}

const ELEM_BYTES: Record<CacheDType, number> = { float32: 4, float16: 2, bfloat16: 2, int8: 1 };

/** K+V bytes per cached position (int8: plus one float32 scale per row of K and of V). */
export function kvBytesPerToken(s: AttentionShape, dtype: CacheDType): number {
  return s.headsKv * (2 * s.headDim * ELEM_BYTES[dtype] + (dtype === 'int8' ? 8 : 0));
}

/** Effective attention flops: 4·B·Hq·Lq·Lk·D (two GEMMs), counted in full for causal too. */
export function attentionFlops(s: AttentionShape): number {
  return 4 * s.batch * s.headsQ * s.lenQ * s.lenK * s.headDim;
}

function attentionCase(group: Group, id: string, label: string, shape: AttentionShape,
  extra: Partial<CaseBase> = {}): Case {
  return { id, group, label, op: 'attention', shape, flops: attentionFlops(shape), ...extra };
}

/** The cases of the chosen groups, in run order. */
export function buildCases(quick: boolean, groups: ReadonlySet<Group>): Case[] {
  const cases: Case[] = [];
  if (groups.has('gemm')) {
    for (const n of quick ? [256, 512] : [256, 512, 1024]) {
      cases.push({ id: `gemm-${n}`, group: 'gemm', label: `GEMM ${n}×${n}×${n}`, op: 'gemm', n, flops: 2 * n ** 3 });
    }
  }
  if (groups.has('softmax')) {
    const rows = quick ? 256 : 1024;
    const cols = 1024;
    cases.push({ id: `softmax-${rows}x${cols}`, group: 'softmax', label: `softmax ${rows} rows × ${cols}`,
      op: 'softmax', rows, cols, flops: 0 });
  }
  if (groups.has('attention')) {
    for (const n of quick ? [256, 512] : [256, 1024, 2048]) {
      for (const causal of [false, true]) {
        attentionCaseFor(n, causal);
      }
    }
  }
  function attentionCaseFor(n: number, causal: boolean): void {
    const shape = { batch: 1, headsQ: 8, headsKv: 8, lenQ: n, lenK: n, headDim: 64, causal };
    cases.push(attentionCase('attention', `attention-${causal ? 'causal' : 'full'}-${n}`,
      `attention ${causal ? 'causal' : 'non-causal'} H=8 N=${n} D=64`, shape));
  }
  if (groups.has('decode')) {
    const models = [
      { name: 'GQA', headsQ: 32, headsKv: 8, headDim: 128 },
      { name: 'MHA', headsQ: 12, headsKv: 12, headDim: 64 },
    ];
    const dtypes: CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];
    for (const lk of quick ? [1024] : [1024, 4096, 16384]) {
      for (const m of models) {
        for (const dtype of dtypes) {
          const shape = { batch: 1, headsQ: m.headsQ, headsKv: m.headsKv, lenQ: 1, lenK: lk, headDim: m.headDim, causal: true };
          const f32 = dtype === 'float32';
          cases.push({
            id: `decode-${m.name.toLowerCase()}-${lk}-${dtype}`, group: 'decode', op: 'decode', shape, dtype,
            label: `decode ${m.name} ${m.headsQ}/${m.headsKv} D=${m.headDim} Lk=${lk} ${dtype}`,
            flops: attentionFlops(shape), kvBytesPerToken: kvBytesPerToken(shape, dtype),
            skipTs: f32 ? undefined : 'float32 only (see the float32 row)',
            skipPeers: f32 ? undefined : 'float32 caches only (see the float32 row)',
          });
        }
      }
    }
    {
      // A ragged batch of 4 sequences in one cache: one attend over all of them.
      const lengths = quick ? [128, 256, 512, 1024] : [512, 1024, 2048, 4096];
      const shape = { batch: 4, headsQ: 32, headsKv: 8, lenQ: 1, lenK: lengths[3]!, headDim: 128, causal: true };
      const why = 'ragged batch: our KVCache only';
      cases.push({
        id: `decode-gqa-batch4-${lengths.join('-')}-float32`, group: 'decode', op: 'decode', shape, dtype: 'float32',
        lengths, label: `decode GQA 32/8 D=128 batch 4 ragged Lk=${lengths.join('/')} float32`,
        flops: lengths.reduce((f, lk) => f + attentionFlops({ ...shape, batch: 1, lenK: lk }), 0),
        kvBytesPerToken: kvBytesPerToken(shape, 'float32'), skipTs: why, skipPeers: why,
      });
    }
    if (!quick) {
      // The long-context memory goal: a 32768-token int8 cache at Hkv = 8, D = 128.
      const shape = { batch: 1, headsQ: 32, headsKv: 8, lenQ: 1, lenK: 32768, headDim: 128, causal: true };
      cases.push({
        id: 'decode-gqa-32768-int8', group: 'decode', op: 'decode', shape, dtype: 'int8',
        label: 'decode GQA 32/8 D=128 Lk=32768 int8', flops: attentionFlops(shape),
        kvBytesPerToken: kvBytesPerToken(shape, 'int8'),
        skipTs: 'memory case (int8 only)', skipPeers: 'memory case (int8 only)',
      });
    }
  }
  if (groups.has('long')) {
    const n = quick ? 4096 : 16384;
    const gib = (n * n * 4) / 2 ** 30;
    const scores = `materialises the ${n}×${n} score matrix (${gib >= 1 ? `${gib} GiB` : `${gib * 1024} MiB`})`;
    cases.push(attentionCase('long', `long-causal-${n}`, `long causal H=1 N=${n} D=64`,
      { batch: 1, headsQ: 1, headsKv: 1, lenQ: n, lenK: n, headDim: 64, causal: true }, {
        skipTs: `not run: ${scores} and would take minutes`,
        skipPeers: `not run: their attention ${scores} per head; this case measures our time and memory`,
      }));
  }
  return cases;
}

/** Sampling: medians over ≥ minSamples within budgetMs; tasks slower than slowMs get slowSamples. */
export function samplingPlan(quick: boolean): SamplingPlan {
  return quick
    ? { budgetMs: 150, minSamples: 5, slowSamples: 2, slowMs: 250, warmupCalls: 3 }
    : { budgetMs: 1000, minSamples: 10, slowSamples: 3, slowMs: 500, warmupCalls: 5 };
}

/** A small case every peer must reproduce (max abs diff ≤ tolerance) before it is timed. */
export const CHECK_SHAPES: readonly AttentionShape[] = [
  { batch: 1, headsQ: 4, headsKv: 2, lenQ: 33, lenK: 33, headDim: 16, causal: false },
  { batch: 1, headsQ: 4, headsKv: 2, lenQ: 33, lenK: 33, headDim: 16, causal: true },
  { batch: 1, headsQ: 4, headsKv: 2, lenQ: 1, lenK: 40, headDim: 16, causal: true },
];

/** Agreement required with our output, relative to the output's largest magnitude (at least 1). */
export const TOLERANCE = 1e-4;
