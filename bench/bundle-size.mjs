// What the package adds to a browser app: each line bundles one import with esbuild
// (minified, every export kept, as an app using all of the API would) and reports
// raw and gzip (level 9) bytes. Also the three binaries on their own.
//
//   node bench/bundle-size.mjs      (needs a build: npm run build)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const dist = (f) => fileURLToPath(new URL(`../dist/${f}`, import.meta.url));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const line = (name, bytes) => console.log(`${name.padEnd(58)} ${kb(bytes.length).padStart(9)} raw ${kb(gzipSync(bytes, { level: 9 }).length).padStart(9)} gzip`);

const cases = [
  ["import * from 'wasm-attention' (default entry, SIMD128 embedded)", `export * from ${JSON.stringify(dist('index.js'))};`],
  ['  + wasm-attention/pool', `export * from ${JSON.stringify(dist('index.js'))}; export * from ${JSON.stringify(dist('pool/index.js'))};`],
  ["import * from 'wasm-attention/separate' (JS only)", `export * from ${JSON.stringify(dist('separate.js'))};`],
];
for (const [name, contents] of cases) {
  const r = await esbuild.build({
    stdin: { contents, resolveDir: dist('.'), loader: 'js' }, bundle: true, minify: true, format: 'esm', write: false,
    platform: 'browser', logLevel: 'error',
  });
  line(name, r.outputFiles[0].contents);
}
for (const v of ['relaxed-simd', 'simd', 'scalar']) line(`wasm-attention-${v}.wasm`, readFileSync(dist(`wasm-attention-${v}.wasm`)));
