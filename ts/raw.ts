/**
 * The one module that touches the wasm-bindgen glue and the raw exports.
 *
 * Everything else in `ts/` goes through these functions: allocation, views of
 * WASM memory that survive growth, and the status codes the kernels return.
 * @internal
 */
import { initSync as glueInitSync } from '../pkg/glue.js';

import type { RawExports } from './raw-exports.js';

export type { RawExports };

/** Length in u32 words of the attention call descriptor (crates/wasm/src/attention.rs). */
export const DESCRIPTOR_WORDS = 48;

let raw: RawExports | null = null;
let rawModule: WebAssembly.Module | null = null;
/** Bumped on every instantiation; tensors from an older instance are invalid. */
let generation = 0;
let f32Cache: Float32Array | null = null;
let u32Cache: Uint32Array | null = null;
let u16Cache: Uint16Array | null = null;
let u8Cache: Uint8Array | null = null;
/** Byte offset of this instance's call descriptor block. */
let descriptorPtr = 0;

/** Instantiates a compiled module and makes it the active instance. */
export function instantiate(module: WebAssembly.Module): RawExports {
  const active = glueInitSync(module) as unknown as RawExports;
  if (typeof active.wa_alloc !== 'function' || typeof active.wa_sgemm !== 'function') {
    throw new TypeError('wasm-attention: the given WebAssembly.Module is not a wasm-attention binary');
  }
  raw = active;
  rawModule = module;
  generation += 1;
  f32Cache = null;
  u32Cache = null;
  u16Cache = null;
  u8Cache = null;
  descriptorPtr = alloc(DESCRIPTOR_WORDS * 4);
  return active;
}

/** Drops the active instance (its tensors become invalid). */
export function deactivate(): void {
  raw = null;
  rawModule = null;
  generation += 1;
  f32Cache = null;
  u32Cache = null;
  u16Cache = null;
  u8Cache = null;
}

/** The active instance's exports; throws when `init()` has not completed. */
export function wasm(): RawExports {
  if (raw === null) {
    throw new Error('wasm-attention is not initialised: call `await init()` (or `initSync(...)`) first');
  }
  return raw;
}

export function isReady(): boolean {
  return raw !== null;
}

export function activeModule(): WebAssembly.Module | null {
  return rawModule;
}

export function currentGeneration(): number {
  return generation;
}

/** A Float32Array over all of WASM memory, rebuilt when growth replaced the buffer. */
export function heapF32(): Float32Array {
  const buffer = wasm().memory.buffer;
  if (f32Cache === null || f32Cache.buffer !== buffer) {
    f32Cache = new Float32Array(buffer);
  }
  return f32Cache;
}

/** A Uint32Array over all of WASM memory, rebuilt when growth replaced the buffer. */
export function heapU32(): Uint32Array {
  const buffer = wasm().memory.buffer;
  if (u32Cache === null || u32Cache.buffer !== buffer) {
    u32Cache = new Uint32Array(buffer);
  }
  return u32Cache;
}

/** A Uint16Array over all of WASM memory (16-bit dtypes' bits), rebuilt when growth replaced the buffer. */
export function heapU16(): Uint16Array {
  const buffer = wasm().memory.buffer;
  if (u16Cache === null || u16Cache.buffer !== buffer) {
    u16Cache = new Uint16Array(buffer);
  }
  return u16Cache;
}

/** A Uint8Array over all of WASM memory, rebuilt when growth replaced the buffer. */
export function heapU8(): Uint8Array {
  const buffer = wasm().memory.buffer;
  if (u8Cache === null || u8Cache.buffer !== buffer) {
    u8Cache = new Uint8Array(buffer);
  }
  return u8Cache;
}

/** The descriptor block (zeroed) as a word view, and its byte offset. */
export function descriptor(): { words: Uint32Array; ptr: number } {
  const words = heapU32().subarray(descriptorPtr >>> 2, (descriptorPtr >>> 2) + DESCRIPTOR_WORDS);
  words.fill(0);
  return { words, ptr: descriptorPtr };
}

/** Largest number of bytes one block may have (WASM32 addresses 4 GiB). */
export const MAX_BYTES = 2 ** 32 - 2 ** 16;

/** Allocates `bytes` (16-byte aligned) or throws a RangeError naming the size. */
export function alloc(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_BYTES) {
    throw new RangeError(`wasm-attention: cannot allocate ${bytes} bytes (WASM memory is limited to 4 GiB)`);
  }
  const ptr = wasm().wa_alloc(bytes) >>> 0;
  if (ptr === 0) {
    const have = wasm().memory.buffer.byteLength;
    throw new RangeError(
      `wasm-attention: out of WASM memory allocating ${bytes} bytes (memory is ${have} bytes; the limit is 4 GiB)`);
  }
  return ptr;
}

/**
 * Throws a TypeError naming `what` when `data` is a view of a detached buffer: a view of
 * WASM memory taken before an allocation grew memory (growth detaches the old buffer, and
 * such a view reads as empty), rather than letting it pass as zero values.
 */
export function checkAttached(data: unknown, what: string): void {
  if (!ArrayBuffer.isView(data) || data.byteLength !== 0) return;
  try {
    // Node 20 has no ArrayBuffer.prototype.detached; a view of a detached buffer cannot be made.
    void new Uint8Array(data.buffer as ArrayBuffer, 0, 0);
  } catch {
    throw new TypeError(`wasm-attention: ${what} is a view of a detached ArrayBuffer ` +
      '(a view of WASM memory taken before memory grew: read tensor.data again, or copy it with .slice())');
  }
}

/**
 * `data`, or a copy of it when it is a view of this module's WASM memory, for calls that
 * allocate before they read their input: an allocation may grow memory, which detaches
 * every view of the old buffer (so `Tensor.from(t.data)` would read nothing). Views of a
 * detached buffer throw (see {@link checkAttached}).
 */
export function stableSource<T>(data: T, what: string): T {
  checkAttached(data, what);
  if (raw !== null && ArrayBuffer.isView(data) && data.buffer === raw.memory.buffer && !(data instanceof DataView)) {
    return (data as unknown as { slice(): T }).slice();
  }
  return data;
}

export function free(ptr: number): void {
  wasm().wa_free(ptr);
}

/** Status codes of `crates/wasm/src/status.rs`. */
const STATUS_TEXT: Record<number, string> = {
  1: 'a pointer or length lies outside memory this module allocated',
  2: 'inconsistent sizes or strides',
  3: 'the output overlaps an input',
  4: 'out of WASM memory for scratch space',
};

/** Throws when a kernel returned a non-zero status. */
export function check(status: number, op: string): void {
  if (status !== 0) {
    const text = STATUS_TEXT[status] ?? `unknown status ${status}`;
    const Ctor = status === 2 || status === 4 ? RangeError : Error;
    throw new Ctor(`wasm-attention: ${op} rejected by the kernel: ${text}`);
  }
}
