/**
 * Rotary position embedding (RoPE, Su et al. 2021), applied in place.
 *
 * Each pair `(a, b)` of a head vector is rotated by the angle `pos·θ_i`, with
 * `θ_i = base^(−2i/d)` for pair `i < d/2`: `a′ = a·cos − b·sin`, `b′ = b·cos + a·sin`.
 * Then `q_m·k_n` depends on the positions only through `m − n`. Two conventions
 * choose the pairs:
 * - `'half'` (rotate-half; GPT-NeoX, LLaMA in Hugging Face): pair `i` is `(x[i], x[i + d/2])`;
 * - `'interleaved'` (GPT-J, the original paper): pair `i` is `(x[2i], x[2i + 1])`.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';

/** Options of {@link applyRope}. */
export interface RopeOptions {
  /** Position of every row (length `L`). @defaultValue offset, offset + 1, … */
  positions?: ArrayLike<number>;
  /** Position of the first row when `positions` is not given (e.g. the KV cache's `position`). @defaultValue 0 */
  offset?: number;
  /** Frequency base. @defaultValue 10000 */
  base?: number;
  /** Pairing convention. @defaultValue 'half' */
  style?: 'half' | 'interleaved';
  /**
   * Size of one head when the last axis holds several heads side by side (`[B, L, H·D]`
   * projections): each group of `headDim` values is rotated on its own. @defaultValue the last axis
   */
  headDim?: number;
  /** Rotate only the first `rotaryDim` values of each head (partial rotary, e.g. GPT-J, NeoX). @defaultValue headDim */
  rotaryDim?: number;
}

/** Rotates `x [..., L, C]` in place (see the module notes) and returns it. */
export function applyRope(x: Tensor, options: RopeOptions = {}): Tensor {
  const op = 'applyRope';
  tensorArg(x, op, 'x');
  if (x.rank < 2) throw new RangeError(`wasm-attention: ${op}: x must be [..., L, D], got ${formatShape(x.shape)}`);
  const L = x.shape[x.rank - 2]!, C = x.shape[x.rank - 1]!;
  const headDim = options.headDim ?? C, rot = options.rotaryDim ?? headDim;
  const style = options.style ?? 'half', base = options.base ?? 10000;
  if (!Number.isInteger(headDim) || headDim < 1 || C % headDim !== 0) {
    throw new RangeError(`wasm-attention: ${op}: headDim ${String(headDim)} must divide the last axis of x ${formatShape(x.shape)}`);
  }
  if (!Number.isInteger(rot) || rot < 0 || rot % 2 !== 0 || rot > headDim) {
    throw new RangeError(`wasm-attention: ${op}: the rotated size ${String(rot)} must be even and ≤ headDim ${headDim}`);
  }
  if (style !== 'half' && style !== 'interleaved') {
    throw new TypeError(`wasm-attention: ${op}: style must be 'half' or 'interleaved', got ${describe(style)}`);
  }
  if (!(base > 0)) throw new RangeError(`wasm-attention: ${op}: base must be > 0, got ${describe(base)}`);
  const positions = rowPositions(options, L, op);
  const half = rot / 2;
  // cos/sin table [L, half] in float64 angles, shared by every head and batch.
  const cos = new Float64Array(L * half), sin = new Float64Array(L * half);
  for (let i = 0; i < half; i++) {
    const theta = Math.pow(base, (-2 * i) / rot);
    for (let l = 0; l < L; l++) {
      const a = positions[l]! * theta;
      cos[l * half + i] = Math.cos(a);
      sin[l * half + i] = Math.sin(a);
    }
  }
  const d = x.data;
  // Partner offsets of pair i inside a head: (i, i + half) or (2i, 2i + 1).
  const first = (i: number) => (style === 'half' ? i : 2 * i);
  const second = style === 'half' ? half : 1;
  for (let row = 0; row < x.size / C; row++) {
    const l = row % L;
    for (let h0 = row * C; h0 < (row + 1) * C; h0 += headDim) {
      for (let i = 0; i < half; i++) {
        const ia = h0 + first(i), ib = ia + second;
        const a = d[ia]!, b = d[ib]!, c = cos[l * half + i]!, s = sin[l * half + i]!;
        d[ia] = a * c - b * s;
        d[ib] = b * c + a * s;
      }
    }
  }
  return x;
}

function rowPositions(o: RopeOptions, L: number, op: string): ArrayLike<number> {
  if (o.positions !== undefined) {
    const p = o.positions;
    if (p == null || typeof p.length !== 'number' || p.length !== L) {
      throw new RangeError(`wasm-attention: ${op}: positions needs ${L} entries (one per row), got ${describe(p)}`);
    }
    return p;
  }
  const offset = o.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isFinite(offset)) {
    throw new RangeError(`wasm-attention: ${op}: offset must be a finite number, got ${describe(offset)}`);
  }
  return Array.from({ length: L }, (_, l) => offset + l);
}
