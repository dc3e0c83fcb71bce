import { expect } from 'vitest';
import { worstError } from './reference.js';

/** Asserts element-wise closeness and reports the worst element and where it is. */
export function expectClose(
  got: ArrayLike<number>, want: ArrayLike<number>, what: string, atol = 1e-5, rtol = 1e-4,
): void {
  const w = worstError(got, want, atol, rtol);
  expect(w.ratio, `${what}: worst at index ${w.index}: got ${w.got}, want ${w.want} ` +
    `(error ${w.ratio.toFixed(2)}× tolerance atol=${atol} rtol=${rtol})`).toBeLessThanOrEqual(1);
}
