/**
 * A tensor whose data lives in WASM memory, stored as float32, float16 or bfloat16.
 *
 * `t.data` is a live view (no copy) of the stored elements that is rebuilt whenever
 * WASM memory grows, so it stays valid as long as the tensor: a `Float32Array` for
 * float32, and a `Uint16Array` of the raw bit patterns for float16 and bfloat16 (the
 * layout safetensors, ONNX and PyTorch use). `t.toArray()` copies the values out as
 * float32 for every dtype. A tensor owns its memory: call `dispose()` (or use
 * `using`) when done; a FinalizationRegistry frees forgotten tensors when they are
 * garbage collected.
 */
import * as raw from './raw.js';
import { type DataOf, dtypeArg, dtypeCode, dtypeSize, type TensorDType } from './dtype.js';
import { checkShape, describe, formatShape, type Shape } from './shape.js';

interface Owned { ptr: number; generation: number }

/** Frees the memory of collected tensors; absent where the engine has no FinalizationRegistry (then only dispose() frees). */
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Owned>((owned) => {
    if (raw.isReady() && owned.generation === raw.currentGeneration()) raw.free(owned.ptr);
  })
  : null;

/**
 * Data `Tensor.from` accepts: float arrays and plain numbers (converted to the dtype with
 * round-to-nearest-even), or for float16/bfloat16 a `Uint16Array` of raw bit patterns.
 */
export type TensorData = Float32Array | Float64Array | Uint16Array | readonly number[] | ArrayLike<number>;

/** Options of {@link Tensor.from}, {@link Tensor.empty} and {@link Tensor.zeros}. */
export interface TensorOptions<D extends TensorDType = TensorDType> {
  /** Storage dtype. @defaultValue 'float32' */
  dtype?: D;
}

const DTYPES: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * A tensor in WASM memory (float32, or float16/bfloat16 storage): row-major data of
 * `shape`, owned until `dispose()`. Made by {@link Tensor.from}, {@link Tensor.zeros}
 * or {@link Tensor.empty}, and by the ops.
 */
export class Tensor<D extends TensorDType = 'float32'> {
  /** Sizes, outermost first. */
  readonly shape: Shape;
  /** Number of elements (product of `shape`). */
  readonly size: number;
  /** Storage dtype. @defaultValue 'float32' */
  readonly dtype: D;
  #owned: Owned | null;

