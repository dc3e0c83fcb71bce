// The exported kernels check every pointer and length against the blocks the
// module allocated: wrong calls return a status instead of touching memory they
// do not own, and never trap (a trap would leave the instance unusable).
import { describe, expect, it } from 'vitest';
import { initInfo } from '../../ts/index.js';
import type { RawExports } from '../../ts/raw-exports.js';

/** The raw exports' types, generated from the binding crate's declarations (scripts/raw-exports.mjs). */
type Raw = RawExports;

/** A private instance of the active binary, so these calls cannot disturb other tests. */
function instance(): Raw {
  const module = initInfo()!.module;
  return new WebAssembly.Instance(module, { wbg: {} }).exports as unknown as Raw;
}

const BAD_POINTER = 1, BAD_SHAPE = 2, ALIASED = 3;

describe('raw ABI bounds checks', () => {
  it('sgemm rejects foreign, out-of-range, misaligned and aliased pointers', () => {
    const w = instance();
    const a = w.wa_alloc(16 * 4), b = w.wa_alloc(16 * 4), c = w.wa_alloc(16 * 4);
    const heap = () => new Float32Array(w.memory.buffer);
    heap().fill(0, a >> 2, (a >> 2) + 16);
    const sentinel = w.wa_alloc(64);
    heap().fill(7, sentinel >> 2, (sentinel >> 2) + 16);
    expect(w.wa_sgemm(4, 4, 4, 1, a, 4, b, 4, 0, 0, c, 4)).toBe(0);
    expect(w.wa_sgemm(4, 4, 5, 1, a, 4, b, 5, 0, 0, c, 5)).toBe(BAD_POINTER); // b and c too short
    expect(w.wa_sgemm(4, 4, 4, 1, 8, 4, b, 4, 0, 0, c, 4)).toBe(BAD_POINTER); // a not allocated
    expect(w.wa_sgemm(4, 4, 4, 1, a + 2, 4, b, 4, 0, 0, c, 4)).toBe(BAD_POINTER); // misaligned
    expect(w.wa_sgemm(4, 4, 4, 1, a, 4, b, 4, 0, 0, 0xfffffff0, 4)).toBe(BAD_POINTER); // wild output
    expect(w.wa_sgemm(4, 4, 4, 1, a, 3, b, 4, 0, 0, c, 4)).toBe(BAD_SHAPE); // lda < k
    expect(w.wa_sgemm(4, 4, 4, 1, a, 4, b, 4, 0, 0, a, 4)).toBe(ALIASED);
    expect(w.wa_sgemm(0x7fffffff, 0x7fffffff, 4, 1, a, 0x7fffffff, b, 4, 0, 0, c, 4)).not.toBe(0);
    expect(w.wa_free(a + 16)).toBe(BAD_POINTER);
    expect(w.wa_free(12345)).toBe(BAD_POINTER);
    expect(Array.from(heap().subarray(sentinel >> 2, (sentinel >> 2) + 16))).toEqual(new Array(16).fill(7));
    expect(w.wa_free(a)).toBe(0);
    expect(w.wa_free(a)).toBe(BAD_POINTER); // double free
    expect(w.wa_sgemm(4, 4, 4, 1, a, 4, b, 4, 0, 0, c, 4)).toBe(BAD_POINTER); // use after free
    expect(w.wa_sgemm(4, 4, 4, 1, b, 4, b, 4, 0, 0, c, 4)).toBe(0); // still works
  });

  it('softmax and attention reject bad descriptors without trapping', () => {
    const w = instance();
    const x = w.wa_alloc(12 * 4), out = w.wa_alloc(12 * 4);
    expect(w.wa_softmax(x, out, 1, 1, 3, 4, 0, 0, 0, 0, 0)).toBe(0);
    expect(w.wa_softmax(x, x, 1, 1, 3, 4, 0, 0, 0, 0, 0)).toBe(0); // in place
    expect(w.wa_softmax(x, x + 4, 1, 1, 3, 4, 0, 0, 0, 0, 0)).not.toBe(0); // partial overlap / overrun
    expect(w.wa_softmax(x, out, 1, 1, 4, 4, 0, 0, 0, 0, 0)).toBe(BAD_POINTER);
    expect(w.wa_softmax(x, out, 1, 1, 3, 4, x, 0, 0, 100, 1)).not.toBe(0); // mask stride runs past x
    expect(w.wa_softmax(x, out, 0xffff, 0xffff, 0xffff, 0xffff, 0, 0, 0, 0, 0)).not.toBe(0);

    const desc = w.wa_alloc(48 * 4);
    const q = w.wa_alloc(2 * 3 * 4 * 4), k = w.wa_alloc(2 * 3 * 4 * 4), v = w.wa_alloc(2 * 3 * 4 * 4), o = w.wa_alloc(2 * 3 * 4 * 4);
    const words = () => new Uint32Array(w.memory.buffer, desc, 48);
    const f32 = () => new Float32Array(w.memory.buffer, desc, 48);
    const good = () => {
      words().fill(0);
      words().set([q, k, v, o, 0, 1, 2, 2, 3, 3, 4, 4], 0);
      words().set([24, 12, 4, 24, 12, 4, 24, 12, 4, 24, 12, 4], 12);
      f32()[24] = 0.5;
    };
    good();
    expect(w.wa_attention(desc)).toBe(0);
    const cases: Array<[string, () => void, number]> = [
      ['heads_kv 0', () => { words()[7] = 0; }, BAD_SHAPE],
      ['heads_q not multiple', () => { words()[6] = 3; }, BAD_SHAPE],
      ['q too long', () => { words()[8] = 5; }, BAD_POINTER],
      ['k foreign', () => { words()[1] = 16; }, BAD_POINTER],
      ['out aliases q', () => { words()[3] = q; }, ALIASED],
      ['out rows overlap', () => { words()[23] = 2; }, BAD_SHAPE],
      ['mask out of range', () => { words()[31] = x; words().set([0, 0, 5, 1], 32); }, BAD_POINTER],
      ['lse out of range', () => { words()[4] = x + 40; }, BAD_POINTER],
      ['alibi too short', () => { words()[29] = x + 44; }, BAD_POINTER],
      ['scale NaN', () => { f32()[24] = NaN; }, BAD_SHAPE],
      ['huge strides', () => { words()[13] = 0xffffffff; }, -1],
      ['unknown dtype code', () => { words()[39] = 9; }, BAD_SHAPE],
      ['int8 queries', () => { words()[39] = 3; }, BAD_SHAPE],
      ['k and v dtypes differ', () => { words()[39] = 1 << 8; }, BAD_SHAPE],
      ['int8 k scales foreign', () => { words()[39] = (3 << 8) | (3 << 16); words()[40] = 16; }, BAD_POINTER],
      ['descriptor foreign', () => {}, BAD_POINTER],
    ];
    for (const [name, mutate, status] of cases) {
      good();
      mutate();
      const d = name === 'descriptor foreign' ? 64 : desc;
      if (status < 0) expect(w.wa_attention(d), name).not.toBe(0);
      else expect(w.wa_attention(d), name).toBe(status);
    }
    good();
    words()[36] = 2; words()[37] = 2; // rows 2..4 of 3
    expect(w.wa_attention_probs(desc)).toBe(BAD_SHAPE);
    good();
    expect(w.wa_attention(desc)).toBe(0);
  });

  it('packed variable-length attention checks its offsets', () => {
    const w = instance();
    // T = 6 packed rows, 2 heads of 4: q, k, v, out [6, 2, 4].
    const desc = w.wa_alloc(48 * 4), offs = w.wa_alloc(4 * 4);
    const q = w.wa_alloc(48 * 4), k = w.wa_alloc(48 * 4), v = w.wa_alloc(48 * 4), o = w.wa_alloc(48 * 4);
    const words = () => new Uint32Array(w.memory.buffer, desc, 48);
    const good = () => {
      words().fill(0);
      words().set([q, k, v, o, 0, 1, 2, 2, 6, 6, 4, 4], 0);
      words().set([0, 4, 8, 0, 4, 8, 0, 4, 8, 0, 4, 8], 12);
      new Float32Array(w.memory.buffer, desc, 48)[24] = 0.5;
      new Uint32Array(w.memory.buffer, offs, 4).set([0, 0, 1, 6]);
    };
    const cases: Array<[string, () => void, number, number]> = [
      ['good', () => {}, 3, 0],
      ['no sequences, T = 6', () => {}, 0, BAD_SHAPE],
      ['offsets past their block', () => {}, 4, BAD_POINTER],
      ['decreasing', () => { new Uint32Array(w.memory.buffer, offs, 4)[2] = 7; }, 3, BAD_SHAPE],
      ['not starting at 0', () => { new Uint32Array(w.memory.buffer, offs, 4)[0] = 1; }, 3, BAD_SHAPE],
      ['not ending at T', () => { new Uint32Array(w.memory.buffer, offs, 4)[3] = 5; }, 3, BAD_SHAPE],
      ['batch 2', () => { words()[5] = 2; }, 3, BAD_SHAPE],
      ['len_k ≠ len_q', () => { words()[9] = 5; }, 3, BAD_SHAPE],
      ['mask', () => { words()[31] = q; }, 3, BAD_SHAPE],
      ['out aliases q', () => { words()[3] = q; }, 3, ALIASED],
    ];
    for (const [name, mutate, seqs, status] of cases) {
      good();
      mutate();
      expect(w.wa_attention_varlen(desc, offs, seqs), name).toBe(status);
    }
    good();
    expect(w.wa_attention_varlen(desc, 12, 3)).toBe(BAD_POINTER); // offsets foreign
  });

  it('linear and quantize reject foreign, short, misaligned and aliased ranges', () => {
    const w = instance();
    const [m, k, n] = [2, 40, 5];
    const x = w.wa_alloc(m * k * 4), y = w.wa_alloc(m * n * 4), bias = w.wa_alloc(n * 4);
    // q8_0 / q4_0: n rows × 2 blocks of codes, then an f32 scale a block for the rows padded to 4.
    const q8Bytes = n * 2 * 32 + 8 * 2 * 4, q4Bytes = n * 2 * 16 + 8 * 2 * 4;
    const wf = w.wa_alloc(n * k * 4), q8 = w.wa_alloc(q8Bytes), q4 = w.wa_alloc(q4Bytes);
    const pn = w.wa_alloc(8 * k * 4); // float32 panels: n rows padded to 8
    const pq = w.wa_alloc(8 * 2 * 40); // q8_0 panels: 8 rows × 2 blocks × (32 codes + f32 scale + i32 sum)
    const p4 = w.wa_alloc(8 * 2 * 20); // q4_0 panels: 8 rows × 2 blocks × (16 bytes + f32 scale)
    const sentinel = w.wa_alloc(64);
    const heap = () => new Float32Array(w.memory.buffer);
    heap().fill(0.25, x >> 2, (x >> 2) + m * k);
    heap().fill(0.5, wf >> 2, (wf >> 2) + n * k);
    heap().fill(7, sentinel >> 2, (sentinel >> 2) + 16);
    expect(w.wa_quantize(wf, 0, q8, 4, n, k)).toBe(0);
    expect(w.wa_quantize(wf, 0, q4, 5, n, k)).toBe(0);
    expect(w.wa_quantize(wf, 0, pn, 6, n, k)).toBe(0);
    expect(w.wa_quantize(wf, 0, pn, 6, n + 4, k)).toBe(BAD_POINTER); // 16 padded rows do not fit
    expect(w.wa_quantize(wf, 0, pq, 7, n, k)).toBe(0);
    expect(w.wa_quantize(wf, 0, pq, 7, n + 4, k)).toBe(BAD_POINTER);
    expect(w.wa_quantize(wf, 0, p4, 8, n, k)).toBe(0);
    expect(w.wa_quantize(wf, 0, p4, 8, n + 4, k)).toBe(BAD_POINTER);
    expect(w.wa_quantize(wf, 0, q8, 4, n + 1, k)).toBe(BAD_POINTER); // src and dst too short
    expect(w.wa_quantize(wf, 0, q4, 4, n, k)).toBe(BAD_POINTER); // q8_0 does not fit in the q4_0 block
    expect(w.wa_quantize(wf, 0, wf, 4, n, k)).toBe(ALIASED);
    expect(w.wa_quantize(wf, 0, q8, 1, n, k)).toBe(BAD_SHAPE); // not a block format
    expect(w.wa_quantize(wf, 3, q8, 4, n, k)).toBe(BAD_SHAPE); // int8 source
    expect(w.wa_quantize(wf, 0, q8, 4, 0xffffffff, 0xffffffff)).not.toBe(0);
    // Rows into part of a larger matrix: the same bytes as packing all rows at once.
    const q8b = w.wa_alloc(q8Bytes);
    expect(w.wa_quantize_into(wf, 0, q8b, 4, n, k, 0, 2)).toBe(0);
    expect(w.wa_quantize_into(wf + 2 * k * 4, 0, q8b, 4, n, k, 2, n - 2)).toBe(0);
    const bytes = (p: number) => Array.from(new Uint8Array(w.memory.buffer, p, q8Bytes));
    expect(bytes(q8b)).toEqual(bytes(q8));
    expect(w.wa_quantize_into(wf, 0, q8b, 4, n, k, n - 1, 2)).toBe(BAD_SHAPE); // rows past the matrix
    expect(w.wa_quantize_into(wf, 0, q8b, 4, n, k, 0xffffffff, 2)).toBe(BAD_SHAPE);
    expect(w.wa_quantize_into(wf, 0, q8b, 1, n, k, 0, 1)).toBe(BAD_SHAPE); // not a block format
    expect(w.wa_quantize_into(wf, 0, wf, 4, n, k, 0, 1)).toBe(ALIASED);
    expect(w.wa_quantize_into(wf, 0, q8b, 4, n + 1, k, 0, 1)).toBe(BAD_POINTER); // dst too short
    for (const [wp, f] of [[wf, 0], [wf, 1], [wf, 2], [q8, 4], [q4, 5], [pn, 6], [pq, 7], [p4, 8]] as const) {
      expect(w.wa_linear(m, k, n, x, k, wp, f, bias, y, n), `format ${f}`).toBe(0);
      expect(w.wa_linear(m, k, n, x, k, wp, f, 0, y, n)).toBe(0);
    }
    expect(Array.from(heap().subarray(y >> 2, (y >> 2) + m * n)).every((v) => Math.abs(v - 5) < 0.1)).toBe(true);
    expect(w.wa_linear(m, k, n, x, k, q8, 3, 0, y, n)).toBe(BAD_SHAPE); // int8 rows are no weight format
    expect(w.wa_linear(m, k, n, x, k, q8, 9, 0, y, n)).toBe(BAD_SHAPE); // no format 9
    expect(w.wa_linear(m, k, n, x, k, pq + 2, 7, 0, y, n)).toBe(BAD_POINTER); // q8_0 panels misaligned
    expect(w.wa_linear(m, k, n, x, k, p4 + 2, 8, 0, y, n)).toBe(BAD_POINTER); // q4_0 panels misaligned
    expect(w.wa_linear(m, k, n, x, k, q8, 6, 0, y, n)).toBe(BAD_POINTER); // q8_0 block read as panels
    expect(w.wa_linear(m, k, n, x, k, pn, 6, 0, pn, n)).toBe(ALIASED);
    expect(w.wa_linear(m, k, n, x, k, q4, 4, 0, y, n)).toBe(BAD_POINTER); // q4_0 block read as q8_0
    expect(w.wa_linear(m, k, n + 1, x, k, wf, 0, 0, y, n + 1)).toBe(BAD_POINTER); // w and y too short
    expect(w.wa_linear(m, k, n, x, k, wf, 0, sentinel + 48, y, n)).toBe(BAD_POINTER); // bias runs past its block
    expect(w.wa_linear(m, k, n, x + 2, k, wf, 0, 0, y, n)).toBe(BAD_POINTER); // misaligned
    expect(w.wa_linear(m, k, n, x, k - 1, wf, 0, 0, y, n)).toBe(BAD_SHAPE); // ldx < k
    expect(w.wa_linear(m, k, n, x, k, wf, 0, 0, x, n)).toBe(ALIASED);
    expect(w.wa_linear(m, k, n, x, k, wf, 0, 0, wf, n)).toBe(ALIASED);
    expect(w.wa_linear(m, k, n, x, k, wf, 0, y, y, n)).toBe(ALIASED); // bias is the output
    expect(w.wa_linear(0x7fffffff, 0x7fffffff, n, x, 0x7fffffff, wf, 0, 0, y, n)).not.toBe(0);
    expect(w.wa_linear(m, k, 0x7fffffff, x, k, q8, 4, 0, y, 0x7fffffff)).not.toBe(0);
    expect(Array.from(heap().subarray(sentinel >> 2, (sentinel >> 2) + 16))).toEqual(new Array(16).fill(7));
    for (const p of [x, y, bias, wf, q8, q4, pn, pq, p4, sentinel]) expect(w.wa_free(p)).toBe(0);
  });

  it('gather_rows rejects foreign, short, aliased ranges and ids past the matrix', () => {
    const w = instance();
    const [rows, cols] = [5, 40];
    const wf = w.wa_alloc(rows * cols * 4), q8 = w.wa_alloc(rows * 2 * 32 + 8 * 2 * 4), ids = w.wa_alloc(3 * 4), y = w.wa_alloc(3 * cols * 4);
    const f32 = () => new Float32Array(w.memory.buffer), u32 = () => new Uint32Array(w.memory.buffer);
    for (let i = 0; i < rows * cols; i++) f32()[(wf >> 2) + i] = i;
    u32().set([4, 0, 4], ids >> 2);
    expect(w.wa_quantize(wf, 0, q8, 4, rows, cols)).toBe(0);
    expect(w.wa_gather_rows(wf, 0, rows, cols, ids, 3, y)).toBe(0);
    expect(f32()[(y >> 2) + 1]).toBe(4 * cols + 1);
    expect(f32()[(y >> 2) + cols]).toBe(0);
    expect(w.wa_gather_rows(q8, 4, rows, cols, ids, 3, y)).toBe(0);
    expect(w.wa_gather_rows(wf, 0, rows, cols, ids, 4, y)).toBe(BAD_POINTER); // ids and y too short
    expect(w.wa_gather_rows(wf, 0, rows + 1, cols, ids, 3, y)).toBe(BAD_POINTER); // matrix too short
    expect(w.wa_gather_rows(wf, 0, 4, cols, ids, 3, y)).not.toBe(0); // id 4 of 4 rows
    expect(w.wa_gather_rows(wf, 3, rows, cols, ids, 3, y)).toBe(BAD_SHAPE); // int8 rows
    expect(w.wa_gather_rows(wf, 0, rows, cols, ids, 3, wf)).toBe(ALIASED);
    expect(w.wa_gather_rows(wf, 0, 0xffffffff, 0xffffffff, ids, 3, y)).not.toBe(0);
    for (const p of [wf, q8, ids, y]) expect(w.wa_free(p)).toBe(0);
  });

  it('element-wise exports reject foreign, short, misaligned and aliased ranges', () => {
    const w = instance();
    const x = w.wa_alloc(12 * 4), y = w.wa_alloc(12 * 4), v = w.wa_alloc(4 * 4);
    const sentinel = w.wa_alloc(64);
    const heap = () => new Float32Array(w.memory.buffer);
    heap().fill(1, x >> 2, (x >> 2) + 12);
    heap().fill(7, sentinel >> 2, (sentinel >> 2) + 16);
    // bias + activation: x [3, 4], bias [4].
    expect(w.wa_bias_act(x, 4, 3, 4, v, 2)).toBe(0);
    expect(w.wa_bias_act(x, 4, 3, 4, 0, 4)).toBe(0);
    expect(w.wa_bias_act(x, 4, 4, 4, v, 2)).toBe(BAD_POINTER); // x too short
    expect(w.wa_bias_act(x, 3, 3, 4, v, 2)).toBe(BAD_SHAPE); // ld < cols
    expect(w.wa_bias_act(x, 4, 3, 4, v, 9)).toBe(BAD_SHAPE); // unknown activation
    expect(w.wa_bias_act(x + 2, 4, 2, 4, 0, 1)).toBe(BAD_POINTER); // misaligned
    expect(w.wa_bias_act(x, 4, 3, 4, x + 16, 1)).toBe(ALIASED); // bias inside x
    expect(w.wa_bias_act(16, 4, 1, 4, 0, 1)).toBe(BAD_POINTER); // foreign
    expect(w.wa_bias_act(x, 0xffffffff, 0xffffffff, 4, 0, 1)).not.toBe(0); // overflow
    // gated pair: gate x [3, 4], up y [3, 4].
    expect(w.wa_gated_act(x, 4, y, 4, 3, 4, v, 0, 4)).toBe(0);
    expect(w.wa_gated_act(x, 4, x, 4, 3, 4, 0, 0, 4)).toBe(ALIASED);
    expect(w.wa_gated_act(x, 4, y, 5, 3, 4, 0, 0, 4)).toBe(BAD_POINTER); // up too short
    expect(w.wa_gated_act(x, 4, y, 4, 3, 4, 0, sentinel + 64, 4)).toBe(BAD_POINTER);
    // add: in place, into b (one row), out of place; partial overlaps rejected.
    expect(w.wa_add(x, 4, v, x, 4, 3, 4)).toBe(0);
    expect(w.wa_add(x, 12, y, y, 12, 1, 12)).toBe(0);
    expect(w.wa_add(x, 12, x, x, 12, 1, 12)).toBe(0);
    expect(w.wa_add(x, 4, v, y, 4, 3, 4)).toBe(0);
    expect(w.wa_add(x, 4, v, x + 4, 4, 2, 4)).toBe(ALIASED);
    expect(w.wa_add(x, 4, x, y, 4, 3, 4)).toBe(0); // b may overlap a (both read)
    expect(w.wa_add(x, 4, y + 4, y, 4, 3, 4)).toBe(ALIASED);
    expect(w.wa_add(x, 4, v, y, 4, 3, 5)).not.toBe(0);
    // norms: LayerNorm with beta, RMSNorm without; residual; eps checked.
    expect(w.wa_norm(x, 0, y, 3, 4, v, v, 1e-5)).toBe(0);
    expect(w.wa_norm(x, 0, x, 3, 4, v, 0, 1e-5)).toBe(0);
    expect(w.wa_norm(x, y, x, 3, 4, v, 0, 1e-5)).toBe(0);
    expect(w.wa_norm(x, x, y, 3, 4, v, 0, 1e-5)).toBe(ALIASED);
    expect(w.wa_norm(x, 0, y, 3, 4, y, 0, 1e-5)).toBe(ALIASED); // gamma inside out
    expect(w.wa_norm(x, 0, y, 3, 4, v, 0, NaN)).toBe(BAD_SHAPE);
    expect(w.wa_norm(x, 0, y, 4, 4, v, 0, 1e-5)).toBe(BAD_POINTER);
    expect(w.wa_norm(x, 0, y, 0x10000, 0x10000, v, 0, 1e-5)).not.toBe(0);
    // RoPE: x [3 rows, 2 heads × 2], tables [2, 1].
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, v, v + 8, 2, 0)).toBe(0);
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, v, v + 8, 2, 1)).toBe(0);
    expect(w.wa_rope(x, 3, 4, 2, 2, 3, v, v + 8, 2, 0)).toBe(BAD_SHAPE); // odd rot
    expect(w.wa_rope(x, 3, 4, 2, 2, 4, v, v + 8, 2, 0)).toBe(BAD_SHAPE); // rot > head_dim
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, v, v + 8, 0, 0)).toBe(BAD_SHAPE); // no table rows
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, v, v + 8, 5, 0)).toBe(BAD_POINTER); // tables too short
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, x, v, 2, 0)).toBe(ALIASED);
    expect(w.wa_rope(x, 3, 4, 2, 2, 2, v, v, 2, 7)).toBe(BAD_SHAPE);
    expect(w.wa_rope(x, 4, 4, 2, 2, 2, v, v, 2, 0)).toBe(BAD_POINTER);
    expect(Array.from(heap().subarray(sentinel >> 2, (sentinel >> 2) + 16))).toEqual(new Array(16).fill(7));
    for (const p of [x, y, v, sentinel]) expect(w.wa_free(p)).toBe(0);
  });
});
