/**
 * One side (keys or values) of a {@link KVCache}: `[B, H, capacity, W]` elements of a
 * storage dtype in one WASM block, and for int8 one float32 scale per row. Every
 * method addresses one sequence `b` of the batch (rows of other sequences are untouched).
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
  readonly batch: number;
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

  /** `batch = 1` keeps the tensor view `[H, capacity, W]` of an unbatched cache. */
  constructor(dtype: CacheDType, batch: number, heads: number, capacity: number, width: number) {
    this.dtype = dtype;
    this.batch = batch;
    this.heads = heads;
    this.capacity = capacity;
    this.width = width;
    const rows = batch * heads * capacity;
    if (dtype !== 'int8') {
      const shape = batch === 1 ? [heads, capacity, width] : [batch, heads, capacity, width];
      this.#tensor = Tensor.empty(shape, { dtype });
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

  /** The storage as a tensor `[H, capacity, W]` (`[B, H, capacity, W]` when batched; float dtypes only). */
  tensor(what: string): Tensor<TensorDType> {
    this.#check();
    if (this.#tensor === null) {
      throw new TypeError(`wasm-attention: KVCache ${what}: an int8 cache stores codes and row scales, not a tensor`);
    }
    return this.#tensor;
  }

  /** Bytes held: elements plus scales. */
  get bytes(): number {
    const rows = this.batch * this.heads * this.capacity;
    return rows * this.width * dtypeSize(this.dtype) + (this.dtype === 'int8' ? rows * 4 : 0);
  }

  /** First row of head `h` of sequence `b`, counted over the whole store. */
  #row(b: number, h: number): number {
    return (b * this.heads + h) * this.capacity;
  }

  /**
   * Stores rows `[h, 0..n)` of the contiguous float32 `[H, n, W]` block at `srcPtr` as
   * rows `at..at+n` of every head of sequence `b`.
   */
  write(b: number, srcPtr: number, n: number, at: number, op: string): void {
    this.#check();
    const w = this.width;
    const size = dtypeSize(this.dtype);
    const wasm = raw.wasm();
    for (let h = 0; h < this.heads; h++) {
      const src = srcPtr + h * n * w * 4;
      const row = this.#row(b, h) + at;
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

  /** Moves rows `from..from+keep` of every head of sequence `b` to the front. */
  shift(b: number, from: number, keep: number): void {
    this.#check();
    const heap = raw.heapU8();
    const rowBytes = this.width * dtypeSize(this.dtype);
    for (let h = 0; h < this.heads; h++) {
      const base = this.#elems + this.#row(b, h) * rowBytes;
      heap.copyWithin(base, base + from * rowBytes, base + (from + keep) * rowBytes);
      if (this.#scales) {
        const sb = this.#scales + this.#row(b, h) * 4;
        heap.copyWithin(sb, sb + from * 4, sb + (from + keep) * 4);
      }
    }
  }

  /**
   * The stored elements from sequence `b` on as a kernel operand: a call with batch `n`
   * reads sequences `b..b+n` (the batch stride steps over one sequence).
   */
  operand(b: number): Operand {
    this.#check();
    const { heads, capacity: cap, width: w } = this;
    const strides = { batch: heads * cap * w, head: cap * w, row: w };
    const row = this.#row(b, 0);
    return {
      ptr: this.#elems + row * w * dtypeSize(this.dtype), strides, dtype: this.dtype,
      finite: this.dtype === 'float16' && this.#finite,
      scales: this.#scales ? { ptr: this.#scales + row * 4, strides: { batch: heads * cap, head: cap, row: 1 } } : undefined,
    };
  }

  /**
   * Copies rows `[from, to)` of every head of sequence `b` as float32 into `dst`, head `h`
   * at element `at + h·stride·W`: 16-bit rows widen exactly, int8 rows dequantise to
   * `code·scale`. The decode kernel instead meets the codes with queries and weights
   * rounded to int16 in integer dot products, so the two agree to about 1e-5 (docs/runtimes.md).
   */
  read(b: number, from: number, to: number, dst: Float32Array, at: number, stride: number): void {
    this.#check();
    const n = to - from, w = this.width;
    if (n === 0) return;
    if (this.dtype === 'int8') {
      const heap = raw.heapU8();
      const codes = new Int8Array(heap.buffer, heap.byteOffset, heap.length);
      const scales = raw.heapF32();
      for (let h = 0; h < this.heads; h++) {
        const row = this.#row(b, h) + from;
        for (let r = 0; r < n; r++) {
          const scale = scales[(this.#scales >>> 2) + row + r]!;
          const src = this.#elems + (row + r) * w, out = at + (h * stride + r) * w;
          for (let t = 0; t < w; t++) dst[out + t] = codes[src + t]! * scale;
        }
      }
      return;
    }
    const size = dtypeSize(this.dtype);
    // 16-bit rows widen through one scratch block in WASM memory (all heads at once).
    const tmp = this.dtype === 'float32' ? 0 : raw.alloc(this.heads * n * w * 4);
    try {
      for (let h = 0; h < this.heads; h++) {
        const src = this.#elems + (this.#row(b, h) + from) * w * size;
        let f32 = src >>> 2;
        if (tmp !== 0) {
          const wide = tmp + h * n * w * 4;
          raw.check(raw.wasm().wa_convert(src, dtypeCode(this.dtype), wide, 0, n * w), 'KVCache read');
          f32 = wide >>> 2;
        }
        dst.set(raw.heapF32().subarray(f32, f32 + n * w), at + h * stride * w);
      }
    } finally {
      if (tmp !== 0) raw.free(tmp);
    }
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
