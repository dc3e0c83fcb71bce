/** The score options of the attention ops (all but the mask): checked and staged. @internal */
import { Tensor } from '../tensor.js';
import { checkAttached } from '../raw.js';
import { describe } from '../shape.js';
import { numberArg } from './args.js';
import type { ScoreOptions } from './attention-call.js';
import type { AttentionOptions } from './attention.js';

/**
 * Checks the score options other than the mask (scale, softcap, causal, window, offset,
 * ALiBi slopes, sinks); per-head vectors are staged into `temps`.
 */
export function scoreArgs(options: AttentionOptions, d: number, hq: number, op: string,
  temps: Tensor[]): { -readonly [K in keyof ScoreOptions]: ScoreOptions[K] } {
  const scale = numberArg(options.scale, d > 0 ? 1 / Math.sqrt(d) : 1, op, 'scale');
  if (!Number.isFinite(scale)) throw new RangeError(`wasm-attention: ${op}: scale must be finite, got ${scale}`);
  const softcap = numberArg(options.softcap, 0, op, 'softcap');
  if (softcap < 0 || !Number.isFinite(softcap)) {
    throw new RangeError(`wasm-attention: ${op}: softcap must be a finite number ≥ 0, got ${softcap}`);
  }
  const score: { -readonly [K in keyof ScoreOptions]: ScoreOptions[K] } = {
    scale, causal: options.causal === true, softcap,
  };
  if (options.window !== undefined) score.window = windowArg(options.window, op);
  if (options.causalOffset !== undefined) score.causalOffset = offsetArg(options.causalOffset, op);
  if (options.alibiSlopes !== undefined) score.alibiPtr = perHead(options.alibiSlopes, hq, 'alibiSlopes', op, temps);
  if (options.sinks !== undefined) score.sinksPtr = perHead(options.sinks, hq, 'sinks', op, temps);
  return score;
}

function offsetArg(x: unknown, op: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || Math.abs(x) > 2 ** 31 - 1) {
    throw new RangeError(`wasm-attention: ${op}: causalOffset must be an integer in ±(2^31 − 1), got ${describe(x)}`);
  }
  return x;
}

function windowArg(w: unknown, op: string): [number, number] {
  const pair = typeof w === 'number' ? [w, w] : Array.isArray(w) && w.length === 2 ? w : null;
  if (pair === null || !pair.every((x) => typeof x === 'number' && x >= 0 && (Number.isInteger(x) || x === Infinity))) {
    throw new RangeError(
      `wasm-attention: ${op}: window must be a non-negative integer or [left, right], got ${describe(w)}`);
  }
  return pair as [number, number];
}

function perHead(values: unknown, heads: number, name: string, op: string, temps: Tensor[]): number {
  const arr = values as ArrayLike<number>;
  checkAttached(values, `${op}: ${name}`);
  if (values == null || typeof arr.length !== 'number' || arr.length !== heads) {
    throw new RangeError(
      `wasm-attention: ${op}: ${name} needs one value per query head (${heads}), got ${describe(values)}`);
  }
  const t = Tensor.from(Array.from(arr), [heads]);
  temps.push(t);
  return t.ptr;
}
