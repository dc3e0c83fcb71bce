/**
 * Runs the cases: for each one, our WASM kernel, the pure-TS baseline and every
 * peer on the same inputs, in the same process, one after another. Works in Node
 * and in the browser (no Node imports); the caller supplies the peers and a logger.
 */
import { attention, type Build, init, KVCache, matmul, memoryStats, softmax, Tensor } from '../dist/index.js';
import { init as initSeparate } from '../dist/separate.js';
import { attentionTs, matmulTs, softmaxTs } from '../dist/baseline/index.js';
import { type Case, cachedTokens, CHECK_SHAPES, samplingPlan, TOLERANCE } from './cases.js';
import { maxAbsDiff, randoms } from './data.js';
import { measureFmaPeak, measurePeak, type PeakResult } from './peak.js';
import { type BandwidthResult, measureBandwidth } from './bandwidth.js';
import type { AttentionShape, Peer, PeerOp } from './peers/peer.js';
import { time, type Timing } from './timing.js';

/** The name our implementation is reported under. */
export const OURS = 'wasm-attention';
/** The name of the pure-TypeScript baseline. */
export const TS = 'TS baseline';

/** One implementation's figures in one case. */
export interface Entry {
  readonly impl: string;
  readonly timing?: Timing;
  /** flops / median time. */
  readonly gflops?: number;
  /** Largest |ours − this| over the output (absent for ours). */
  readonly maxAbsDiff?: number;
  /** Whether `maxAbsDiff` is within tolerance. */
  readonly agrees?: boolean;
  /** Why there is no timing. */
  readonly skipped?: string;
}

export interface CaseResult {
  readonly id: string;
  readonly group: string;
  readonly label: string;
  readonly flops: number;
  readonly entries: Entry[];
  /** Other implementation's median / our median (> 1: ours is faster). */
  readonly ratios: Record<string, number>;
  /** Peak WASM heap bytes held during one call of our kernel (inputs and output included). */
  readonly wasmPeakBytes?: number;
  /** Bytes of our inputs and output alone. */
  readonly wasmTensorBytes?: number;
  /** Decode cases: what the step reads and how close it comes to the machine's limit. */
  readonly decode?: DecodeFigures;
}

/** The limit of a decode step: `max(bytes / bandwidth, flops / peak)`, both measured in this run. */
export interface DecodeFigures {
  readonly dtype: string;
  readonly kvBytesPerToken: number;
  /** K/V bytes one step reads. */
  readonly bytes: number;
  /** bytes / measured memory bandwidth, in ms. */
  readonly bandwidthMs: number;
  /** flops / measured SIMD128 peak, in ms. */
  readonly computeMs: number;
  /** max of the two. */
  readonly limitMs: number;
  /** limitMs / our median (1 = at the limit). */
  readonly fractionOfLimit: number;
}

export interface PeerStatus {
  readonly name: string;
  readonly method: string;
  /** `ok`, or why the peer was dropped. */
  readonly status: string;
  /** Largest max-abs-diff over the start-up check cases. */
  readonly checkMaxAbsDiff?: number;
}

export interface SuiteResult {
  /** The build of our kernels that ran. */
  readonly build: Build;
  readonly simd: boolean;
  readonly peak: PeakResult | null;
  /** The relaxed-SIMD FMA peak, where the engine has relaxed SIMD. */
  readonly fmaPeak: PeakResult | null;
  /** Memory read bandwidth (best of the start and end measurements), null without SIMD128. */
  readonly bandwidth?: BandwidthResult | null;
  readonly peers: PeerStatus[];
  readonly cases: CaseResult[];
  readonly seconds: number;
}

export interface SuiteOptions {
  readonly quick: boolean;
  readonly cases: readonly Case[];
  readonly peers: readonly Peer[];
  /** Peers that could not even load: name → reason. */
  readonly unavailable?: readonly PeerStatus[];
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Our kernels' build (`init({ build })`). */
  readonly build?: Build | 'auto';
}

