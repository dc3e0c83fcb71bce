/**
 * One cell of the `models` group: one library, one model, one weight format, one
 * thread count — load, a correctness prompt, prefill and decode timings, memory.
 * Runs in the bench process (`--quick`) or as its own process (full runs), started by
 * models.ts as `node --import tsx bench/model-cell.ts <spec.json> <result.json>`,
 * so that each cell's resident memory is its own and onnxruntime-web's thread count
 * (fixed once per process) can differ between cells.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CausalLM } from '../dist/models/index.js';
import { hfConfig, type ModelSpec, safetensorsBytes, tensorList } from './model-weights.js';

/** What a cell runs. */
export interface CellSpec {
  readonly model: ModelSpec;
  readonly library: 'wasm-attention' | 'transformers.js';
  /** Ours: `float32`, `float16`, `int8`, `int4`; the peer: `fp32`, `q8`. */
  readonly format: string;
  readonly threads: number;
  /** Ours: the kernels' build (`init({ build })`). */
  readonly build: string;
  /** The peer's model folder (config.json, generation_config.json, onnx/). */
  readonly peerDir?: string;
  /** Where the correctness prompt's logits go (float32, `[checkTokens + 1, vocab]`). */
  readonly checkFile: string;
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
  /** Largest process RSS seen after load, prefill and decode, minus the RSS just before the load. */
  readonly rssDeltaBytes?: number;
  /** Ours: peak bytes held in WASM memory (`memoryStats().peakBytes`, reset before the load). */
  readonly wasmPeakBytes?: number;
  /** Ours: bytes of the model's weights in WASM memory (`weightBytes`). */
  readonly weightBytes?: number;
  readonly seconds: number;
}

/** The prompt of the correctness check (fixed ids below every vocabulary size used). */
export const CHECK_IDS = [1, 17, 123, 42, 7, 250, 99, 3];
export const CHECK_NEXT = 11;

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
const rss = () => process.memoryUsage.rss();
const ids = (n: number, vocab: number) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);

function saveCheck(file: string, rows: Float32Array[]): void {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) { out.set(r, at); at += r.length; }
  writeFileSync(file, out);
}

/** Runs one cell. `log` gets progress lines. */
export async function runCell(spec: CellSpec, log: (line: string) => void = () => {}): Promise<CellResult> {
  const started = performance.now();
  try {
    const r = spec.library === 'wasm-attention' ? await runOurs(spec, log) : await runPeer(spec, log);
    return { ...r, seconds: (performance.now() - started) / 1000 };
  } catch (e) {
    return { status: `failed: ${(e as Error).message.split('\n')[0]}`, seconds: (performance.now() - started) / 1000 };
  }
}

type Partial = Omit<CellResult, 'seconds'>;

