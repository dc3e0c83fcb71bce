/**
 * Reader of the safetensors format (Hugging Face): an 8-byte little-endian header length
 * `N`, `N` bytes of JSON — `{ name: { dtype, shape, data_offsets: [begin, end] }, …,
 * "__metadata__": { … } }` — then the tensors' little-endian bytes, offsets relative to
 * the end of the header.
 *
 * `readSafetensors` checks the whole header up front, as strictly as the reference reader
 * (Hugging Face's `safetensors` crate): the JSON begins with `{`, names are unique, byte
 * lengths match shape × dtype, and every byte of the data section belongs to exactly one
 * tensor (no gaps, overlaps or trailing bytes). A truncated or malformed file fails
 * before anything is allocated. `tensor(name)` then makes one copy into WASM memory: `F32`,
 * `F16` and `BF16` bytes become a `Tensor` of the same storage dtype as they are (WASM
 * memory is little-endian like the file, on every host). Asked for another dtype, the
 * bytes are staged in WASM memory and converted by the kernels (`Tensor.to`'s exact
 * conversions, rounding to nearest even when narrowing).
 */
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';
import { dtypeArg, dtypeCode, type TensorDType } from '../dtype.js';
import { describe, formatShape } from '../shape.js';
import type { RowBytes } from '../ops/linear.js';

/** Bytes per element of every dtype the format defines (a Map: no inherited keys such as "constructor"). */
const DTYPE_BYTES: ReadonlyMap<string, number> = new Map(Object.entries({
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
}));

/** The floating-point dtypes `tensor()` loads. */
export const SAFETENSORS_FLOAT_DTYPES = ['F32', 'F16', 'BF16'] as const;

/** The Tensor dtype of each loadable file dtype. */
const TENSOR_DTYPE: Record<(typeof SAFETENSORS_FLOAT_DTYPES)[number], TensorDType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16',
};
const DTYPES: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/** Options of {@link SafetensorsFile.tensor}. */
export interface SafetensorsTensorOptions {
  /** Storage dtype of the result. @defaultValue the file's (F32 → float32, F16 → float16, BF16 → bfloat16) */
  dtype?: TensorDType;
}

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  /** Tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  readonly name: string;
  /** Storage dtype as the file spells it (`F32`, `F16`, `BF16`, `I64`, …). */
  readonly dtype: string;
  /** The Tensor dtype `tensor()` gives by default (`F16` → float16, …); null for a dtype that does not load. */
  readonly tensorDtype: TensorDType | null;
  /** Sizes, outermost first. */
  readonly shape: readonly number[];
  /** Byte range inside the file (absolute, after the header): first byte. */
  readonly begin: number;
  /** End of the byte range (exclusive). */
  readonly end: number;
}

const MAX_HEADER = 100 * 1024 * 1024;

/** The header's tensors and metadata, checked (see {@link headerEntries}). @internal */
export interface SafetensorsHeader {
  readonly entries: Map<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
  /** Where the data section ends: the last tensor's end (absolute, as the entries' offsets). */
  readonly end: number;
}

/**
 * The length `N` of the header from a file's first 8 bytes, checked against the limit.
 * @internal
 */
export function headerLength(first8: Uint8Array, fail: (what: string) => never): number {
  if (first8.length < 8) fail(`truncated file: ${first8.length} bytes, less than the 8-byte header length`);
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (n > MAX_HEADER) fail(`bad header: its length ${n} exceeds ${MAX_HEADER} bytes`);
  return n;
}

/**
 * Parses and checks the header JSON `json` (the `N` bytes after the length) of a file whose
 * data section starts at byte `start` and holds `dataLength` bytes (`null` when not known
 * yet: a stream without a length, checked against `end` as it arrives).
 * @internal
 */
