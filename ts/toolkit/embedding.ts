/**
 * Embedding lookup: row `ids[i]` of a `[V, E]` table for every id (PyTorch `nn.Embedding` /
 * `F.embedding`, ONNX `Gather` on axis 0). Ids are checked before anything is allocated.
 * A float16/bfloat16 table gives rows of its own dtype (copied, not converted).
 */
import { Tensor } from '../tensor.js';
import { checkShape, describe, formatShape, type Shape } from '../shape.js';
import { outArg, tensorArg } from '../ops/args.js';
import type { TensorDType } from '../dtype.js';
import * as raw from '../raw.js';

const ANY: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** Shape of the ids (e.g. `[B, L]`); the result is `[...shape, E]`. @defaultValue [ids.length] */
  shape?: Shape;
  /** Where to write the result (float32 only). @defaultValue a new tensor of the table's dtype */
  out?: Tensor;
}

/**
 * Looks up `table [V, E]` at every id: `out[..., :] = table[ids[...], :]`. Ids must be
 * integers in `[0, V)` (a RangeError names the first that is not; PyTorch raises
 * `IndexError` likewise, and negative ids are not wrapped).
 */
export function embedding<D extends TensorDType>(table: Tensor<D>, ids: ArrayLike<number>, options: EmbeddingOptions = {}): Tensor<D> {
  const op = 'embedding';
  tensorArg(table, op, 'table', ANY);
  if (table.rank !== 2) throw new RangeError(`wasm-attention: ${op}: table must be [V, E], got ${formatShape(table.shape)}`);
  if (ids == null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`wasm-attention: ${op}: ids must be an array of token ids, got ${describe(ids)}`);
  }
  // Ids given as a view of WASM memory are copied: allocating the result may grow memory.
  ids = raw.stableSource(ids, `${op}: ids`);
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
  if (options.out !== undefined && table.dtype !== 'float32') {
    throw new TypeError(`wasm-attention: ${op}: out is for float32 tables; a ${table.dtype} table returns a new tensor`);
  }
  const out = (table.dtype === 'float32'
    ? outArg(options.out, [...shape, E], op, { table: table as Tensor })
    : Tensor.empty([...shape, E], { dtype: table.dtype })) as Tensor<D>;
  const src: Float32Array | Uint16Array = table.data, dst: Float32Array | Uint16Array = out.data;
  for (let i = 0; i < n; i++) dst.set(src.subarray(ids[i]! * E, (ids[i]! + 1) * E) as never, i * E);
  return out;
}
