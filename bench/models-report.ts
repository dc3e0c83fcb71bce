/**
 * The `models` group's table and notes for the console and the Markdown report (no Node
 * imports: the report module is shared with the browser page).
 */
import type { BandwidthResult } from './bandwidth.js';
import { markdownTable, mib, textTable } from './format.js';
import type { CellResult } from './model-run.js';

/** Peer fp32 logits must agree with ours in float32 within this. */
export const MODEL_TOLERANCE = 1e-3;

export interface ModelRow {
  readonly model: string;
  readonly library: string;
  readonly format: string;
  readonly threads: number;
  readonly result: CellResult;
  /** Bytes of weights one decode step reads. */
  readonly weightBytesPerToken?: number;
  /** K/V bytes per cached position (all layers, float32). */
  readonly kvBytesPerToken: number;
  /** Decode limits: (weights + context·K/V bytes) ÷ bandwidth, in ms, and limit ÷ median. */
  readonly limits?: { context: number; limitMs: number; fraction: number }[];
  /** Max |logits − ours float32| over the correctness prompt. */
  readonly checkMaxAbsDiff?: number;
}

export interface ModelsResult {
  readonly mode: 'quick' | 'full';
  readonly models: { name: string; config: Record<string, unknown> }[];
  readonly prefill: readonly number[];
  readonly contexts: readonly number[];
  readonly prefillRuns: number;
  readonly decodeSteps: number;
  readonly bandwidth: BandwidthResult | null;
  readonly peerVersions?: string;
  readonly rows: ModelRow[];
  readonly isolated: boolean;
  readonly seconds: number;
  /** Set when the cells ran in a browser page (one page for all cells): its name and version. */
  readonly browser?: string;
  /** The browser run: the build of our kernels `init` chose. */
  readonly ourBuild?: string;
  /** The browser run: onnxruntime-web's WebAssembly file the page fetched. */
  readonly peerWasm?: string;
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The models table (console and markdown share the rows). */
export function modelsTable(m: ModelsResult): { header: string[]; rows: string[][]; notes: string[] } {
  const [c1, c2] = m.contexts, [p1, p2] = m.prefill;
  const header = ['model', 'library, weights', 'threads', `decode ms/token ctx ${c1} / ${c2}`, 'of limit',
    `prefill tok/s ${p1} / ${p2}`, 'load ms', 'WASM peak', 'RSS Δ', 'weights read/token', `max |Δ| vs ours f32`];
  const notes: string[] = [];
  const rows = m.rows.map((r) => {
    const res = r.result;
    const name = `${r.library}, ${r.format}`;
    if (res.status !== 'ok') {
      notes.push(`${r.model} ${name}: ${res.status}`);
      return [r.model, name, `${r.threads}`, res.status.startsWith('n/a') ? 'n/a' : 'failed', '', '', '', '', '', '', ''];
    }
    const dec = res.decode!.map((d) => f1(d.ms)).join(' / ');
    const lim = r.limits ? r.limits.map((l) => `${Math.round(100 * l.fraction)}%`).join(' / ') : '—';
    const pre = res.prefill!.map((p) => f1(p.tokens / (p.ms / 1000))).join(' / ');
    return [r.model, name, `${r.threads}`, dec, lim, pre, res.loadMs!.toFixed(0),
      res.wasmPeakBytes !== undefined ? mib(res.wasmPeakBytes) : '—', res.rssDeltaBytes !== undefined ? mib(res.rssDeltaBytes) : '—',
      r.weightBytesPerToken !== undefined ? mib(r.weightBytesPerToken) : '—',
      r.checkMaxAbsDiff !== undefined ? r.checkMaxAbsDiff.toExponential(1) : r.library === 'wasm-attention' && r.format === 'float32' ? '(reference)' : '—'];
  });
  // Columns with nothing measured in this run (no bandwidth, no process memory in a browser page) are left out.
  const keep = header.map((_, i) => i !== 4 && i !== 8
    || rows.some((row) => row[3] !== 'n/a' && row[3] !== 'failed' && row[i] !== '—'));
  const pick = <T>(xs: T[]) => xs.filter((_, i) => keep[i]);
  return { header: pick(header), rows: rows.map(pick), notes };
}

/**
 * Speed of ours over transformers.js within the run, for the format pairs that store the
 * same precision (float32 / fp32, int8 / q8): decode = their ms/token ÷ ours, prefill =
 * ours tok/s ÷ theirs (above 1: ours is faster).
 */
export function modelsRatios(m: ModelsResult): { header: string[]; rows: string[][] } {
  const [c1, c2] = m.contexts, [p1, p2] = m.prefill;
  const header = ['model', 'ours ÷ transformers.js', `decode ctx ${c1} / ${c2}`, `prefill ${p1} / ${p2}`];
  const rows: string[][] = [];
  const find = (model: string, library: string, format: string) =>
    m.rows.find((r) => r.model === model && r.library === library && r.format === format && r.threads === 1 && r.result.status === 'ok');
  for (const { name } of m.models) {
    for (const [ours, theirs] of [['float32', 'fp32'], ['int8', 'q8'], ['int4', 'q8']] as const) {
      const a = find(name, 'wasm-attention', ours), b = find(name, 'transformers.js', theirs);
      if (!a || !b) continue;
      // A median below the timer's resolution (tiny models in a page: 0.1 ms) has no ratio.
      const ratio = (theirs: number, ours: number) => (ours > 0 ? `${(theirs / ours).toFixed(2)}×` : '—');
      const dec = a.result.decode!.map((d, i) => ratio(b.result.decode![i]!.ms, d.ms)).join(' / ');
      const pre = a.result.prefill!.map((p, i) => ratio(b.result.prefill![i]!.ms, p.ms)).join(' / ');
      rows.push([name, `${ours} ÷ ${theirs}`, dec, pre]);
    }
  }
  return { header, rows };
}

function methodLines(m: ModelsResult): string[] {
  const b = m.bandwidth;
  return [
    `Decode: median of ${m.decodeSteps} steps (after 2 warm-up steps) at each context, the cache holding context − 1 random ` +
      `positions; prefill: median of ${m.prefillRuns} runs from an empty cache, logits of the last position only ` +
      '(transformers.js: `num_logits_to_keep` = 1, as its generate() passes).',
    // A browser run measures no bandwidth, and its table has no `of limit` column.
    ...(b || !m.browser ? [`of limit = (weights read per token + context × K/V bytes per position) ÷ ${b ? `${b.gbps.toFixed(1)} ` +
      'GB/s (read bandwidth measured in this run)' : 'read bandwidth (not measured)'} ÷ the decode median, at each context.`] : []),
    ...(m.browser ? [
      `Load: ours from the safetensors bytes in the page's memory (made there by the same generator); transformers.js ` +
        '`from_pretrained` fetching the model folder from the bench\'s server on 127.0.0.1 (files just written, in the ' +
        'OS page cache), session creation included.',
      `Memory: WASM peak = ours' \`memoryStats().peakBytes\` over the cell; a page cannot read its process memory. All ` +
        'cells run one after another in one page: WebAssembly memories only grow, so later cells of a library reuse ' +
        'what earlier ones grew.',
      'Times: `performance.now()` in a page that is not cross-origin isolated, rounded to 0.1 ms; one thread for both ' +
        'libraries (without cross-origin isolation onnxruntime-web cannot start threads; `numThreads` is set to 1).',
    ] : [
      'Load: ours from the safetensors bytes in memory; transformers.js `from_pretrained` from the model folder just ' +
        'written (in the OS page cache), session creation included.',
      `Memory: RSS Δ = largest process RSS after load, prefill and decode minus the RSS before the load${m.isolated
        ? ' (each cell in a process of its own)' : ' (cells share the bench process here: later cells reuse memory earlier ' +
        'ones grew, so RSS Δ understates them)'}; WASM peak = ours' \`memoryStats().peakBytes\` over the cell.`,
    ]),
    `max |Δ| vs ours f32: largest difference of the logits over an 8-token prompt (every position) and one cached decode ` +
      `step, against ours with float32 weights; transformers.js fp32 should agree within ${MODEL_TOLERANCE}.`,
    `Peer: ${m.peerVersions ?? 'transformers.js'}, WASM backend${m.peerWasm ? ` (${m.peerWasm})` : ''}; its ONNX files are built from the same weights at bench ` +
      'time (bench/peers/onnx-decoder.ts): standard opset-17 ops, q8 = DynamicQuantizeLinear/MatMulInteger with int8 ' +
      'weights, one scale per output column, int8 embedding tables.',
  ];
}

export function modelsConsole(m: ModelsResult): string {
  const t = modelsTable(m);
  return [`Models (${m.mode}; ${m.seconds.toFixed(0)} s):`, textTable(t.header, t.rows), ...t.notes, ...methodLines(m)].join('\n');
}

export function modelsMarkdown(m: ModelsResult): string[] {
  const t = modelsTable(m);
  const out = ['## Models', '', `Whole decoders with random weights (${m.models.map((x) => x.name).join(', ')}), ` +
    `both libraries in the same run. Group time ${m.seconds.toFixed(0)} s.`, ''];
  out.push(...markdownTable(t.header, t.rows), '');
  for (const n of t.notes) out.push(`- ${n}`);
  if (t.notes.length) out.push('');
  for (const n of methodLines(m)) out.push(`- ${n}`);
  out.push('');
  return out;
}
