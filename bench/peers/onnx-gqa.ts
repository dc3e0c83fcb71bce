/**
 * onnxruntime-web's fused `com.microsoft.GroupQueryAttention` contrib op as a peer
 * (wasm EP, one thread), as one-node graphs written with onnx-model.ts.
 *
 * The op is causal (bottom-right aligned) by construction and takes packed
 * `[B, S, H·D]` query/key/value for the S new tokens plus, optionally, the cache
 * of earlier ones as `past_key`/`past_value` `[B, Hkv, P, D]` (BNSH). For a case with
 * `Lq` query rows over `Lk` keys:
 * - causal prefill (`Lq = Lk`): all keys are new, no past inputs;
 * - a decode step (`Lq = 1`): the first `Lk − 1` keys are the past, the last one is new.
 * `seqlens_k = [Lk − 1]` (the op's "total length − 1" per sequence) and
 * `total_sequence_length = Lk` are int32 constants of the graph. The op also writes
 * `present_key`/`present_value` (past and new keys concatenated): that copy is part
 * of what it costs per step and is timed with it. Inputs are converted to the packed
 * layout before timing; the output is converted back outside timing.
 */
import type * as Ort from 'onnxruntime-web';
import { headsToPacked, packedToHeads } from '../data.js';
import { encodeModel } from './onnx-model.js';
import type { AttentionShape, Peer, PeerOp, PeerRunner } from './peer.js';

type OrtModule = typeof Ort;

/** Why the op cannot run a case, or null. */
function unsupported(op: PeerOp): string | null {
  if (op.kind !== 'attention') return 'GroupQueryAttention is an attention op only';
  const sh = op.shape;
  if (!sh.causal) return 'GroupQueryAttention is causal only';
  if (sh.lenQ !== 1 && sh.lenQ !== sh.lenK) return 'only causal prefill (Lq = Lk) and one decode step (Lq = 1) are wired';
  return null;
}

export function gqaPeer(ort: OrtModule): Peer {
  return {
    name: 'onnxruntime-web GQA',
    method: 'com.microsoft.GroupQueryAttention contrib op: prefill with packed [B, L, H·D] Q/K/V; a decode step with ' +
      'past_key/past_value [B, Hkv, Lk−1, D] and the new token (present K/V written per call, timed); ' +
      'layouts converted before timing; wasm EP, 1 thread',
    unsupported,
    async prepare(op) {
      const reason = unsupported(op);
      if (reason !== null || op.kind !== 'attention') throw new Error(reason ?? 'attention only');
      return prepareGqa(ort, op.shape, op.q, op.k, op.v);
    },
  };
}

/** Keys `[j0, j1)` of every head of `[B, H, L, D]`, as `[B, H, j1 − j0, D]`. */
function keyRange(x: Float32Array, b: number, h: number, l: number, d: number, j0: number, j1: number): Float32Array {
  const out = new Float32Array(b * h * (j1 - j0) * d);
  for (let head = 0; head < b * h; head++) {
    out.set(x.subarray((head * l + j0) * d, (head * l + j1) * d), head * (j1 - j0) * d);
  }
  return out;
}

async function prepareGqa(ort: OrtModule, sh: AttentionShape, q: Float32Array, k: Float32Array,
  v: Float32Array): Promise<PeerRunner> {
  const { batch: b, headsQ: hq, headsKv: hkv, lenQ: lq, lenK: lk, headDim: d } = sh;
  const past = lk - lq; // keys already in the cache: 0 for prefill, Lk − 1 for a decode step
  const t = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const feeds: Record<string, Ort.Tensor> = {
    q: t(headsToPacked(q, b, hq, lq, d), [b, lq, hq * d]),
    k: t(headsToPacked(keyRange(k, b, hkv, lk, d, past, lk), b, hkv, lq, d), [b, lq, hkv * d]),
    v: t(headsToPacked(keyRange(v, b, hkv, lk, d, past, lk), b, hkv, lq, d), [b, lq, hkv * d]),
  };
  const inputs = [
    { name: 'q', dims: [b, lq, hq * d] }, { name: 'k', dims: [b, lq, hkv * d] }, { name: 'v', dims: [b, lq, hkv * d] },
  ];
  const pastDims = [b, hkv, past, d];
  if (past > 0) {
    feeds.past_key = t(keyRange(k, b, hkv, lk, d, 0, past), pastDims);
    feeds.past_value = t(keyRange(v, b, hkv, lk, d, 0, past), pastDims);
    inputs.push({ name: 'past_key', dims: pastDims }, { name: 'past_value', dims: pastDims });
  }
  const session = await ort.InferenceSession.create(encodeModel({
    name: 'gqa', opsets: { '': 17, 'com.microsoft': 1 },
    nodes: [{
      op: 'GroupQueryAttention', domain: 'com.microsoft',
      // Inputs in schema order; '' leaves an optional input out.
      inputs: ['q', 'k', 'v', past > 0 ? 'past_key' : '', past > 0 ? 'past_value' : '', 'seqlens_k', 'total_len'],
      outputs: ['o', 'present_key', 'present_value'],
      attributes: [{ name: 'num_heads', i: hq }, { name: 'kv_num_heads', i: hkv }, { name: 'scale', f: 1 / Math.sqrt(d) }],
    }],
    inputs,
    outputs: [{ name: 'o', dims: [b, lq, hq * d] }],
    initializers: [
      { name: 'seqlens_k', dims: [b], int32: new Int32Array(b).fill(lk - 1) },
      { name: 'total_len', dims: [], int32: new Int32Array([lk]) },
    ],
  }), { executionProviders: ['wasm'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  const run = () => session.run(feeds);
  return {
    run,
    async output() {
      const result = await run();
      return packedToHeads((result.o as Ort.Tensor).data as Float32Array, b, hq, lq, d);
    },
    dispose() { void session.release(); },
  };
}
