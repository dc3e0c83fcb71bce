/**
 * `Linear` layers: weights prepared once in the layout their kernels read, and the
 * product `x · Wᵀ + b` on the small-m (matrix–vector) kernels.
 */
import * as raw from '../raw.js';
import { dtypeCode, STORAGE_FORMATS, storageBytes, type StorageFormat, type TensorDType } from '../dtype.js';
import { Tensor, type TensorData } from '../tensor.js';
import { describe, formatShape, sameShape } from '../shape.js';
import { tensorArg } from './args.js';

/**
 * Storage formats of a {@link Weight}: the float dtypes, `'int8'` (q8_0: blocks of 32 int8 codes
 * with a scale each, a float16 value kept as float32: 9 bits a weight) and `'int4'` (q4_0:
 * blocks of 32 4-bit codes with a scale, 5 bits a weight), both quantised once, when the weight
 * is made (round to nearest, as ggml's q8_0/q4_0), and `'float32-panels'`: float32 laid out once
 * in the blocked GEMM's panel order, so every product runs on the GEMM without repacking the
 * weight — for weights that always meet several rows at once (an encoder's: from 2 rows it beats
 * `'float32'`'s matrix–vector kernels; a single row is slower, as the GEMM's 4-row tile is a
 * quarter used); `'int8-panels'` is the same for `'int8'`: its q8_0 values laid out once for the
 * integer GEMM (10 bits a weight: each block's code sum is kept too, for the relaxed-SIMD tile),
 * and `'int4-panels'` for `'int4'` (5 bits a weight; where the engine runs relaxed SIMD, its GEMM
 * multiplies the 4-bit codes as stored). The relaxed-SIMD build's `'int8-panels'` GEMM rounds the
 * activations to 7 bits, not 8 (twice the activation error; docs/models.md).
 */
export type WeightFormat =
  | 'float32' | 'float16' | 'bfloat16' | 'int8' | 'int4' | 'float32-panels' | 'int8-panels' | 'int4-panels';

const WEIGHT_FORMATS: readonly WeightFormat[] =
  ['float32', 'float16', 'bfloat16', 'int8', 'int4', 'float32-panels', 'int8-panels', 'int4-panels'];

/** The registry entry of each weight format. */
const REGISTRY: Record<WeightFormat, StorageFormat> = {
  float32: STORAGE_FORMATS[0]!,
  float16: STORAGE_FORMATS[1]!,
  bfloat16: STORAGE_FORMATS[2]!,
  int8: STORAGE_FORMATS[4]!,
  int4: STORAGE_FORMATS[5]!,
  'float32-panels': STORAGE_FORMATS[6]!,
  'int8-panels': STORAGE_FORMATS[7]!,
  'int4-panels': STORAGE_FORMATS[8]!,
};

/** Bytes a `[rows, cols]` weight occupies in `format`. @internal */
export function weightBytes(format: WeightFormat, rows: number, cols: number): number {
  return storageBytes(REGISTRY[format], rows, cols);
}

/** Formats written through the kernels' packer (`wa_quantize_into`), not copied or converted element-wise. */
function packed(entry: StorageFormat): boolean {
  return entry.scale.startsWith('block') || entry.rowMultiple > 1;
}

/**
 * Largest number of rows of `x` that {@link linear} and `matmul` run on the matrix–vector
 * kernels (the kernels' `linear::GEMV_MAX_ROWS`): from 3 rows the GEMMs, their weight
 * packed by SIMD transposes, are as fast, from 4 rows faster (docs/performance.md).
 */
export const GEMV_MAX_ROWS = 2;

/** Options of {@link Weight.from}. */
export interface WeightOptions {
  /** How to store the weight. @defaultValue the source's dtype */
  format?: WeightFormat;
}

/** Plain data for {@link Weight.from}: row-major `[out, in]` values (or 16-bit bits with `dtype`). */
export interface WeightSource {
  /** The values, row-major `[out, in]`. */
  data: TensorData;
  /** `[out, in]`. */
  shape: readonly [number, number];
  /** The dtype of `data` (a `Uint16Array` is raw bits for float16/bfloat16). @defaultValue 'float32' */
  dtype?: TensorDType;
}

interface Owned { ptr: number; generation: number }

