// Cold start of the package in Node: each sample is a fresh process that imports the
// default entry (SIMD128 binary embedded) and awaits init(); prints the medians.
//
//   node bench/cold-start.mjs [samples]     (default 15; needs a build: npm run build)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const samples = Number(process.argv[2] ?? 15);
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const child = `
const t0 = performance.now();
const { init } = await import(${JSON.stringify(entry)});
const t1 = performance.now();
const info = await init();
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, simd: info.simd }));
`;
const runs = Array.from({ length: samples }, () =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' })));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (x) => x.toFixed(1);
console.log(`node ${process.version}, ${samples} fresh processes, ${runs[0].simd ? 'SIMD128' : 'scalar'} build`);
console.log(`import of dist/index.js: median ${fmt(median(runs.map((r) => r.importMs)))} ms`);
console.log(`await init():            median ${fmt(median(runs.map((r) => r.initMs)))} ms `
  + `(min ${fmt(Math.min(...runs.map((r) => r.initMs)))}, max ${fmt(Math.max(...runs.map((r) => r.initMs)))})`);
