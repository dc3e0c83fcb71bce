/**
 * TensorFlow.js peer on its WebAssembly backend (`@tensorflow/tfjs-backend-wasm`,
 * SIMD build, 1 thread). Attention is composed from batched matMuls on 3-D
 * `[B·Hkv, G·Lq, D]` tensors — `matMul(q, k, false, true) → mul(scale) → add(mask,
 * causal only) → softmax → matMul(v)` — one call per op for all heads (grouped query
 * heads stacked as rows, as in the ONNX graph). The backend computes eagerly, so a
 * run is the op calls; the result stays in the backend's WASM memory (as ours does).
 */
import type * as Tf from '@tensorflow/tfjs-core';
import { causalMask } from '../data.js';
import type { Peer, PeerRunner } from './peer.js';

type TfModule = typeof Tf;

/** The peer for an initialised tfjs whose active backend is `wasm`. */
export function tfjsPeer(tf: TfModule): Peer {
  if (tf.getBackend() !== 'wasm') throw new Error(`tfjs backend is '${tf.getBackend()}', expected 'wasm'`);
  const make = (compute: () => Tf.Tensor, inputs: Tf.Tensor[]): PeerRunner => ({
    run() { tf.tidy(compute).dispose(); },
    async output() {
      const o = tf.tidy(compute);
      const data = (await o.data()) as Float32Array;
      o.dispose();
      return data;
    },
    dispose() { for (const t of inputs) t.dispose(); },
  });
  return {
    name: 'tfjs-wasm',
    method: 'batched 3-D tf.matMul(q, k, false, true) → mul(scale) → add(mask, causal only) → softmax → ' +
      'matMul(v) over [B·Hkv, G·Lq, D]; @tensorflow/tfjs-backend-wasm SIMD, 1 thread',
    unsupported: () => null,
    async prepare(op) {
      if (op.kind === 'gemm') {
        const a = tf.tensor2d(op.a, [op.n, op.n]);
        const b = tf.tensor2d(op.b, [op.n, op.n]);
        return make(() => tf.matMul(a, b), [a, b]);
      }
      if (op.kind === 'softmax') {
        const x = tf.tensor2d(op.x, [op.rows, op.cols]);
        return make(() => tf.softmax(x), [x]);
      }
      const sh = op.shape;
      const g = sh.headsQ / sh.headsKv;
      const groups = sh.batch * sh.headsKv;
      const q = tf.tensor3d(op.q, [groups, g * sh.lenQ, sh.headDim]);
      const k = tf.tensor3d(op.k, [groups, sh.lenK, sh.headDim]);
      const v = tf.tensor3d(op.v, [groups, sh.lenK, sh.headDim]);
      const scale = tf.scalar(1 / Math.sqrt(sh.headDim));
      const mask = sh.causal ? tf.tensor2d(causalMask(sh.lenQ, sh.lenK, g), [g * sh.lenQ, sh.lenK]) : null;
      return make(() => {
        let s = tf.mul(tf.matMul(q, k, false, true), scale);
        if (mask) s = tf.add(s, mask);
        return tf.matMul(tf.softmax(s), v);
      }, mask ? [q, k, v, scale, mask] : [q, k, v, scale]);
    },
  };
}
