/**
 * The `models` group's cells, then the `encoders` group's, in one Chromium page (see
 * models-host.ts): the plan comes from /models/plan.json, the peer's model folders from
 * /models/<id>/, and every cell runs the shared code of model-run.ts / encoder-run.ts — ours
 * on the kernels' build asked for, then transformers.js on its browser build's
 * onnxruntime-web WebAssembly backend with one thread. Sets `window.benchResult` (a
 * {@link BrowserPageResult}) or `window.benchError`.
 */
import { init } from '../../dist/index.js';
import { maxAbsDiff } from '../data.js';
import { type EncoderRunSpec, runEncoder, type TimedBatch } from '../encoder-run.js';
import { encoderHfConfig, type EncoderSpec } from '../encoder-weights.js';
import { type EncoderRow, encodersConsole, type EncodersResult } from '../encoders-report.js';
import { hfConfig, type ModelSpec } from '../model-weights.js';
import { type CellOutcome, type ModelCellSpec, oursWeightBytesPerToken, runModelCell, type TransformersModule } from '../model-run.js';
import { type ModelRow, modelsConsole, type ModelsResult } from '../models-report.js';

/** What the host asks the page to run. */
export interface BrowserModelsPlan {
  readonly quick: boolean;
  readonly build: string;
  /** Each model, the folder id of its peer files under /models/, and the peer's weight bytes per token by format. */
  readonly models: { spec: ModelSpec; id: string; peerBytes: Record<string, number> }[];
  readonly ours: readonly string[];
  readonly peer: readonly string[];
  readonly prefill: readonly number[];
  readonly prefillRuns: number;
  readonly contexts: readonly number[];
  readonly decodeSteps: number;
  readonly peerVersions: string;
  /** Encoders, their peer folder ids and ONNX file sizes by format (none: the group is skipped). */
  readonly encoders: { spec: EncoderSpec; id: string; fileBytes: Record<string, number> }[];
  readonly encoderOurs: readonly string[];
  readonly encoderBatches: readonly TimedBatch[];
}

/** The page's result: the decoders, and the encoders when the plan has any. */
export type BrowserPageResult = ModelsResult & { readonly encoders?: EncodersResult };

type BenchWindow = typeof globalThis & { benchResult?: BrowserPageResult; benchError?: string };
const w = globalThis as BenchWindow;
const logEl = document.getElementById('log')!;
const log = (line: string) => {
  console.log(line);
  logEl.textContent += `${line}\n`;
};

const ORT_DIST = '/node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/';
let transformers: Promise<TransformersModule> | null = null;

/** transformers.js's browser build, on its onnxruntime-web's WebAssembly files served here, one thread, no caches. */
function loadTransformers(): Promise<TransformersModule> {
  transformers ??= (async () => {
    const tf = (await import('@huggingface/transformers')) as TransformersModule;
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.localModelPath = '/models/';
    tf.env.useBrowserCache = false;
    tf.env.useWasmCache = false;
    const wasm = tf.env.backends.onnx.wasm!;
    wasm.wasmPaths = ORT_DIST;
    wasm.numThreads = 1;
    wasm.proxy = false;
    return tf;
  })();
  return transformers;
}

const flatten = (rows: Float32Array[]) => {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) { out.set(r, at); at += r.length; }
  return out;
};

