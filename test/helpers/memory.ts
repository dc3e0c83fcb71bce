// Making WASM memory grow at a chosen moment: a view of it taken before growth is
// detached, which is what the tests of views handed back to the library need.
import { Tensor, memoryStats } from '../../ts/index.js';

/** Room left for the module's static data, stack and fragmentation when filling by estimate. */
const MARGIN = 4 << 20;

/** Elements of the blocks that fill the last of the free space (64 KiB, one WASM page). */
const PAGE = 16384;

/**
 * Fills the allocator's free space with tensors, growing memory by only a page or two:
 * large blocks fill by estimate (memory minus live bytes, less a margin), then 64 KiB
 * blocks until one grows memory (that one is freed). Afterwards less than about 200 KiB
 * is free, so an allocation of 1 MiB or more must grow memory. Returns the fillers:
 * dispose them (see {@link release}).
 */
export function squeeze(): Tensor[] {
  const fillers: Tensor[] = [];
  const free = () => { const s = memoryStats(); return s.memoryBytes - s.liveBytes; };
  let elems = PAGE;
  while (elems * 8 <= free()) elems *= 2;
  for (; elems > PAGE; elems /= 2) {
    while (free() - elems * 4 > MARGIN) fillers.push(Tensor.empty([elems]));
  }
  for (;;) {
    const before = memoryStats().memoryBytes;
    const t = Tensor.empty([PAGE]);
    if (memoryStats().memoryBytes !== before) { t.dispose(); break; }
    fillers.push(t);
  }
  return fillers;
}

export function release(fillers: Tensor[]): void {
  for (const t of fillers) t.dispose();
}

/** Runs `f` right after {@link squeeze}; returns its result and whether memory grew during it. */
export function underGrowth<T>(f: () => T): { value: T; grew: boolean } {
  const fillers = squeeze();
  try {
    const before = memoryStats().memoryBytes;
    const value = f();
    return { value, grew: memoryStats().memoryBytes > before };
  } finally {
    release(fillers);
  }
}

/** A view of `t`'s data made stale: memory is grown (by a large allocation) after it was taken. */
export function staleView(t: Tensor): Float32Array {
  const view = t.data as Float32Array;
  const big = Tensor.empty([memoryStats().memoryBytes / 4 + 16384]);
  big.dispose();
  return view;
}
