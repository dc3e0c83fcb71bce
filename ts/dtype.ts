/**
 * Storage dtypes of tensors. Arithmetic and accumulation are always float32; a 16-bit
 * dtype only says how elements are stored (half the bytes, read and widened by the
 * kernels as they load). Codes match `crates/kernels/src/dtype.rs`.
 */
import { describe } from './shape.js';

/** Element types a {@link Tensor} can store. */
export type TensorDType = 'float32' | 'float16' | 'bfloat16';

/** The 16-bit dtypes, stored as raw bits. */
export type HalfDType = 'float16' | 'bfloat16';

/** What `t.data` is for each dtype: float32 values, or the raw 16-bit patterns. */
export type DataOf<D extends TensorDType> = D extends 'float32' ? Float32Array : Uint16Array;

/** Dtypes of a {@link KVCache}: the tensor dtypes plus symmetric int8. */
export type CacheDType = TensorDType | 'int8';

const CODES: Record<CacheDType, number> = { float32: 0, float16: 1, bfloat16: 2, int8: 3 };
const SIZES: Record<CacheDType, number> = { float32: 4, float16: 2, bfloat16: 2, int8: 1 };

/** The kernels' code for a dtype. @internal */
export function dtypeCode(d: CacheDType): number {
  return CODES[d];
}

/** Bytes per element. */
export function dtypeSize(d: CacheDType): number {
  return SIZES[d];
}

/** Checks a user-given dtype against the ones `allowed`; names `what` in the error. @internal */
export function dtypeArg<D extends CacheDType>(x: unknown, allowed: readonly D[], what: string): D {
  if (typeof x === 'string' && (allowed as readonly string[]).includes(x)) return x as D;
  throw new TypeError(
    `wasm-attention: ${what}: dtype must be ${allowed.map((d) => `'${d}'`).join(', ')}; got ${describe(x)}`);
}