/** `wa_linear`'s flag (with the float16 code) for weights that hold no ±inf or NaN. */
const F16_FINITE = 0x100;

/** Rows of a weight as raw little-endian bytes, for {@link Weight.fromBytes}. @internal */
export interface RowBytes {
  readonly rows: number;
  readonly dtype: 'float32' | 'float16' | 'bfloat16';
  /** The part's bytes (`rows × cols` values), read when they are copied. */
  read(): Uint8Array;
}

/** Makes the weight over memory a {@link WeightWriter} filled (module-private: set by `Weight`'s static block). */
let adopt: (rows: number, cols: number, format: WeightFormat, bytes: number, ptr: number) => Weight;

/** Staging buffer of {@link Weight.fromBytes}: large enough to amortise a call per chunk, small beside any weight. */
const STAGE_BYTES = 2 ** 20;

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Owned>((owned) => {
    if (raw.isReady() && owned.generation === raw.currentGeneration()) raw.free(owned.ptr);
  })
  : null;

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * A `Linear` weight `[out, in]` (PyTorch layout) in WASM memory, stored in the format
 * its kernel reads, prepared once: float weights as contiguous rows, `'int8'`/`'int4'`
 * quantised into a code plane followed by a scale plane (float32, in tiles of four rows:
 * `crates/kernels/src/format.rs`). Owns its memory until `dispose()`.
 *
 * @example
 * ```js
 * using w = Weight.from(tensor, { format: 'int8' });
 * using y = linear(x, w, { bias });
 * ```
 */
export class Weight {
  /** `[out, in]`: `out` outputs, each the dot product of a row with `in` inputs. */
  readonly shape: readonly [number, number];
  /** The storage format. */
  readonly format: WeightFormat;
  /** Bytes the weight occupies in WASM memory. */
  readonly bytes: number;
  #owned: Owned | null;
  readonly #finite16: boolean;

  private constructor(shape: readonly [number, number], format: WeightFormat, bytes: number, ptr: number) {
    this.shape = Object.freeze([shape[0], shape[1]] as [number, number]);
    this.format = format;
    this.bytes = bytes;
    this.#owned = { ptr, generation: raw.currentGeneration() };
    // float16 data checked once for ±inf/NaN: finite weights skip the kernels' per-tile check.
    this.#finite16 = format === 'float16' && raw.wasm().wa_f16_all_finite(ptr, shape[0] * shape[1]) === 1;
    registry?.register(this, this.#owned, this);
  }

  /**
   * Prepares a weight from a 2-D tensor `[out, in]` of any dtype (copied; the tensor stays
   * the caller's) or from plain data: converted to `format` (float dtypes exactly or with
   * round to nearest even; `'int8'`/`'int4'` quantised per block of 32 of a row).
   */
  static from(source: Tensor<TensorDType> | WeightSource, options: WeightOptions = {}): Weight {
    const op = 'Weight.from';
    if (source instanceof Tensor) {
      const t = tensorArg(source, op, 'source', ['float32', 'float16', 'bfloat16']);
      return Weight.#fromTensor(t, options, op);
    }
    if (typeof source !== 'object' || source === null || !('data' in source) || !Array.isArray(source.shape)) {
      throw new TypeError(`wasm-attention: ${op}: source must be a Tensor or { data, shape, dtype? }, got ${describe(source)}`);
    }
    if (source.shape.length !== 2) {
      throw new RangeError(`wasm-attention: ${op}: shape must be [out, in], got ${formatShape(source.shape)}`);
    }
    const tmp = Tensor.from(source.data, source.shape, { dtype: source.dtype ?? 'float32' });
    try {
      return Weight.#fromTensor(tmp, options, op);
    } finally {
      tmp.dispose();
    }
  }

  static #fromTensor(t: Tensor<TensorDType>, options: WeightOptions, op: string): Weight {
    if (t.rank !== 2) {
      throw new RangeError(`wasm-attention: ${op}: a weight is 2-D [out, in], got shape ${formatShape(t.shape)}`);
    }
    const format = options.format ?? t.dtype;
    if (!WEIGHT_FORMATS.includes(format)) {
      throw new TypeError(`wasm-attention: ${op}: format must be ${WEIGHT_FORMATS.map((f) => `'${f}'`).join(', ')}; got ${
        describe(format)}`);
    }
    const [rows, cols] = t.shape as [number, number];
    const entry = REGISTRY[format];
    const bytes = storageBytes(entry, rows, cols);
    const ptr = raw.alloc(bytes);
    try {
      const w = raw.wasm();
      if (packed(entry)) {
        raw.check(w.wa_quantize(t.ptr, dtypeCode(t.dtype), ptr, entry.code, rows, cols), op);
      } else if (format === t.dtype) {
        raw.heapU8().copyWithin(ptr, t.ptr, t.ptr + bytes);
      } else if (t.dtype === 'float32' || format === 'float32') {
        raw.check(w.wa_convert(t.ptr, dtypeCode(t.dtype), ptr, entry.code, t.size), op);
      } else {
        // float16 ↔ bfloat16 through float32 (widening is exact; one rounding).
        const tmp = raw.alloc(t.size * 4);
        try {
          raw.check(w.wa_convert(t.ptr, dtypeCode(t.dtype), tmp, 0, t.size), op);
          raw.check(w.wa_convert(tmp, 0, ptr, entry.code, t.size), op);
        } finally {
          raw.free(tmp);
        }
      }
    } catch (e) {
      raw.free(ptr);
      throw e;
    }
    return new Weight([rows, cols], format, bytes, ptr);
  }

