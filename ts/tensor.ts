/**
 * A float32 tensor whose data lives in WASM memory.
 *
 * `t.data` is a live `Float32Array` view (no copy) that is rebuilt whenever WASM
 * memory grows, so it stays valid as long as the tensor; `t.toArray()` copies.
 * A tensor owns its memory: call `dispose()` (or use `using`) when done; a
 * FinalizationRegistry frees forgotten tensors when they are garbage collected.
 */
import * as raw from './raw.js';
import { checkShape, describe, formatShape, type Shape } from './shape.js';

interface Owned { ptr: number; generation: number }

/** Frees the memory of collected tensors; absent where the engine has no FinalizationRegistry (then only dispose() frees). */
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Owned>((owned) => {
    if (raw.isReady() && owned.generation === raw.currentGeneration()) raw.free(owned.ptr);
  })
  : null;

/** Data `Tensor.from` accepts: float arrays and plain numbers (converted to float32). */
export type TensorData = Float32Array | Float64Array | readonly number[] | ArrayLike<number>;

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/**
 * A float32 tensor in WASM memory: row-major data of `shape`, owned until `dispose()`.
 * Made by {@link Tensor.from}, {@link Tensor.zeros} or {@link Tensor.empty}, and by the ops.
 */
export class Tensor {
  /** Sizes, outermost first. */
  readonly shape: Shape;
  /** Number of elements (product of `shape`). */
  readonly size: number;
  /** Element type; only float32 is supported. @defaultValue 'float32' */
  readonly dtype = 'float32' as const;
  #owned: Owned | null;

  private constructor(shape: Shape, size: number, ptr: number) {
    this.shape = Object.freeze(shape.slice());
    this.size = size;
    this.#owned = { ptr, generation: raw.currentGeneration() };
    registry?.register(this, this.#owned, this);
  }

  /** A tensor of `shape` whose contents are unspecified (fastest). */
  static empty(shape: Shape): Tensor {
    const size = checkShape(shape);
    return new Tensor(shape, size, raw.alloc(size * 4));
  }

  /** A tensor of `shape` filled with zeros. */
  static zeros(shape: Shape): Tensor {
    const t = Tensor.empty(shape);
    t.data.fill(0);
    return t;
  }

  /**
   * Copies `data` (row-major) once into WASM memory.
   * @param shape sizes; defaults to `[data.length]`
   */
  static from(data: TensorData, shape?: Shape): Tensor {
    checkData(data);
    const len = (data as ArrayLike<number>).length;
    const s = shape ?? [len];
    const size = checkShape(s);
    if (size !== len) {
      throw new RangeError(
        `wasm-attention: data of length ${len} does not match shape ${formatShape(s)} (${size} elements)`);
    }
    const t = new Tensor(s, size, raw.alloc(size * 4));
    t.data.set(data as ArrayLike<number>);
    return t;
  }

  /** Live view of the data in WASM memory. Valid until `dispose()`; re-read it after any call that may grow memory. */
  get data(): Float32Array {
    const ptr = this.ptr;
    return raw.heapF32().subarray(ptr >>> 2, (ptr >>> 2) + this.size);
  }

  /** A copy of the data that outlives the tensor. */
  toArray(): Float32Array {
    return this.data.slice();
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
    return `Tensor(float32, ${formatShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
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
    throw new TypeError(`wasm-attention: unsupported dtype: ${data.constructor.name} (only float32 tensors exist)`);
  }
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return; // other typed arrays convert exactly or round
  throw new TypeError(`wasm-attention: Tensor.from expects a Float32Array, Float64Array or number[], got ${describe(data)}`);
}