export async function runSuite(opts: SuiteOptions): Promise<SuiteResult> {
  const started = performance.now();
  const { log } = opts;
  // The relaxed-SIMD binary is not embedded in the default entry: the separate entry loads it.
  const build = opts.build ?? 'auto';
  const info = await (build === 'relaxed-simd' ? initSeparate : init)({ build });
  log(`${info.build} build`);
  log('measuring the SIMD128 mul+add peak…');
  const firstPeak = measurePeak();
  if (firstPeak) log(`  peak ${firstPeak.gflops.toFixed(1)} GFLOP/s (median ${firstPeak.medianGflops.toFixed(1)})`);
  const firstFma = measureFmaPeak();
  if (firstFma) log(`  relaxed-SIMD FMA peak ${firstFma.gflops.toFixed(1)} GFLOP/s (median ${firstFma.medianGflops.toFixed(1)})`);
  const hasDecode = opts.cases.some((c) => c.op === 'decode');
  if (hasDecode) log('measuring the memory read bandwidth…');
  const firstBandwidth = hasDecode ? measureBandwidth() : null;
  if (firstBandwidth) log(`  ${firstBandwidth.gbps.toFixed(1)} GB/s (median ${firstBandwidth.medianGbps.toFixed(1)}; cache ${firstBandwidth.cacheGbps.toFixed(1)})`);
  log('warming up our kernels and the baselines…');
  warmUp();
  const statuses: PeerStatus[] = [...(opts.unavailable ?? [])];
  const peers: Peer[] = [];
  for (const peer of opts.peers) {
    const status = await checkPeer(peer);
    statuses.push(status);
    log(`  ${peer.name}: ${status.status}${status.checkMaxAbsDiff !== undefined
      ? ` (max abs diff ${status.checkMaxAbsDiff.toExponential(1)} on the check cases)` : ''}`);
    if (status.status === 'ok') peers.push(peer);
  }
  const plan = samplingPlan(opts.quick);
  const results: CaseResult[] = [];
  for (const [index, c] of opts.cases.entries()) {
    log(`[${index + 1}/${opts.cases.length}] ${c.label}`);
    results.push(await runCase(c, peers, plan, log));
  }
  // Measured again at the end: on a shared machine the better of the two is closer to the true peak.
  const lastPeak = measurePeak();
  const peak = firstPeak && lastPeak && lastPeak.gflops > firstPeak.gflops ? lastPeak : firstPeak;
  if (peak) log(`SIMD128 peak: ${peak.gflops.toFixed(1)} GFLOP/s (best of the start and end measurements)`);
  const lastFma = firstFma ? measureFmaPeak() : null;
  const fmaPeak = firstFma && lastFma && lastFma.gflops > firstFma.gflops ? lastFma : firstFma;
  if (fmaPeak) log(`relaxed-SIMD FMA peak: ${fmaPeak.gflops.toFixed(1)} GFLOP/s (best of the start and end measurements)`);
  let bandwidth: BandwidthResult | null = null;
  if (firstBandwidth) {
    const last = measureBandwidth();
    bandwidth = last && last.gbps > firstBandwidth.gbps ? last : firstBandwidth;
    log(`memory read bandwidth: ${bandwidth.gbps.toFixed(1)} GB/s (best of the start and end measurements)`);
  }
  const cases = results.map((r) => {
    const c = opts.cases.find((x) => x.id === r.id);
    const median = r.entries[0]?.timing?.median;
    if (c?.op !== 'decode' || !peak || !bandwidth || median === undefined) return r;
    const bytes = c.kvBytesPerToken * cachedTokens(c);
    const bandwidthMs = bytes / bandwidth.gbps / 1e6;
    const computeMs = c.flops / peak.gflops / 1e6;
    const limitMs = Math.max(bandwidthMs, computeMs);
    return { ...r, decode: { dtype: c.dtype, kvBytesPerToken: c.kvBytesPerToken, bytes, bandwidthMs, computeMs,
      limitMs, fractionOfLimit: limitMs / median } };
  });
  return { build: info.build, simd: info.simd, peak, fmaPeak, bandwidth, peers: statuses, cases, seconds: (performance.now() - started) / 1000 };
}

