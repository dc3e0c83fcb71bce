// Bundles ts/ into dist/ in two flavours of the same library:
//
//   dist/index.js, dist/pool/index.js            the inline build: both .wasm binaries are embedded
//                                                 (@rollup/plugin-wasm 'auto-inline', base64), so the
//                                                 bundle needs no server set-up and no file lookup.
//   dist/browser/index.js, dist/browser/pool/...  the separate-file build: the binaries are emitted as
//                                                 dist/browser/wasm-attention-{simd,scalar}.wasm and
//                                                 init() fetches PUBLIC_PATH + that name, i.e. relative
//                                                 to the page (document base URL) or the worker script.
//
// WASM_ATTENTION_PUBLIC_PATH (default '') sets that prefix at build time, e.g. '/assets/'. Or skip the
// fetch entirely: compile the file yourself and call init({ module }).
//
// The worker pool's worker is built first, on its own (an IIFE with no embedded binary: the pool posts
// it a compiled module), and its text is embedded in the pool bundle as a string, so the pool can start
// workers from it (a Blob URL in browsers, `eval` workers in Node) without locating a file. The same
// text is also written to pool/worker.js next to the pool bundle for pages whose CSP forbids blob: workers.
import typescript from '@rollup/plugin-typescript';
import { wasm } from '@rollup/plugin-wasm';
import { readFileSync } from 'node:fs';
import { rollup } from 'rollup';

const PUBLIC_PATH = process.env.WASM_ATTENTION_PUBLIC_PATH ?? '';
const WORKER_SOURCE_ID = 'wasm-attention:pool-worker-source';
/** The global name the worker IIFE assigns (used by ts/pool/spawn.ts to start it). */
const WORKER_GLOBAL = 'wasmAttentionPoolWorker';

const ts = (outDir = 'dist') => typescript({
  tsconfig: './tsconfig.build.json', declaration: false, declarationMap: false, outDir,
});

/**
 * The pool bundle imports the library from the library bundle next to it ('../index.js'),
 * so both share one module instance (and one copy of the binaries).
 */
function libraryExternal() {
  return {
    name: 'library-external',
    resolveId(source, importer) {
      if (source === '../index.js' && importer && /ts[\\/](pool|models)[\\/][^\\/]+\.ts$/.test(importer)) {
        return { id: '../index.js', external: true };
      }
      return null;
    },
  };
}

/** Separate-file loader: emits each binary under a fixed name and fetches it relative to the page. */
function wasmFiles(publicPath) {
  const helper = `
export function loadWasm(url) {
  if (typeof fetch !== 'function') {
    return Promise.reject(new Error('wasm-attention: fetch() is unavailable here; load ' + url + ' yourself and call init({ module })'));
  }
  return fetch(url).then(function (res) {
    if (!res.ok) throw new Error('wasm-attention: fetching ' + url + ' failed (HTTP ' + res.status + '); serve dist/browser/*.wasm next to the page or call init({ module })');
    var type = res.headers.get('Content-Type') || '';
    // Streaming compilation needs the application/wasm MIME type; other servers get the buffered path.
    if (typeof WebAssembly.compileStreaming === 'function' && type.indexOf('application/wasm') === 0) {
      return WebAssembly.compileStreaming(res);
    }
    return res.arrayBuffer().then(function (bytes) { return WebAssembly.compile(bytes); });
  });
}`;
  const HELPER = '\0wasm-files-helper';
  return {
    name: 'wasm-files',
    resolveId: (id) => (id === HELPER ? id : null),
    load(id) {
      if (id === HELPER) return helper;
      const m = /pkg\/(simd|scalar)\/wasm_attention_bg\.wasm$/.exec(id);
      if (!m) return null;
      const fileName = `wasm-attention-${m[1]}.wasm`;
      this.emitFile({ type: 'asset', fileName, source: readFileSync(id) });
      return `import { loadWasm } from ${JSON.stringify(HELPER)};
export default function () { return loadWasm(${JSON.stringify(publicPath + fileName)}); }`;
    },
  };
}

/** The pool worker never compiles an embedded binary: it is always given a module. */
function noEmbeddedWasm() {
  return {
    name: 'no-embedded-wasm',
    load: (id) => (/\.wasm$/.test(id)
      ? 'export default function () { return Promise.reject(new Error("wasm-attention: pool workers need a module")); }'
      : null),
  };
}

let workerCode = null;
/** Builds ts/pool/worker.ts once into a self-contained IIFE and returns its text. */
async function buildWorker() {
  if (workerCode === null) {
    const bundle = await rollup({ input: 'ts/pool/worker.ts', plugins: [noEmbeddedWasm(), ts()] });
    const { output } = await bundle.generate({ format: 'iife', name: WORKER_GLOBAL });
    await bundle.close();
    workerCode = output[0].code;
  }
  return workerCode;
}

/** Provides `import source from 'wasm-attention:pool-worker-source'` and writes pool/worker.js. */
function poolWorker() {
  return {
    name: 'pool-worker',
    resolveId: (id) => (id === WORKER_SOURCE_ID ? '\0' + id : null),
    async load(id) {
      if (id !== '\0' + WORKER_SOURCE_ID) return null;
      return `export default ${JSON.stringify(await buildWorker())};`;
    },
    async generateBundle() {
      const code = await buildWorker();
      // A classic worker script that starts serving as soon as it loads (the `workerUrl` option).
      this.emitFile({
        type: 'asset', fileName: 'worker.js',
        source: `${code}\n${WORKER_GLOBAL}.serveBrowser();\n`,
      });
    },
  };
}

/** Declarations for the separate-file build: the same API as the inline build. */
function browserTypes() {
  return {
    name: 'browser-types',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'index.d.ts', source: "export * from '../index.js';\n" });
      this.emitFile({ type: 'asset', fileName: 'pool/index.d.ts', source: "export * from '../../pool/index.js';\n" });
    },
  };
}

export default [
  {
    input: 'ts/index.ts',
    output: { file: 'dist/index.js', format: 'es', sourcemap: true },
    plugins: [wasm({ targetEnv: 'auto-inline' }), ts()],
  },
  {
    input: 'ts/pool/index.ts',
    output: { file: 'dist/pool/index.js', format: 'es', sourcemap: true },
    plugins: [libraryExternal(), poolWorker(), ts()],
  },
  {
    input: 'ts/index.ts',
    output: { file: 'dist/browser/index.js', format: 'es', sourcemap: true },
    plugins: [wasmFiles(PUBLIC_PATH), browserTypes(), ts('dist/browser')],
  },
  {
    input: 'ts/pool/index.ts',
    output: { file: 'dist/browser/pool/index.js', format: 'es', sourcemap: true },
    plugins: [libraryExternal(), poolWorker(), ts('dist/browser')],
  },
  {
    input: 'ts/models/index.ts',
    output: { file: 'dist/models/index.js', format: 'es', sourcemap: true },
    plugins: [libraryExternal(), ts()],
  },
  {
    input: 'ts/models/index.ts',
    output: { file: 'dist/browser/models/index.js', format: 'es', sourcemap: true },
    plugins: [libraryExternal(), ts('dist/browser')],
  },
  {
    input: 'ts/baseline/index.ts',
    output: { file: 'dist/baseline/index.js', format: 'es', sourcemap: true },
    plugins: [wasm({ targetEnv: 'auto-inline' }), ts()],
  },
];
