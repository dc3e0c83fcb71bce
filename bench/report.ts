/**
 * Turns a suite result into the console table, the JSON document and the
 * Markdown report. Every figure comes from the result; nothing is computed twice.
 */
import { mib, ms, ratio, textTable } from './format.js';
import { type EncodersResult, encodersConsole, encodersMarkdown } from './encoders-report.js';
import { type ModelsResult, modelsConsole, modelsMarkdown } from './models-report.js';
import { OURS, type SuiteResult, TS } from './suite.js';

/** Where and how the run happened. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly runtime: string;
  readonly os: string;
}

/** The JSON document written to bench/results/latest.json. */
export interface Report extends SuiteResult {
  readonly schema: 1;
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly threads: 1;
  readonly machine: Machine;
  /** Reference peak of this machine type, quoted next to the measured one. */
  readonly referencePeakGflops: number;
  readonly notes: readonly string[];
  /** The `models` group (whole decoders against transformers.js), when it ran. */
  readonly models?: ModelsResult;
  /** The `encoders` group (BERT sentence embeddings against transformers.js), when it ran. */
  readonly encoders?: EncodersResult;
}

/** 45.5 GFLOP/s: SIMD128 mul+add throughput measured earlier on this machine type. */
export const REFERENCE_PEAK_GFLOPS = 45.5;

export const NOTES = [
  'Times are per call, in milliseconds: median over the samples, with min and max. Each case runs every ' +
    'implementation in the same process, one after another, on the same inputs, single-threaded.',
  'Ratio = other implementation’s median ÷ ours (above 1: ours is faster).',
  'Attention GFLOP/s are effective: 4·B·H·Lq·Lk·D / time, counted in full for causal cases too.',
  'GEMM % of peak is against the measured SIMD128 mul+add peak of this run.',
  'max abs diff: largest |ours − theirs| over the case’s output; peers must also agree within 1e-4 on small check cases.',
  'Our kernels write into a preallocated output tensor in WASM memory. onnxruntime-web returns each output as a new ' +
    'JS tensor (one copy out of its heap per run); the tfjs result stays in its WASM memory.',
];

/** Implementations in column order: ours, the baseline, then the peers. */
export function implementations(r: SuiteResult): string[] {
  const names = [OURS, TS];
  for (const c of r.cases) for (const e of c.entries) if (!names.includes(e.impl)) names.push(e.impl);
  return names;
}

/** Cases where some implementation's output disagrees with ours beyond tolerance. */
export function disagreements(r: SuiteResult): string[] {
  return r.cases.flatMap((c) => c.entries.filter((e) => e.agrees === false)
    .map((e) => `${c.label}: ${e.impl} differs from ours by up to ${e.maxAbsDiff!.toExponential(1)}`));
}

/** The console table: one row per case, medians and ratios to ours. */
export function consoleTable(r: Report): string {
  const impls = implementations(r).slice(1);
  const header = ['case', `${OURS} ms`, 'min–max', 'GFLOP/s', ...impls.flatMap((n) => [`${n} ms`, 'ratio'])];
  const rows = r.cases.map((c) => {
    const ours = c.entries[0]!;
    const t = ours.timing!;
    const gf = ours.gflops !== undefined ? `${ours.gflops.toFixed(1)}${c.group === 'gemm' && r.peak
      ? ` (${Math.round((100 * ours.gflops) / r.peak.gflops)}%)` : ''}` : '';
    const cells = [c.label, ms(t.median), `${ms(t.min)}–${ms(t.max)}`, gf];
    for (const name of impls) {
      const e = c.entries.find((x) => x.impl === name);
      if (!e || !e.timing) cells.push('—', '');
      else cells.push(`${ms(e.timing.median)}${e.agrees === false ? ' ≠' : ''}`, ratio(c.ratios[name]!));
    }
    return cells;
  });
  const lines = r.cases.length > 0 ? [textTable(header, rows)] : [];
  for (const c of r.cases) {
    if (c.group === 'long' && c.wasmPeakBytes !== undefined) {
      lines.push(`${c.label}: peak WASM heap during one call ${mib(c.wasmPeakBytes)} ` +
        `(inputs + output ${mib(c.wasmTensorBytes ?? 0)})`);
    }
  }
  const dec = decodeTable(r);
  if (dec) lines.push('', bandwidthLine(r), dec.console);
  lines.push('ratio = their median ÷ ours (above 1: ours is faster); ≠ marks outputs outside tolerance; — not run.');
  if (r.models) lines.push('', modelsConsole(r.models));
  if (r.encoders) lines.push('', encodersConsole(r.encoders));
  for (const d of disagreements(r)) lines.push(`WARNING: ${d}`);
  return lines.join('\n');
}

