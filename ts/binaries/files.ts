/**
 * The binaries as files next to the bundle: `wasm-attention-relaxed-simd.wasm`,
 * `wasm-attention-simd.wasm` and `wasm-attention-scalar.wasm`, located with
 * `new URL('./…', import.meta.url)`: all three for `wasm-attention/separate`, and the
 * scalar one (or SIMD128 where nothing can inflate the embedded copy) for the default entry.
 *
 * That expression is written out literally so that bundlers (Vite, webpack 5,
 * Rollup with an asset plugin, Parcel) see it, copy the file into their output and
 * rewrite the URL; unbundled, it resolves next to this module wherever it is
 * served from, whatever the page's route. Under Node the URL is a `file:` URL,
 * read from disk (Node's `fetch` does not read files).
 * @internal
 */
import type { BinarySource, Build } from './variants.js';

function url(build: Build): URL {
  switch (build) {
    case 'relaxed-simd': return new URL('./wasm-attention-relaxed-simd.wasm', import.meta.url);
    case 'simd': return new URL('./wasm-attention-simd.wasm', import.meta.url);
    case 'scalar': return new URL('./wasm-attention-scalar.wasm', import.meta.url);
  }
}

interface NodeFs { readFile(path: URL): Promise<Uint8Array<ArrayBuffer>> }

/** Node's `fs/promises` when running in Node (no import statement, so browser bundles stay clean). */
function nodeFs(): NodeFs | null {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } })
    .process;
  if (proc?.versions?.node === undefined || typeof proc.getBuiltinModule !== 'function') return null;
  return proc.getBuiltinModule('node:fs/promises') as NodeFs;
}

/** The `.wasm` files beside the bundle as the separate-file entry's source: all three builds. */
export const files: BinarySource = {
  builds: ['relaxed-simd', 'simd', 'scalar'],
  elsewhere: 'pass init({ module })',
  load: loadFile,
};

/** Fetches (or reads) and compiles the binary of `build`. */
async function loadFile(build: Build): Promise<WebAssembly.Module> {
  const where = url(build);
  if (where.protocol === 'file:') {
    const fs = nodeFs();
    if (fs !== null) return WebAssembly.compile(await fs.readFile(where));
  }
  if (typeof fetch !== 'function') {
    throw new Error(`wasm-attention: fetch() is unavailable here; load ${where.href} yourself and call init({ module })`);
  }
  const res = await fetch(where);
  if (!res.ok) {
    throw new Error(`wasm-attention: fetching ${where.href} failed (HTTP ${res.status}); `
      + 'serve the .wasm files beside the bundle or call init({ module })');
  }
  // Streaming compilation needs the application/wasm MIME type; other servers get the buffered path.
  const type = res.headers.get('Content-Type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}
