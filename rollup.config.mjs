// Bundles ts/ into dist/: one rollup build with four entry points that share one chunk.
//
//   dist/index.js          the default entry ('wasm-attention' under every condition): the SIMD128 binary
//                          embedded (gzip, then base64), so init() needs no file and no bundler set-up; the
//                          scalar one is read from its file beside the bundle only where SIMD128 is missing
//   dist/separate.js       'wasm-attention/separate': the same API, init() loads the binaries from
//                          dist/wasm-attention-{relaxed-simd,simd,scalar}.wasm via new URL('./…', import.meta.url)
//   dist/pool/index.js     'wasm-attention/pool': AttentionPool (imports the default entry)
//   dist/models/index.js   'wasm-attention/models': causal LMs built on the API (imports the default entry)
//   dist/lib.js            the library itself — Tensor, ops, toolkit and the one instance's state —
//                          imported by all of them, so init() from any entry initialises them all
//   dist/pool-worker.js    the pool's worker as a classic script ('wasm-attention/pool-worker.js')
//   dist/baseline/index.js the pure-TypeScript baselines (a build of its own)
//
// The worker is built first, on its own (an IIFE with no embedded binary: the pool posts it a
// compiled module); its text is embedded in the pool bundle as a string, so the pool can start
// workers from it (a Blob URL in browsers, `eval` workers in Node) without locating a file.
// Those transforms live in scripts/bundle-plugins.mjs, which the unit tests' build of ts/ uses too;
// here they also compile the pool's fault hooks out and write the binaries beside the bundle.
// No source maps: the bundles are not minified, so stack traces already point at readable code.
import { sourcePlugins, ts } from './scripts/bundle-plugins.mjs';

/** Modules that are not an entry point's own go into the one shared chunk, dist/lib.js. */
function sharedChunk(id) {
  const own = /ts[\\/](index|separate)\.ts$|ts[\\/]binaries[\\/]embedded\.ts$|ts[\\/](pool|models)[\\/]|pool-worker-source|\.wasm$/;
  return own.test(id) ? undefined : 'lib';
}

export default [
  {
    input: {
      index: 'ts/index.ts', separate: 'ts/separate.ts', 'pool/index': 'ts/pool/index.ts', 'models/index': 'ts/models/index.ts',
    },
    output: {
      dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name].js', minifyInternalExports: false,
      manualChunks: sharedChunk,
    },
    plugins: [...sourcePlugins({ tests: false }), ts()],
  },
  {
    input: 'ts/baseline/index.ts',
    output: { file: 'dist/baseline/index.js', format: 'es' },
    plugins: [ts()],
  },
];
