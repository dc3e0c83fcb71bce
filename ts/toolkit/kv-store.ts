/**
 * One side (keys or values) of a {@link KVCache}: `[H, capacity, W]` elements of a
 * storage dtype in one WASM block, and for int8 one float32 scale per row.
 *
 * Rows are written from float32 tensors and converted in WASM as they are stored:
 * float16/bfloat16 round to nearest even; int8 quantises each row symmetrically
 * (`scale = max|x| / 127`, codes `round(x / scale)`). The attention kernel reads the
 * stored elements in place and widens (dequantises) them in registers.
 * @internal
 */
import * as raw from '../raw.js';
import { type CacheDType, dtypeCode, dtypeSize } from '../dtype.js';
import type { Operand } from '../ops/attention-call.js';
import { Tensor } from '../tensor.js';
import type { TensorDType } from '../dtype.js';

interface Owned { ptrs: number[]; generation: number }

/** Frees the int8 blocks of collected caches; absent without FinalizationRegistry (then only dispose() frees). */
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Owned>((owned) => {
    if (raw.isReady() && owned.generation === raw.currentGeneration()) owned.ptrs.forEach((p) => raw.free(p));
  })
  : null;

export class KVStore {
  readonly dtype: CacheDType;
  readonly heads: number;
  readonly capacity: number;
  readonly width: number;
  /** The float dtypes' storage (a tensor, so `KVCache.keys` can expose it); null for int8. */
  #tensor: Tensor<TensorDType> | null = null;
  /** The int8 codes and scales (owned here); null for float dtypes. */
  #owned: Owned | null = null;
  #disposed = false;
  #elems: number;
  #scales = 0;
  /** float16: no stored row holds ±inf/NaN (checked on write), so the fast widening applies. */
  #finite = true;

  constructor(dtype: CacheDType, heads: number, capacity: number, width: number) {
    this.dtype = dtype;
    this.heads = heads;
    this.capacity = capacity;
    this.width = width;
    const rows = heads * capacity;
    if (dtype !== 'int8') {
      this.#tensor = Tensor.empty([heads, capacity, width], { dtype });
      this.#elems = this.#tensor.ptr;
      return;
    }
    this.#elems = raw.alloc(rows * width);
    try {
      this.#scales = raw.alloc(rows * 4);
    } catch (e) {
      raw.free(this.#elems);
      throw e;
    }
    this.#owned = { ptrs: [this.#elems, this.#scales], generation: raw.currentGeneration() };
    registry?.register(this, this.#owned, this);
  }

  /** The storage as a tensor `[H, capacity, W]` (float dtypes only). */
  tensor(what: string): Tensor<TensorDType> {
    this.#check();
    if (this.#tensor === null) {
      throw new TypeError(`wasm-attention: KVCache ${what}: an int8 cache stores codes and row scales, not a tensor`);
    }
    return this.#tensor;
  }

  /** Bytes held: elements plus scales. */
  get bytes(): number {
    const rows = this.heads * this.capacity;
    return rows * this.width * dtypeSize(this.dtype) + (this.dtype === 'int8' ? rows * 4 : 0);
  }

  /** Stores rows `[h, 0..n)` of the contiguous float32 `[H, n, W]` block at `srcPtr` as rows `at..at+n` of every head. */
  write(srcPtr: number, n: number, at: number, op: string): void {
    this.#check();
    const { width: w, capacity: cap } = this;
    const size = dtypeSize(this.dtype);
    const wasm = raw.wasm();
    for (let h = 0; h < this.heads; h++) {
      const src = srcPtr + h * n * w * 4;
      const row = h * cap + at;
      const dst = this.#elems + row * w * size;
      if (this.dtype === 'float32') {
        raw.heapU8().copyWithin(dst, src, src + n * w * 4);
      } else if (this.dtype === 'int8') {
        raw.check(wasm.wa_quantize_rows(src, dst, this.#scales + row * 4, n, w), op);
      } else {
        if (this.dtype === 'float16' && this.#finite) {
          const r = wasm.wa_all_finite(src, n * w);
          if (r < 0) raw.check(-r, op);
          this.#finite = r === 1;
        }
        raw.check(wasm.wa_convert(src, 0, dst, dtypeCode(this.dtype), n * w), op);
      }
    }
  }

  /** Forgets the stored rows (a float16 store may use its fast widening again). */
  reset(): void {
    this.#finite = true;
  }

  /** Moves rows `from..from+keep` of every head to the front. */
  shift(from: number, keep: number): void {
    this.#check();
    const heap = raw.heapU8();
    const rowBytes = this.width * dtypeSize(this.dtype);
    for (let h = 0; h < this.heads; h++) {
      const base = this.#elems + h * this.capacity * rowBytes;
      heap.copyWithin(base, base + from * rowBytes, base + (from + keep) * rowBytes);
      if (this.#scales) {
        const sb = this.#scales + h * this.capacity * 4;
        heap.copyWithin(sb, sb + from * 4, sb + (from + keep) * 4);
      }
    }
  }

  /** The stored elements as a kernel operand (batch of one). */
  operand(): Operand {
    this.#check();
    const { heads, capacity: cap, width: w } = this;
    const strides = { batch: heads * cap * w, head: cap * w, row: w };
    return {
      ptr: this.#elems, strides, dtype: this.dtype, finite: this.dtype === 'float16' && this.#finite,
      scales: this.#scales ? { ptr: this.#scales, strides: { batch: heads * cap, head: cap, row: 1 } } : undefined,
    };
  }

  /** Byte offset of the elements (and of the scales: 0 unless int8). */
  get pointers(): { elems: number; scales: number } {
    this.#check();
    return { elems: this.#elems, scales: this.#scales };
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#tensor?.dispose();
    const owned = this.#owned;
    if (owned === null) return;
    registry?.unregister(this);
    if (raw.isReady() && owned.generation === raw.currentGeneration()) owned.ptrs.forEach((p) => raw.free(p));
  }

  #check(): void {
    if (this.#disposed) throw new Error('wasm-attention: KVCache used after dispose()');
    if (this.#tensor !== null) {
      void this.#tensor.ptr; // throws for a tensor of an earlier instance
    } else if (this.#owned!.generation !== raw.currentGeneration()) {
      throw new Error('wasm-attention: KVCache belongs to an earlier WASM instance');
    }
  }
}
