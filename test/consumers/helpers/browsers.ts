// Debian's Chromium and Firefox ESR, headless, through puppeteer-core (Chromium over
// CDP, Firefox over WebDriver BiDi), each with a fresh profile. Never downloads a browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface LaunchedBrowser { readonly browser: Browser; close(): Promise<void> }

export async function launch(name: BrowserName): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), `wasm-attention-${name}-`));
  const browser = name === 'chromium'
    ? await puppeteer.launch({
      browser: 'chrome', executablePath: '/usr/bin/chromium', headless: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`], timeout: 120_000,
    })
    : await puppeteer.launch({
      browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true, userDataDir: profile,
      timeout: 120_000,
    });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens `url`, waits for the page's `window.__result` and returns it (page errors included). */
export async function pageResult(browser: Browser, url: string): Promise<Record<string, unknown>> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
    await page.waitForFunction('window.__result !== undefined', { timeout: 120_000, polling: 100 });
    const result = await page.evaluate('window.__result') as Record<string, unknown>;
    return errors.length > 0 && result.error === undefined ? { ...result, error: errors.join('\n') } : result;
  } finally {
    await page.close().catch(() => {});
  }
}