/** Calls every kernel on small inputs until V8 has tiered them up. */
function warmUp(): void {
  const small = { batch: 1, headsQ: 4, headsKv: 2, lenQ: 48, lenK: 48, headDim: 32, causal: false };
  for (let i = 0; i < 30; i++) {
    for (const causal of [false, true]) {
      const s = { ...small, causal };
      const inputs = attentionInputs(s, i);
      const [q, k, v] = [inputs.q, inputs.k, inputs.v].map((x, j) => Tensor.from(x, j === 0 ? qShape(s) : kShape(s)));
      attention(q!, k!, v!, { causal }).dispose();
      attentionTs(inputs.q, inputs.k, inputs.v, s.headsQ, s.headsKv, s.lenQ, s.lenK, s.headDim, s.headDim, { causal });
      q!.dispose(); k!.dispose(); v!.dispose();
    }
    const a = Tensor.from(randoms(64 * 64, i), [64, 64]);
    matmul(a, a).dispose();
    softmax(a).dispose();
    matmulTs(a.data, a.data, 64, 64, 64);
    softmaxTs(a.data, 64, 64);
    a.dispose();
  }
}

const qShape = (s: AttentionShape) => [s.batch, s.headsQ, s.lenQ, s.headDim];
const kShape = (s: AttentionShape) => [s.batch, s.headsKv, s.lenK, s.headDim];

function attentionInputs(s: AttentionShape, seed: number) {
  return {
    q: randoms(s.batch * s.headsQ * s.lenQ * s.headDim, seed * 3 + 1),
    k: randoms(s.batch * s.headsKv * s.lenK * s.headDim, seed * 3 + 2),
    v: randoms(s.batch * s.headsKv * s.lenK * s.headDim, seed * 3 + 3),
  };
}

function scaledTolerance(reference: ArrayLike<number>): number {
  let m = 1;
  for (let i = 0; i < reference.length; i++) m = Math.max(m, Math.abs(reference[i]!));
  return TOLERANCE * m;
}

/** Runs a peer on the small check cases against our output; any disagreement drops it. */
async function checkPeer(peer: Peer): Promise<PeerStatus> {
  const base = { name: peer.name, method: peer.method };
  let worst = 0;
  try {
    const ops: PeerOp[] = [
      { kind: 'gemm', n: 33, a: randoms(33 * 33, 7), b: randoms(33 * 33, 8) },
      { kind: 'softmax', rows: 5, cols: 33, x: randoms(5 * 33, 9, -4, 4) },
      ...CHECK_SHAPES.map((shape, i) => ({ kind: 'attention' as const, shape, ...attentionInputs(shape, 100 + i) })),
    ];
    for (const op of ops) {
      if (peer.unsupported(op) !== null) continue;
      const ours = oursOnce(op);
      const runner = await peer.prepare(op);
      const theirs = await runner.output();
      runner.dispose();
      const diff = maxAbsDiff(ours, theirs);
      worst = Math.max(worst, diff);
      if (!(diff <= scaledTolerance(ours))) {
        return { ...base, status: `dropped: disagrees with ours on a ${describeOp(op)} check (max abs diff ${diff})`,
          checkMaxAbsDiff: diff };
      }
    }
    return { ...base, status: 'ok', checkMaxAbsDiff: worst };
  } catch (e) {
    return { ...base, status: `dropped: ${(e as Error).message.split('\n')[0]}` };
  }
}

function describeOp(op: PeerOp): string {
  if (op.kind === 'gemm') return `GEMM ${op.n}`;
  if (op.kind === 'softmax') return `softmax ${op.rows}×${op.cols}`;
  const s = op.shape;
  return `attention Hq=${s.headsQ} Hkv=${s.headsKv} Lq=${s.lenQ} Lk=${s.lenK} D=${s.headDim}${s.causal ? ' causal' : ''}`;
}

/** Our result for a peer op (a copy). */
function oursOnce(op: PeerOp): Float32Array {
  if (op.kind === 'gemm') {
    using a = Tensor.from(op.a, [op.n, op.n]);
    using b = Tensor.from(op.b, [op.n, op.n]);
    using c = matmul(a, b);
    return c.toArray();
  }
  if (op.kind === 'softmax') {
    using x = Tensor.from(op.x, [op.rows, op.cols]);
    using y = softmax(x);
    return y.toArray();
  }
  const s = op.shape;
  using q = Tensor.from(op.q, qShape(s));
  using k = Tensor.from(op.k, kShape(s));
  using v = Tensor.from(op.v, kShape(s));
  using o = attention(q, k, v, { causal: s.causal });
  return o.toArray();
}

