/**
 * The timed part of a `models` cell — load, the correctness prompt, prefill and decode —
 * for wasm-attention's `CausalLM` and for transformers.js, with no Node imports: the
 * Node cell (model-cell.ts, a process per cell) and the Chromium page
 * (browser/models-page.ts) run the same code and differ only in how they load the
 * libraries, where the peer's model folder is, and how they read memory.
 */
import type { CausalLM } from '../dist/models/index.js';
import { hfConfig, type ModelSpec, safetensorsBytes, tensorList } from './model-weights.js';

/** What a cell runs (the part both runtimes share). */
export interface ModelCellSpec {
  readonly model: ModelSpec;
  readonly library: 'wasm-attention' | 'transformers.js';
  /** Ours: `float32`, `float16`, `int8`, `int4`; the peer: `fp32`, `q8`. */
  readonly format: string;
  readonly threads: number;
  /** Ours: the kernels' build (`init({ build })`). */
  readonly build: string;
  /** Prompt lengths timed for prefill, e.g. [128, 512]. */
  readonly prefill: readonly number[];
  readonly prefillRuns: number;
  /** Context lengths of the decode steps, e.g. [128, 1024]. */
  readonly contexts: readonly number[];
  readonly decodeSteps: number;
}

export interface CellResult {
  /** `ok`, `n/a: …` (format not supported) or `failed: …`. */
  readonly status: string;
  readonly loadMs?: number;
  /** Median ms of a prefill of `tokens` tokens (logits of the last position only). */
  readonly prefill?: { tokens: number; ms: number; runs: number }[];
  /** Median ms of one decode step at context `context` (`context − 1` cached positions + 1 new). */
  readonly decode?: { context: number; ms: number; min: number; max: number; steps: number }[];
  /** Largest process RSS seen after load, prefill and decode, minus the RSS just before the load (Node only). */
  readonly rssDeltaBytes?: number;
  /** Ours: peak bytes held in WASM memory (`memoryStats().peakBytes`, reset before the load). */
  readonly wasmPeakBytes?: number;
  /** Ours: bytes of the model's weights in WASM memory (`weightBytes`). */
  readonly weightBytes?: number;
  readonly seconds: number;
}

/** A cell's result and the correctness prompt's logits (`[CHECK_IDS.length + 1, vocab]` float32 rows). */
export interface CellOutcome {
  readonly result: CellResult;
  readonly check?: Float32Array[];
}

/** How a runtime hands the libraries and its memory reading to a cell. */
export interface CellHost {
  /** Bytes of resident memory now (Node: the process RSS); absent: not reported. */
  readonly memory?: () => number;
  /** The peer: transformers.js, already configured (backend, thread count, model location). */
  readonly transformers?: () => Promise<TransformersModule>;
  /** The peer: the model id `from_pretrained` is given (a folder under `env.localModelPath`). */
  readonly peerModel?: string;
  /** The peer: `from_pretrained`'s `device`. */
  readonly peerDevice?: string;
}

export type TransformersModule = typeof import('@huggingface/transformers');

/** The prompt of the correctness check (fixed ids below every vocabulary size used). */
export const CHECK_IDS = [1, 17, 123, 42, 7, 250, 99, 3];
export const CHECK_NEXT = 11;

/** Bytes of our weights one decode step reads: all of them but the learned position table's other rows (GPT-2). */
export function oursWeightBytesPerToken(s: ModelSpec, weightBytes: number): number {
  return weightBytes - (s.family === 'gpt2' ? s.positions * s.hidden * 4 : 0);
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
const ids = (n: number, vocab: number) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);

/** Runs one cell. `log` gets progress lines. */
export function runModelCell(spec: ModelCellSpec, host: CellHost, log: (line: string) => void = () => {}): Promise<CellOutcome> {
  return timedCell<CellResult>(() => spec.library === 'wasm-attention' ? runOurs(spec, host, log) : runPeer(spec, host, log));
}

/** Runs a cell, adding its seconds to the result; an exception becomes a `failed: …` status. */
export async function timedCell<R extends { status: string; seconds: number }>(
  run: () => Promise<{ result: Omit<R, 'seconds'>; check?: Float32Array[] }>): Promise<{ result: R; check?: Float32Array[] }> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const r = await run();
    return { result: { ...r.result, seconds: seconds() } as R, check: r.check };
  } catch (e) {
    return { result: { status: `failed: ${(e as Error).message.split('\n')[0]}`, seconds: seconds() } as R };
  }
}

type Partial = { result: Omit<CellResult, 'seconds'>; check?: Float32Array[] };

