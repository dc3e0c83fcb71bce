/**
 * `npm run bench:browser`: serves the repository on localhost, opens
 * bench/browser/index.html in Debian's Chromium (headless, via playwright-core),
 * runs the quick suite there, prints the table and saves
 * bench/results/browser.{png,json}. Needs a built dist/ (npm run build).
 * `npm run bench:browser -- --build=relaxed-simd` (or simd, scalar) measures that build of
 * our kernels and saves bench/results/browser-<build>.{png,json} instead.
 * `npm run bench:browser -- --models [--quick]` runs the whole-model cells in the page
 * instead (see models-host.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILDS, type BuildChoice } from '../cli.js';
import { consoleTable, type Report } from '../report.js';
import { openPage, pageResult, requireChromium } from './chromium.js';
import { serve } from './serve.js';

const TIMEOUT_MS = 10 * 60_000;
const USAGE = `usage: npm run bench:browser -- [--build=${BUILDS.join('|')}]
       npm run bench:browser -- --models [--quick] [--build=...]
  (no flag)  the quick kernel suite: bench/results/browser[-<build>].{png,json}
  --models   whole models in one page, one thread: SmolLM-135M-shaped CausalLM (float32, float16, int8, int4)
             against transformers.js (fp32, q8) on the same random weights, then the MiniLM-L6-shaped encoder's
             1 × 16 query and 32 × ≤128 ragged batch; bench/results/browser-models.{json,md}
  --quick    with --models: tiny models, seconds, nothing written`;

let build: BuildChoice = 'auto';
let models = false, quick = false;
for (const arg of process.argv.slice(2)) {
  const value = arg.startsWith('--build=') ? arg.slice('--build='.length) : null;
  if (arg === '--') continue;
  if (arg === '--models') { models = true; continue; }
  if (arg === '--quick') { quick = true; continue; }
  if (value === null || !(BUILDS as readonly string[]).includes(value)) {
    console.error(`${USAGE}\n(got '${arg}')`);
    process.exit(2);
  }
  build = value as BuildChoice;
}
if (quick && !models) {
  console.error(`${USAGE}\n(--quick goes with --models; the kernel suite is always the quick one)`);
  process.exit(2);
}
const base = build === 'auto' ? 'browser' : `browser-${build}`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
requireChromium();
if (!existsSync(path.join(root, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run npm run build first.');
  process.exit(1);
}
if (models) {
  const { runModelsInChromium } = await import('./models-host.js');
  process.exit(await runModelsInChromium({ root, quick, build }));
}

const { server, url } = await serve(root);
const { page, close } = await openPage();
let failed = false;
try {
  console.log(`browser: ${await page.evaluate(() => navigator.userAgent)}; page ${url}/bench/browser/index.html`);
  await page.goto(`${url}/bench/browser/index.html?build=${build}`);
  const { result, error } = await pageResult<Report>(page, TIMEOUT_MS);
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${base}.png`), fullPage: true });
  if (error !== undefined || result === undefined) {
    failed = true;
    console.error(`the suite failed in the page: ${error}`);
  } else {
    writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(result, null, 2) + '\n');
    console.log(`\n${consoleTable(result)}\n`);
    console.log(`wrote bench/results/${base}.{png,json} — suite ${result.seconds.toFixed(1)} s in the page`);
  }
} finally {
  await close();
  server.close();
}
process.exit(failed ? 1 : 0);
