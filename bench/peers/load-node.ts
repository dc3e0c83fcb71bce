/**
 * Loads the peers in Node. A peer that cannot load is reported with the reason
 * and the suite goes on without it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PeerStatus } from '../suite.js';
import { onnxPeers } from './onnx.js';
import type { Peer } from './peer.js';
import { tfjsPeer } from './tfjs.js';

export async function loadNodePeers(): Promise<{ peers: Peer[]; unavailable: PeerStatus[] }> {
  const peers: Peer[] = [];
  const unavailable: PeerStatus[] = [];
  const why = (e: unknown) => `could not load: ${(e as Error).message.split('\n')[0]}`;
  try {
    // In Node, onnxruntime-web's ESM entry (dist/ort.node.min.mjs) reads its
    // ort-wasm-simd-threaded.{mjs,wasm} from its own dist/ directory.
    const ort = await import('onnxruntime-web');
    peers.push(...onnxPeers(ort));
  } catch (e) {
    unavailable.push({ name: 'onnxruntime-web', method: 'wasm EP', status: why(e) });
  }
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    // A directory path (trailing separator) from which the backend reads tfjs-backend-wasm*.wasm.
    wasm.setWasmPaths(`${dist}${path.sep}`);
    wasm.setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
    peers.push(tfjsPeer(tf));
  } catch (e) {
    unavailable.push({ name: 'tfjs-wasm', method: '@tensorflow/tfjs-backend-wasm', status: why(e) });
  }
  return { peers, unavailable };
}
