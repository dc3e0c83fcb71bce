// The safetensors reader against files written here by hand (header JSON + little-endian
// data, as the format's specification describes), and its errors for broken files.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, memoryStats, readSafetensors } from '../../ts/index.js';

interface Spec { dtype: string; shape: number[]; bytes: Uint8Array }

/** Writes a safetensors file: u64 header length, JSON header (space-padded to 8 bytes), data. */
function writeFile(tensors: Record<string, Spec>, metadata?: Record<string, string>, headerOverride?: string): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = headerOverride ?? JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const t of Object.values(tensors)) { out.set(t.bytes, at); at += t.bytes.length; }
  return out;
}

const le16 = (words: number[]) => new Uint8Array(new Uint16Array(words).buffer);
const f32bytes = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);

/** float16 bits → value, from the definition (sign, 5-bit exponent biased by 15, 10-bit fraction). */
function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 31, f = bits & 1023;
  if (e === 31) return f ? NaN : s * Infinity;
  if (e === 0) return s * f * 2 ** -24;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
/** bfloat16 bits → value (sign, 8-bit exponent biased by 127, 7-bit fraction). */
function bf16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 7) & 255, f = bits & 127;
  if (e === 255) return f ? NaN : s * Infinity;
  if (e === 0) return s * f * 2 ** -133;
  return s * 2 ** (e - 127) * (1 + f / 128);
}
const same = (got: ArrayLike<number>, want: number[]) =>
  want.forEach((w, i) => expect(Object.is(got[i], w) || (Number.isNaN(got[i]) && Number.isNaN(w)), `index ${i}: ${got[i]} vs ${w}`).toBe(true));

