/**
 * Choosing the next token from a row of logits: greedy (argmax, the first index on ties,
 * as `torch.argmax`), or sampling at a temperature among the `topK` most likely tokens
 * and/or the smallest set whose probability reaches `topP` — the order transformers'
 * logits warpers apply them (temperature, top-k, top-p). Sampling draws from a seeded
 * generator, so a seed reproduces a run exactly (the stream is this library's own, not
 * PyTorch's, so sampled ids differ from transformers' even for the same seed).
 */

/** Options of {@link sampleToken}. */
export interface SamplingOptions {
  /** Softmax temperature; `0` is greedy. @defaultValue 0 */
  temperature?: number;
  /** Sample only among the `topK` largest logits (`0`: all). @defaultValue 0 */
  topK?: number;
  /** Nucleus sampling: the smallest set of tokens whose probability sum reaches `topP`. @defaultValue 1 */
  topP?: number;
}

/** A seeded uniform generator in `[0, 1)` (SplitMix32-style mixing of a 32-bit counter). */
export function seededRandom(seed: number): () => number {
  let s = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit (the first on ties); NaN logits are never chosen. */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1, max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max || (best < 0 && logits[i] === -Infinity)) { max = logits[i]!; best = i; }
  if (best < 0) throw new RangeError('wasm-attention: models: no finite logit to choose from');
  return best;
}

/** Checks the sampling options (TypeError for a non-number, RangeError for a bad value); returns them resolved. */
export function checkSampling(options: SamplingOptions): { t: number; k: number; p: number } {
  const t = options.temperature ?? 0, k = options.topK ?? 0, p = options.topP ?? 1;
  for (const [name, v] of [['temperature', t], ['topK', k], ['topP', p]] as const) {
    if (typeof v !== 'number') throw new TypeError(`wasm-attention: models: ${name} must be a number, got ${typeof v} ${String(v)}`);
  }
  if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`wasm-attention: models: temperature must be a finite number ≥ 0, got ${t}`);
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`wasm-attention: models: topK must be an integer ≥ 0, got ${k}`);
  if (!(p > 0 && p <= 1)) throw new RangeError(`wasm-attention: models: topP must be in (0, 1], got ${p}`);
  return { t, k, p };
}

/** Picks a token id from `logits` (see the module notes); `random` is used only when sampling. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, random: () => number): number {
  const { t, k, p } = checkSampling(options);
  if (t === 0 || k === 1) return argmax(logits);
  // Candidates by decreasing logit (stable: ties keep the lower id first).
  let ids = Array.from({ length: logits.length }, (_, i) => i).filter((i) => !Number.isNaN(logits[i]!));
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (k > 0 && k < ids.length) ids = ids.slice(0, k);
  const max = logits[ids[0]!]!;
  const w = ids.map((i) => Math.exp((logits[i]! - max) / t));
  let total = w.reduce((a, b) => a + b, 0);
  if (p < 1) {
    let keep = 0, acc = 0;
    while (keep < ids.length && acc < p * total) acc += w[keep++]!;
    ids = ids.slice(0, Math.max(1, keep));
    w.length = ids.length;
    total = w.reduce((a, b) => a + b, 0);
  }
  let u = random() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= w[j]!;
    if (u < 0) return ids[j]!;
  }
  return ids[ids.length - 1]!;
}
