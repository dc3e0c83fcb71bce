/**
 * Embedding lookup: row `ids[i]` of a `[V, E]` table for every id (PyTorch `nn.Embedding` /
 * `F.embedding`, ONNX `Gather` on axis 0). Ids are checked before anything is allocated.
 */
import { Tensor } from '../tensor.js';
import { checkShape, describe, formatShape, type Shape } from '../shape.js';
import { outArg, tensorArg } from '../ops/args.js';

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** Shape of the ids (e.g. `[B, L]`); the result is `[...shape, E]`. @defaultValue [ids.length] */
  shape?: Shape;
  /** Where to write the result. @defaultValue a new tensor */
  out?: Tensor;
}

/**
 * Looks up `table [V, E]` at every id: `out[..., :] = table[ids[...], :]`. Ids must be
 * integers in `[0, V)` (a RangeError names the first that is not; PyTorch raises
 * `IndexError` likewise, and negative ids are not wrapped).
 */
export function embedding(table: Tensor, ids: ArrayLike<number>, options: EmbeddingOptions = {}): Tensor {
  const op = 'embedding';
  tensorArg(table, op, 'table');
  if (table.rank !== 2) throw new RangeError(`wasm-attention: ${op}: table must be [V, E], got ${formatShape(table.shape)}`);
  if (ids == null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`wasm-attention: ${op}: ids must be an array of token ids, got ${describe(ids)}`);
  }
  const [V, E] = table.shape as [number, number];
  const n = ids.length;
  const shape = options.shape ?? [n];
  if (checkShape(shape, 'ids shape') !== n) {
    throw new RangeError(`wasm-attention: ${op}: ${n} ids do not fill the shape ${formatShape(shape)}`);
  }
  for (let i = 0; i < n; i++) {
    const id = ids[i] as unknown;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= V) {
      throw new RangeError(`wasm-attention: ${op}: ids[${i}] = ${String(id)} is not a row of the table ${formatShape(table.shape)} (ids are integers in [0, ${V}))`);
    }
  }
  const out = outArg(options.out, [...shape, E], op, { table });
  const src = table.data, dst = out.data;
  for (let i = 0; i < n; i++) dst.set(src.subarray(ids[i]! * E, (ids[i]! + 1) * E), i * E);
  return out;
}
