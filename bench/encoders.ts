/**
 * The `encoders` group: BERT encoders making sentence embeddings, wasm-attention's
 * `EncoderModel` against transformers.js, on the same random weights, in the same bench run.
 *
 * Models: a MiniLM-L6-shaped BERT (6 layers, d 384, 12 heads, MLP 1536, vocabulary 30522,
 * 512 positions, 2 token types) and a BERT-base-shaped one (12 layers, d 768, MLP 3072);
 * `--quick` runs a tiny BERT instead. Weights come from model-weights.ts's seeded generator.
 *
 * - wasm-attention: `EncoderModel.load(config, safetensors bytes, { weights: format })` for
 *   every format in {@link ENCODER_FORMATS} (float16 from a float16 file of the same floats
 *   rounded); a format the loader refuses or ignores is reported as n/a. It takes each batch
 *   with its attention mask and pools with `embed({ pooling: 'mean' })`.
 * - transformers.js (`AutoModel`, its onnxruntime-web, WASM backend; peers/transformers.ts)
 *   on model folders written here at bench time: `config.json` (the same config as ours) and
 *   `onnx/model.onnx` (fp32) / `onnx/model_quantized.onnx` (q8) from peers/onnx-encoder.ts;
 *   each batch padded to its longest sentence, then its `mean_pooling` (what its
 *   feature-extraction pipeline does after the model).
 *
 * Per cell (model × library × format × threads): load ms from bytes in memory (the peer: from
 * its files), a correctness batch (max |Δ| of the pooled embeddings and hidden states against
 * ours in float32), the median latency of one 16-token query, sentences/s of a ragged batch
 * of 32 sentences (lengths ≤ 128 from a fixed seeded distribution) and of 8 × 512, peak RSS.
 * Full runs give each cell a process of its own; `--quick` runs them in the bench process.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maxAbsDiff } from './data.js';
import { type EncoderCellResult, type EncoderCellSpec, runEncoderCell, type TimedBatch } from './encoder-cell.js';
import type { EncoderRow, EncodersResult } from './encoders-report.js';
import { BERT_BASE, encoderHfConfig, type EncoderSpec, MINILM_L6, raggedLengths, TINY_BERT } from './encoder-weights.js';
import { mib } from './format.js';
import { peerVersionsFromPackages, runIsolated } from './models.js';
import type { PeerFormat } from './peers/onnx-builder.js';
import { encoderGraph } from './peers/onnx-encoder.js';

/** Our weight formats, in table order (a format the loader does not support shows as n/a). */
export const ENCODER_FORMATS = ['float32', 'float16', 'int8', 'int4'] as const;
/** The peer's formats: its fp32 and q8 (int8 weights) files. */
export const ENCODER_PEER_FORMATS: readonly PeerFormat[] = ['fp32', 'q8'];
/** Every encoder shape of full runs, by name (`--shapes` picks among them). */
export const ENCODER_SPECS: readonly EncoderSpec[] = [MINILM_L6, BERT_BASE];

/** The ragged batch's lengths: 32 sentences, log-normal around 40 tokens, 4 … 128, seed 32. */
export const RAGGED_LENGTHS: readonly number[] = raggedLengths(32, 40, 4, 128, 32);

export interface EncodersOptions {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  readonly build: string;
  /** Shapes to run, by name (case-insensitive); all when absent. */
  readonly shapes?: ReadonlySet<string>;
  /** The peer's thread counts (full runs: 1 and 2; quick: 1). */
  readonly peerThreads?: readonly number[];
}

/** The batches of a run: one 16-token query, the ragged batch, and every sentence at the longest length. */
export function encoderBatches(quick: boolean): TimedBatch[] {
  return quick
    ? [
      { name: 'latency', lengths: [16], runs: 5, warmup: 1 },
      { name: 'ragged', lengths: RAGGED_LENGTHS, runs: 2, warmup: 0 },
      { name: 'full', lengths: new Array<number>(8).fill(128), runs: 2, warmup: 0 },
    ]
    : [
      { name: 'latency', lengths: [16], runs: 20, warmup: 3 },
      { name: 'ragged', lengths: RAGGED_LENGTHS, runs: 3, warmup: 1 },
      { name: 'full', lengths: new Array<number>(8).fill(512), runs: 3, warmup: 0 },
    ];
}