/** Our kernel, the TS baseline and the peer op for one case, sharing the inputs. */
interface Prepared {
  readonly op: PeerOp;
  readonly ours: () => void;
  readonly oursOutput: () => Float32Array;
  readonly ts: () => Float32Array;
  readonly tensorBytes: number;
  release(): void;
}

function prepare(c: Case): Prepared {
  if (c.op === 'gemm') {
    const { n } = c;
    const ad = randoms(n * n, 11), bd = randoms(n * n, 12);
    const a = Tensor.from(ad, [n, n]), b = Tensor.from(bd, [n, n]), out = Tensor.empty([n, n]);
    const tsOut = new Float32Array(n * n);
    return {
      op: { kind: 'gemm', n, a: ad, b: bd },
      ours: () => { matmul(a, b, { out }); },
      oursOutput: () => out.toArray(),
      ts: () => matmulTs(ad, bd, n, n, n, false, tsOut),
      tensorBytes: 3 * n * n * 4,
      release() { a.dispose(); b.dispose(); out.dispose(); },
    };
  }
  if (c.op === 'softmax') {
    const { rows, cols } = c;
    const xd = randoms(rows * cols, 13, -8, 8);
    const x = Tensor.from(xd, [rows, cols]), out = Tensor.empty([rows, cols]);
    const tsOut = new Float32Array(rows * cols);
    return {
      op: { kind: 'softmax', rows, cols, x: xd },
      ours: () => { softmax(x, { out }); },
      oursOutput: () => out.toArray(),
      ts: () => softmaxTs(xd, rows, cols, undefined, tsOut),
      tensorBytes: 2 * rows * cols * 4,
      release() { x.dispose(); out.dispose(); },
    };
  }
  if (c.op === 'decode') return prepareDecode(c);
  const s = c.shape;
  const inputs = attentionInputs(s, 21);
  const q = Tensor.from(inputs.q, qShape(s)), k = Tensor.from(inputs.k, kShape(s)), v = Tensor.from(inputs.v, kShape(s));
  const out = Tensor.empty(qShape(s));
  return {
    op: { kind: 'attention', shape: s, ...inputs },
    ours: () => { attention(q, k, v, { causal: s.causal, out }); },
    oursOutput: () => out.toArray(),
    ts: () => attentionTs(inputs.q, inputs.k, inputs.v, s.headsQ, s.headsKv, s.lenQ, s.lenK, s.headDim, s.headDim,
      { causal: s.causal }),
    tensorBytes: (2 * q.size + k.size + v.size) * 4,
    release() { q.dispose(); k.dispose(); v.dispose(); out.dispose(); },
  };
}

/**
 * A cache of `lenK − 1` positions plus the step's own: the timed call is `attend` of one
 * query row per head (what a decode step costs beyond appending one row). A ragged batch
 * holds `lengths[b]` positions in sequence `b` and attends all of them in one call.
 */
function prepareDecode(c: Case & { op: 'decode' }): Prepared {
  const s = c.shape;
  const inputs = attentionInputs(s, 21);
  const lengths = c.lengths ?? [s.lenK];
  const cache = new KVCache({ batch: s.batch, maxLength: s.lenK, numKvHeads: s.headsKv, headDim: s.headDim, dtype: c.dtype });
  const qShape = s.batch === 1 ? [s.headsQ, 1, s.headDim] : [s.batch, s.headsQ, 1, s.headDim];
  const q = Tensor.from(inputs.q, qShape);
  const out = Tensor.empty(qShape);
  try {
    // Appended in chunks so the float32 staging tensors stay small (the 32768-token case).
    const chunk = 1024;
    lengths.forEach((len, b) => {
      for (let t = 0; t < len; t += chunk) {
        const n = Math.min(chunk, len - t);
        const part = (x: Float32Array) => {
          const r = new Float32Array(s.headsKv * n * s.headDim);
          for (let h = 0; h < s.headsKv; h++) {
            const row = (b * s.headsKv + h) * s.lenK + t;
            r.set(x.subarray(row * s.headDim, (row + n) * s.headDim), h * n * s.headDim);
          }
          return Tensor.from(r, [s.headsKv, n, s.headDim]);
        };
        const kt = part(inputs.k), vt = part(inputs.v);
        cache.append(kt, vt, { sequence: b });
        kt.dispose();
        vt.dispose();
      }
    });
  } catch (e) {
    cache.dispose(); q.dispose(); out.dispose();
    throw e;
  }
  return {
    op: { kind: 'attention', shape: s, ...inputs },
    ours: () => { cache.attend(q, { out }); },
    oursOutput: () => out.toArray(),
    ts: () => attentionTs(inputs.q, inputs.k, inputs.v, s.headsQ, s.headsKv, s.lenQ, s.lenK, s.headDim, s.headDim,
      { causal: s.causal }),
    tensorBytes: cache.bytes + 2 * q.bytes,
    release() { cache.dispose(); q.dispose(); out.dispose(); },
  };
}