describe('safetensors reader', () => {
  it('loads F32, F16 and BF16 tensors in their own dtype (bits as stored) or widened, keeps metadata and order', () => {
    const f32 = [1.5, -2.25, 3e-39, 1e30, -0, 7];
    // float16: 1, -2, max 65504, smallest subnormal, largest subnormal, -0, ±inf, NaN, 0.1 ≈ 0x2e66, every exponent once.
    const h16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x2e66,
      ...Array.from({ length: 30 }, (_, e) => ((e + 1) << 10) | (e * 37 % 1024))];
    // bfloat16: 1, -1.5, 3.140625 (0x4049), a subnormal, the largest finite, -inf, NaN, 0.
    const b16 = [0x3f80, 0xbfc0, 0x4049, 0x0001, 0x7f7f, 0xff80, 0x7fc0, 0x0000];
    const file = writeFile({
      'a.weight': { dtype: 'F32', shape: [2, 3], bytes: f32bytes(f32) },
      'b.half': { dtype: 'F16', shape: [h16.length], bytes: le16(h16) },
      'c.bf16': { dtype: 'BF16', shape: [2, 2, 2], bytes: le16(b16) },
      'd.ids': { dtype: 'I64', shape: [2], bytes: new Uint8Array(16) },
      'e.scalar': { dtype: 'F32', shape: [], bytes: f32bytes([42]) },
    }, { format: 'pt' });
    // A Node Buffer at a non-zero, odd offset of a bigger allocation (data not 4-byte aligned).
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const st = readSafetensors(big.subarray(3));
    expect(st.names()).toEqual(['a.weight', 'b.half', 'c.bf16', 'd.ids', 'e.scalar']);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.entry('c.bf16')).toMatchObject({ dtype: 'BF16', shape: [2, 2, 2] });
    using a = st.tensor('a.weight');
    expect(a.shape).toEqual([2, 3]);
    same(a.data, f32.map(Math.fround));
    using b16raw = st.tensor('b.half');
    expect(b16raw.dtype).toBe('float16');
    expect(Array.from(b16raw.data)).toEqual(h16);
    using b = st.tensor('b.half', { dtype: 'float32' });
    expect(b.dtype).toBe('float32');
    same(b.data, h16.map(half));
    same(b16raw.toArray(), h16.map(half));
    using craw = st.tensor('c.bf16');
    expect(craw.dtype).toBe('bfloat16');
    expect(Array.from(craw.data)).toEqual(b16);
    using c = st.tensor('c.bf16', { dtype: 'float32' });
    expect(c.shape).toEqual([2, 2, 2]);
    same(c.data, b16.map(bf16));
    // Narrowing on load: float32 → float16 rounds to nearest even (1.5, −2.25 and 7 are exact; 3e-39 → 0; 1e30 → ∞).
    using a16 = st.tensor('a.weight', { dtype: 'float16' });
    same(a16.toArray(), [1.5, -2.25, 0, Infinity, -0, 7]);
    // Half to the other half goes through float32: bfloat16 1 → float16 0x3c00.
    using cb = st.tensor('c.bf16', { dtype: 'float16' });
    expect(cb.data[0]).toBe(0x3c00);
    // Packing: two tensors into one float32 matrix, converted on the way.
    using packed = Tensor.zeros([2 + 2 * 2 * 2]);
    expect(st.copyInto('e.scalar', packed, 1)).toBe(1);
    expect(st.copyInto('c.bf16', packed, 2)).toBe(8);
    same(packed.data, [0, 42, ...b16.map(bf16)]);
    expect(() => st.copyInto('c.bf16', packed, 3)).toThrow(/tensor "c.bf16" \(8 values\) does not fit at 3 in a tensor of 10/);
    expect(() => st.tensor('a.weight', { dtype: 'int8' as never })).toThrow(/dtype must be 'float32', 'float16', 'bfloat16'/);
    using e = st.tensor('e.scalar');
    expect(e.shape).toEqual([]);
    expect(e.data[0]).toBe(42);
    expect(() => st.tensor('d.ids')).toThrow(/tensor "d.ids" has dtype I64; only F32, F16, BF16 load into Tensors/);
    expect(() => st.tensor('nope')).toThrow(/no tensor named "nope" \(the file holds 5: a.weight, b.half/);
    expect(readSafetensors(file.slice().buffer as ArrayBuffer).names().length).toBe(5);
  });

  it('every float16 bit pattern widens (on load, by the kernels) to the value its definition gives', () => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const st = readSafetensors(writeFile({ h: { dtype: 'F16', shape: [65536], bytes: le16(all) } }));
    using t = st.tensor('h', { dtype: 'float32' });
    const d = t.data;
    for (let i = 0; i < 65536; i++) {
      const w = half(i);
      if (!(Object.is(d[i], w) || (Number.isNaN(d[i]) && Number.isNaN(w)))) throw new Error(`0x${i.toString(16)}: ${d[i]} vs ${w}`);
    }
  });

  it('clear errors for truncated files, bad headers and unknown dtypes', () => {
    const good = writeFile({ w: { dtype: 'F32', shape: [4], bytes: f32bytes([1, 2, 3, 4]) } });
    expect(() => readSafetensors(good.subarray(0, 5))).toThrow(/truncated file: 5 bytes, less than the 8-byte header length/);
    expect(() => readSafetensors(good.subarray(0, 20))).toThrow(/truncated file: the header needs \d+ bytes but only 12 follow/);
    expect(() => readSafetensors(good.subarray(0, good.length - 1))).toThrow(/truncated file: tensor "w" ends at byte 16 of the data but the file holds 15 data bytes/);
    expect(() => readSafetensors(writeFile({}, undefined, '{"w": '))).toThrow(/bad header: not UTF-8 JSON/);
    expect(() => readSafetensors(writeFile({}, undefined, '[1, 2]'))).toThrow(/bad header: it must begin with "\{", got byte 0x5b/);
    expect(() => readSafetensors(writeFile({}, undefined, '{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}')))
      .toThrow(/tensor "w" \(F32 \[3\]\) needs 12 bytes but data_offsets \[0, 16\] hold 16/);
    expect(() => readSafetensors(writeFile({}, undefined, '{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}')))
      .toThrow(/tensor "w" has an invalid shape \[-1\]/);
    expect(() => readSafetensors(writeFile({}, undefined, '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4]}}')))
      .toThrow(/tensor "w" has invalid data_offsets \[4\]/);
    expect(() => readSafetensors(writeFile({ w: { dtype: 'F4', shape: [2], bytes: new Uint8Array(1) } })))
      .toThrow(/unknown dtype "F4" of tensor "w"/);
    expect(() => readSafetensors(writeFile({}, undefined, '{"__metadata__": {"a": 1}}'))).toThrow(/__metadata__ must map names to strings/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(4, 1, true); // 2³² header bytes
    expect(() => readSafetensors(huge)).toThrow(/bad header: its length 4294967296 exceeds/);
    expect(() => readSafetensors('file.safetensors' as never)).toThrow(/expected an ArrayBuffer or Uint8Array, got string/);
  });

  it('as strict as the reference reader: "{" first, unique names, every data byte in exactly one tensor, own dtypes', () => {
    const blocks = memoryStats().liveBlocks;
    const entry = (dtype: string, shape: unknown, off: [number, number]) => ({ dtype, shape, data_offsets: off });
    /** A file from raw header text (so names may repeat) and `data` bytes. */
    const raw = (header: string, data = 0) => {
      const h = new TextEncoder().encode(header);
      const out = new Uint8Array(8 + h.length + data);
      new DataView(out.buffer).setUint32(0, h.length, true);
      out.set(h, 8);
      return out;
    };
    const obj = (...kv: [string, unknown][]) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
    const w = entry('F32', [2], [0, 8]);
    const cases: [Uint8Array, RegExp][] = [
      [raw(`\uFEFF${obj(['w', w])}`, 8), /bad header: it must begin with "\{", got byte 0xef/],
      [raw(` ${obj(['w', w])}`, 8), /bad header: it must begin with "\{", got byte 0x20/],
      [raw('', 0), /bad header: it must begin with "\{", got an empty header/],
      [raw(obj(['w', w], ['w', entry('F32', [1], [0, 4])]), 8), /bad header: the name "w" appears more than once/],
      [raw(obj(['w', w], ['\u0077', w]), 8), /the name "w" appears more than once/],
      [raw(obj(['w', w], ['v', entry('F32', [2], [0, 8])]), 8), /tensor "v" at data_offsets \[0, 8\] overlaps another tensor/],
      [raw(obj(['a', entry('F32', [2], [0, 8])], ['b', entry('F32', [2], [4, 12])]), 12), /tensor "b" at data_offsets \[4, 12\] overlaps another tensor/],
      [raw(obj(['a', entry('F32', [1], [0, 4])], ['b', entry('F32', [1], [8, 12])]), 12), /data bytes \[4, 8\) belong to no tensor \(before "b"\)/],
      [raw(obj(['a', entry('F32', [1], [4, 8])]), 8), /data bytes \[0, 4\) belong to no tensor/],
      [raw(obj(['w', w]), 9), /its last 1 bytes belong to no tensor/],
      [raw(obj(['w', entry('constructor', [2], [0, 8])]), 8), /unknown dtype "constructor" of tensor "w"/],
      [raw(obj(['w', entry('toString', [2], [0, 8])]), 8), /unknown dtype "toString"/],
      [raw(obj(['__metadata__', { a: { b: 'c' } }], ['w', w]), 8), /__metadata__ must map names to strings/],
      [raw(obj(['__metadata__', ['x']], ['w', w]), 8), /__metadata__ must map names to strings/],
      [raw(obj(['w', entry('F32', [2 ** 40, 2 ** 40], [0, 8])]), 8), /needs [\d.e+]+ bytes but data_offsets \[0, 8\] hold 8/],
      [raw(obj(['w', entry('F32', [2.5], [0, 8])]), 8), /invalid shape \[2.5\]/],
      [raw(obj(['w', [1, 2]]), 8), /entry "w" is not an object/],
    ];
    for (const [bytes, re] of cases) {
      let thrown: unknown = null;
      try { readSafetensors(bytes); } catch (e) { thrown = e; }
      expect(thrown, String(re)).toBeInstanceOf(RangeError);
      expect((thrown as Error).message, String(re)).toMatch(re);
      expect((thrown as Error).message).toMatch(/^wasm-attention: safetensors: /);
    }
    // Zero-sized tensors take no bytes anywhere in the order; an empty file of no tensors is fine.
    const ok = readSafetensors(raw(obj(['e', entry('F32', [0, 3], [8, 8])], ['w', w], ['z', entry('I64', [0], [0, 0])]), 8));
    expect(ok.names()).toEqual(['e', 'w', 'z']);
    expect(readSafetensors(raw('{}')).names()).toEqual([]);
    expect(memoryStats().liveBlocks).toBe(blocks);
  });

  it('mutated files (fast-check): each one reads exactly the file\'s bytes for every tensor, or throws a clear Error', () => {
    const DTYPES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };
    const tensorArb = fc.record({
      dtype: fc.constantFrom(...Object.keys(DTYPES)),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      seed: fc.nat(255),
    });
    const names = fc.uniqueArray(fc.constantFrom('a', 'b.weight', 'c', '__proto__', 'constructor', 'd\u00e9'), { minLength: 1, maxLength: 4 });
    const fileArb = fc.tuple(names, fc.array(tensorArb, { minLength: 4, maxLength: 4 }), fc.boolean());
    const anyValue = fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(2 ** 53), fc.constant(1.5), fc.constant('3'), fc.constant(null),
      fc.constant([]), fc.constant({}));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), by: fc.integer({ min: 1, max: 9 }) }),
      fc.record({ kind: fc.constant('offsets' as const), i: fc.nat(3), off: fc.oneof(fc.tuple(anyValue, anyValue), fc.array(fc.nat(40), { maxLength: 3 })) }),
      fc.record({ kind: fc.constant('dtype' as const), i: fc.nat(3), dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'F64', 'constructor', '__proto__', 'hasOwnProperty', 'f32', '', 'F8_E4M3') }),
      fc.record({ kind: fc.constant('shape' as const), i: fc.nat(3), shape: fc.oneof(fc.array(anyValue, { maxLength: 3 }), anyValue) }),
      fc.record({ kind: fc.constant('rename' as const), i: fc.nat(3), j: fc.nat(3) }),
      fc.record({ kind: fc.constant('drop' as const), i: fc.nat(3) }),
      fc.record({ kind: fc.constant('metadata' as const), value: fc.oneof(fc.constant({ k: 'v' }), fc.constant({ k: 1 }), fc.constant('x'), fc.constant({ k: { n: 'v' } })) }),
      fc.record({ kind: fc.constant('prefix' as const), text: fc.constantFrom('\uFEFF', ' ', '\n', '[', '"') }),
    );
    const blocks = memoryStats().liveBlocks;
    let accepted = 0, rejected = 0;
    fc.assert(fc.property(fileArb, mutation, ([ns, specs, meta], m) => {
      // The valid file: tensors in order, back to back.
      let entries: [string, Record<string, unknown>][] = [];
      const chunks: Uint8Array[] = [];
      let at = 0;
      ns.forEach((name, i) => {
        const t = specs[i]!, n = t.shape.reduce((p, d) => p * d, 1) * DTYPES[t.dtype]!;
        chunks.push(Uint8Array.from({ length: n }, (_, b) => (t.seed * 31 + b * 7) & 255));
        entries.push([name, { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + n] }]);
        at += n;
      });
      let prefix = '';
      if (meta) entries.unshift(['__metadata__', { format: 'pt' }]);
      const pick = (i: number) => entries.filter(([k]) => k !== '__metadata__')[i % ns.length]!;
      if (m.kind === 'offsets') pick(m.i)[1] = { ...pick(m.i)[1], data_offsets: m.off };
      if (m.kind === 'dtype') pick(m.i)[1] = { ...pick(m.i)[1], dtype: m.dtype };
      if (m.kind === 'shape') pick(m.i)[1] = { ...pick(m.i)[1], shape: m.shape };
      if (m.kind === 'rename') pick(m.i)[0] = pick(m.j)[0];
      if (m.kind === 'drop') { const e = pick(m.i); entries = entries.filter((x) => x !== e); }
      if (m.kind === 'metadata') entries.unshift(['__metadata__', m.value as Record<string, unknown>]);
      if (m.kind === 'prefix') prefix = m.text;
      const header = new TextEncoder().encode(`${prefix}{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
      let bytes = new Uint8Array(8 + header.length + at);
      new DataView(bytes.buffer).setUint32(0, header.length, true);
      bytes.set(header, 8);
      let o = 8 + header.length;
      for (const c of chunks) { bytes.set(c, o); o += c.length; }
      if (m.kind === 'flip') bytes[m.at % bytes.length] ^= m.xor;
      if (m.kind === 'truncate') bytes = bytes.subarray(0, m.at % bytes.length);
      if (m.kind === 'extend') { const b = new Uint8Array(bytes.length + m.by); b.set(bytes); bytes = b; }
      let file;
      try {
        file = readSafetensors(bytes);
      } catch (e) {
        rejected++;
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^wasm-attention: safetensors: \S/);
        return;
      }
      accepted++;
      // Accepted: the tensors tile the data section, and each reads exactly its bytes.
      const all = file.names().map((n) => file.entry(n)).sort((x, y) => x.begin - y.begin || x.end - y.end);
      let end = bytes.length - all.reduce((s, e) => s + e.end - e.begin, 0);
      for (const e of all) { expect(e.begin).toBe(end); end = e.end; }
      expect(end).toBe(bytes.length);
      for (const e of all) {
        if (e.tensorDtype === null) continue;
        const t = file.tensor(e.name);
        try {
          const d = t.data;
          expect(new Uint8Array(d.buffer, d.byteOffset, t.bytes)).toEqual(bytes.subarray(e.begin, e.end));
        } finally {
          t.dispose();
        }
      }
    }), { numRuns: 3000, seed: 18 });
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
    expect(memoryStats().liveBlocks).toBe(blocks);
  });
});