/** Writes the peer's model folder; returns the ONNX file sizes. */
export function writeEncoderFolder(s: EncoderSpec, dir: string, log: (line: string) => void): Record<PeerFormat, number> {
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(encoderHfConfig(s), null, 2));
  const sizes = {} as Record<PeerFormat, number>;
  for (const format of ENCODER_PEER_FORMATS) {
    const t0 = performance.now();
    const g = encoderGraph(s, format);
    const fd = openSync(path.join(dir, 'onnx', format === 'fp32' ? 'model.onnx' : 'model_quantized.onnx'), 'w');
    let size = 0;
    try {
      for (const c of g.chunks) { writeSync(fd, c); size += c.length; }
    } finally {
      closeSync(fd);
    }
    sizes[format] = size;
    log(`  ${s.name} ${format} ONNX graph: ${mib(size)} written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return sizes;
}

/** Runs the group. */
export async function runEncodersGroup(opts: EncodersOptions): Promise<EncodersResult> {
  const started = performance.now();
  const { quick, log } = opts;
  const wanted = opts.shapes ? new Set([...opts.shapes].map((n) => n.toLowerCase())) : null;
  const specs = quick ? [TINY_BERT] : ENCODER_SPECS.filter((s) => !wanted || wanted.has(s.name.toLowerCase()));
  const batches = encoderBatches(quick);
  const peerThreads = opts.peerThreads ?? (quick ? [1] : [1, 2]);
  const isolated = !quick;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wasm-attention-encoders-'));
  const rows: EncoderRow[] = [];
  let index = 0;
  try {
    for (const s of specs) {
      log(`encoders: ${s.name} (${s.layers} layers, d ${s.hidden}, ${s.heads} heads, MLP ${s.mlp}, vocabulary ${s.vocab})`);
      const dir = path.join(tmp, s.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase());
      const fileBytes = writeEncoderFolder(s, dir, log);
      const cells: { library: EncoderCellSpec['library']; format: string; threads: number }[] = [
        ...ENCODER_FORMATS.map((format) => ({ library: 'wasm-attention' as const, format, threads: 1 })),
        ...peerThreads.flatMap((threads) =>
          ENCODER_PEER_FORMATS.map((format) => ({ library: 'transformers.js' as const, format, threads }))),
      ];
      const checks = new Map<string, string>();
      const modelRows: EncoderRow[] = [];
      for (const c of cells) {
        const checkFile = path.join(tmp, `check-${index}.f32`);
        const spec: EncoderCellSpec = { model: s, library: c.library, format: c.format, threads: c.threads,
          build: opts.build, peerDir: dir, checkFile, batches };
        log(`  [${s.name}] ${c.library} ${c.format}, ${c.threads} thread${c.threads > 1 ? 's' : ''}`);
        const result = isolated
          ? await runIsolated<EncoderCellSpec, EncoderCellResult>(spec, tmp, index, log, 'encoder-cell.ts') as EncoderCellResult
          : await runEncoderCell(spec, log);
        index++;
        if (result.status !== 'ok') log(`      ${result.status}`);
        else checks.set(`${c.library} ${c.format} ${c.threads}`, checkFile);
        modelRows.push({ model: s.name, library: c.library, format: c.format, threads: c.threads, result,
          weightBytes: c.library === 'transformers.js' ? fileBytes[c.format as PeerFormat] : result.weightBytes });
      }
      // Correctness: every cell's pooled embeddings and hidden states against ours in float32.
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
  return {
    mode: quick ? 'quick' : 'full', models: specs.map((s) => ({ name: s.name, config: encoderHfConfig(s) })),
    batches: batches.map((b) => ({ name: b.name, sentences: b.lengths.length, tokens: b.lengths.reduce((a, x) => a + x, 0),
      length: Math.max(...b.lengths), runs: b.runs, warmup: b.warmup })),
    peerVersions: peerVersionsFromPackages(), rows, isolated, seconds: (performance.now() - started) / 1000,
  };
}