async function runCase(c: Case, peers: readonly Peer[], plan: ReturnType<typeof samplingPlan>,
  log: (line: string) => void): Promise<CaseResult> {
  const p = prepare(c);
  const entries: Entry[] = [];
  const gflops = (t: Timing) => (c.flops > 0 ? c.flops / t.median / 1e6 : undefined);
  const fmt = (t: Timing) => `${t.median.toFixed(3)} ms (min ${t.min.toFixed(3)}, max ${t.max.toFixed(3)}, ${t.samples} samples)`;
  let wasmPeakBytes: number | undefined;
  try {
    // Peak heap of one call: reset the allocator's high-water mark, call, read it.
    p.ours();
    memoryStats({ resetPeak: true });
    p.ours();
    wasmPeakBytes = memoryStats().peakBytes;
    const reference = p.oursOutput();
    const tol = scaledTolerance(reference);
    const ours = await time(p.ours, plan);
    entries.push({ impl: OURS, timing: ours, gflops: gflops(ours) });
    log(`    ${OURS.padEnd(22)} ${fmt(ours)}`);

    if (c.skipTs) {
      entries.push({ impl: TS, skipped: c.skipTs });
      log(`    ${TS.padEnd(22)} ${c.skipTs}`);
    } else {
      let last: Float32Array | null = null;
      const t = await time(() => { last = p.ts(); }, plan);
      const diff = maxAbsDiff(reference, last!);
      entries.push({ impl: TS, timing: t, gflops: gflops(t), maxAbsDiff: diff, agrees: diff <= tol });
      log(`    ${TS.padEnd(22)} ${fmt(t)}  max abs diff ${diff.toExponential(1)}`);
    }

    for (const peer of peers) {
      const reason = c.skipPeers ?? peer.unsupported(p.op);
      if (reason !== null) {
        entries.push({ impl: peer.name, skipped: reason });
        log(`    ${peer.name.padEnd(22)} ${reason}`);
        continue;
      }
      try {
        const runner = await peer.prepare(p.op);
        try {
          const diff = maxAbsDiff(reference, await runner.output());
          const t = await time(() => runner.run(), plan);
          entries.push({ impl: peer.name, timing: t, gflops: gflops(t), maxAbsDiff: diff, agrees: diff <= tol });
          log(`    ${peer.name.padEnd(22)} ${fmt(t)}  max abs diff ${diff.toExponential(1)}`);
        } finally {
          runner.dispose();
        }
      } catch (e) {
        const msg = `failed: ${(e as Error).message.split('\n')[0]}`;
        entries.push({ impl: peer.name, skipped: msg });
        log(`    ${peer.name.padEnd(22)} ${msg}`);
      }
    }
  } finally {
    p.release();
  }
  const ourMedian = entries[0]?.timing?.median;
  const ratios: Record<string, number> = {};
  for (const e of entries.slice(1)) {
    if (e.timing && ourMedian) ratios[e.impl] = e.timing.median / ourMedian;
  }
  return { id: c.id, group: c.group, label: c.label, flops: c.flops, entries, ratios, wasmPeakBytes,
    wasmTensorBytes: p.tensorBytes };
}