async function runOurs(spec: CellSpec, log: (line: string) => void): Promise<Partial> {
  const { init, memoryStats, Tensor } = await import('../dist/index.js');
  const models = await import('../dist/models/index.js');
  if (spec.build === 'relaxed-simd') {
    const { init: initSeparate } = await import('../dist/separate.js');
    await initSeparate({ build: 'relaxed-simd' });
  } else {
    await init({ build: spec.build as 'auto' });
  }
  const s = spec.model;
  const bytes = safetensorsBytes(s, spec.format === 'float16' ? 'F16' : 'F32');
  const float32Bytes = tensorList(s).reduce((n, t) => n + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
  const rss0 = rss();
  let peak = rss0;
  const sample = () => { peak = Math.max(peak, rss()); };
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
    if (/unsupported|not supported/i.test(msg)) return { status: `n/a: ${msg}` };
    throw e;
  }
  const loadMs = performance.now() - t0;
  sample();
  try {
    if ((spec.format === 'int8' || spec.format === 'int4') && model.weightBytes > 0.5 * float32Bytes) {
      return { status: `n/a: this version of CausalLM.load ignores { weights: '${spec.format}' } (its weights take ` +
        `${(100 * model.weightBytes / float32Bytes).toFixed(0)}% of float32's bytes)` };
    }
    log(`      loaded in ${loadMs.toFixed(0)} ms, ${(model.weightBytes / 2 ** 20).toFixed(1)} MiB of weights`);
    const maxLength = Math.max(...spec.contexts, ...spec.prefill, CHECK_IDS.length + 1);
    const cache = model.createCache({ maxLength });
    try {
      // Correctness prompt: every position's logits, then one decode step.
      const rows: Float32Array[] = [];
      const all = model.forward(CHECK_IDS, cache, { logits: 'all' });
      rows.push(all.toArray());
      all.dispose();
      const next = model.forward([CHECK_NEXT], cache, { logits: 'last' });
      rows.push(next.toArray());
      next.dispose();
      saveCheck(spec.checkFile, rows);

      const prefill: { tokens: number; ms: number; runs: number }[] = [];
      for (const n of spec.prefill) {
        const prompt = ids(n, s.vocab), times: number[] = [];
        for (let r = 0; r < spec.prefillRuns; r++) {
          cache.clear();
          const t = performance.now();
          model.forward(prompt, cache, { logits: 'last' }).dispose();
          times.push(performance.now() - t);
          sample();
        }
        prefill.push({ tokens: n, ms: median(times), runs: times.length });
        log(`      prefill ${n}: ${median(times).toFixed(1)} ms`);
      }
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
        sample();
        decode.push({ context: ctx, ms: median(times), min: Math.min(...times), max: Math.max(...times), steps: times.length });
        log(`      decode at ${ctx}: ${median(times).toFixed(2)} ms/token`);
      }
      return { status: 'ok', loadMs, prefill, decode, rssDeltaBytes: peak - rss0, wasmPeakBytes: memoryStats().peakBytes,
        weightBytes: model.weightBytes };
    } finally {
      cache.dispose();
    }
  } finally {
    model.dispose();
  }
}

async function runPeer(spec: CellSpec, log: (line: string) => void): Promise<Partial> {
  const { loadTransformers } = await import('./peers/transformers.js');
  const { tf } = await loadTransformers(spec.threads);
  const s = spec.model, dir = spec.peerDir!;
  tf.env.localModelPath = path.dirname(dir) + path.sep;
  const i64 = (values: number[], dims: number[]) => new tf.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
  const ones = (n: number) => i64(new Array<number>(n).fill(1), [1, n]);
  const keep = (n: number) => new tf.Tensor('int64', BigInt64Array.from([BigInt(n)]), []);
  const rss0 = rss();
  let peak = rss0;
  const sample = () => { peak = Math.max(peak, rss()); };
  const t0 = performance.now();
  const model = await tf.AutoModelForCausalLM.from_pretrained(path.basename(dir), {
    dtype: spec.format as 'fp32', device: 'auto' as 'cpu', local_files_only: true,
    session_options: { executionProviders: ['wasm'], intraOpNumThreads: spec.threads } as never,
  });
  const loadMs = performance.now() - t0;
  sample();
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
    saveCheck(spec.checkFile, [first.logits!.data as Float32Array, second.logits!.data as Float32Array]);

    const prefill: { tokens: number; ms: number; runs: number }[] = [];
    for (const n of spec.prefill) {
      const input_ids = i64(ids(n, s.vocab), [1, n]), attention_mask = ones(n), times: number[] = [];
      for (let r = 0; r < spec.prefillRuns; r++) {
        const t = performance.now();
        await forward({ input_ids, attention_mask, num_logits_to_keep: keep(1) });
        times.push(performance.now() - t);
        sample();
      }
      prefill.push({ tokens: n, ms: median(times), runs: times.length });
      log(`      prefill ${n}: ${median(times).toFixed(1)} ms`);
    }
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
      sample();
      decode.push({ context: ctx, ms: median(times), min: Math.min(...times), max: Math.max(...times), steps: times.length });
      log(`      decode at ${ctx}: ${median(times).toFixed(2)} ms/token`);
    }
    return { status: 'ok', loadMs, prefill, decode, rssDeltaBytes: peak - rss0 };
  } finally {
    await (model as unknown as { dispose(): Promise<unknown> }).dispose();
  }
}

// As a process of its own: `model-cell.ts <spec.json> <result.json>`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CellSpec;
  const result = await runCell(spec, (line) => console.error(line));
  writeFileSync(process.argv[3]!, JSON.stringify(result));
  process.exit(0);
}
