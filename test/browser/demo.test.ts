// The demo page (demo/) in Debian's Chromium, driven from Node with playwright-core:
// the heatmaps render, a displayed weight is the library's value (and the float64
// reference's), the causal toggle and typing update the maps, the benchmark draws
// its bars. The SIMD run saves a screenshot to test-results/demo.png, and to the
// committed demo/screenshot.png when UPDATE_SCREENSHOT=1 (npm run demo:screenshot).
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, attentionWeights } from '../../ts/index.js';
import { softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
// @ts-expect-error: a plain JavaScript module without declarations
import { startServer } from '../../demo/serve.mjs';

/** This process's build (relaxed-simd, simd or scalar): the page is asked for the same one. */
const build = process.env.WASM_ATTENTION_BUILD ?? 'simd';
const simd = build !== 'scalar';
const LABEL: Record<string, string> = { 'relaxed-simd': 'relaxed-SIMD build', simd: 'SIMD128 build', scalar: 'scalar build' };
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SEED = [[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64], [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]];

describe('demo page in Chromium', () => {
  let server: Server, browser: Browser, page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const started = await startServer(0) as { server: Server; url: string };
    server = started.server;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1500, height: 760 }, deviceScaleFactor: 1 });
    page.on('pageerror', (e) => errors.push(e.message));
    // The build of this test process, so a shown weight can be compared bit for bit
    // (Chromium alone would pick the relaxed-SIMD build).
    await page.goto(simd ? `${started.url}?build=${build}` : `${started.url}?bench=small&build=scalar`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('renders three 6×6 heatmaps for the default sentence on the requested build', async () => {
    expect(errors).toEqual([]);
    for (const key of ['simple', 'head1', 'head2']) {
      expect(await page.locator(`[data-map="${key}"] .cell`).count()).toBe(36);
    }
    expect(await page.textContent('#build')).toBe(LABEL[build]);
  });

  it('shows the library value (and the float64 softmax of x·xᵀ) in the simplified map', async () => {
    // Here: the same weights from the library, and from the definition in float64.
    using x = Tensor.from(SEED.flat(), [6, 3]);
    using w = attentionWeights(x, x, { scale: 1 });
    for (const [i, j] of [[1, 2], [4, 0], [5, 5]] as const) {
      const cell = page.locator(`[data-map="simple"] .cell[data-row="${i}"][data-col="${j}"]`);
      const shown = Number(await cell.getAttribute('data-weight'));
      expect(shown).toBe(w.data[i * 6 + j]); // same binary, same inputs: the same float
      expect(await cell.textContent()).toBe(w.data[i * 6 + j]!.toFixed(2));
      const row = SEED.map((kj) => SEED[i]!.reduce((s, qi, t) => s + qi * kj[t]!, 0));
      expectClose([shown], [softmaxRow64(row)[j]!], `weight ${i},${j}`);
    }
  });

  it('causal toggle blanks the upper triangle; rows still sum to 1', async () => {
    await page.check('#causal');
    const maps = await page.evaluate(() => (window as unknown as { demo: { maps: Record<string, Float32Array> } }).demo.maps);
    for (const weights of Object.values(maps)) {
      const m = Object.values(weights) as number[];
      for (let i = 0; i < 6; i++) {
        let sum = 0;
        for (let j = 0; j < 6; j++) {
          if (j > i) expect(m[i * 6 + j]).toBe(0);
          sum += m[i * 6 + j]!;
        }
        expect(sum).toBeCloseTo(1, 5);
      }
    }
    expect(await page.textContent('[data-map="simple"] .cell[data-row="0"][data-col="0"]')).toBe('1.00');
    await page.uncheck('#causal');
  });

  it('typing a sentence redraws the maps at its length', async () => {
    await page.fill('#sentence', 'the cat sat');
    expect(await page.locator('[data-map="head2"] .cell').count()).toBe(9);
    expect(await page.locator('[data-map="simple"] .col-label').allTextContents()).toEqual(['the', 'cat', 'sat']);
    await page.fill('#sentence', 'Your journey starts with one step');
    expect(await page.locator('[data-map="simple"] .cell').count()).toBe(36);
  });

  it('the benchmark button times both and draws the bars', async () => {
    await page.click('#run-bench');
    await page.waitForFunction(() => (window as unknown as { demo: { bench?: unknown } }).demo.bench !== undefined,
      undefined, { timeout: 60_000 });
    const bench = await page.evaluate(() => (window as unknown as { demo: { bench: { wasmMs: number; tsMs: number } } }).demo.bench);
    expect(bench.wasmMs).toBeGreaterThan(0);
    expect(bench.tsMs).toBeGreaterThan(0);
    expect(await page.locator('#chart rect.bar').count()).toBe(2);
    expect(errors).toEqual([]);
    if (simd) {
      await page.hover('[data-map="simple"] .cell[data-row="1"][data-col="2"]');
      const file = process.env.UPDATE_SCREENSHOT === '1' ? '../../demo/screenshot.png' : '../../test-results/demo.png';
      await page.screenshot({ path: fileURLToPath(new URL(file, import.meta.url)), fullPage: true });
    }
  });
});
