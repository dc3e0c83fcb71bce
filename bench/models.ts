/**
 * The `models` group: whole decoders, wasm-attention's `CausalLM` against transformers.js,
 * on the same random weights, in the same bench run.
 *
 * Models: a SmolLM-135M-shaped LLaMA (30 layers, d 576, 9/3 heads of 64, MLP 1536,
 * vocabulary 49152, tied embeddings) and a GPT-2-small-shaped model (12 layers, d 768,
 * 12 heads, MLP 3072, vocabulary 50257, 1024 positions); `--quick` runs two tiny models
 * of the same families instead. Weights come from one seeded generator
 * (model-weights.ts): the same (seed, tensor name) gives the same floats on both sides.
 *
 * - wasm-attention: `CausalLM.load(config, safetensors bytes, { weights: format })` for
 *   every format in {@link OUR_FORMATS} (float16 from a float16 safetensors file of the
 *   same floats rounded, the others from the float32 file: bfloat16 rounded at load, as a
 *   model published in bfloat16 would load); a format the loader refuses
 *   ("unsupported") or does not apply is reported as n/a.
 * - transformers.js 4.3 (`AutoModelForCausalLM`, its own onnxruntime-web, WASM backend;
 *   see peers/transformers.ts) on model folders made here at bench time, with no Python:
 *   `config.json` and `generation_config.json` (the same config as ours) and
 *   `onnx/model.onnx` (fp32) / `onnx/model_quantized.onnx` (q8), ONNX graphs written by
 *   peers/onnx-decoder.ts with onnx-model.ts from the same weights (standard opset-17
 *   ops; q8 = the `DynamicQuantizeLinear`/`MatMulInteger` graph of onnxruntime's
 *   `quantize_dynamic(QInt8, per_channel)`), in a temporary directory removed afterwards.
 *
 * Per cell (model × library × format × threads): load ms from bytes in memory (the
 * peer: from its just-written files, through transformers.js's loader), a correctness
 * prompt (8 tokens, every position's logits, then one cached decode step; max |Δ| against
 * ours in float32), prefill tok/s (last-position logits, median of runs), decode ms/token
 * at two contexts (the cache filled with `context − 1` random positions, median of
 * steps), the largest RSS growth over the cell, ours' WASM peak, and each decode figure
 * as a fraction of this machine's limit: (weight bytes + K/V bytes) one token reads ÷ the
 * read bandwidth measured in the same run. Full runs give each cell a process of its own
 * (clean RSS; onnxruntime-web's thread count is fixed per process); `--quick` runs them
 * in the bench process. The peer also runs with 2 threads in full runs.
 */
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BandwidthResult, measureBandwidth } from './bandwidth.js';
import { maxAbsDiff } from './data.js';
import { mib } from './format.js';
import { type CellResult, type CellSpec, runCell } from './model-cell.js';
import { oursWeightBytesPerToken } from './model-run.js';
import type { ModelRow, ModelsResult } from './models-report.js';
import { GPT2_SMALL, hfConfig, type ModelSpec, SMOLLM_135M, TINY_GPT2, TINY_LLAMA } from './model-weights.js';
import { decoderGraph, type PeerFormat } from './peers/onnx-decoder.js';

/** Our weight formats, in table order (a format the loader does not support shows as n/a). */
export const OUR_FORMATS = ['float32', 'float16', 'bfloat16', 'int8', 'int4'] as const;
/** The peer's formats: its fp32 and q8 (int8 weights) files. */
export const PEER_FORMATS: readonly PeerFormat[] = ['fp32', 'q8'];
/** Prompt lengths, contexts and repetitions of quick and full runs (Node and the Chromium page). */
export const MODEL_PLANS = {
  quick: { prefill: [32, 128], contexts: [32, 128], prefillRuns: 2, decodeSteps: 5 },
  full: { prefill: [128, 512], contexts: [128, 1024], prefillRuns: 3, decodeSteps: 40 },
} as const;
export interface ModelsOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  readonly build: string;
  /** A bandwidth already measured in this run (the decode group's). */
  readonly bandwidth?: BandwidthResult | null;
  /** Full runs: only these shapes, by name (case-insensitive); all when absent. */
  readonly shapes?: ReadonlySet<string> | null;
  /** Full runs: the peer's thread counts (default 1 and 2). */
  readonly peerThreads?: readonly number[] | null;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * Runs a cell in a process of its own (full runs): `script` (model-cell.ts, encoder-cell.ts)
 * reads the spec from a file and writes its result to another.
 */
