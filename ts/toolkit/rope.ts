/**
 * Rotary position embedding (RoPE, Su et al. 2021), applied in place.
 *
 * Each pair `(a, b)` of a head vector is rotated by the angle `pos·θ_i`, with
 * `θ_i = base^(−2i/d)` for pair `i < d/2`: `a′ = a·cos − b·sin`, `b′ = b·cos + a·sin`.
 * Then `q_m·k_n` depends on the positions only through `m − n`. Two conventions
 * choose the pairs:
 * - `'half'` (rotate-half; GPT-NeoX, LLaMA in Hugging Face): pair `i` is `(x[i], x[i + d/2])`;
 * - `'interleaved'` (GPT-J, the original paper): pair `i` is `(x[2i], x[2i + 1])`.
 *
 * Instead of `base`, the caller may give the `cos`/`sin` tables themselves (ONNX
 * `RotaryEmbedding`'s `cos_cache`/`sin_cache`): row `p` holds `cos(p·θ_i)`, `sin(p·θ_i)`
 * for `i < d/2`, and a row at position `p` reads table row `p`. That covers the scaled
 * variants (linear / NTK / YaRN / LLaMA-3 frequencies) without the library knowing them;
 * {@link ropeTables} builds tables from any inverse frequencies.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';
import { ropeRows, stage } from '../ops/elementwise.js';
import * as raw from '../raw.js';

/** Options of {@link applyRope}. */
export interface RopeOptions {
  /** Position of every row (length `L`). @defaultValue offset, offset + 1, … */
  positions?: ArrayLike<number>;
  /** Position of the first row when `positions` is not given (e.g. the KV cache's `position`). @defaultValue 0 */
  offset?: number;
  /** Frequency base (ignored with `cos`/`sin`). @defaultValue 10000 */
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
  /**
   * Cosine table `[P, rotaryDim/2]` (a Tensor of that shape, or `P·rotaryDim/2` numbers):
   * row `p` is used at position `p`, so positions must be integers in `[0, P)`. Give it
   * with `sin`. @defaultValue computed from `base`
   */
  cos?: Tensor | ArrayLike<number>;
  /** Sine table, the same shape as `cos`. @defaultValue computed from `base` */
  sin?: Tensor | ArrayLike<number>;
}

/** Rotates `x [..., L, C]` in place (see the module notes) and returns it. */
export function applyRope(x: Tensor, options: RopeOptions = {}): Tensor {
  const op = 'applyRope';
  tensorArg(x, op, 'x');
  if (x.rank < 2) throw new RangeError(`wasm-attention: ${op}: x must be [..., L, D], got ${formatShape(x.shape)}`);
  const L = x.shape[x.rank - 2]!, C = x.shape[x.rank - 1]!;
  const plan = planRope(options, L, C, options.headDim ?? C, op);
  rotateRows(plan, x.ptr >>> 2, x.size / C, C, L);
  return x;
}

/**
 * Cos/sin tables `[length, rotaryDim/2]` (float64) for positions `0 … length−1`:
 * `cos[p, i] = cos(p·f_i)` with `f_i = invFreq[i]`, default `base^(−2i/rotaryDim)` (as
 * Hugging Face's `inv_freq`). Pass them to {@link applyRope} as `cos`/`sin`.
 */
export function ropeTables(length: number, rotaryDim: number,
  options: { base?: number; invFreq?: ArrayLike<number> } = {}): {
  /** `cos(p·f_i)`, row-major `[length, rotaryDim/2]`. */
  cos: Float64Array;
  /** `sin(p·f_i)`, row-major `[length, rotaryDim/2]`. */
  sin: Float64Array;
} {
  const op = 'ropeTables';
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`wasm-attention: ${op}: length must be an integer ≥ 0, got ${describe(length)}`);
  if (!Number.isInteger(rotaryDim) || rotaryDim < 2 || rotaryDim % 2 !== 0) {
    throw new RangeError(`wasm-attention: ${op}: rotaryDim must be an even integer ≥ 2, got ${describe(rotaryDim)}`);
  }
  const half = rotaryDim / 2, base = options.base ?? 10000;
  if (!(base > 0)) throw new RangeError(`wasm-attention: ${op}: base must be > 0, got ${describe(base)}`);
  const f = options.invFreq;
  if (f !== undefined && (f == null || f.length !== half)) {
    throw new RangeError(`wasm-attention: ${op}: invFreq needs rotaryDim/2 = ${half} values, got ${describe(f)}`);
  }
  const cos = new Float64Array(length * half), sin = new Float64Array(length * half);
  for (let i = 0; i < half; i++) {
    const theta = f !== undefined ? f[i]! : Math.pow(base, (-2 * i) / rotaryDim);
    for (let p = 0; p < length; p++) {
      cos[p * half + i] = Math.cos(p * theta);
      sin[p * half + i] = Math.sin(p * theta);
    }
  }
  return { cos, sin };
}

