/**
 * Absolute sinusoidal positional encoding ("Attention Is All You Need", §3.5):
 * `PE[pos, 2i] = sin(pos / 10000^(2i/d))`, `PE[pos, 2i+1] = cos(pos / 10000^(2i/d))`.
 * Each pair of columns is a rotation at its own frequency, so `PE[pos + k]` is a
 * fixed linear function of `PE[pos]` — relative offsets are easy to read off.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';

/** Options of {@link sinusoidalEncoding}. */
export interface SinusoidalOptions {
  /** Wavelength base. @defaultValue 10000 */
  base?: number;
  /** Position of the first row. @defaultValue 0 */
  offset?: number;
}

/** The `[length, dim]` table `PE` (angles computed in float64, stored as float32). */
export function sinusoidalEncoding(length: number, dim: number, options: SinusoidalOptions = {}): Tensor {
  const op = 'sinusoidalEncoding';
  for (const [name, v] of [['length', length], ['dim', dim]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new RangeError(`wasm-attention: ${op}: ${name} must be a non-negative integer, got ${describe(v)}`);
    }
  }
  const base = options.base ?? 10000, offset = options.offset ?? 0;
  if (!(base > 0) || !Number.isFinite(offset)) {
    throw new RangeError(`wasm-attention: ${op}: base must be > 0 and offset finite, got ${base}, ${offset}`);
  }
  const pe = Tensor.empty([length, dim]);
  const d = pe.data;
  for (let c = 0; c < dim; c += 2) {
    const invFreq = Math.pow(base, -c / dim); // c = 2i
    for (let pos = 0; pos < length; pos++) {
      const a = (pos + offset) * invFreq;
      d[pos * dim + c] = Math.sin(a);
      if (c + 1 < dim) d[pos * dim + c + 1] = Math.cos(a);
    }
  }
  return pe;
}

/** Options of {@link addPositional}. */
export interface AddPositionalOptions {
  /** Row of `pe` added to the first position of `x` (e.g. the decode position). @defaultValue 0 */
  offset?: number;
}

/**
 * Adds positional rows in place: `x[..., l, :] += pe[offset + l, :]` for `x [..., L, d]`
 * and `pe [≥ offset + L, d]`. Returns `x`.
 */
export function addPositional(x: Tensor, pe: Tensor, options: AddPositionalOptions = {}): Tensor {
  const op = 'addPositional';
  tensorArg(x, op, 'x');
  tensorArg(pe, op, 'pe');
  const offset = options.offset ?? 0;
  if (x.rank < 2 || pe.rank !== 2 || pe.shape[1] !== x.shape[x.rank - 1] || !Number.isInteger(offset) ||
    offset < 0 || offset + x.shape[x.rank - 2]! > pe.shape[0]!) {
    throw new RangeError(`wasm-attention: ${op}: needs x [..., L, d] and pe [≥ offset + L, d]; got x ` +
      `${formatShape(x.shape)}, pe ${formatShape(pe.shape)}, offset ${describe(offset)}`);
  }
  const L = x.shape[x.rank - 2]!, dim = x.shape[x.rank - 1]!;
  const xd = x.data, pd = pe.data.subarray(offset * dim, (offset + L) * dim);
  for (let start = 0; start < x.size; start += L * dim) {
    for (let e = 0; e < L * dim; e++) xd[start + e] += pd[e]!;
  }
  return x;
}
