/**
 * wasm-attention: fast, exact attention for JavaScript.
 *
 * The default entry point, for every runtime and bundler: the SIMD128 WebAssembly
 * binary is embedded in the bundle, so `await init()` needs no file, no server
 * set-up and no bundler configuration wherever SIMD128 runs.
 * @packageDocumentation
 */
import { initWith, type InitInfo, type InitOptions } from './init.js';
import { embedded } from './binaries/embedded.js';

export * from './api.js';

/**
 * Loads and instantiates the WebAssembly module: with no `module` option, the
 * SIMD128 binary embedded in this bundle when the engine supports SIMD128, else the scalar
 * binary from its file beside the bundle (the relaxed-SIMD build is in
 * `wasm-attention/separate`, see `InitOptions.build`).
 * Safe to call many times and concurrently: every call resolves to the same instance,
 * which every entry point of the package (`wasm-attention/pool`,
 * `wasm-attention/separate`) shares.
 *
 * @example
 * ```js
 * import { init, Tensor, attention } from 'wasm-attention';
 * await init();
 * ```
 */
export function init(options?: InitOptions): Promise<InitInfo> {
  return initWith(embedded, options);
}
