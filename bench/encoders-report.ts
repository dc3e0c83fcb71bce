/**
 * The `encoders` group's table, ratios and notes for the console and the Markdown report
 * (no Node imports: the report module is shared with the browser page).
 */
import { markdownTable, mib, textTable } from './format.js';
import type { EncoderCellResult } from './encoder-run.js';

/** The peer's fp32 embeddings and hidden states must agree with ours in float32 within this. */
export const ENCODER_TOLERANCE = 1e-3;

export interface EncoderRow {
  readonly model: string;
  readonly library: string;
  readonly format: string;
  readonly threads: number;
  readonly result: EncoderCellResult;
  /** Ours: weight bytes in WASM memory; the peer: its ONNX file. */
  readonly weightBytes?: number;
  /** Max |Δ| of the correctness batch's pooled embeddings and hidden states against ours in float32. */
  readonly checkMaxAbsDiff?: number;
}

export interface EncodersResult {
  readonly mode: 'quick' | 'full';
  readonly models: { name: string; config: Record<string, unknown> }[];
  /** The timed batches: `latency`, `ragged`, `full`. */
  readonly batches: { name: string; sentences: number; tokens: number; length: number; runs: number; warmup: number }[];
  readonly peerVersions?: string;
  readonly rows: EncoderRow[];
  readonly isolated: boolean;
  readonly seconds: number;
  /** Set when the cells ran in a browser page (one page for all cells): its name and version. */
  readonly browser?: string;
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** `32 × ≤128` or `8 × 512`. */
const shape = (b: { sentences: number; tokens: number; length: number }) =>
  `${b.sentences} × ${b.tokens < b.sentences * b.length ? '≤' : ''}${b.length}`;

/** The encoders table (console and markdown share the rows). */
export function encodersTable(m: EncodersResult): { header: string[]; rows: string[][]; notes: string[] } {
  const header = ['model', 'library, weights', 'threads',
    ...m.batches.map((b) => (b.name === 'latency' ? `${shape(b)} ms` : `${shape(b)} sentences/s`)),
    'load ms', 'peak RSS', 'RSS Δ', 'WASM peak', 'weights', 'max |Δ| vs ours f32'];
  const notes: string[] = [];
  const rows = m.rows.map((r) => {
    const res = r.result, name = `${r.library}, ${r.format}`;
    if (res.status !== 'ok') {
      notes.push(`${r.model} ${name}: ${res.status}`);
      return [r.model, name, `${r.threads}`, res.status.startsWith('n/a') ? 'n/a' : 'failed', ...new Array<string>(header.length - 4).fill('')];
    }
    const timings = m.batches.map((b) => {
      const t = res.batches!.find((x) => x.name === b.name);
      return !t ? '—' : b.name === 'latency' ? f1(t.ms) : f1(t.sentences / (t.ms / 1000));
    });
    return [r.model, name, `${r.threads}`, ...timings, res.loadMs!.toFixed(0),
      m.isolated && res.peakRssBytes !== undefined ? mib(res.peakRssBytes) : '—',
      res.rssDeltaBytes !== undefined ? mib(res.rssDeltaBytes) : '—',
      res.wasmPeakBytes !== undefined ? mib(res.wasmPeakBytes) : '—', r.weightBytes !== undefined ? mib(r.weightBytes) : '—',
      r.checkMaxAbsDiff !== undefined ? r.checkMaxAbsDiff.toExponential(1)
        : r.library === 'wasm-attention' && r.format === 'float32' ? '(reference)' : '—'];
  });
  if (!m.browser) return { header, rows, notes };
  // A page cannot read its process memory: no RSS columns.
  const keep = header.map((h) => h !== 'peak RSS' && h !== 'RSS Δ');
  const pick = <T>(xs: T[]) => xs.filter((_, i) => keep[i]);
  return { header: pick(header), rows: rows.map(pick), notes };
}

/**
 * The comparisons the group exists for, one thread each, per model: the ragged batch's
 * sentences/s of ours (float32, int8) over transformers.js's (fp32, q8), and transformers.js
 * fp32's 16-token latency over ours in float32 (above 1: ours is faster).
 */
export function encoderRatios(m: EncodersResult): string[] {
  const out: string[] = [];
  const ragged = m.batches.find((b) => b.name === 'ragged'), latency = m.batches.find((b) => b.name === 'latency');
  for (const { name } of m.models) {
    const ms = (library: string, format: string, batch: string) => {
      const r = m.rows.find((x) => x.model === name && x.library === library && x.format === format && x.threads === 1);
      return r?.result.status === 'ok' ? r.result.batches?.find((b) => b.name === batch)?.ms : undefined;
    };
    const parts: string[] = [];
    const ratio = (label: string, ours: string, peer: string, batch: string) => {
      const a = ms('wasm-attention', ours, batch), b = ms('transformers.js', peer, batch);
      parts.push(`${label} ${a !== undefined && b !== undefined ? `${(b / a).toFixed(2)}×` : 'n/a'}`);
    };
    if (ragged) {
      ratio(`ragged ${shape(ragged)}: float32 vs fp32`, 'float32', 'fp32', 'ragged');
      ratio('float32 vs q8', 'float32', 'q8', 'ragged');
      ratio('int8 vs q8', 'int8', 'q8', 'ragged');
    }
    if (latency) ratio(`${shape(latency)} latency: float32 vs fp32`, 'float32', 'fp32', 'latency');
    out.push(`${name}, one thread, ours' speed ÷ transformers.js's: ${parts.join(', ')}.`);
  }
  return out;
}

function methodLines(m: EncodersResult): string[] {
  const ragged = m.batches.find((b) => b.name === 'ragged');
  const runs = m.batches.map((b) => `${shape(b)}: ${b.warmup ? `${b.warmup} warm-up + ` : ''}${b.runs}`).join(', ');
  return [
    `Each figure is the median of the timed calls (${runs}) of one call on the whole batch, from token ids to ` +
      'mean-pooled embeddings in JS memory: ours `EncoderModel.embed(batch, { pooling: \'mean\' })` with the batch\'s ' +
      'attention mask; transformers.js `AutoModel` on the batch padded to its longest sentence, then its `mean_pooling` ' +
      '(what its feature-extraction pipeline does), the int64 input tensors made before the timer starts.',
    ...(ragged ? [`Ragged batch: ${ragged.sentences} sentences, ${ragged.tokens} real tokens, the longest ${ragged.length} ` +
      `(${ragged.sentences * ragged.length} once padded): lengths from a log-normal around 40 tokens (σ 0.6, seed 32), ` +
      'clamped to 4 … 128, in their drawn order.'] : []),
    ...(m.browser ? [
      'Load: ours from the safetensors bytes in the page\'s memory; transformers.js `AutoModel.from_pretrained` fetching ' +
        'the model folder from the bench\'s server on 127.0.0.1 (files just written), session creation included.',
      'Memory: WASM peak = ours\' `memoryStats().peakBytes`; weights = ours in WASM memory, the peer\'s ONNX file; a page ' +
        'cannot read its process memory, and every cell runs in the same page after the decoders.',
    ] : [
      'Load: ours from the safetensors bytes in memory; transformers.js `AutoModel.from_pretrained` from the model ' +
        'folder just written (in the OS page cache), session creation included.',
      `Memory: peak RSS = the process's \`resourceUsage().maxRSS\`${m.isolated ? ' (each cell in a process of its own)'
        : ' (not shown: cells share the bench process here)'}; RSS Δ = largest RSS after the load and each batch minus the ` +
        'RSS before the load; WASM peak = ours\' `memoryStats().peakBytes`; weights = ours in WASM memory, the peer\'s ONNX file.',
    ]),
    `max |Δ| vs ours f32: largest difference over a check batch of 3 sentences (16, 5 and 11 tokens): the mean-pooled ` +
      `embeddings and the unpadded sentence's hidden states; transformers.js fp32 should agree within ${ENCODER_TOLERANCE}.`,
    `Peer: ${m.peerVersions ?? 'transformers.js'}, WASM backend; its ONNX files are built from the same weights at bench ` +
      'time (bench/peers/onnx-encoder.ts): standard opset-17 ops, BERT\'s additive attention mask, q8 = ' +
      'DynamicQuantizeLinear/MatMulInteger with int8 weights, one scale per output column, int8 embedding tables.',
  ];
}

export function encodersConsole(m: EncodersResult): string {
  const t = encodersTable(m);
  return [`Encoders (${m.mode}; ${m.seconds.toFixed(0)} s):`, textTable(t.header, t.rows), ...t.notes, ...encoderRatios(m),
    ...methodLines(m)].join('\n');
}

export function encodersMarkdown(m: EncodersResult): string[] {
  const t = encodersTable(m);
  const out = ['## Encoders', '', `BERT encoders with random weights (${m.models.map((x) => x.name).join(', ')}) making ` +
    `sentence embeddings, both libraries in the same run. Group time ${m.seconds.toFixed(0)} s.`, ''];
  out.push(...markdownTable(t.header, t.rows), '');
  for (const n of [...t.notes, ...encoderRatios(m), ...methodLines(m)]) out.push(`- ${n}`);
  out.push('');
  return out;
}