  private constructor(shape: Shape, size: number, dtype: D, ptr: number) {
    this.shape = Object.freeze(shape.slice());
    this.size = size;
    this.dtype = dtype;
    this.#owned = { ptr, generation: raw.currentGeneration() };
    registry?.register(this, this.#owned, this);
  }

  /** A tensor of `shape` whose contents are unspecified (fastest). */
  static empty(shape: Shape): Tensor<'float32'>;
  static empty<E extends TensorDType>(shape: Shape, options: TensorOptions<E>): Tensor<E>;
  static empty(shape: Shape, options: TensorOptions = {}): Tensor<TensorDType> {
    optionsArg(options, 'Tensor.empty');
    const dtype = options.dtype === undefined ? 'float32' : dtypeArg(options.dtype, DTYPES, 'Tensor');
    const size = checkShape(shape);
    return new Tensor(shape, size, dtype, raw.alloc(size * dtypeSize(dtype)));
  }

  /** A tensor of `shape` filled with zeros (+0 in every dtype). */
  static zeros(shape: Shape): Tensor<'float32'>;
  static zeros<E extends TensorDType>(shape: Shape, options: TensorOptions<E>): Tensor<E>;
  static zeros(shape: Shape, options: TensorOptions = {}): Tensor<TensorDType> {
    const t = Tensor.empty(shape, options);
    t.data.fill(0);
    return t;
  }

  /**
   * Copies `data` (row-major) once into WASM memory. Numbers are converted to `dtype`
   * with round to nearest, ties to even (exactly, also from float64: no double
   * rounding); for float16/bfloat16 a `Uint16Array` is taken as raw bit patterns.
   * @param shape sizes; defaults to `[data.length]`
   */
  static from(data: TensorData, shape?: Shape): Tensor<'float32'>;
  static from<E extends TensorDType>(data: TensorData, shape: Shape | undefined, options: TensorOptions<E>): Tensor<E>;
  static from(data: TensorData, shape?: Shape, options: TensorOptions = {}): Tensor<TensorDType> {
    optionsArg(options, 'Tensor.from');
    const dtype = options.dtype === undefined ? 'float32' : dtypeArg(options.dtype, DTYPES, 'Tensor.from');
    const bits = dtype !== 'float32' && data instanceof Uint16Array;
    checkData(data);
    // A view of WASM memory (e.g. another tensor's `data`) is copied out before the
    // allocation below can grow memory and detach it.
    data = raw.stableSource(data, 'Tensor.from: data');
    const len = (data as ArrayLike<number>).length;
    const s = shape ?? [len];
    const size = checkShape(s);
    if (size !== len) {
      const what = bits ? `raw ${dtype} bits (Uint16Array)` : 'data';
      throw new RangeError(
        `wasm-attention: Tensor.from: ${what} of length ${len} does not match shape ${formatShape(s)} (${size} elements)`);
    }
    const t = new Tensor<TensorDType>(s, size, dtype, raw.alloc(size * dtypeSize(dtype)));
    if (dtype === 'float32' || bits) {
      t.data.set(data as ArrayLike<number>);
      return t;
    }
    try {
      narrowInto(t.ptr, dtype, data as ArrayLike<number>);
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }

  /**
   * Live view of the stored elements in WASM memory: float32 values (`Float32Array`)
   * or, for float16/bfloat16, their raw bit patterns (`Uint16Array`). Valid until
   * `dispose()`; re-read it after any call that may grow memory.
   */
  get data(): DataOf<D> {
    const ptr = this.ptr;
    if (this.dtype === 'float32') {
      return raw.heapF32().subarray(ptr >>> 2, (ptr >>> 2) + this.size) as DataOf<D>;
    }
    return raw.heapU16().subarray(ptr >>> 1, (ptr >>> 1) + this.size) as DataOf<D>;
  }

  /** A float32 copy of the values (widened exactly from 16-bit dtypes) that outlives the tensor. */
  toArray(): Float32Array {
    if (this.dtype === 'float32') return (this.data as Float32Array).slice();
    const ptr = this.ptr; // throws after dispose(), before anything is allocated
    const tmp = raw.alloc(this.size * 4);
    try {
      raw.check(raw.wasm().wa_convert(ptr, dtypeCode(this.dtype), tmp, 0, this.size), 'toArray');
      return raw.heapF32().slice(tmp >>> 2, (tmp >>> 2) + this.size);
    } finally {
      raw.free(tmp);
    }
  }

  /** A new tensor with the same values in `dtype` (rounded to nearest even when narrowing). */
  to<E extends TensorDType>(dtype: E): Tensor<E> {
    const to: TensorDType = dtypeArg(dtype, DTYPES, 'Tensor.to');
    void this.ptr; // a disposed tensor throws before the new one is allocated
    let t: Tensor<TensorDType>;
    if (to === 'float32') {
      t = Tensor.from(this.toArray(), this.shape);
    } else if (this.dtype === 'float32') {
      t = Tensor.empty(this.shape, { dtype: to });
      const status = raw.wasm().wa_convert(this.ptr, 0, t.ptr, dtypeCode(to), this.size);
      if (status !== 0) t.dispose();
      raw.check(status, 'Tensor.to');
    } else {
      t = Tensor.from(this.toArray(), this.shape, { dtype: to });
    }
    return t as Tensor<E>;
  }

  /** Bytes of WASM memory the elements occupy. */
  get bytes(): number {
    return this.size * dtypeSize(this.dtype);
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** Byte offset of the data in WASM memory (for advanced interop). */
  get ptr(): number {
    const owned = this.#owned;
    if (owned === null) {
      throw new Error(`wasm-attention: tensor of shape ${formatShape(this.shape)} was used after dispose()`);
    }
    if (owned.generation !== raw.currentGeneration()) {
      throw new Error(`wasm-attention: tensor of shape ${formatShape(this.shape)} belongs to an earlier WASM instance`);
    }
    return owned.ptr;
  }

  /** Whether `dispose()` has been called. */
  get disposed(): boolean {
    return this.#owned === null;
  }

  /** Frees the WASM memory. Further use throws; calling it again does nothing. */
  dispose(): void {
    const owned = this.#owned;
    if (owned === null) return;
    this.#owned = null;
    registry?.unregister(this);
    if (raw.isReady() && owned.generation === raw.currentGeneration()) raw.free(owned.ptr);
  }

  /** The same as `dispose()`, for `using` declarations. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** `Tensor(float32, [2, 3])` (`, disposed` appended after `dispose()`), for logs; never the data. */
  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }
}

function optionsArg(options: unknown, op: string): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`wasm-attention: ${op}: options must be an object such as { dtype: 'float16' }, got ${describe(options)}`);
  }
}

function checkData(data: unknown): void {
  if (data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data)) {
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i++) {
        if (typeof data[i] !== 'number') {
          throw new TypeError(`wasm-attention: data[${i}] is ${describe(data[i])}, expected a number`);
        }
      }
    }
    return;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new TypeError(`wasm-attention: unsupported dtype: ${data.constructor.name} (tensors store float32, float16 or bfloat16)`);
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return; // other typed arrays convert exactly or round
  throw new TypeError(`wasm-attention: Tensor.from expects a Float32Array, Float64Array or number[], got ${describe(data)}`);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/**
 * Writes `data` as `dtype` at `ptr`: staged as float32 in WASM memory, then narrowed
 * there (round to nearest even). Numbers that are not float32 values are first rounded
 * to float32 *to odd* (an inexact result gets an odd last bit), which makes the second
 * rounding give the correctly rounded 16-bit value (float32 has 24 ≥ 11 + 2 bits).
 */
function narrowInto(ptr: number, dtype: TensorDType, data: ArrayLike<number>): void {
  const n = data.length;
  const stage = raw.alloc(n * 4);
  try {
    const f = raw.heapF32().subarray(stage >>> 2, (stage >>> 2) + n);
    if (data instanceof Float32Array) {
      f.set(data);
    } else {
      const u = new Uint32Array(f.buffer, f.byteOffset, n);
      for (let i = 0; i < n; i++) {
        const x = +data[i]!;
        f32Scratch[0] = x;
        const r = f32Scratch[0]!;
        if (r !== x && Number.isFinite(r) && (u32Scratch[0]! & 1) === 0) {
          // Inexact with an even last bit: step one ulp toward x (magnitudes, sign kept).
          u[i] = Math.abs(r) < Math.abs(x) ? u32Scratch[0]! + 1 : u32Scratch[0]! - 1;
        } else {
          f[i] = r;
        }
      }
    }
    raw.check(raw.wasm().wa_convert(stage, 0, ptr, dtypeCode(dtype), n), 'Tensor.from');
  } finally {
    raw.free(stage);
  }
}
