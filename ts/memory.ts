/** Introspection of WASM memory, for tests, benchmarks and capacity planning. */
import * as raw from './raw.js';

/** Counters kept by the Rust allocator. */
export interface MemoryStats {
  /** Bytes Rust holds now: tensors plus kernel scratch. */
  readonly liveBytes: number;
  /** Highest `liveBytes` since the last `memoryStats({ resetPeak: true })`. */
  readonly peakBytes: number;
  /** Number of blocks held by tensors and other JS owners. */
  readonly liveBlocks: number;
  /** Size of the WASM linear memory (it only grows). */
  readonly memoryBytes: number;
}

/** Reads the allocator's counters; `resetPeak` starts a new peak measurement. */
export function memoryStats(options: { resetPeak?: boolean } = {}): MemoryStats {
  const w = raw.wasm();
  const stats = {
    liveBytes: w.wa_live_bytes(),
    peakBytes: w.wa_peak_bytes(),
    liveBlocks: w.wa_live_blocks(),
    memoryBytes: w.memory.buffer.byteLength,
  };
  if (options.resetPeak) w.wa_reset_peak();
  return stats;
}

/**
 * Grows WASM memory up front so later allocations of up to `bytes` do not grow it
 * (growth copies nothing but invalidates old views). Throws a RangeError if it cannot.
 */
export function reserveMemory(bytes: number): void {
  raw.free(raw.alloc(bytes));
}