export function runIsolated<Spec, Result>(spec: Spec, dir: string, index: number, log: (line: string) => void,
  script = 'model-cell.ts'): Promise<Result | { status: string; seconds: number }> {
  const specFile = path.join(dir, `cell-${index}.json`), resultFile = path.join(dir, `cell-${index}.result.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const flags = process.execArgv.includes('--experimental-wasm-relaxed-simd') ? ['--experimental-wasm-relaxed-simd'] : [];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', path.join(HERE, script), specFile, resultFile], {
      cwd: path.join(HERE, '..'), stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        if (line.startsWith('      ')) log(line);
        else if (line.trim()) err = (err + '\n' + line).slice(-2000);
      }
    });
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as Result);
      } catch {
        resolve({ status: `failed: process exited with ${code}${err ? `: ${err.trim().split('\n').pop()}` : ''}`, seconds: 0 });
      }
    });
  });
}

/** Writes the peer's model folder of `s` (config files, fp32 and q8 ONNX graphs); returns each format's weight bytes per token. */
export function writeModelFolder(s: ModelSpec, dir: string, log: (line: string) => void): Record<PeerFormat, number> {
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(hfConfig(s), null, 2));
  writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 0, eos_token_id: 0 }));
  const bytes = {} as Record<PeerFormat, number>;
  for (const format of PEER_FORMATS) {
    const t0 = performance.now();
    const g = decoderGraph(s, format);
    const file = path.join(dir, 'onnx', format === 'fp32' ? 'model.onnx' : 'model_quantized.onnx');
    const fd = openSync(file, 'w');
    let size = 0;
    try {
      for (const c of g.chunks) { writeSync(fd, c); size += c.length; }
    } finally {
      closeSync(fd);
    }
    bytes[format] = g.weightBytesPerToken;
    log(`  ${s.name} ${format} ONNX graph: ${mib(size)} written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return bytes;
}

/** (weights + context·K/V bytes) ÷ bandwidth per decode context, and that limit ÷ the median. */
function decodeLimits(row: ModelRow, bandwidth: BandwidthResult | null): ModelRow['limits'] {
  const w = row.weightBytesPerToken, decode = row.result.decode;
  if (!bandwidth || w === undefined || !decode) return undefined;
  return decode.map((d) => {
    const limitMs = (w + d.context * row.kvBytesPerToken) / bandwidth.gbps / 1e6;
    return { context: d.context, limitMs, fraction: limitMs / d.ms };
  });
}

/** Runs the group. */
export async function runModelsGroup(opts: ModelsOptions): Promise<ModelsResult> {
  const started = performance.now();
  const { quick, log } = opts;
  const wanted = opts.shapes ? new Set([...opts.shapes].map((n) => n.toLowerCase())) : null;
  const specs = quick ? [TINY_LLAMA, TINY_GPT2] : [SMOLLM_135M, GPT2_SMALL].filter((s) => !wanted || wanted.has(s.name.toLowerCase()));
  const plan = { ...MODEL_PLANS[quick ? 'quick' : 'full'], peerThreads: quick ? [1] : opts.peerThreads ?? [1, 2] };
  const isolated = !quick;
  let bandwidth = opts.bandwidth ?? null;
  if (!bandwidth) {
    log('measuring the memory read bandwidth…');
    bandwidth = measureBandwidth();
    if (bandwidth) log(`  ${bandwidth.gbps.toFixed(1)} GB/s`);
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wasm-attention-models-'));
  const rows: ModelRow[] = [];
  let index = 0;
  try {
    for (const s of specs) {
      log(`models: ${s.name} (${s.layers} layers, d ${s.hidden}, ${s.heads}/${s.kvHeads} heads of ${s.headDim}, ` +
        `MLP ${s.mlp}, vocabulary ${s.vocab})`);
      const dir = path.join(tmp, s.family === 'llama' ? 'llama' : 'gpt2');
      const peerBytes = writeModelFolder(s, dir, log);
      const kvBytesPerToken = s.layers * 2 * s.kvHeads * s.headDim * 4;
      const cells: { library: CellSpec['library']; format: string; threads: number }[] = [
        ...OUR_FORMATS.map((format) => ({ library: 'wasm-attention' as const, format, threads: 1 })),
        ...plan.peerThreads.flatMap((threads) => PEER_FORMATS.map((format) => ({ library: 'transformers.js' as const, format, threads }))),
      ];
      const checks = new Map<string, string>();
      const modelRows: ModelRow[] = [];
      for (const c of cells) {
        const checkFile = path.join(tmp, `check-${index}.f32`);
        const spec: CellSpec = { model: s, library: c.library, format: c.format, threads: c.threads, build: opts.build,
          peerDir: dir, checkFile, prefill: plan.prefill, prefillRuns: plan.prefillRuns, contexts: plan.contexts,
          decodeSteps: plan.decodeSteps };
        log(`  [${s.name}] ${c.library} ${c.format}, ${c.threads} thread${c.threads > 1 ? 's' : ''}`);
        const result = isolated ? await runIsolated<CellSpec, CellResult>(spec, tmp, index, log) as CellResult : await runCell(spec, log);
        index++;
        if (result.status !== 'ok') log(`      ${result.status}`);
        else checks.set(`${c.library} ${c.format} ${c.threads}`, checkFile);
        const weightBytesPerToken = c.library === 'transformers.js' ? peerBytes[c.format as PeerFormat]
          : result.weightBytes !== undefined ? oursWeightBytesPerToken(s, result.weightBytes) : undefined;
        modelRows.push({ model: s.name, library: c.library, format: c.format, threads: c.threads, result,
          weightBytesPerToken, kvBytesPerToken });
      }
      // Correctness: every cell's prompt logits against ours in float32.
      const refFile = checks.get('wasm-attention float32 1');
      const ref = refFile ? new Float32Array(readFileSync(refFile).buffer.slice(0)) : null;
      for (const row of modelRows) {
        const file = checks.get(`${row.library} ${row.format} ${row.threads}`);
        let diff: number | undefined;
        if (ref && file && file !== refFile) {
          diff = maxAbsDiff(ref, new Float32Array(readFileSync(file).buffer.slice(0)));
          log(`  check ${row.library} ${row.format} ${row.threads}T vs wasm-attention float32: max abs diff ${diff.toExponential(2)}`);
        }
        rows.push({ ...row, checkMaxAbsDiff: diff });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const peerVersions = peerVersionsFromPackages();
  if (!opts.bandwidth) {
    const last = measureBandwidth();
    if (last && (!bandwidth || last.gbps > bandwidth.gbps)) bandwidth = last;
  }
  // Fractions of the limit from the one bandwidth the report states (the larger probe).
  const withLimits = rows.map((row) => ({ ...row, limits: decodeLimits(row, bandwidth) }));
  return { mode: quick ? 'quick' : 'full', models: specs.map((s) => ({ name: s.name, config: hfConfig(s) })),
    prefill: plan.prefill, contexts: plan.contexts, prefillRuns: plan.prefillRuns, decodeSteps: plan.decodeSteps,
    bandwidth, peerVersions, rows: withLimits, isolated, seconds: (performance.now() - started) / 1000 };
}

/** The peer's versions, read from the installed packages. */
export function peerVersionsFromPackages(): string {
  const read = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  try {
    const tfRoot = path.join(HERE, '..', 'node_modules', '@huggingface', 'transformers');
    const nested = path.join(tfRoot, 'node_modules', 'onnxruntime-web', 'package.json');
    let ort: string;
    try { ort = read(nested); } catch { ort = read(path.join(HERE, '..', 'node_modules', 'onnxruntime-web', 'package.json')); }
    return `transformers.js ${read(path.join(tfRoot, 'package.json'))}, onnxruntime-web ${ort}`;
  } catch {
    return 'transformers.js';
  }
}
