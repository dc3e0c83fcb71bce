/**
 * wasm-attention with its binaries as separate files (`wasm-attention/separate`).
 *
 * The same API as the default entry, but `init()` loads `wasm-attention-relaxed-simd.wasm`
 * (or `-simd.wasm`, `-scalar.wasm`) from beside this module, located with
 * `new URL(…, import.meta.url)`: bundlers that understand that pattern (Vite,
 * webpack 5) copy the file and rewrite the URL, and unbundled it is fetched from
 * where the package is served (Node reads it from disk). The JavaScript is smaller
 * than the default entry's and the binary compiles while it downloads.
 * @packageDocumentation
 */
import { initWith, type InitInfo, type InitOptions } from './init.js';
import { files } from './binaries/files.js';

export * from './api.js';

/**
 * Loads and instantiates the WebAssembly module: with no `module` option, the
 * package's `.wasm` file next to this bundle (the best build the engine supports:
 * relaxed SIMD, SIMD128 or scalar; see `InitOptions.build`). Safe to call many times and concurrently: every call resolves to the
 * same instance, which every entry point of the package shares.
 */
export function init(options?: InitOptions): Promise<InitInfo> {
  return initWith(files, options);
}
