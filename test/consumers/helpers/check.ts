// Checks a consumer's result against float64 attention computed here from its inputs.
import { expect } from 'vitest';
import { attention64 } from '../../helpers/reference.js';
import { expectClose } from '../../helpers/expect-close.js';

export interface ConsumerResult {
  error?: string; simd: boolean; shape: [number, number, number];
  q: number[]; k: number[]; v: number[]; out: number[];
  pool?: number[]; poolThreads?: number; poolSimd?: boolean;
}

export function checkResult(r: Record<string, unknown>, { pool = true } = {}): void {
  expect(r.error, 'the consumer failed').toBeUndefined();
  const c = r as unknown as ConsumerResult;
  const [H, L, D] = c.shape;
  const want = attention64(c.q, c.k, c.v, 1, H, H, L, L, D, D, { causal: true }).out;
  expectClose(c.out, want, 'attention');
  if (pool) {
    expect(c.poolThreads).toBe(2);
    expect(c.poolSimd).toBe(c.simd);
    expectClose(c.pool!, want, 'pool attention');
  }
}
