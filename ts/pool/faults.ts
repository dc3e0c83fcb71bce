/**
 * The worker side of fault injection: what each {@link Fault} does. Reached only
 * through the pool's internal accessor (internal.ts), for tests of how the pool
 * survives its workers failing.
 * @internal
 */
import { reserveMemory } from '../index.js';
import type { Fault, WorkerSide } from './protocol.js';

/** Thrown out of the worker's message handler on purpose: it must stay uncaught. */
export class EscapingFault extends Error {}

/** Thrown after the worker ended itself: the handler returns without replying. */
export class Ended extends Error {}

/**
 * A module whose one export `f` executes `unreachable` (type section: `() -> ()`;
 * function 0 of that type exported as "f"; its body: no locals, `unreachable`, `end`).
 */
const TRAP_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00,
  0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,
]);

/** Makes the fault happen; returns only for faults that never end the worker by themselves. */
export function strike(fault: Fault, side: WorkerSide): void {
  switch (fault.kind) {
    case 'exit':
      side.exit(3);
      throw new Ended();
    case 'throw':
      throw new EscapingFault('wasm-attention: injected fault: an exception escaped the worker');
    case 'heap': {
      // Only sent to workers started with a heap limit (see internal.ts), which ends them here.
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1 << 16).fill(hog.length + 0.5));
    }
    case 'wasm-memory':
      // More than WASM32 memory can ever grow to: the allocator's RangeError, as a huge call gets.
      reserveMemory(2 ** 32 - 2 ** 16);
      return;
    case 'trap': {
      const f = new WebAssembly.Instance(new WebAssembly.Module(TRAP_MODULE)).exports.f as () => void;
      f();
      return;
    }
  }
}