function bandwidthLine(r: Report): string {
  const b = r.bandwidth;
  return b
    ? `Memory read bandwidth measured in this run: ${b.gbps.toFixed(1)} GB/s (${b.method}; median ` +
      `${b.medianGbps.toFixed(1)}; from cache ${b.cacheGbps.toFixed(1)} GB/s).`
    : 'Memory read bandwidth: not measured (no SIMD128).';
}

/** Decode cases: bytes per token, the limit and our fraction of it, speed-ups over float32 and the peers. */
function decodeTable(r: Report): { console: string; markdown: string[] } | null {
  const cases = r.cases.filter((c) => c.decode);
  if (cases.length === 0) return null;
  const peers = implementations(r).slice(2);
  const header = ['case', 'KV B/token', 'ms', 'limit ms', 'of limit', 'vs float32', ...peers.map((p) => `vs ${p}`),
    'peak heap'];
  const rows = cases.map((c) => {
    const d = c.decode!;
    const f32 = r.cases.find((x) => x.decode?.dtype === 'float32' && x.id === c.id.replace(d.dtype, 'float32'));
    const f32Ratio = f32 && f32 !== c ? ratio(f32.entries[0]!.timing!.median / c.entries[0]!.timing!.median) : '';
    const bound = d.bandwidthMs >= d.computeMs ? 'memory' : 'compute';
    return [c.label, `${d.kvBytesPerToken}`, ms(c.entries[0]!.timing!.median), `${ms(d.limitMs)} (${bound})`,
      `${Math.round(100 * d.fractionOfLimit)}%`, f32Ratio,
      ...peers.map((p) => (c.ratios[p] !== undefined ? ratio(c.ratios[p]!) : '—')),
      c.wasmPeakBytes !== undefined ? mib(c.wasmPeakBytes) : '—'];
  });
  const md = [`| ${header.join(' | ')} |`, `|${' --- |'.repeat(header.length)}`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
  return { console: textTable(header, rows), markdown: md };
}

function peakLine(r: Report): string {
  return (r.peak
    ? `SIMD128 peak measured in this run: ${r.peak.gflops.toFixed(1)} GFLOP/s (${r.peak.method}; median ` +
      `${r.peak.medianGflops.toFixed(1)}); reference for this machine type: ${r.referencePeakGflops} GFLOP/s.`
    : `SIMD128 unavailable: no peak measured (reference for this machine type: ${r.referencePeakGflops} GFLOP/s).`)
    + (r.fmaPeak ? ` Relaxed-SIMD FMA peak measured in this run: ${r.fmaPeak.gflops.toFixed(1)} GFLOP/s (${r.fmaPeak.method}; `
      + `median ${r.fmaPeak.medianGflops.toFixed(1)}).` : '');
}

/** The Markdown report (links the SVG chart `chartFile`). */
export function markdown(r: Report, chartFile: string): string {
  const impls = implementations(r);
  const out: string[] = [];
  out.push(`# wasm-attention benchmarks (${r.mode})`, '');
  out.push(`${r.date} — ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.os}, ${r.machine.runtime}, ` +
    `${r.build ?? (r.simd ? 'simd' : 'scalar')} build, ${r.threads} thread. Suite time ${r.seconds.toFixed(0)} s.`, '');
  out.push(`![speed-up of wasm-attention per case](${chartFile})`, '');
  const bad = disagreements(r);
  if (bad.length > 0) {
    out.push('**Warning: outputs outside tolerance** (speed figures of these cases compare different results):', '');
    for (const d of bad) out.push(`- ${d}`);
    out.push('');
  }
  out.push(peakLine(r), '');
  out.push('## Medians (ms per call) and ratios', '');
  out.push(`| case | ${impls.join(' | ')} | ${OURS} GFLOP/s | ${impls.slice(1).map((n) => `vs ${n}`).join(' | ')} |`);
  out.push(`|${' --- |'.repeat(1 + impls.length * 2)}`);
  // Reasons for cases not run become numbered notes under the table.
  const reasons: string[] = [];
  const note = (reason: string) => {
    if (!reasons.includes(reason)) reasons.push(reason);
    return `— [${reasons.indexOf(reason) + 1}]`;
  };
  for (const c of r.cases) {
    const cells = impls.map((name) => {
      const e = c.entries.find((x) => x.impl === name);
      if (!e) return '—';
      if (!e.timing) return note(e.skipped ?? 'not run');
      const t = e.timing;
      return `${ms(t.median)} [${ms(t.min)}–${ms(t.max)}]${e.agrees === false ? ' ≠' : ''}`;
    });
    const ours = c.entries[0]!;
    const gf = ours.gflops !== undefined ? `${ours.gflops.toFixed(1)}${c.group === 'gemm' && r.peak
      ? ` (${Math.round((100 * ours.gflops) / r.peak.gflops)}% of peak)` : ''}` : '—';
    const ratios = impls.slice(1).map((n) => (c.ratios[n] !== undefined ? `**${ratio(c.ratios[n])}**` : '—'));
    out.push(`| ${c.label} | ${cells.join(' | ')} | ${gf} | ${ratios.join(' | ')} |`);
  }
  out.push('', 'Median [min–max] over the samples; ≠ marks an output outside tolerance; — not run:', '');
  reasons.forEach((reason, i) => out.push(`${i + 1}. ${reason}`));
  out.push('');
  out.push('## Agreement with our output (max abs diff)', '');
  out.push(`| case | ${impls.slice(1).join(' | ')} |`, `|${' --- |'.repeat(impls.length)}`);
  for (const c of r.cases) {
    const cells = impls.slice(1).map((n) => {
      const e = c.entries.find((x) => x.impl === n);
      return e?.maxAbsDiff !== undefined ? e.maxAbsDiff.toExponential(1) : '—';
    });
    out.push(`| ${c.label} | ${cells.join(' | ')} |`);
  }
  const dec = decodeTable(r);
  if (dec) {
    out.push('', '## Decode: fraction of the machine\'s limit', '', bandwidthLine(r), '');
    out.push('limit = max(K/V bytes ÷ measured bandwidth, flops ÷ measured peak); of limit = limit ÷ our median; ' +
      'vs float32 = float32 median ÷ this median; peak heap = live WASM bytes during one step (cache included).', '');
    out.push(...dec.markdown);
  }
  if (r.models) out.push('', ...modelsMarkdown(r.models));
  if (r.encoders) out.push('', ...encodersMarkdown(r.encoders));
  out.push('', '## Memory', '');
  for (const c of r.cases) {
    if (c.wasmPeakBytes === undefined || c.group === 'gemm' || c.group === 'softmax') continue;
    out.push(`- ${c.label}: peak WASM heap during one call ${mib(c.wasmPeakBytes)}, of which inputs + output ` +
      `${mib(c.wasmTensorBytes ?? 0)}.`);
  }
  out.push('', '## Peers', '');
  for (const p of r.peers) {
    out.push(`- **${p.name}**: ${p.status}${p.checkMaxAbsDiff !== undefined
      ? ` (check cases: max abs diff ${p.checkMaxAbsDiff.toExponential(1)})` : ''}. ${p.method}.`);
  }
  out.push('- **TS baseline**: `wasm-attention/baseline`, plain TypeScript loops; attention materialises the ' +
    'Lq×Lk scores per head.');
  out.push('', '## Method', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
