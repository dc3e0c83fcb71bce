/**
 * Measured memory read bandwidth: a hand-assembled WebAssembly loop that streams a
 * buffer with `v128.load`s (four independent 16-byte loads per 64-byte step, OR-ed
 * into four accumulators so no load is dead), the access pattern of a decode step
 * reading a KV cache. The buffer (128 MiB) is far larger than the last-level cache,
 * so the figure is DRAM bandwidth for one thread; a 4 MiB buffer gives the cache figure.
 */

import { leb, section } from './wasm-bytes.js';

const SIMD = 0xfd;
const V128_LOAD = (offset: number) => [SIMD, ...leb(0x00), 4, ...leb(offset)]; // align 2^4, offset
const V128_OR = [SIMD, ...leb(0x50)];
const I32X4_EXTRACT_LANE0 = [SIMD, ...leb(0x1b), 0];
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const tee = (i: number) => [0x22, ...leb(i)];

const PAGES = 128 * 16; // 128 MiB of 64 KiB pages

/** `(func (param $bytes i32) (result i32))`: reads bytes [0, $bytes) once, 64 per step. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bytes = 0, p = 1;
  const acc = (i: number) => 2 + i;
  const body: number[] = [];
  body.push(0x03, 0x40); // loop
  for (let i = 0; i < 4; i++) body.push(...get(acc(i)), ...get(p), ...V128_LOAD(16 * i), ...V128_OR, ...set(acc(i)));
  // p += 64 (i32.const 64 is signed LEB128 0xc0 0x00); br_if (p < bytes, unsigned)
  body.push(...get(p), 0x41, 0xc0, 0x00, 0x6a, ...tee(p), ...get(bytes), 0x49, 0x0d, 0);
  body.push(0x0b);
  body.push(...get(acc(0)), ...get(acc(1)), ...V128_OR, ...get(acc(2)), ...V128_OR, ...get(acc(3)), ...V128_OR);
  body.push(...I32X4_EXTRACT_LANE0, 0x0b);
  const locals = [2, 1, 0x7f, 4, 0x7b]; // one i32 ($p), four v128
  const func = [...locals, ...body];
  const name = [...new TextEncoder().encode('read')];
  const mem = [...new TextEncoder().encode('memory')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // type: (i32) -> i32
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, ...leb(PAGES)]), // memory, min PAGES
    ...section(7, [2, ...leb(name.length), ...name, 0x00, 0, ...leb(mem.length), ...mem, 0x02, 0]),
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

/** Result of {@link measureBandwidth}. */
export interface BandwidthResult {
  /** Best GB/s (1e9 bytes/s) streaming a 128 MiB buffer (memory). */
  readonly gbps: number;
  /** Median GB/s over the runs. */
  readonly medianGbps: number;
  /** Best GB/s over a 4 MiB buffer (cache-resident). */
  readonly cacheGbps: number;
  readonly runs: number;
  readonly method: string;
}

/** Times the read loop; null without SIMD128. */
export function measureBandwidth(now: () => number = () => performance.now()): BandwidthResult | null {
  const bytes = moduleBytes();
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const read = instance.exports.read as (n: number) => number;
  const memory = instance.exports.memory as WebAssembly.Memory;
  const total = PAGES * 65536;
  new Uint8Array(memory.buffer).fill(1); // touch every page so the OS has mapped them
  for (let i = 0; i < 5; i++) read(total);
  const rates = (n: number, runs: number, reps: number) => {
    const out: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      for (let i = 0; i < reps; i++) read(n);
      out.push((n * reps) / (now() - t0) / 1e6);
    }
    return out.sort((a, b) => a - b);
  };
  const mem = rates(total, 9, 1);
  const cache = rates(4 << 20, 9, 32);
  return {
    gbps: mem[mem.length - 1]!,
    medianGbps: mem[mem.length >> 1]!,
    cacheGbps: cache[cache.length - 1]!,
    runs: mem.length,
    method: `hand-written WASM loop, v128.load ×4 per 64 B into OR accumulators over 128 MiB, best of ${mem.length} runs`,
  };
}