  static {
    adopt = (rows, cols, format, bytes, ptr) => new Weight([rows, cols], format, bytes, ptr);
  }

  /**
   * A weight stacked from row blocks of raw little-endian bytes (e.g. tensors of a
   * safetensors file: q, k and v stacked into one), stored in `format`. Each part is
   * written once into the weight's memory: copied straight in when its dtype is the
   * format, else staged a few rows at a time ({@link STAGE_BYTES}) and converted or
   * quantised from there, so loading needs no second copy of the weight. `read()` is
   * called after the weight's memory is allocated (a view taken before would be gone if
   * memory grew). @internal
   */
  static fromBytes(parts: readonly RowBytes[], cols: number, format: WeightFormat, op: string): Weight {
    let rows = 0;
    for (const p of parts) {
      if (!Number.isSafeInteger(p.rows) || p.rows < 0) throw new RangeError(`wasm-attention: ${op}: rows must be a non-negative integer, got ${describe(p.rows)}`);
      rows += p.rows;
    }
    const w = new WeightWriter(rows, cols, format, op);
    let row0 = 0;
    try {
      for (const p of parts) {
        const size = p.dtype === 'float32' ? 4 : 2, rowBytes = cols * size;
        const src = () => {
          const b = p.read();
          if (b.length !== p.rows * rowBytes) {
            throw new RangeError(`wasm-attention: ${op}: a part of ${p.rows} rows × ${cols} ${p.dtype} needs ${p.rows * rowBytes} bytes, got ${b.length}`);
          }
          return b;
        };
        const chunk = Math.max(1, Math.floor(STAGE_BYTES / Math.max(1, rowBytes))) * rowBytes;
        const part = w.part(p.dtype, row0, p.rows);
        for (let at = 0; at < p.rows * rowBytes; at += chunk) part.write(src().subarray(at, at + chunk));
        row0 += p.rows;
      }
      return w.finish();
    } catch (e) {
      w.dispose();
      throw e;
    }
  }

  /** Byte offset of the weight in WASM memory; throws after `dispose()`. @internal */
  get ptr(): number {
    const o = this.#owned;
    if (o === null || o.generation !== raw.currentGeneration()) {
      throw new Error(`wasm-attention: weight of shape ${formatShape(this.shape)} (${this.format}) was used after dispose()`);
    }
    return o.ptr;
  }

  /** The kernels' format code. @internal */
  get code(): number {
    return REGISTRY[this.format].code;
  }

  /** `wa_linear`'s format code: float16 known finite carries the kernels' flag for it. @internal */
  get linearCode(): number {
    return this.#finite16 ? REGISTRY[this.format].code | F16_FINITE : REGISTRY[this.format].code;
  }

  /** Whether `dispose()` has been called (or the module was re-initialised). */
  get disposed(): boolean {
    return this.#owned === null || this.#owned.generation !== raw.currentGeneration();
  }

