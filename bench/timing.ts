/**
 * Timing one implementation of one case with tinybench: explicit warm-up calls
 * first (V8 runs WebAssembly in its baseline tier until a function is hot, and
 * JIT-compiles JavaScript lazily), then samples until both a time budget and a
 * minimum sample count are met. Slow tasks get fewer samples.
 */
import { Bench } from 'tinybench';

/** Milliseconds per call: median and range over the samples. */
export interface Timing {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

/** How long to sample. */
export interface SamplingPlan {
  /** Time budget in ms for fast tasks. */
  readonly budgetMs: number;
  /** Minimum samples for fast tasks. */
  readonly minSamples: number;
  /** Samples for tasks whose warm-up call took longer than `slowMs`. */
  readonly slowSamples: number;
  readonly slowMs: number;
  /** Warm-up calls (tasks slower than `slowMs` get one). */
  readonly warmupCalls: number;
}

export async function time(fn: () => unknown, plan: SamplingPlan): Promise<Timing> {
  // The first call is both a warm-up and a probe of how slow the task is.
  const t0 = performance.now();
  await fn();
  const first = performance.now() - t0;
  const slow = first > plan.slowMs;
  if (!slow) for (let i = 1; i < plan.warmupCalls; i++) await fn();
  const bench = new Bench({
    time: slow ? 0 : plan.budgetMs,
    iterations: slow ? plan.slowSamples : plan.minSamples,
    warmup: false,
    throws: true,
  });
  bench.add('task', fn);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') {
    throw new Error(`timing did not complete (${result.state})`);
  }
  const { latency } = result;
  return { median: latency.p50, min: latency.min, max: latency.max, samples: latency.samplesCount };
}
