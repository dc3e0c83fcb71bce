/**
 * The default entry's binaries: the SIMD128 build embedded in the bundle (gzip, then
 * base64; see scripts/bundle-plugins.mjs and gunzip.ts), so `init()` needs no file lookup, no
 * server set-up and no bundler plugin wherever SIMD128 runs — every engine the package
 * is tested on. The scalar build, for engines without SIMD128 or a SIMD128 build that
 * fails its self-test, is the `.wasm` file beside the bundle (files.ts), fetched only then.
 *
 * The relaxed-SIMD build is not reachable here: it would add its whole size again to every
 * app (docs/performance.md); `wasm-attention/separate` loads it, or pass it as `init({ module })`.
 * @internal
 */
import simdGzipBase64 from '../../pkg/simd/wasm_attention_bg.wasm';
import { files } from './files.js';
import { gunzipBase64 } from './gunzip.js';
import type { BinarySource, Build } from './variants.js';

/** The embedded binaries as the default entry's source. */
export const embedded: BinarySource = {
  builds: ['simd', 'scalar'],
  elsewhere: "the default entry holds the simd and scalar builds; 'wasm-attention/separate' loads all three, "
    + "or pass init({ module }) the binary 'wasm-attention/relaxed-simd.wasm'",
  async load(build: Build): Promise<WebAssembly.Module> {
    if (build === 'simd') {
      let bytes: Uint8Array<ArrayBuffer> | null;
      try {
        bytes = await gunzipBase64(simdGzipBase64);
      } catch (e) {
        throw new Error(`wasm-attention: the embedded SIMD128 binary could not be decompressed (${(e as Error).message})`, { cause: e });
      }
      // An engine with neither zlib nor DecompressionStream fetches the same binary's file.
      if (bytes !== null) return WebAssembly.compile(bytes);
    }
    return files.load(build);
  },
};
