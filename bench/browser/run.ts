/**
 * `npm run bench:browser`: serves the repository on localhost, opens
 * bench/browser/index.html in Debian's Chromium (headless, via playwright-core),
 * runs the quick suite there, prints the table and saves
 * bench/results/browser.{png,json}. Needs a built dist/ (npm run build).
 * `npm run bench:browser -- --build=relaxed-simd` (or simd, scalar) measures that build of
 * our kernels and saves bench/results/browser-<build>.{png,json} instead.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BUILDS, type BuildChoice } from '../cli.js';
import { consoleTable, type Report } from '../report.js';
import { serve } from './serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT_MS = 10 * 60_000;

let build: BuildChoice = 'auto';
for (const arg of process.argv.slice(2)) {
  const value = arg.startsWith('--build=') ? arg.slice('--build='.length) : null;
  if (arg === '--') continue;
  if (value === null || !(BUILDS as readonly string[]).includes(value)) {
    console.error(`usage: npm run bench:browser -- [--build=${BUILDS.join('|')}] (got '${arg}')`);
    process.exit(2);
  }
  build = value as BuildChoice;
}
const base = build === 'auto' ? 'browser' : `browser-${build}`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}: run npm run setup (scripts/setup.sh installs Debian's ` +
    'chromium package) or set CHROMIUM_PATH.');
  process.exit(1);
}
if (!existsSync(path.join(root, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run npm run build first.');
  process.exit(1);
}

const { server, url } = await serve(root);
const profile = mkdtempSync(path.join(os.tmpdir(), 'wasm-attention-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
});
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  console.log(`browser: ${context.browser()?.version() ?? 'Chromium'}; page ${url}/bench/browser/index.html`);
  await page.goto(`${url}/bench/browser/index.html?build=${build}`);
  await page.waitForFunction(() => {
    const w = globalThis as { benchResult?: unknown; benchError?: unknown };
    return w.benchResult !== undefined || w.benchError !== undefined;
  }, undefined, { timeout: TIMEOUT_MS, polling: 1000 });
  const { result, error } = await page.evaluate(() => {
    const w = globalThis as { benchResult?: unknown; benchError?: string };
    return { result: w.benchResult as Report | undefined, error: w.benchError };
  });
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
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
