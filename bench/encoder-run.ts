/**
 * The timed part of an `encoders` cell — load, a correctness batch, the latency of one short
 * query and the throughput of batches — for wasm-attention's `EncoderModel` and for
 * transformers.js, with no Node imports: the Node cell (encoder-cell.ts) and the Chromium page
 * (browser/models-page.ts) run the same code.
 *
 * Both libraries produce mean-pooled sentence embeddings (sentence-transformers' recipe, what
 * transformers.js's feature-extraction pipeline computes): ours `EncoderModel.embed` on the
 * batch with its attention mask; the peer `AutoModel` (the ONNX graph's `last_hidden_state`)
 * then transformers.js's `mean_pooling`, on the batch padded to its longest sentence.
 */
import type { EncoderModel } from '../dist/models/index.js';
import {
  type Batch, CHECK_LENGTHS, encoderHfConfig, encoderSafetensors, encoderTensorList, type EncoderSpec, makeBatch,
} from './encoder-weights.js';
import { type CellHost, initBuild, memoryPeak, timedCell } from './model-run.js';

/** A batch to time: its sentence lengths and how many timed runs. */
export interface TimedBatch {
  /** `latency` (one query), `ragged` or `full` (every sentence at the longest length). */
  readonly name: string;
  readonly lengths: readonly number[];
  readonly runs: number;
  /** Untimed runs first. */
  readonly warmup: number;
}

/** What a cell runs (the part both runtimes share). */
export interface EncoderRunSpec {
  readonly model: EncoderSpec;
  readonly library: 'wasm-attention' | 'transformers.js';
  /** Ours: `float32`, `float16`, `int8`, `int4`; the peer: `fp32`, `q8`. */
  readonly format: string;
  readonly threads: number;
  /** Ours: the kernels' build (`init({ build })`). */
  readonly build: string;
  readonly batches: readonly TimedBatch[];
}