async function main(): Promise<void> {
  const started = performance.now();
  const plan = (await (await fetch('/models/plan.json')).json()) as BrowserModelsPlan;
  // The user agent string gives only the major version (…/156.0.0.0); the client hints give the full one.
  type Hints = { getHighEntropyValues(h: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }> };
  const hints = await (navigator as Navigator & { userAgentData?: Hints }).userAgentData?.getHighEntropyValues(['fullVersionList']);
  const full = hints?.fullVersionList?.find((b) => /Chrom/.test(b.brand));
  const browser = full ? `${full.brand} ${full.version}`
    : navigator.userAgent.match(/(HeadlessChrome|Chrom(e|ium))\/[\d.]+/)?.[0] ?? navigator.userAgent;
  // The default entry holds the simd and scalar builds; the relaxed-SIMD one comes through the separate entry (as in model-run.ts).
  const info = plan.build === 'relaxed-simd'
    ? await (await import('../../dist/separate.js')).init({ build: 'relaxed-simd' })
    : await init({ build: plan.build as 'auto' });
  log(`${browser}, ${navigator.hardwareConcurrency} logical cores, crossOriginIsolated ${String(crossOriginIsolated)}; ` +
    `ours: the ${info.build} build, 1 thread; transformers.js: 1 thread`);
  const rows: ModelRow[] = [];
  for (const { spec: s, id, peerBytes } of plan.models) {
    log(`models: ${s.name} (${s.layers} layers, d ${s.hidden}, ${s.heads}/${s.kvHeads} heads of ${s.headDim}, ` +
      `MLP ${s.mlp}, vocabulary ${s.vocab})`);
    const kvBytesPerToken = s.layers * 2 * s.kvHeads * s.headDim * 4;
    const cells = [
      ...plan.ours.map((format) => ({ library: 'wasm-attention' as const, format })),
      ...plan.peer.map((format) => ({ library: 'transformers.js' as const, format })),
    ];
    let reference: Float32Array | null = null;
    for (const c of cells) {
      const spec: ModelCellSpec = { model: s, library: c.library, format: c.format, threads: 1, build: info.build,
        prefill: plan.prefill, prefillRuns: plan.prefillRuns, contexts: plan.contexts, decodeSteps: plan.decodeSteps };
      log(`  [${s.name}] ${c.library} ${c.format}, 1 thread`);
      const { result, check }: CellOutcome = await runModelCell(spec, {
        transformers: loadTransformers, peerModel: id, peerDevice: 'wasm',
      }, log);
      if (result.status !== 'ok') log(`      ${result.status}`);
      let diff: number | undefined;
      if (check) {
        const logits = flatten(check);
        if (c.library === 'wasm-attention' && c.format === 'float32') reference = logits;
        else if (reference) {
          diff = maxAbsDiff(reference, logits);
          log(`      max abs diff vs wasm-attention float32: ${diff.toExponential(2)}`);
        }
      }
      const weightBytesPerToken = c.library === 'transformers.js' ? peerBytes[c.format]
        : result.weightBytes !== undefined ? oursWeightBytesPerToken(s, result.weightBytes) : undefined;
      rows.push({ model: s.name, library: c.library, format: c.format, threads: 1, result, weightBytesPerToken,
        kvBytesPerToken, checkMaxAbsDiff: diff });
    }
  }
  const encoders = plan.encoders.length ? await runEncoders(plan, info.build, browser) : undefined;
  const ortWasm = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /ort-wasm[^/]*\.wasm$/.test(n));
  const result: BrowserPageResult = {
    mode: plan.quick ? 'quick' : 'full', models: plan.models.map((m) => ({ name: m.spec.name, config: hfConfig(m.spec) })),
    prefill: plan.prefill, contexts: plan.contexts, prefillRuns: plan.prefillRuns, decodeSteps: plan.decodeSteps,
    bandwidth: null, peerVersions: plan.peerVersions, rows, isolated: false, seconds: (performance.now() - started) / 1000,
    browser, ourBuild: info.build, peerWasm: ortWasm.map((n) => n.slice(n.lastIndexOf('/') + 1)).join(', ') || undefined,
    encoders,
  };
  document.getElementById('table')!.textContent = modelsConsole(result) + (encoders ? `\n\n${encodersConsole(encoders)}` : '');
  document.getElementById('status')!.textContent = `done in ${result.seconds.toFixed(1)} s`;
  w.benchResult = result;
}

/** The encoder cells: ours in each format, then transformers.js, one thread; checks against ours in float32. */
async function runEncoders(plan: BrowserModelsPlan, build: string, browser: string): Promise<EncodersResult> {
  const started = performance.now();
  const rows: EncoderRow[] = [];
  for (const { spec: s, id, fileBytes } of plan.encoders) {
    log(`encoders: ${s.name} (${s.layers} layers, d ${s.hidden}, ${s.heads} heads, MLP ${s.mlp}, vocabulary ${s.vocab})`);
    const cells = [
      ...plan.encoderOurs.map((format) => ({ library: 'wasm-attention' as const, format })),
      ...plan.peer.map((format) => ({ library: 'transformers.js' as const, format })),
    ];
    let reference: Float32Array | null = null;
    for (const c of cells) {
      const spec: EncoderRunSpec = { model: s, library: c.library, format: c.format, threads: 1, build,
        batches: plan.encoderBatches };
      log(`  [${s.name}] ${c.library} ${c.format}, 1 thread`);
      const { result, check } = await runEncoder(spec, { transformers: loadTransformers, peerModel: id, peerDevice: 'wasm' }, log);
      if (result.status !== 'ok') log(`      ${result.status}`);
      let diff: number | undefined;
      if (check) {
        const out = flatten(check);
        if (c.library === 'wasm-attention' && c.format === 'float32') reference = out;
        else if (reference) {
          diff = maxAbsDiff(reference, out);
          log(`      max abs diff vs wasm-attention float32: ${diff.toExponential(2)}`);
        }
      }
      rows.push({ model: s.name, library: c.library, format: c.format, threads: 1, result,
        weightBytes: c.library === 'transformers.js' ? fileBytes[c.format] : result.weightBytes, checkMaxAbsDiff: diff });
    }
  }
  const b = plan.encoderBatches;
  return {
    mode: plan.quick ? 'quick' : 'full', models: plan.encoders.map((e) => ({ name: e.spec.name, config: encoderHfConfig(e.spec) })),
    batches: b.map((x) => ({ name: x.name, sentences: x.lengths.length, tokens: x.lengths.reduce((a, n) => a + n, 0),
      length: Math.max(...x.lengths), runs: x.runs, warmup: x.warmup })),
    peerVersions: plan.peerVersions, rows, isolated: false, seconds: (performance.now() - started) / 1000, browser,
  };
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  document.getElementById('status')!.textContent = `failed: ${message}`;
  w.benchError = message;
});
