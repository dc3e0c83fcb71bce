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

/**
 * How a matrix row is stored: one entry per format of the kernels' registry
 * (`crates/kernels/src/format.rs`, same codes). Element formats store each value as
 * one element; block formats store blocks of `blockSize` codes (`bytesPerBlock` bytes
 * in the code plane) with one scale per block in a plane after the codes (q8_0/q4_0: a
 * float16 value kept as float32, in tiles of four rows, the matrix–vector kernel's order).
 * `float32-panels` is float32 in the blocked GEMM's panel order, `q8_0-panels` q8_0 in
 * the integer GEMM's and `q4_0-panels` q4_0 in the 4-bit GEMM's (rows padded to
 * `rowMultiple`, f32 scales), which those kernels read without repacking.
 */
export interface StorageFormat {
  /** Registry name (the kernels' name for the block formats). */
  readonly name: 'float32' | 'float16' | 'bfloat16' | 'int8-row' | 'q8_0' | 'q4_0' | 'float32-panels' | 'q8_0-panels'
    | 'q4_0-panels';
  /** The kernels' code. */
  readonly code: number;
  /** Values per block (1 for element formats). */
  readonly blockSize: number;
  /** Bytes of codes per block (the element size for element formats). */
  readonly bytesPerBlock: number;
  /**
   * Where the scale lives: none, one float32 per row (KV cache int8), or one float32 per
   * block, in the rows' order (`block-f32`; `block-f32-sum` adds a plane of each block's
   * int32 code sum) or in tiles of four rows (`block-f32-tiles`, the scale plane's rows
   * padded to a multiple of 4).
   */
  readonly scale: 'none' | 'row-f32' | 'block-f32' | 'block-f32-sum' | 'block-f32-tiles';
  /** Rows are stored padded to a multiple of this (the GEMM's panel width for panels; else 1). */
  readonly rowMultiple: number;
}

/** The format registry, in code order. */
export const STORAGE_FORMATS: readonly StorageFormat[] = Object.freeze([
  { name: 'float32', code: 0, blockSize: 1, bytesPerBlock: 4, scale: 'none', rowMultiple: 1 },
  { name: 'float16', code: 1, blockSize: 1, bytesPerBlock: 2, scale: 'none', rowMultiple: 1 },
  { name: 'bfloat16', code: 2, blockSize: 1, bytesPerBlock: 2, scale: 'none', rowMultiple: 1 },
  { name: 'int8-row', code: 3, blockSize: 1, bytesPerBlock: 1, scale: 'row-f32', rowMultiple: 1 },
  { name: 'q8_0', code: 4, blockSize: 32, bytesPerBlock: 32, scale: 'block-f32-tiles', rowMultiple: 1 },
  { name: 'q4_0', code: 5, blockSize: 32, bytesPerBlock: 16, scale: 'block-f32-tiles', rowMultiple: 1 },
  { name: 'float32-panels', code: 6, blockSize: 1, bytesPerBlock: 4, scale: 'none', rowMultiple: 8 },
  { name: 'q8_0-panels', code: 7, blockSize: 32, bytesPerBlock: 32, scale: 'block-f32-sum', rowMultiple: 8 },
  { name: 'q4_0-panels', code: 8, blockSize: 32, bytesPerBlock: 16, scale: 'block-f32', rowMultiple: 8 },
] as const);

/**
 * Bytes of a `rows × cols` matrix in `format`: the codes plus, for block formats, the
 * float32 scale plane (int8 rows keep their float32 scales elsewhere); panels count
 * their padding rows, and tiled scale planes theirs.
 */
export function storageBytes(format: StorageFormat, rows: number, cols: number): number {
  const blocks = Math.ceil(cols / format.blockSize);
  const stored = Math.ceil(rows / format.rowMultiple) * format.rowMultiple;
  const scaleRows = format.scale === 'block-f32' ? stored : format.scale === 'block-f32-sum' ? 2 * stored
    : format.scale === 'block-f32-tiles' ? Math.ceil(rows / 4) * 4 : 0;
  return stored * blocks * format.bytesPerBlock + scaleRows * blocks * 4;
}