/** Tracks the largest memory reading over a cell, relative to the reading at its start. */
export function memoryPeak(read: (() => number) | undefined) {
  const start = read ? read() : 0;
  let peak = start;
  return {
    sample() { if (read) peak = Math.max(peak, read()); },
    delta(): number | undefined { return read ? peak - start : undefined; },
  };
}

/**
 * Median ms of `spec.prefillRuns` calls of `run` on the prompt `prepare(n)` builds for each
 * prompt length `n` (built outside the timing; `reset` before each call, untimed).
 */
async function timePrefill<P>(spec: ModelCellSpec, mem: { sample(): void }, log: (line: string) => void,
  prepare: (n: number) => P, reset: () => void, run: (prompt: P) => unknown): Promise<{ tokens: number; ms: number; runs: number }[]> {
  const out: { tokens: number; ms: number; runs: number }[] = [];
  for (const n of spec.prefill) {
    const prompt = prepare(n), times: number[] = [];
    for (let r = 0; r < spec.prefillRuns; r++) {
      reset();
      const t = performance.now();
      await run(prompt);
      times.push(performance.now() - t);
      mem.sample();
    }
    out.push({ tokens: n, ms: median(times), runs: times.length });
    log(`      prefill ${n}: ${median(times).toFixed(1)} ms`);
  }
  return out;
}

/** Initialises our `build`: relaxed SIMD through the separate entry (the default one does not embed it). */
export async function initBuild(build: string): Promise<void> {
  if (build === 'relaxed-simd') {
    const { init } = await import('../dist/separate.js');
    await init({ build: 'relaxed-simd' });
  } else {
    const { init } = await import('../dist/index.js');
    await init({ build: build as 'auto' });
  }
}