  /** Frees the weight's memory; later use throws. Safe to call twice. */
  dispose(): void {
    const o = this.#owned;
    if (o === null) return;
    this.#owned = null;
    registry?.unregister(this);
    if (raw.isReady() && o.generation === raw.currentGeneration()) raw.free(o.ptr);
  }

  /** The same as `dispose()`, for `using` declarations. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** `Weight(int8, [576, 1536])`, for logs. */
  toString(): string {
    return `Weight(${this.format}, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** `[out]` float32, added to every row. */
  bias?: Tensor;
  /** Where to write the result `[..., out]`; a new tensor when omitted. */
  out?: Tensor;
}

/**
 * `x · Wᵀ + bias` for `x [..., in]` (float32) and a {@link Weight} `[out, in]`: returns
 * `[..., out]`. Up to {@link GEMV_MAX_ROWS} rows of `x` (e.g. one decoding token) run on the
 * matrix–vector kernels, which stream every weight row once; more rows run on a blocked
 * GEMM (float weights packed per call; `'float32-panels'` read where they lie, at any
 * number of rows). `'int8'`/`'int4'` products quantise each 32-value block of an `x` row
 * to int8 (scale = max|x|/127) and multiply in integers on either path, so an output is
 * within `Σ_blocks max|x_block|/254 · Σ_block |w|` of the product of the quantised
 * weights (plus float32 rounding).
 */
export function linear(x: Tensor, weight: Weight, options: LinearOptions = {}): Tensor {
  const op = 'linear';
  tensorArg(x, op, 'x');
  if (!(weight instanceof Weight)) {
    throw new TypeError(`wasm-attention: ${op}: weight must be a Weight (make one with Weight.from), got ${describe(weight)}`);
  }
  if (weight.disposed) {
    throw new Error(`wasm-attention: ${op}: weight ${formatShape(weight.shape)} (${weight.format}) was used after dispose()`);
  }
  const [n, k] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== k) {
    throw new RangeError(`wasm-attention: ${op}: x ${formatShape(x.shape)} must end in in=${k} to match weight ${
      formatShape(weight.shape)} [out, in]`);
  }
  const bias = options.bias;
  if (bias !== undefined) {
    tensorArg(bias, op, 'bias');
    if (!sameShape(bias.shape, [n])) {
      throw new RangeError(`wasm-attention: ${op}: bias has shape ${formatShape(bias.shape)}, expected [${n}]`);
    }
  }
  const outShape = [...x.shape.slice(0, -1), n];
  let out: Tensor;
  if (options.out === undefined) {
    out = Tensor.empty(outShape);
  } else {
    out = tensorArg(options.out, op, 'out');
    if (!sameShape(out.shape, outShape)) {
      throw new RangeError(`wasm-attention: ${op}: out has shape ${formatShape(out.shape)}, expected ${formatShape(outShape)}`);
    }
    if (out === x || out === bias) throw new Error(`wasm-attention: ${op}: out must not be x or bias`);
  }
  const rows = product(x.shape.slice(0, -1));
  try {
    linearRows(rows, x.ptr, weight, bias?.ptr ?? 0, out.ptr, op);
  } catch (e) {
    if (options.out === undefined) out.dispose();
    throw e;
  }
  return out;
}

/** What {@link linearRows} reads of a weight: a `Weight`, or a tensor read in place ({@link tensorWeight}). @internal */
export interface RowWeight {
  readonly shape: readonly [number, number];
  readonly ptr: number;
  readonly linearCode: number;
}

/**
 * A float tensor's `out × in` values (row-major, its shape unless `shape` is given) read in
 * place as a weight, valid while the tensor is: all of them, or those from element `offset`
 * on when it is given. @internal
 */
export function tensorWeight(t: Tensor<TensorDType>, shape: readonly [number, number] = [t.shape[0]!, t.shape[1]!],
  offset?: number): RowWeight {
  const size = shape[0] * shape[1], from = offset ?? 0;
  if (offset === undefined ? size !== t.size : from < 0 || from + size > t.size) {
    throw new RangeError(`wasm-attention: a [${shape[0]}, ${shape[1]}] weight from ${offset === undefined ? '' : `element ${from} of `}${t.size} values`);
  }
  return { shape: [shape[0], shape[1]], ptr: t.ptr + from * REGISTRY[t.dtype].bytesPerBlock, linearCode: REGISTRY[t.dtype].code };
}

/**
 * The product of {@link linear} on raw buffers, arguments already checked: `rows` rows of
 * `x` (`[rows, in]` float32 at byte `xPtr`) times `weight`ᵀ (+ the `[out]` float32 bias at
 * `biasPtr`, or 0) into `[rows, out]` at `outPtr`. Planned forwards call it once per layer
 * with buffers validated when the plan was made. @internal
 */
export function linearRows(rows: number, xPtr: number, weight: RowWeight, biasPtr: number, outPtr: number, op: string): void {
  const [n, k] = weight.shape;
  // The kernels pick the matrix–vector kernels or a GEMM by the number of rows (kernels::linear).
  raw.check(raw.wasm().wa_linear(rows, k, n, xPtr, k, weight.ptr, weight.linearCode, biasPtr, outPtr, n), op);
}

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/**
 * A weight written from raw little-endian row bytes as they come (a file read in order, a
 * stream), in parts: each `part` is a block of rows (its dtype, first row and row count) whose
 * bytes are `write`n in pieces of any length, in order (a row cut between two pieces waits for
 * the rest); parts may be written in any order, even interleaved. `finish` once every row is
 * written. Bytes in the weight's own float format are copied straight in; others are staged a
 * few rows at a time ({@link STAGE_BYTES}) and converted or quantised there. Owns its memory
 * until `finish()` hands it to the weight, or `dispose()`. @internal
 */
export class WeightWriter {
  readonly #rows: number;
  readonly #cols: number;
  readonly #format: WeightFormat;
  readonly #op: string;
  readonly #bytes: number;
  #ptr: number;
  #stage = 0;
  #wide = 0;
  /** Rows written so far, over every part. */
  #done = 0;

  constructor(rows: number, cols: number, format: WeightFormat, op: string) {
    if (!WEIGHT_FORMATS.includes(format)) {
      throw new TypeError(`wasm-attention: ${op}: format must be ${WEIGHT_FORMATS.map((f) => `'${f}'`).join(', ')}; got ${describe(format)}`);
    }
    if (!Number.isSafeInteger(cols) || cols < 0) throw new RangeError(`wasm-attention: ${op}: cols must be a non-negative integer, got ${describe(cols)}`);
    if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`wasm-attention: ${op}: rows must be a non-negative integer, got ${describe(rows)}`);
    const bytes = storageBytes(REGISTRY[format], rows, cols);
    if (!Number.isSafeInteger(bytes) || bytes > 2 ** 32) {
      throw new RangeError(`wasm-attention: ${op}: a [${rows}, ${cols}] weight in ${format} (${bytes} bytes) does not fit in WebAssembly memory`);
    }
    this.#rows = rows;
    this.#cols = cols;
    this.#format = format;
    this.#op = op;
    this.#bytes = bytes;
    this.#ptr = raw.alloc(bytes);
  }

  /** Bytes of WASM memory the weight takes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The writer of rows `[row0, row0 + rows)`, stored in the bytes as `dtype`. */
  part(dtype: RowBytes['dtype'], row0: number, rows: number): { write(bytes: Uint8Array): void } {
    const op = this.#op;
    if (!(dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16')) {
      throw new TypeError(`wasm-attention: ${op}: dtype must be float32, float16 or bfloat16, got ${describe(dtype)}`);
    }
    if (!Number.isSafeInteger(row0) || !Number.isSafeInteger(rows) || row0 < 0 || rows < 0 || row0 + rows > this.#rows) {
      throw new RangeError(`wasm-attention: ${op}: rows [${row0}, ${row0 + rows}) are not rows of a weight of ${this.#rows}`);
    }
    const rowBytes = this.#cols * (dtype === 'float32' ? 4 : 2);
    if (rowBytes === 0) {
      this.#done += rows;
      return { write: () => {} };
    }
    let next = row0;
    return splitRows(rowBytes, (src) => {
      const n = src.length / rowBytes;
      if (next + n > row0 + rows) throw new RangeError(`wasm-attention: ${op}: a part of ${rows} rows got more bytes than its rows hold`);
      this.#rowsIn(dtype, next, src);
      next += n;
      this.#done += n;
    });
  }

