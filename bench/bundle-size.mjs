// What the package adds to a browser app: each line bundles one import with esbuild
// (minified, every export kept, as an app using all of the API would) and reports
// raw and gzip (level 9) bytes. Also the three binaries on their own.
// test/consumers/package.test.ts holds the default entry to its budget with bundleSizes().
//
//   node bench/bundle-size.mjs      (needs a build: npm run build)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/**
 * Raw and gzip bytes of each import as an app bundles it, and of each binary, for the
 * package in `distDir` (a dist/ directory: the build's or an installed tarball's).
 */
export async function bundleSizes(distDir = fileURLToPath(new URL('../dist/', import.meta.url))) {
  const base = pathToFileURL(distDir.endsWith('/') ? distDir : `${distDir}/`);
  const dist = (f) => fileURLToPath(new URL(f, base));
  const cases = [
    ['default', "import * from 'wasm-attention' (default entry, SIMD128 embedded)", `export * from ${JSON.stringify(dist('index.js'))};`],
    ['default+pool', '  + wasm-attention/pool', `export * from ${JSON.stringify(dist('index.js'))}; export * from ${JSON.stringify(dist('pool/index.js'))};`],
    ['separate', "import * from 'wasm-attention/separate' (JS only)", `export * from ${JSON.stringify(dist('separate.js'))};`],
  ];
  const rows = [];
  const row = (key, name, bytes) => rows.push({ key, name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
  for (const [key, name, contents] of cases) {
    const r = await esbuild.build({
      stdin: { contents, resolveDir: dist('.'), loader: 'js' }, bundle: true, minify: true, format: 'esm', write: false,
      platform: 'browser', logLevel: 'error',
    });
    row(key, name, r.outputFiles[0].contents);
  }
  for (const v of ['relaxed-simd', 'simd', 'scalar']) row(v, `wasm-attention-${v}.wasm`, readFileSync(dist(`wasm-attention-${v}.wasm`)));
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await bundleSizes()) {
    console.log(`${r.name.padEnd(58)} ${kb(r.raw).padStart(9)} raw ${kb(r.gzip).padStart(9)} gzip`);
  }
}
