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
// No source maps: the bundles are not minified, so stack traces already point at readable code.
import typescript from '@rollup/plugin-typescript';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';

const WORKER_SOURCE_ID = 'wasm-attention:pool-worker-source';
/** The global name the worker IIFE assigns (used by ts/pool/spawn.ts to start it). */
const WORKER_GLOBAL = 'wasmAttentionPoolWorker';
/** A wasm-pack output binary: pkg/<variant>/wasm_attention_bg.wasm. */
const BINARY = /pkg[\\/](relaxed-simd|simd|scalar)[\\/]wasm_attention_bg\.wasm$/;

const ts = () => typescript({
  tsconfig: './tsconfig.build.json', declaration: false, declarationMap: false, outDir: 'dist', sourceMap: false,
});

/**
 * `import text from '…/wasm_attention_bg.wasm'` gives the binary gzipped (level 9), as base64
 * text (ts/binaries/gunzip.ts says why), and every binary is also written to dist/ under its
 * published name for the separate-file entry and for platforms that compile `.wasm`
 * files at deploy time. With `embed: false` (the pool worker) the text is empty.
 */
function binaries({ embed }) {
  return {
    name: 'wasm-attention-binaries',
    load(id) {
      if (!BINARY.test(id)) return null;
      const text = embed ? gzipSync(readFileSync(id), { level: 9 }).toString('base64') : '';
      return `export default ${JSON.stringify(text)};`;
    },
    generateBundle() {
      if (!embed) return;
      for (const variant of ['relaxed-simd', 'simd', 'scalar']) {
        this.emitFile({
          type: 'asset', fileName: `wasm-attention-${variant}.wasm`,
          source: readFileSync(`pkg/${variant}/wasm_attention_bg.wasm`),
        });
      }
      // Types of the './relaxed-simd.wasm', './simd.wasm' and './scalar.wasm' exports.
      this.emitFile({
        type: 'asset', fileName: 'wasm-module.d.ts', source: `/**
 * A wasm-attention binary as platforms that compile \`.wasm\` imports at deploy time give it
 * (Cloudflare Workers / workerd, Vercel Edge with \`?module\`): pass it to \`init({ module })\`.
 */
declare const module: WebAssembly.Module;
export default module;
`,
      });
    },
  };
}

let workerCode = null;
/** Builds ts/pool/worker.ts once into a self-contained IIFE and returns its text. */
async function buildWorker() {
  if (workerCode === null) {
    const bundle = await rollup({ input: 'ts/pool/worker.ts', plugins: [binaries({ embed: false }), ts()] });
    const { output } = await bundle.generate({ format: 'iife', name: WORKER_GLOBAL });
    await bundle.close();
    workerCode = output[0].code;
  }
  return workerCode;
}

const WORKER_MAIN = '\0pool-worker-main';
/**
 * The worker as a classic script that starts serving when it loads and exports nothing
 * (no `exports` object, so tools do not take it for CommonJS).
 */
async function buildWorkerScript() {
  const main = {
    name: 'pool-worker-main',
    resolveId: (id) => (id === WORKER_MAIN ? id : null),
    load: (id) => (id === WORKER_MAIN
      ? `import { serveBrowser } from ${JSON.stringify(new URL('./ts/pool/worker.ts', import.meta.url).pathname)};\nserveBrowser();\n`
      : null),
  };
  const bundle = await rollup({ input: WORKER_MAIN, plugins: [main, binaries({ embed: false }), ts()] });
  const { output } = await bundle.generate({ format: 'iife' });
  await bundle.close();
  return output[0].code;
}

/** Provides `import source from 'wasm-attention:pool-worker-source'` and writes pool-worker.js. */
function poolWorker() {
  return {
    name: 'pool-worker',
    resolveId: (id) => (id === WORKER_SOURCE_ID ? '\0' + id : null),
    async load(id) {
      if (id !== '\0' + WORKER_SOURCE_ID) return null;
      return `export default ${JSON.stringify(await buildWorker())};`;
    },
    async generateBundle() {
      // A classic worker script that starts serving as soon as it loads (the `workerUrl` option).
      this.emitFile({ type: 'asset', fileName: 'pool-worker.js', source: await buildWorkerScript() });
      this.emitFile({
        type: 'asset', fileName: 'pool-worker.d.ts', source: `/**
 * The AttentionPool worker as a classic script, for \`AttentionPool.create({ workerUrl })\` where a
 * Content-Security-Policy forbids \`blob:\` workers. It exports nothing.
 */
export {};
`,
      });
    },
  };
}

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
    plugins: [binaries({ embed: true }), poolWorker(), ts()],
  },
  {
    input: 'ts/baseline/index.ts',
    output: { file: 'dist/baseline/index.js', format: 'es' },
    plugins: [ts()],
  },
];
