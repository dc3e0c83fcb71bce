/**
 * transformers.js (`@huggingface/transformers`) on onnxruntime-web's WebAssembly backend
 * in Node, for the `models` group. Its Node build would use onnxruntime-node, and
 * `device: 'wasm'` is refused in Node; so its own onnxruntime-web (the version it ships
 * with) is imported, pointed at its local `dist/` for the .wasm files, and handed over
 * through `globalThis[Symbol.for('onnxruntime')]` before transformers.js is imported.
 * Models then load with `device: 'auto'` and `executionProviders: ['wasm']`.
 * The thread count is fixed when the WASM module starts, so one process = one count.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export type TransformersModule = typeof import('@huggingface/transformers');

export interface TransformersPeer {
  readonly tf: TransformersModule;
  /** transformers.js and onnxruntime-web versions. */
  readonly versions: string;
}

let loaded: Promise<TransformersPeer> | null = null;

/** Loads transformers.js once per process on onnxruntime-web with `threads` WASM threads. */
export function loadTransformers(threads: number): Promise<TransformersPeer> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    // Its package.json is not exported: found from the entry file (dist/…).
    const tfPackage = path.join(path.dirname(require.resolve('@huggingface/transformers')), '..', 'package.json');
    const fromTf = createRequire(tfPackage);
    const ortDist = path.dirname(fromTf.resolve('onnxruntime-web')); // …/onnxruntime-web/dist/ort.node.min.js
    const ortPackage = path.join(ortDist, '..', 'package.json');
    const ort = await import(pathToFileURL(path.join(ortDist, 'ort.node.min.mjs')).href);
    ort.env.wasm.wasmPaths = pathToFileURL(ortDist + path.sep).href;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    (globalThis as Record<symbol, unknown>)[Symbol.for('onnxruntime')] = ort;
    const tf = (await import('@huggingface/transformers')) as TransformersModule;
    tf.env.allowRemoteModels = false;
    tf.env.allowLocalModels = true;
    tf.env.useBrowserCache = false;
    tf.env.useFSCache = false;
    const tfVersion = (require(tfPackage) as { version: string }).version;
    const ortVersion = (require(ortPackage) as { version: string }).version;
    return { tf, versions: `transformers.js ${tfVersion}, onnxruntime-web ${ortVersion}` };
  })();
  return loaded;
}