/** A checked RoPE call: sizes, the pairing and the per-row `[L, half]` cos/sin. @internal */
export interface RopePlan {
  readonly headDim: number;
  readonly half: number;
  readonly style: 'half' | 'interleaved';
  /** `[L, half]` float32 (possibly a view into a cached table). */
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/**
 * Computed tables per `(base, rotaryDim)`: row `p` holds `cos(p·θ_i)`, `sin(p·θ_i)` in
 * float32, grown (doubling) to the largest integer position asked for, so that a call at
 * integer positions builds nothing and a run of consecutive positions is a view.
 */
const computed = new Map<string, { cos: Float32Array; sin: Float32Array; rows: number }>();
/** Integer positions below this use the cached tables (64 Ki rows × half × 8 bytes at most per key). */
const MAX_CACHED_POSITION = 1 << 16;

function computedTables(base: number, rot: number, rows: number): { cos: Float32Array; sin: Float32Array } {
  const key = `${base}:${rot}`, half = rot / 2;
  let t = computed.get(key);
  if (t === undefined || t.rows < rows) {
    let n = Math.max(64, t?.rows ?? 0);
    while (n < rows) n *= 2;
    const cos = new Float32Array(n * half), sin = new Float32Array(n * half);
    const from = t?.rows ?? 0;
    if (t !== undefined) { cos.set(t.cos); sin.set(t.sin); }
    for (let i = 0; i < half; i++) {
      const theta = Math.pow(base, (-2 * i) / rot);
      for (let p = from; p < n; p++) {
        cos[p * half + i] = Math.cos(p * theta);
        sin[p * half + i] = Math.sin(p * theta);
      }
    }
    t = { cos, sin, rows: n };
    computed.set(key, t);
  }
  return t;
}

/** Rows `positions[l]` of `[P, half]` tables as `[L, half]`: a view when they are consecutive. */
function gatherRows(ct: ArrayLike<number>, st: ArrayLike<number>, positions: ArrayLike<number>, half: number):
  { cos: Float32Array; sin: Float32Array } {
  const L = positions.length, p0 = positions[0] ?? 0;
  let run = ct instanceof Float32Array && st instanceof Float32Array;
  for (let l = 1; run && l < L; l++) run = positions[l] === p0 + l;
  if (run) {
    return {
      cos: (ct as Float32Array).subarray(p0 * half, (p0 + L) * half),
      sin: (st as Float32Array).subarray(p0 * half, (p0 + L) * half),
    };
  }
  const cos = new Float32Array(L * half), sin = new Float32Array(L * half);
  const typed = ArrayBuffer.isView(ct) && ArrayBuffer.isView(st);
  for (let l = 0; l < L; l++) {
    const p = positions[l]!;
    if (typed) {
      cos.set((ct as Float32Array).subarray(p * half, (p + 1) * half), l * half);
      sin.set((st as Float32Array).subarray(p * half, (p + 1) * half), l * half);
    } else {
      for (let i = 0; i < half; i++) { cos[l * half + i] = ct[p * half + i]!; sin[l * half + i] = st[p * half + i]!; }
    }
  }
  return { cos, sin };
}

/** Validates options for rows of `width` values holding heads of `headDim`, `L` rows per sequence. @internal */
export function planRope(o: RopeOptions, L: number, width: number, headDim: number, op: string): RopePlan {
  const rot = o.rotaryDim ?? headDim;
  const style = o.style ?? 'half', base = o.base ?? 10000;
  if (!Number.isInteger(headDim) || headDim < 1 || width % headDim !== 0) {
    throw new RangeError(`wasm-attention: ${op}: headDim ${String(headDim)} must divide the row width ${width}`);
  }
  if (!Number.isInteger(rot) || rot < 0 || rot % 2 !== 0 || rot > headDim) {
    throw new RangeError(`wasm-attention: ${op}: the rotated size ${String(rot)} must be even and ≤ headDim ${headDim}`);
  }
  if (style !== 'half' && style !== 'interleaved') {
    throw new TypeError(`wasm-attention: ${op}: style must be 'half' or 'interleaved', got ${describe(style)}`);
  }
  const positions = rowPositions(o, L, op);
  const half = rot / 2;
  if (o.cos !== undefined || o.sin !== undefined) {
    const ct = table(o.cos, 'cos', half, op), st = table(o.sin, 'sin', half, op);
    const P = half === 0 ? Infinity : ct.length / half;
    if (st.length !== ct.length) {
      throw new RangeError(`wasm-attention: ${op}: cos and sin tables differ in size (${ct.length} and ${st.length} values)`);
    }
    for (let l = 0; l < L; l++) {
      const p = positions[l]!;
      if (!Number.isInteger(p) || p < 0 || p >= P) {
        throw new RangeError(`wasm-attention: ${op}: position ${p} (row ${l}) is not a row of the ${P}-row cos/sin tables`);
      }
    }
    return { headDim, half, style, ...gatherRows(ct, st, positions, half) };
  }
  if (!(base > 0)) throw new RangeError(`wasm-attention: ${op}: base must be > 0, got ${describe(base)}`);
  let top = 0, cacheable = true;
  for (let l = 0; l < L && cacheable; l++) {
    const p = positions[l]!;
    cacheable = Number.isInteger(p) && p >= 0 && p < MAX_CACHED_POSITION;
    if (p > top) top = p;
  }
  if (cacheable && half > 0) {
    const t = computedTables(base, rot, top + 1);
    return { headDim, half, style, ...gatherRows(t.cos, t.sin, positions, half) };
  }
  const cos = new Float32Array(L * half), sin = new Float32Array(L * half);
  for (let i = 0; i < half; i++) {
    const theta = Math.pow(base, (-2 * i) / rot);
    for (let l = 0; l < L; l++) {
      const a = positions[l]! * theta;
      cos[l * half + i] = Math.cos(a);
      sin[l * half + i] = Math.sin(a);
    }
  }
  return { headDim, half, style, cos, sin };
}

/**
 * Rotates, in WASM memory, `rows` rows starting at float index `at` with row stride `ld`;
 * each row holds `width / headDim` heads (width given by the plan's caller), row `r` is at
 * sequence position index `r mod L`. The plan's `[L, half]` tables are copied into WASM
 * memory as float32 once per call; the rotation runs on the kernel (`wa_rope`). @internal
 */
export function rotateRows(plan: RopePlan, at: number, rows: number, width: number, L: number, ld = width): void {
  const { headDim, half, style } = plan;
  if (half === 0 || rows === 0) return;
  const cos = stage(plan.cos);
  try {
    const sin = stage(plan.sin);
    try {
      ropeRows(at * 4, rows, ld, width / headDim, headDim, 2 * half, cos.ptr, sin.ptr, L, style === 'half' ? 0 : 1,
        'applyRope');
    } finally {
      sin.release();
    }
  } finally {
    cos.release();
  }
}

function table(t: unknown, name: string, half: number, op: string): ArrayLike<number> {
  if (t === undefined) throw new TypeError(`wasm-attention: ${op}: give both cos and sin tables (${name} is missing)`);
  if (t instanceof Tensor) {
    tensorArg(t, op, name);
    if (t.rank !== 2 || t.shape[1] !== half) {
      throw new RangeError(`wasm-attention: ${op}: the ${name} table must be [P, ${half}] (rotaryDim/2 columns), got ${formatShape(t.shape)}`);
    }
    return t.data;
  }
  const a = t as ArrayLike<number> | null;
  raw.checkAttached(a, `${op}: ${name}`);
  if (a == null || typeof a !== 'object' || typeof a.length !== 'number' || (half > 0 && a.length % half !== 0)) {
    throw new RangeError(`wasm-attention: ${op}: the ${name} table must hold P·${half} numbers ([P, rotaryDim/2]), got ${describe(t)}`);
  }
  return a;
}

function rowPositions(o: RopeOptions, L: number, op: string): ArrayLike<number> {
  if (o.positions !== undefined) {
    const p = o.positions;
    raw.checkAttached(p, `${op}: positions`);
    if (p == null || typeof p.length !== 'number' || p.length !== L) {
      throw new RangeError(`wasm-attention: ${op}: positions needs ${L} entries (one per row), got ${describe(p)}`);
    }
    for (let i = 0; i < L; i++) {
      const v = p[i] as unknown;
      if (typeof v !== 'number') throw new TypeError(`wasm-attention: ${op}: positions[${i}] is ${describe(v)}, expected a number`);
      if (!Number.isFinite(v)) throw new RangeError(`wasm-attention: ${op}: positions[${i}] = ${v} is not a finite number`);
    }
    return p;
  }
  const offset = o.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isFinite(offset)) {
    throw new RangeError(`wasm-attention: ${op}: offset must be a finite number, got ${describe(offset)}`);
  }
  return Array.from({ length: L }, (_, l) => offset + l);
}