export function headerEntries(json: Uint8Array, start: number, dataLength: number | null,
  fail: (what: string) => never): SafetensorsHeader {
  const n = json.length;
  // As the reference reader: the JSON starts at the first byte (no BOM, no leading space).
  if (n === 0 || json[0] !== 0x7b) fail(`bad header: it must begin with "{", got ${n === 0 ? 'an empty header' : `byte 0x${json[0]!.toString(16)}`}`);
  let parsed: unknown, text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`bad header: not UTF-8 JSON (${(e as Error).message})`);
  }
  // JSON.parse keeps the last of duplicated names: a file could then show one tensor and load another.
  const dup = duplicateKey(text);
  if (dup !== null) fail(`bad header: the name ${JSON.stringify(dup)} appears more than once`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail(`bad header: expected a JSON object, got ${describe(parsed)}`);
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v as object).some((s) => typeof s !== 'string')) {
        fail('bad header: __metadata__ must map names to strings');
      }
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) fail(`bad header: entry "${name}" is not an object`);
    const { dtype, shape, data_offsets: off } = e!;
    if (typeof dtype !== 'string' || !DTYPE_BYTES.has(dtype)) {
      fail(`unknown dtype ${JSON.stringify(dtype)} of tensor "${name}" (the format defines ${[...DTYPE_BYTES.keys()].join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`bad header: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[1] < off[0]) {
      fail(`bad header: tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [b, en] = off as [number, number];
    const want = (shape as number[]).reduce((p, d) => p * d, 1) * DTYPE_BYTES.get(dtype as string)!;
    if (!Number.isSafeInteger(want) || en - b !== want) {
      fail(`bad header: tensor "${name}" (${dtype as string} ${formatShape(shape as number[])}) needs ${want} bytes but data_offsets [${b}, ${en}] hold ${en - b}`);
    }
    if (dataLength !== null && en > dataLength) {
      fail(`truncated file: tensor "${name}" ends at byte ${en} of the data but the file holds ${dataLength} data bytes`);
    }
    entries.set(name, Object.freeze({
      name, dtype: dtype as string,
      tensorDtype: Object.hasOwn(TENSOR_DTYPE, dtype as string) ? TENSOR_DTYPE[dtype as keyof typeof TENSOR_DTYPE] : null,
      shape: Object.freeze((shape as number[]).slice()), begin: start + b, end: start + en,
    }));
  }
  // Every data byte belongs to exactly one tensor (the reference reader's rule): sorted by
  // offset, each tensor starts where the previous one ends and the last ends the file.
  let at = start;
  for (const e of [...entries.values()].sort((x, y) => x.begin - y.begin || x.end - y.end)) {
    if (e.begin > at) fail(`bad header: data bytes [${at - start}, ${e.begin - start}) belong to no tensor (before "${e.name}")`);
    if (e.begin < at) fail(`bad header: tensor "${e.name}" at data_offsets [${e.begin - start}, ${e.end - start}] overlaps another tensor`);
    at = e.end;
  }
  if (dataLength !== null && at !== start + dataLength) {
    fail(`bad file: its last ${start + dataLength - at} bytes belong to no tensor (the data section holds ${dataLength} bytes, the tensors ${at - start})`);
  }
  return { entries, metadata, end: at };
}

/**
 * A parsed safetensors file: over the caller's bytes (kept, not copied), or, for a file
 * streamed in by a model loader, over the tensors that have arrived.
 */
export class SafetensorsFile {
  /** The `__metadata__` strings. @defaultValue {} */
  readonly metadata: Readonly<Record<string, string>>;
  /** The bytes of entry `e`. */
  readonly #read: (e: SafetensorsEntry) => Uint8Array;
  readonly #entries: Map<string, SafetensorsEntry>;

  private constructor(read: (e: SafetensorsEntry) => Uint8Array, entries: Map<string, SafetensorsEntry>, metadata: Record<string, string>) {
    this.#read = read;
    this.#entries = entries;
    this.metadata = Object.freeze(metadata);
  }

  /** Parses and checks the header of `bytes` (an `ArrayBuffer`, `Uint8Array` or Node `Buffer`). */
  static parse(bytes: ArrayBuffer | ArrayBufferView): SafetensorsFile {
    const u8 = toBytes(bytes);
    const fail = (what: string): never => { throw new RangeError(`wasm-attention: safetensors: ${what}`); };
    const n = headerLength(u8.subarray(0, 8), fail);
    if (8 + n > u8.length) fail(`truncated file: the header needs ${n} bytes but only ${u8.length - 8} follow`);
    const { entries, metadata } = headerEntries(u8.subarray(8, 8 + n), 8 + n, u8.length - 8 - n, fail);
    const read = (e: SafetensorsEntry): Uint8Array => {
      const src = u8.subarray(e.begin, e.end);
      if (src.length !== e.end - e.begin) {
        throw new Error(`wasm-attention: safetensors: the file's bytes are gone (its ArrayBuffer was detached or transferred after parsing); parse it again`);
      }
      return src;
    };
    return new SafetensorsFile(read, entries, metadata);
  }

  /**
   * A file whose entries are known (from one or more headers) and whose tensors' bytes
   * `read(entry)` gives once they have arrived. @internal
   */
  static streamed(entries: Map<string, SafetensorsEntry>, metadata: Record<string, string>,
    read: (e: SafetensorsEntry) => Uint8Array): SafetensorsFile {
    return new SafetensorsFile(read, entries, metadata);
  }

  /** Names of the tensors, in header order. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Whether the file holds `name`. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The header entry of `name`; throws a RangeError naming close matches when absent. */
  entry(name: string): SafetensorsEntry {
    const e = this.#entries.get(name);
    if (e === undefined) {
      throw new RangeError(`wasm-attention: safetensors: no tensor named "${name}" (the file holds ${this.#entries.size}: ${this.names().slice(0, 8).join(', ')}${this.#entries.size > 8 ? ', …' : ''})`);
    }
    return e;
  }

  /**
   * Copies tensor `name` into a new `Tensor` of the file's dtype (one copy of its bytes),
   * or of `options.dtype` (converted in WASM memory). Integer and 8-bit float tensors
   * throw a TypeError. The caller owns the result.
   */
  tensor(name: string, options: SafetensorsTensorOptions = {}): Tensor<TensorDType> {
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: safetensors: tensor options must be an object, got ${describe(options)}`);
    }
    const e = this.#floatEntry(name);
    const dtype = options.dtype === undefined ? e.tensorDtype!
      : dtypeArg(options.dtype, DTYPES, 'safetensors: tensor');
    const t = Tensor.empty(e.shape, { dtype });
    try {
      this.#copy(e, t, 0);
    } catch (err) {
      t.dispose();
      throw err;
    }
    return t;
  }

  /**
   * Copies tensor `name` into `target` starting at element `offset` (e.g. to pack several
   * weights into one matrix with a single copy each), converting to `target`'s dtype if it
   * differs; returns the number of elements.
   */
  copyInto(name: string, target: Tensor<TensorDType>, offset = 0): number {
    const e = this.#floatEntry(name);
    const n = e.shape.reduce((p, d) => p * d, 1);
    if (!(target instanceof Tensor) || target.disposed) {
      throw new TypeError(`wasm-attention: safetensors: copyInto needs a live Tensor, got ${describe(target)}`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + n > target.size) {
      throw new RangeError(`wasm-attention: safetensors: tensor "${name}" (${n} values) does not fit at ${String(offset)} in a tensor of ${target.size}`);
    }
    this.#copy(e, target, offset);
    return n;
  }

  /**
   * Tensor `name` (2-D, a float dtype) as rows of raw bytes for `Weight.fromBytes`: the
   * bytes are read from the file when the weight copies them, not before. @internal
   */
  rowBytes(name: string): RowBytes {
    const e = this.#floatEntry(name);
    if (e.shape.length !== 2) {
      throw new RangeError(`wasm-attention: safetensors: tensor "${name}" has shape [${e.shape.join(', ')}]; a weight is 2-D`);
    }
    return {
      rows: e.shape[0]!,
      dtype: e.tensorDtype as RowBytes['dtype'],
      read: () => this.#read(e),
    };
  }

  #floatEntry(name: string): SafetensorsEntry {
    const e = this.entry(name);
    if (!(SAFETENSORS_FLOAT_DTYPES as readonly string[]).includes(e.dtype)) {
      throw new TypeError(`wasm-attention: safetensors: tensor "${name}" has dtype ${e.dtype}; only ${SAFETENSORS_FLOAT_DTYPES.join(', ')} load into Tensors`);
    }
    return e;
  }

  /** Writes entry `e` into `dst` from element `offset` on, in `dst`'s dtype. */
  #copy(e: SafetensorsEntry, dst: Tensor<TensorDType>, offset: number): void {
    const src = this.#read(e);
    const from = e.tensorDtype!, n = src.length / (from === 'float32' ? 4 : 2);
    const bytesAt = (t: Tensor<TensorDType>, at: number, count: number) => {
      const d = t.data, size = t.dtype === 'float32' ? 4 : 2;
      return new Uint8Array(d.buffer, d.byteOffset + at * size, count * size);
    };
    if (from === dst.dtype) {
      bytesAt(dst, offset, n).set(src);
      return;
    }
    // Stage the file's bytes in WASM memory, then convert with the kernels (via float32
    // when both dtypes are 16-bit).
    const staged = Tensor.empty([n], { dtype: from });
    let wide: Tensor | null = null;
    try {
      bytesAt(staged, 0, n).set(src);
      const dstSize = dst.dtype === 'float32' ? 4 : 2;
      let srcPtr = staged.ptr, srcCode = dtypeCode(from);
      if (from !== 'float32' && dst.dtype !== 'float32') {
        wide = Tensor.empty([n]);
        raw.check(raw.wasm().wa_convert(srcPtr, srcCode, wide.ptr, 0, n), 'safetensors');
        srcPtr = wide.ptr;
        srcCode = 0;
      }
      raw.check(raw.wasm().wa_convert(srcPtr, srcCode, dst.ptr + offset * dstSize, dtypeCode(dst.dtype), n), 'safetensors');
    } finally {
      staged.dispose();
      wide?.dispose();
    }
  }
}

/** Parses a safetensors file; see {@link SafetensorsFile}. */
export function readSafetensors(bytes: ArrayBuffer | ArrayBufferView): SafetensorsFile {
  return SafetensorsFile.parse(bytes);
}

function toBytes(x: unknown): Uint8Array {
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  // Bytes held in WASM memory are copied: tensor() allocates, and growth would detach them.
  if (ArrayBuffer.isView(x)) return raw.stableSource(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), 'safetensors: bytes');
  throw new TypeError(`wasm-attention: safetensors: expected an ArrayBuffer or Uint8Array, got ${describe(x)}`);
}

/**
 * The first name that appears twice in one object of the JSON `text` (already parsed, so
 * valid), or null. Scans tokens: a string followed by `:` is a key of the innermost object.
 */
function duplicateKey(text: string): string | null {
  const objects: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x7b) objects.push(new Set());
    else if (ch === 0x5b) objects.push(null);
    else if (ch === 0x7d || ch === 0x5d) objects.pop();
    else if (ch === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const keys = objects[objects.length - 1];
      let k = j + 1;
      while (k < text.length && ' \t\n\r'.includes(text[k]!)) k++;
      if (keys && text.charCodeAt(k) === 0x3a) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = j;
    }
  }
  return null;
}
