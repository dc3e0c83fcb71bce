/**
 * Debian's headless Chromium (via playwright-core) for the browser benchmarks: a fresh
 * profile, one page whose console is forwarded, and the wait for the page's
 * `window.benchResult` / `window.benchError`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Exits with a message when Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    console.error(`Chromium not found at ${CHROMIUM}: run npm run setup (scripts/setup.sh installs Debian's ` +
      'chromium package) or set CHROMIUM_PATH.');
    process.exit(1);
  }
}

/** Opens one headless page (console lines printed with a `[page]` prefix); `close` removes the profile. */
export async function openPage(): Promise<{ page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'wasm-attention-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  return {
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits for the page to set `window.benchResult` or `window.benchError`. */
export async function pageResult<T>(page: Page, timeoutMs: number): Promise<{ result?: T; error?: string }> {
  await page.waitForFunction(() => {
    const w = globalThis as { benchResult?: unknown; benchError?: unknown };
    return w.benchResult !== undefined || w.benchError !== undefined;
  }, undefined, { timeout: timeoutMs, polling: 1000 });
  return page.evaluate(() => {
    const w = globalThis as { benchResult?: unknown; benchError?: string };
    return { result: w.benchResult as T | undefined, error: w.benchError };
  });
}
