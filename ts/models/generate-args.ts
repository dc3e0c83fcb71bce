/**
 * Checks of `CausalLM.generate`'s arguments, all made before the cache is touched or
 * anything is allocated, so a rejected call changes nothing.
 * @internal
 */
import { describe } from '../shape.js';
import { checkSampling } from './sampling.js';

/** The resolved options of a `generate` call. */
export interface GenerateArgs {
  /** The prompt ids, copied (a view of WASM memory would not survive the first allocation). */
  readonly prompt: number[];
  readonly max: number;
  readonly min: number;
  readonly eos: readonly number[];
  readonly seed: number;
}

const where = 'wasm-attention: models: generate';

function count(x: unknown, name: string, fallback: number | undefined): number {
  const v = x ?? fallback;
  if (typeof v !== 'number') {
    throw new TypeError(`${where}: ${name} must be an integer ≥ 0, got ${describe(v)}${name === 'options.maxNewTokens' ? ' (pass { maxNewTokens: n })' : ''}`);
  }
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${where}: ${name} must be an integer ≥ 0, got ${v}`);
  return v;
}

/** Checks the prompt ids against `vocab` and every option; throws a TypeError/RangeError naming the first bad one. */
export function checkGenerate(prompt: unknown, options: unknown, vocab: number, defaultEos: readonly number[]): GenerateArgs {
  if (options == null || typeof options !== 'object') {
    throw new TypeError(`${where}: options.maxNewTokens is required (pass { maxNewTokens: n }), got options ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const max = count(o.maxNewTokens, 'options.maxNewTokens', undefined);
  const min = count(o.minNewTokens, 'options.minNewTokens', 0);
  if (prompt == null || typeof prompt !== 'object' || typeof (prompt as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`${where}: prompt must be an array of token ids, got ${describe(prompt)}`);
  }
  const ids = Array.from(prompt as ArrayLike<unknown>);
  if (ids.length < 1) throw new RangeError(`${where}: prompt needs at least one token id`);
  ids.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new RangeError(`${where}: prompt[${i}] = ${String(id)} is not a token id (integers in [0, ${vocab}))`);
    }
  });
  let eos = defaultEos;
  if (o.eosTokenIds !== undefined) {
    if (!Array.isArray(o.eosTokenIds)) throw new TypeError(`${where}: options.eosTokenIds must be an array of token ids, got ${describe(o.eosTokenIds)}`);
    o.eosTokenIds.forEach((id: unknown, i) => {
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new RangeError(`${where}: options.eosTokenIds[${i}] = ${String(id)} is not a token id (an integer)`);
      }
    });
    eos = o.eosTokenIds.slice() as number[];
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number') throw new TypeError(`${where}: options.seed must be a number, got ${describe(seed)}`);
  if (!Number.isFinite(seed)) throw new RangeError(`${where}: options.seed must be finite, got ${seed}`);
  if (o.onToken !== undefined && typeof o.onToken !== 'function') {
    throw new TypeError(`${where}: options.onToken must be a function, got ${describe(o.onToken)}`);
  }
  checkSampling(o);
  return { prompt: ids as number[], max, min, eos, seed };
}
