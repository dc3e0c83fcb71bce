// The transforms ts/ needs beyond TypeScript, as rollup plugins shared by the package build
// (rollup.config.mjs) and the unit tests (vitest.config.mjs, whose vite runs rollup's
// resolveId/load/transform hooks), so the tests run the sources through the same code as dist/:
//
//   binaries()    `import text from '…/pkg/<build>/wasm_attention_bg.wasm'` → the binary gzipped,
//                 as base64 text; the package gets the binaries as files beside the bundle
//   poolWorker()  `import source from 'wasm-attention:pool-worker-source'` → the pool worker
//                 built on its own by rollup into an IIFE, as text
//   faultHooks()  `__POOL_FAULT_HOOKS__` (ts/pool/internal.ts) → false in the package, true in tests
//
// `sourcePlugins({ tests })` gives all three, configured for one of the two builds.
import typescript from '@rollup/plugin-typescript';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { rollup } from 'rollup';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VARIANTS = ['relaxed-simd', 'simd', 'scalar'];
/** A wasm-pack output binary: pkg/<variant>/wasm_attention_bg.wasm. */
const BINARY = /pkg[\\/](relaxed-simd|simd|scalar)[\\/]wasm_attention_bg\.wasm$/;
/** The binary's wasm-pack output and its published name beside the bundle (ts/binaries/files.ts). */
const built = (variant) => resolve(ROOT, 'pkg', variant, 'wasm_attention_bg.wasm');
const published = (variant) => `wasm-attention-${variant}.wasm`;
/** The module that locates the published binaries with `new URL('./<published>', import.meta.url)`. */
const FILES_MODULE = /ts[\\/]binaries[\\/]files\.ts$/;

const WORKER_SOURCE_ID = 'wasm-attention:pool-worker-source';
/** The global name the worker IIFE assigns (used by ts/pool/spawn.ts to start it). */
const WORKER_GLOBAL = 'wasmAttentionPoolWorker';
/** The build-time constant that keeps the pool's fault hooks (ts/pool/internal.ts). */
const FAULT_HOOKS = /\b__POOL_FAULT_HOOKS__\b/g;

/** ts/ compiled by TypeScript for rollup, with no declarations or maps (tsc writes dist/'s types). */
export const ts = () => typescript({
  tsconfig: resolve(ROOT, 'tsconfig.build.json'), declaration: false, declarationMap: false, outDir: resolve(ROOT, 'dist'),
  sourceMap: false,
});

/**
 * Every plugin ts/ needs besides TypeScript. `tests: false` is the package: the fault hooks
 * compiled out, and the binaries, pool-worker.js and their types written beside the bundle.
 * `tests: true` is the unit tests' build of the sources: the fault hooks kept, and the
 * binaries read from pkg/, since nothing is written beside the sources.
 */
export function sourcePlugins({ tests }) {
  return [faultHooks({ on: tests }), binaries({ embed: true, publish: !tests }), poolWorker({ publish: !tests, faults: tests })];
}

/**
 * Replaces `__POOL_FAULT_HOOKS__` with `true` or `false`; with `false`, rollup drops the
 * branches it guards, so the package holds neither the internals accessor nor the faults.
 */
export function faultHooks({ on }) {
  return {
    name: 'wasm-attention-fault-hooks',
    // Before vite's TypeScript transform; in rollup it sees the TypeScript plugin's output (that plugin loads).
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]ts[\\/].*\.ts$/.test(id) || !code.includes('__POOL_FAULT_HOOKS__')) return null;
      return { code: code.replace(FAULT_HOOKS, String(on)), map: null };
    },
  };
}

/**
 * `import text from '…/wasm_attention_bg.wasm'` gives the binary gzipped (level 9), as base64
 * text (ts/binaries/gunzip.ts says why); with `embed: false` (the pool worker) the text is empty.
 * `publish: true` writes every binary to the bundle's directory under its published name, for
 * the separate-file entry and for platforms that compile `.wasm` files at deploy time.
 * `publish: false` points files.ts's `new URL('./wasm-attention-<build>.wasm', import.meta.url)`
 * at pkg/<build>/wasm_attention_bg.wasm instead: read from disk in Node, served by vite in browsers.
 */
export function binaries({ embed, publish }) {
  return {
    name: 'wasm-attention-binaries',
    // Before vite's, which would take a .wasm import for an asset URL or WebAssembly ESM integration.
    enforce: 'pre',
    load(id) {
      const path = id.replace(/\?.*$/, '');
      if (!BINARY.test(path)) return null;
      const text = embed ? gzipSync(readFileSync(path), { level: 9 }).toString('base64') : '';
      return `export default ${JSON.stringify(text)};`;
    },
    transform(code, id) {
      if (publish || !FILES_MODULE.test(id)) return null;
      const from = dirname(id);
      const out = VARIANTS.reduce((text, v) => text.replaceAll(`'./${published(v)}'`,
        JSON.stringify(relative(from, built(v)).split('\\').join('/'))), code);
      return { code: out, map: null };
    },
    generateBundle() {
      if (!publish || !embed) return;
      for (const variant of VARIANTS) {
        this.emitFile({ type: 'asset', fileName: published(variant), source: readFileSync(built(variant)) });
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

/** The worker's own build: no embedded binary (the pool posts it a compiled module). */
const workerPlugins = (faults) => [faultHooks({ on: faults }), binaries({ embed: false, publish: false }), ts()];

/** Builds `input` with the worker's plugins into an IIFE and returns its text. */
async function buildIife(input, plugins, name) {
  const bundle = await rollup({ input, plugins });
  try {
    const { output } = await bundle.generate({ format: 'iife', name });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

const WORKER_MAIN = '\0pool-worker-main';

/**
 * Provides `import source from 'wasm-attention:pool-worker-source'`: ts/pool/worker.ts built
 * once into a self-contained IIFE (global `wasmAttentionPoolWorker`). The package also gets
 * pool-worker.js, the worker as a classic script that starts serving when it loads and
 * exports nothing (no `exports` object, so tools do not take it for CommonJS). `faults`:
 * whether the embedded worker keeps the fault hooks (pool-worker.js never does).
 */
export function poolWorker({ publish, faults }) {
  let source = null;
  return {
    name: 'wasm-attention-pool-worker',
    enforce: 'pre',
    resolveId: (id) => (id === WORKER_SOURCE_ID ? '\0' + id : null),
    async load(id) {
      if (id !== '\0' + WORKER_SOURCE_ID) return null;
      source ??= buildIife(resolve(ROOT, 'ts/pool/worker.ts'), workerPlugins(faults), WORKER_GLOBAL);
      return `export default ${JSON.stringify(await source)};`;
    },
    async generateBundle() {
      if (!publish) return;
      // A classic worker script that starts serving as soon as it loads (the `workerUrl` option).
      const main = {
        name: 'pool-worker-main',
        resolveId: (id) => (id === WORKER_MAIN ? id : null),
        load: (id) => (id === WORKER_MAIN
          ? `import { serveBrowser } from ${JSON.stringify(resolve(ROOT, 'ts/pool/worker.ts'))};\nserveBrowser();\n`
          : null),
      };
      this.emitFile({ type: 'asset', fileName: 'pool-worker.js', source: await buildIife(WORKER_MAIN, [main, ...workerPlugins(false)]) });
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