async function runOurs(spec: ModelCellSpec, host: CellHost, log: (line: string) => void): Promise<Partial> {
  const { memoryStats, Tensor } = await import('../dist/index.js');
  const models = await import('../dist/models/index.js');
  await initBuild(spec.build);
  const s = spec.model;
  const bytes = safetensorsBytes(s, spec.format === 'float16' ? 'F16' : 'F32');
  const float32Bytes = tensorList(s).reduce((n, t) => n + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
  const mem = memoryPeak(host.memory);
  memoryStats({ resetPeak: true });
  // The weight format is an option of the loader (`{ weights: 'int8' | 'int4' | 'float16' | 'float32' }`);
  // a version without it loads the file's dtype.
  const load = models.CausalLM.load.bind(models.CausalLM) as unknown as (c: unknown, w: Uint8Array, o: { weights: string }) => CausalLM;
  let model: CausalLM;
  const t0 = performance.now();
  try {
    model = load(hfConfig(s), bytes, { weights: spec.format });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    if (/unsupported|not supported/i.test(msg)) return { result: { status: `n/a: ${msg}` } };
    throw e;
  }
  const loadMs = performance.now() - t0;
  mem.sample();
  try {
    if ((spec.format === 'int8' || spec.format === 'int4') && model.weightBytes > 0.5 * float32Bytes) {
      return { result: { status: `n/a: this version of CausalLM.load ignores { weights: '${spec.format}' } (its weights take ` +
        `${(100 * model.weightBytes / float32Bytes).toFixed(0)}% of float32's bytes)` } };
    }
    log(`      loaded in ${loadMs.toFixed(0)} ms, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights`);
    const maxLength = Math.max(...spec.contexts, ...spec.prefill, CHECK_IDS.length + 1);
    const cache = model.createCache({ maxLength });
    try {
      // Correctness prompt: every position's logits, then one decode step.
      const check: Float32Array[] = [];
      const all = model.forward(CHECK_IDS, cache, { logits: 'all' });
      check.push(all.toArray());
      all.dispose();
      const next = model.forward([CHECK_NEXT], cache, { logits: 'last' });
      check.push(next.toArray());
      next.dispose();

      const prefill = await timePrefill(spec, mem, log, (n) => ids(n, s.vocab), () => cache.clear(),
        (prompt) => model.forward(prompt, cache, { logits: 'last' }).dispose());
      const decode: { context: number; ms: number; min: number; max: number; steps: number }[] = [];
      for (const ctx of spec.contexts) {
        // Keys/values of random positions: a step's cost depends on the cache length, not its contents.
        cache.clear();
        const n = ctx - 1, kv = s.kvHeads * n * s.headDim;
        for (const layer of cache.layers) {
          const k = Tensor.from(Float32Array.from({ length: kv }, (_, i) => Math.sin(i * 12.9898) * 0.5), [s.kvHeads, n, s.headDim]);
          const v = Tensor.from(Float32Array.from({ length: kv }, (_, i) => Math.cos(i * 78.233) * 0.5), [s.kvHeads, n, s.headDim]);
          layer.append(k, v);
          k.dispose();
          v.dispose();
        }
        const times: number[] = [];
        for (let r = -2; r < spec.decodeSteps; r++) {
          const t = performance.now();
          model.forward([42], cache, { logits: 'last' }).dispose();
          if (r >= 0) times.push(performance.now() - t);
          cache.truncate(n);
        }
        mem.sample();
        decode.push({ context: ctx, ms: median(times), min: Math.min(...times), max: Math.max(...times), steps: times.length });
        log(`      decode at ${ctx}: ${median(times).toFixed(2)} ms/token`);
      }
      return { result: { status: 'ok', loadMs, prefill, decode, rssDeltaBytes: mem.delta(),
        wasmPeakBytes: memoryStats().peakBytes, weightBytes: model.weightBytes }, check };
    } finally {
      cache.dispose();
    }
  } finally {
    model.dispose();
  }
}

async function runPeer(spec: ModelCellSpec, host: CellHost, log: (line: string) => void): Promise<Partial> {
  if (!host.transformers || host.peerModel === undefined) throw new Error('no transformers.js in this runtime');
  const tf = await host.transformers();
  const s = spec.model;
  const i64 = (values: number[], dims: number[]) => new tf.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
  const ones = (n: number) => i64(new Array<number>(n).fill(1), [1, n]);
  const keep = (n: number) => new tf.Tensor('int64', BigInt64Array.from([BigInt(n)]), []);
  const mem = memoryPeak(host.memory);
  const t0 = performance.now();
  const model = await tf.AutoModelForCausalLM.from_pretrained(host.peerModel, {
    dtype: spec.format as 'fp32', device: (host.peerDevice ?? 'auto') as 'cpu', local_files_only: true,
    session_options: { executionProviders: ['wasm'], intraOpNumThreads: spec.threads } as never,
  });
  const loadMs = performance.now() - t0;
  mem.sample();
  log(`      loaded in ${loadMs.toFixed(0)} ms`);
  type Out = Record<string, InstanceType<typeof tf.Tensor>>;
  const forward = (inputs: Record<string, unknown>) => (model as unknown as { forward(x: unknown): Promise<Out> }).forward(inputs);
  try {
    // Correctness prompt: every position's logits, then one decode step on the returned cache.
    const n0 = CHECK_IDS.length;
    const first = await forward({ input_ids: i64(CHECK_IDS, [1, n0]), attention_mask: ones(n0), num_logits_to_keep: keep(0) });
    const past: Out = {};
    for (const [k, v] of Object.entries(first)) if (k.startsWith('present')) past[k.replace('present', 'past_key_values')] = v;
    const second = await forward({ input_ids: i64([CHECK_NEXT], [1, 1]), attention_mask: ones(n0 + 1),
      past_key_values: new tf.DynamicCache(past), num_logits_to_keep: keep(1) });
    const check = [first.logits!.data as Float32Array, second.logits!.data as Float32Array];

    const prefill = await timePrefill(spec, mem, log,
      (n) => ({ input_ids: i64(ids(n, s.vocab), [1, n]), attention_mask: ones(n), num_logits_to_keep: keep(1) }),
      () => {}, (input) => forward(input));
    const decode: { context: number; ms: number; min: number; max: number; steps: number }[] = [];
    for (const ctx of spec.contexts) {
      const n = ctx - 1, kv = s.kvHeads * n * s.headDim, entries: Out = {};
      for (let l = 0; l < s.layers; l++) {
        entries[`past_key_values.${l}.key`] = new tf.Tensor('float32', Float32Array.from({ length: kv }, (_, i) => Math.sin(i * 12.9898) * 0.5), [1, s.kvHeads, n, s.headDim]);
        entries[`past_key_values.${l}.value`] = new tf.Tensor('float32', Float32Array.from({ length: kv }, (_, i) => Math.cos(i * 78.233) * 0.5), [1, s.kvHeads, n, s.headDim]);
      }
      const input_ids = i64([42], [1, 1]), attention_mask = ones(ctx), times: number[] = [];
      for (let r = -2; r < spec.decodeSteps; r++) {
        const t = performance.now();
        await forward({ input_ids, attention_mask, past_key_values: new tf.DynamicCache(entries), num_logits_to_keep: keep(1) });
        if (r >= 0) times.push(performance.now() - t);
      }
      mem.sample();
      decode.push({ context: ctx, ms: median(times), min: Math.min(...times), max: Math.max(...times), steps: times.length });
      log(`      decode at ${ctx}: ${median(times).toFixed(2)} ms/token`);
    }
    return { result: { status: 'ok', loadMs, prefill, decode, rssDeltaBytes: mem.delta() }, check };
  } finally {
    await (model as unknown as { dispose(): Promise<unknown> }).dispose();
  }
}
