/**
 * onnxruntime-web peer (WebAssembly execution provider, one thread, its SIMD build).
 * Graphs are built in code (see onnx-model.ts):
 *
 * - `graph`: the textbook composition `MatMul(Q, Transpose(K)) → Mul(scale) →
 *   Add(causal mask) → Softmax → MatMul(V)` with standard ONNX ops (opset 17).
 *   Grouped-query attention stacks each key/value head's query heads as extra rows
 *   (`[B, Hkv, G·Lq, D]`, a free reshape of `[B, Hq, Lq, D]`), so K and V are not copied.
 *   Non-causal graphs have no Add. GEMM and softmax are single MatMul / Softmax nodes.
 * - `MHA`: the fused `com.microsoft.MultiHeadAttention` contrib op (packed
 *   `[B, L, H·D]` inputs prepared before timing; `unidirectional` for causal).
 */
import type * as Ort from 'onnxruntime-web';
import { causalMask, headsToPacked, packedToHeads, repeatHeads } from '../data.js';
import { gqaPeer } from './onnx-gqa.js';
import { encodeModel, type GraphSpec } from './onnx-model.js';
import type { AttentionShape, Peer, PeerOp, PeerRunner } from './peer.js';

type OrtModule = typeof Ort;

/** Configures `ort` for single-threaded WebAssembly and returns its peers (GQA: see onnx-gqa.ts). */
export function onnxPeers(ort: OrtModule): Peer[] {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return [graphPeer(ort), mhaPeer(ort), gqaPeer(ort)];
}

async function session(ort: OrtModule, graph: GraphSpec): Promise<Ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(graph), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
}

function runner(s: Ort.InferenceSession, feeds: Record<string, Ort.Tensor>, convert = (x: Float32Array) => x): PeerRunner {
  const run = () => s.run(feeds);
  return {
    run,
    async output() {
      const result = await run();
      return convert((result.o as Ort.Tensor).data as Float32Array);
    },
    dispose() { void s.release(); },
  };
}

function graphPeer(ort: OrtModule): Peer {
  const t = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  return {
    name: 'onnxruntime-web',
    method: 'standard ONNX ops: MatMul(Q, Transpose(K)) → Mul(scale) → Add(mask, causal only) → Softmax → MatMul(V); ' +
      'GQA as [B, Hkv, G·Lq, D] rows; wasm EP, 1 thread',
    unsupported: () => null,
    async prepare(op: PeerOp): Promise<PeerRunner> {
      if (op.kind === 'gemm') {
        const { n } = op;
        const s = await session(ort, { name: 'gemm', nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['o'] }],
          inputs: [{ name: 'a', dims: [n, n] }, { name: 'b', dims: [n, n] }], outputs: [{ name: 'o', dims: [n, n] }] });
        return runner(s, { a: t(op.a, [n, n]), b: t(op.b, [n, n]) });
      }
      if (op.kind === 'softmax') {
        const dims = [op.rows, op.cols];
        const s = await session(ort, { name: 'softmax',
          nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['o'], attributes: [{ name: 'axis', i: -1 }] }],
          inputs: [{ name: 'x', dims }], outputs: [{ name: 'o', dims }] });
        return runner(s, { x: t(op.x, dims) });
      }
      return prepareGraphAttention(ort, op.shape, op.q, op.k, op.v);
    },
  };
}

async function prepareGraphAttention(ort: OrtModule, sh: AttentionShape, q: Float32Array, k: Float32Array,
  v: Float32Array): Promise<PeerRunner> {
  const g = sh.headsQ / sh.headsKv;
  const rows = g * sh.lenQ;
  const qDims = [sh.batch, sh.headsKv, rows, sh.headDim];
  const kDims = [sh.batch, sh.headsKv, sh.lenK, sh.headDim];
  const nodes: GraphSpec['nodes'][number][] = [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attributes: [{ name: 'perm', ints: [0, 1, 3, 2] }] },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
    { op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
  ];
  const inputs = [{ name: 'q', dims: qDims }, { name: 'k', dims: kDims }, { name: 'v', dims: kDims }];
  const feeds: Record<string, Ort.Tensor> = {
    q: new ort.Tensor('float32', q, qDims),
    k: new ort.Tensor('float32', k, kDims),
    v: new ort.Tensor('float32', v, kDims),
  };
  let logits = 'ss';
  if (sh.causal) {
    nodes.push({ op: 'Add', inputs: ['ss', 'mask'], outputs: ['sm'] });
    inputs.push({ name: 'mask', dims: [rows, sh.lenK] });
    feeds.mask = new ort.Tensor('float32', causalMask(sh.lenQ, sh.lenK, g), [rows, sh.lenK]);
    logits = 'sm';
  }
  nodes.push(
    { op: 'Softmax', inputs: [logits], outputs: ['p'], attributes: [{ name: 'axis', i: -1 }] },
    { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o'] },
  );
  const s = await session(ort, {
    name: 'attention', nodes, inputs, outputs: [{ name: 'o', dims: qDims }],
    initializers: [{ name: 'scale', dims: [], float: new Float32Array([1 / Math.sqrt(sh.headDim)]) }],
  });
  return runner(s, feeds);
}

function mhaPeer(ort: OrtModule): Peer {
  return {
    name: 'onnxruntime-web MHA',
    method: 'com.microsoft.MultiHeadAttention contrib op on packed [B, L, H·D] inputs (converted before timing; ' +
      'GQA K/V heads repeated before timing); wasm EP, 1 thread',
    unsupported(op) {
      if (op.kind !== 'attention') return 'MultiHeadAttention is an attention op only';
      const sh = op.shape;
      if (sh.causal && sh.lenQ !== sh.lenK && sh.lenQ !== 1) return 'unidirectional needs Lq = Lk (or Lq = 1)';
      return null;
    },
    async prepare(op) {
      if (op.kind !== 'attention') throw new Error('attention only');
      const sh = op.shape;
      const g = sh.headsQ / sh.headsKv;
      const { batch: b, headsQ: h, headDim: d } = sh;
      const k = repeatHeads(op.k, b, sh.headsKv, g, sh.lenK, d);
      const v = repeatHeads(op.v, b, sh.headsKv, g, sh.lenK, d);
      const qDims = [b, sh.lenQ, h * d];
      const kDims = [b, sh.lenK, h * d];
      // With one query row, "causal" (bottom-right aligned) blocks nothing.
      const unidirectional = sh.causal && sh.lenQ > 1 ? 1 : 0;
      const s = await session(ort, {
        name: 'mha', opsets: { '': 17, 'com.microsoft': 1 },
        nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: ['q', 'k', 'v'], outputs: ['o'],
          attributes: [{ name: 'num_heads', i: h }, { name: 'unidirectional', i: unidirectional },
            { name: 'scale', f: 1 / Math.sqrt(d) }] }],
        inputs: [{ name: 'q', dims: qDims }, { name: 'k', dims: kDims }, { name: 'v', dims: kDims }],
        outputs: [{ name: 'o', dims: qDims }],
      });
      return runner(s, {
        q: new ort.Tensor('float32', headsToPacked(op.q, b, h, sh.lenQ, d), qDims),
        k: new ort.Tensor('float32', headsToPacked(k, b, h, sh.lenK, d), kDims),
        v: new ort.Tensor('float32', headsToPacked(v, b, h, sh.lenK, d), kDims),
      }, (x) => packedToHeads(x, b, h, sh.lenQ, d));
    },
  };
}