export interface BatchTiming {
  readonly name: string;
  readonly sentences: number;
  /** Real tokens. */
  readonly tokens: number;
  /** Padded length (the longest sentence). */
  readonly length: number;
  /** Median ms of one call (the whole batch). */
  readonly ms: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export interface EncoderCellResult {
  /** `ok`, `n/a: …` (format not supported) or `failed: …`. */
  readonly status: string;
  readonly loadMs?: number;
  readonly batches?: BatchTiming[];
  /** Largest process RSS seen after the load and each batch, minus the RSS just before the load (Node only). */
  readonly rssDeltaBytes?: number;
  /** The process's peak RSS (`resourceUsage().maxRSS`): the cell's own when it runs isolated (Node only). */
  readonly peakRssBytes?: number;
  /** Ours: peak bytes held in WASM memory (`memoryStats().peakBytes`, reset before the load). */
  readonly wasmPeakBytes?: number;
  /** Ours: bytes of the model's weights in WASM memory (`weightBytes`). */
  readonly weightBytes?: number;
  readonly seconds: number;
}

/**
 * A cell's result and the correctness batch's output (float32: pooled `[3, E]`, then sentence 0's
 * hidden states `[16, E]`).
 */
export interface EncoderCellOutcome {
  readonly result: EncoderCellResult;
  readonly check?: Float32Array[];
}

type Partial = { result: Omit<EncoderCellResult, 'seconds'>; check?: Float32Array[] };

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

/** Runs one cell. `log` gets progress lines. */
export function runEncoder(spec: EncoderRunSpec, host: CellHost, log: (line: string) => void = () => {}): Promise<EncoderCellOutcome> {
  return timedCell<EncoderCellResult>(() => spec.library === 'wasm-attention' ? runOurs(spec, host, log) : runPeer(spec, host, log));
}

/**
 * Times `embed` on every batch of the plan: `warmup` untimed calls, then `runs` timed ones.
 * `embed` returns once the vectors are in JS memory.
 */
async function timeBatches(spec: EncoderRunSpec, embed: (b: Batch) => Promise<void> | void, sample: () => void,
  log: (line: string) => void): Promise<BatchTiming[]> {
  const out: BatchTiming[] = [];
  for (const t of spec.batches) {
    const batch = makeBatch(t.lengths, spec.model.vocab), times: number[] = [];
    for (let r = -t.warmup; r < t.runs; r++) {
      const t0 = performance.now();
      await embed(batch);
      if (r >= 0) times.push(performance.now() - t0);
      sample();
    }
    const ms = median(times);
    out.push({ name: t.name, sentences: batch.B, tokens: batch.tokens, length: batch.L, ms, min: Math.min(...times),
      max: Math.max(...times), runs: times.length });
    log(`      ${t.name} ${batch.B} × ${batch.tokens < batch.B * batch.L ? '≤' : ''}${batch.L} (${batch.tokens} tokens): ${ms.toFixed(1)} ms, ` +
      `${(batch.B / (ms / 1000)).toFixed(1)} sentences/s`);
  }
  return out;
}

async function runOurs(spec: EncoderRunSpec, host: CellHost, log: (line: string) => void): Promise<Partial> {
  const { memoryStats } = await import('../dist/index.js');
  const models = await import('../dist/models/index.js');
  await initBuild(spec.build);
  const s = spec.model;
  const bytes = encoderSafetensors(s, spec.format === 'float16' ? 'F16' : 'F32');
  const float32Bytes = encoderTensorList(s).reduce((n, t) => n + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
  const mem = memoryPeak(host.memory);
  const sample = () => mem.sample();
  memoryStats({ resetPeak: true });
  // The weight format is an option of the loader (`{ weights: 'int8' | 'int4' | 'float16' | 'float32' }`,
  // as CausalLM.load takes it); a version without it loads the file's dtype.
  const load = models.EncoderModel.load.bind(models.EncoderModel) as unknown as
    (c: unknown, w: Uint8Array, o: { weights: string }) => EncoderModel;
  let model: EncoderModel;
  const t0 = performance.now();
  try {
    model = load(encoderHfConfig(s), bytes, { weights: spec.format });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!;
    if (/unsupported|not supported|must be/i.test(msg)) return { result: { status: `n/a: ${msg}` } };
    throw e;
  }
  const loadMs = performance.now() - t0;
  sample();
  try {
    // The projections take the format; embeddings, norms and biases stay float32, so the bytes alone do not tell.
    const format = (model as unknown as { weightFormat?: string }).weightFormat;
    // int8 and int4 may be kept as their GEMMs' layouts ('int8-panels', 'int4-panels': the same values).
    if ((spec.format === 'int8' || spec.format === 'int4') && format !== spec.format && format !== `${spec.format}-panels`) {
      return { result: { status: `n/a: this version of EncoderModel.load ignores { weights: '${spec.format}' } (its weights take ` +
        `${(100 * model.weightBytes / float32Bytes).toFixed(0)}% of float32's bytes)` } };
    }
    log(`      loaded in ${loadMs.toFixed(0)} ms, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights`);
    // A batch with padding passes its mask; an unpadded one none (every token real).
    const input = (b: Batch) => ({ ids: b.ids, shape: [b.B, b.L] as [number, number],
      ...(b.tokens < b.B * b.L ? { attentionMask: b.mask } : {}) });
    // Correctness: the pooled check batch, then sentence 0's hidden states (it is unpadded: row 0 of the output).
    const check = makeBatch(CHECK_LENGTHS, s.vocab), E = s.hidden;
    const pooled = model.embed(input(check), { pooling: 'mean' });
    const hidden = model.forward(input(check));
    const h0 = hidden.toArray().slice(0, CHECK_LENGTHS[0]! * E);
    hidden.dispose();
    const batches = await timeBatches(spec, (b) => { model.embed(input(b), { pooling: 'mean' }); }, sample, log);
    return { result: { status: 'ok', loadMs, batches, rssDeltaBytes: mem.delta(), wasmPeakBytes: memoryStats().peakBytes,
      weightBytes: model.weightBytes }, check: [...pooled, h0] };
  } finally {
    model.dispose();
  }
}

async function runPeer(spec: EncoderRunSpec, host: CellHost, log: (line: string) => void): Promise<Partial> {
  if (!host.transformers || host.peerModel === undefined) throw new Error('no transformers.js in this runtime');
  const tf = await host.transformers();
  const E = spec.model.hidden;
  const mem = memoryPeak(host.memory);
  const sample = () => mem.sample();
  const t0 = performance.now();
  const model = await tf.AutoModel.from_pretrained(host.peerModel, {
    dtype: spec.format as 'fp32', device: (host.peerDevice ?? 'auto') as 'cpu', local_files_only: true,
    session_options: { executionProviders: ['wasm'], intraOpNumThreads: spec.threads } as never,
  });
  const loadMs = performance.now() - t0;
  sample();
  log(`      loaded in ${loadMs.toFixed(0)} ms`);
  type Tensor = InstanceType<typeof tf.Tensor>;
  const call = (inputs: Record<string, Tensor>) => (model as unknown as (x: unknown) => Promise<Record<string, Tensor>>)(inputs);
  // int64 inputs, made once per batch (a tokenizer's output), outside the timed calls.
  const inputs = new Map<Batch, Record<string, Tensor>>();
  const feeds = (b: Batch) => {
    let f = inputs.get(b);
    if (!f) {
      f = {
        input_ids: new tf.Tensor('int64', BigInt64Array.from(b.ids, (x) => BigInt(x)), [b.B, b.L]),
        attention_mask: new tf.Tensor('int64', BigInt64Array.from(b.mask, (x) => BigInt(x)), [b.B, b.L]),
      };
      inputs.clear();
      inputs.set(b, f);
    }
    return f;
  };
  /** Mean-pooled embeddings and the hidden states, as the feature-extraction pipeline makes them. */
  const embed = async (b: Batch) => {
    const f = feeds(b);
    const out = await call(f);
    const pooled = tf.mean_pooling(out.last_hidden_state!, f.attention_mask!);
    return { pooled: pooled.data as Float32Array, hidden: out.last_hidden_state!.data as Float32Array };
  };
  try {
    const check = makeBatch(CHECK_LENGTHS, spec.model.vocab);
    const c = await embed(check);
    const batches = await timeBatches(spec, async (b) => { await embed(b); }, sample, log);
    return { result: { status: 'ok', loadMs, batches, rssDeltaBytes: mem.delta() },
      check: [c.pooled, c.hidden.slice(0, CHECK_LENGTHS[0]! * E)] };
  } finally {
    await (model as unknown as { dispose(): Promise<unknown> }).dispose();
  }
}
