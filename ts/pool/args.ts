/**
 * Checks the arguments of `AttentionPool.attention` and picks how to split the work.
 * @internal
 */
import type { PoolAttentionOptions, PoolShape } from './options.js';
import { type Dims, type Plan, planHeads, planKeys } from './plan.js';
import { checkAttached, MAX_BYTES } from '../raw.js';

/** All sizes of `shape`, defaults filled in; throws a RangeError for bad ones. */
export function dims(s: PoolShape): Dims {
  if (s == null || typeof s !== 'object') throw new TypeError('wasm-attention: AttentionPool.attention needs a shape object');
  const d: Dims = {
    batch: s.batch ?? 1, headsQ: s.headsQ, headsKv: s.headsKv ?? s.headsQ, lenQ: s.lenQ,
    lenK: s.lenK ?? s.lenQ, headDim: s.headDim, valueDim: s.valueDim ?? s.headDim,
  };
  for (const [name, value] of Object.entries(d)) {
    const min = name === 'lenQ' || name === 'lenK' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`wasm-attention: AttentionPool shape.${name} must be an integer >= ${min}, got ${String(value)}`);
    }
  }
  if (d.headsQ % d.headsKv !== 0) {
    throw new RangeError(`wasm-attention: AttentionPool headsQ (${d.headsQ}) must be a multiple of headsKv (${d.headsKv})`);
  }
  return d;
}

/**
 * Throws when the arrays or options do not fit the sizes; returns the checked
 * per-sequence key lengths (`seqLens`), if given.
 */
export function checkInputs(q: Float32Array, k: Float32Array, v: Float32Array, d: Dims,
  o: PoolAttentionOptions): readonly number[] | undefined {
  const want = {
    q: d.batch * d.headsQ * d.lenQ * d.headDim, k: d.batch * d.headsKv * d.lenK * d.headDim,
    v: d.batch * d.headsKv * d.lenK * d.valueDim,
  };
  for (const [name, a] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!(a instanceof Float32Array)) {
      throw new TypeError(`wasm-attention: AttentionPool.attention: ${name} must be a Float32Array`);
    }
    checkAttached(a, `AttentionPool.attention: ${name}`);
    if (a.length !== want[name]) {
      throw new RangeError(`wasm-attention: AttentionPool.attention: ${name} has ${a.length} elements, the shape needs ${want[name]}`);
    }
  }
  const outSize = d.batch * d.headsQ * d.lenQ * d.valueDim;
  if (!(outSize * 4 <= MAX_BYTES)) {
    throw new RangeError(`wasm-attention: AttentionPool.attention: the output [${d.batch}, ${d.headsQ}, ${d.lenQ}, ${d.valueDim}] ` +
      `holds ${outSize} floats, more than a worker's 4 GiB WASM memory`);
  }
  if ((o as { mask?: unknown }).mask !== undefined) {
    throw new TypeError('wasm-attention: AttentionPool.attention does not take masks; use causal/window or attention()');
  }
  for (const name of ['alibiSlopes', 'sinks'] as const) {
    const a = o[name];
    if (a !== undefined && a.length !== d.headsQ) {
      throw new RangeError(`wasm-attention: AttentionPool.attention: ${name} needs ${d.headsQ} values (one per query head), got ${a.length}`);
    }
  }
  if (o.seqLens === undefined) return undefined;
  const lens = Array.from(o.seqLens);
  if (lens.length !== d.batch) {
    throw new RangeError(`wasm-attention: AttentionPool.attention: seqLens needs ${d.batch} values (one per sequence), got ${lens.length}`);
  }
  lens.forEach((l, b) => {
    if (!Number.isInteger(l) || l < 0 || l > d.lenK) {
      throw new RangeError(`wasm-attention: AttentionPool.attention: seqLens[${b}] must be an integer in [0, ${d.lenK}], got ${String(l)}`);
    }
  });
  return lens;
}

/** Picks heads or keys; keys only where chunks are independent of position. */
export function choosePlan(d: Dims, n: number, o: PoolAttentionOptions, lens?: readonly number[]): Plan {
  const positional = o.window !== undefined || o.alibiSlopes !== undefined || (o.causal === true && d.lenQ !== 1);
  const split = o.split ?? 'auto';
  if (split === 'keys') {
    if (positional) {
      throw new RangeError('wasm-attention: split: \'keys\' needs Lq = 1 with causal, and no window or ALiBi');
    }
    return planKeys(d, n, lens);
  }
  if (split !== 'heads' && split !== 'auto') {
    throw new TypeError(`wasm-attention: AttentionPool split must be 'auto', 'heads' or 'keys', got ${String(split)}`);
  }
  const longest = lens === undefined ? d.lenK : lens.reduce((m, l) => Math.max(m, l), 0);
  if (split === 'auto' && !positional && d.lenQ === 1 && n > 1 && longest >= 512 * n) return planKeys(d, n, lens);
  return planHeads(d, n, lens);
}