  /** The weight, once every row has been written; the writer is spent. */
  finish(): Weight {
    if (this.#done !== this.#rows) {
      throw new Error(`wasm-attention: ${this.#op}: ${this.#done} of the weight's ${this.#rows} rows were written`);
    }
    this.#freeStaging();
    const ptr = this.#ptr;
    this.#ptr = 0;
    return adopt(this.#rows, this.#cols, this.#format, this.#bytes, ptr);
  }

  /** Frees the memory (a weight not finished). */
  dispose(): void {
    this.#freeStaging();
    if (this.#ptr !== 0) raw.free(this.#ptr);
    this.#ptr = 0;
  }

  #freeStaging(): void {
    if (this.#stage !== 0) raw.free(this.#stage);
    if (this.#wide !== 0) raw.free(this.#wide);
    this.#stage = this.#wide = 0;
  }

  /** Writes whole rows `src` (stored as `dtype`) from row `row` on. */
  #rowsIn(dtype: RowBytes['dtype'], row: number, src: Uint8Array): void {
    const op = this.#op, cols = this.#cols, format = this.#format;
    if (this.#ptr === 0) throw new Error(`wasm-attention: ${op}: the weight writer was used after finish() or dispose()`);
    const rowBytes = cols * (dtype === 'float32' ? 4 : 2);
    const n = src.length / rowBytes;
    const entry = REGISTRY[format];
    const block = packed(entry);
    if (!block && dtype === format) {
      raw.heapU8().set(src, this.#ptr + row * rowBytes);
      return;
    }
    const w = raw.wasm();
    const outSize = block ? 0 : entry.bytesPerBlock;
    const chunk = Math.max(1, Math.floor(STAGE_BYTES / Math.max(1, rowBytes)));
    if (this.#stage === 0) this.#stage = raw.alloc(Math.max(STAGE_BYTES, rowBytes));
    // 16-bit to the other 16-bit format goes through float32 (widening is exact; one rounding).
    if (this.#wide === 0 && !block && dtype !== 'float32' && format !== 'float32') this.#wide = raw.alloc(Math.max(STAGE_BYTES, cols * 4) * 2);
    const code = dtypeCode(dtype);
    for (let r = 0; r < n; r += chunk) {
      const k = Math.min(chunk, n - r), at = row + r;
      raw.heapU8().set(src.subarray(r * rowBytes, (r + k) * rowBytes), this.#stage);
      if (block) {
        raw.check(w.wa_quantize_into(this.#stage, code, this.#ptr, entry.code, this.#rows, cols, at, k), op);
      } else if (dtype === 'float32' || format === 'float32') {
        raw.check(w.wa_convert(this.#stage, code, this.#ptr + at * cols * outSize, entry.code, k * cols), op);
      } else {
        raw.check(w.wa_convert(this.#stage, code, this.#wide, 0, k * cols), op);
        raw.check(w.wa_convert(this.#wide, 0, this.#ptr + at * cols * outSize, entry.code, k * cols), op);
      }
    }
  }
}

/**
 * A writer of bytes in pieces of any length that hands `rowsIn` whole rows of `rowBytes` (> 0)
 * only: a row cut between two pieces is kept until the rest arrives. @internal
 */
export function splitRows(rowBytes: number, rowsIn: (src: Uint8Array) => void): { write(bytes: Uint8Array): void } {
  const partial = new Uint8Array(rowBytes);
  let fill = 0;
  return {
    write: (bytes) => {
      let at = 0;
      if (fill > 0) {
        const k = Math.min(rowBytes - fill, bytes.length);
        partial.set(bytes.subarray(0, k), fill);
        fill += k;
        at = k;
        if (fill < rowBytes) return;
        rowsIn(partial);
        fill = 0;
      }
      const whole = Math.floor((bytes.length - at) / rowBytes) * rowBytes;
      if (whole > 0) rowsIn(bytes.subarray(at, at + whole));
      at += whole;
      if (at < bytes.length) {
        partial.set(bytes.subarray(at), 0);
        fill = bytes.length - at;
      }
    },
  };
}
