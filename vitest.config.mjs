// The suite runs three times in Node, once per WebAssembly build (relaxed SIMD, SIMD128 and
// scalar), and once more in a real browser: Debian's Chromium (/usr/bin/chromium, headless)
// through @vitest/browser-playwright, running test/browser/*.spec.ts, in Web Workers and the pool.
// Unit tests import the ts/ sources, built by vite with the bundle's own plugins (scripts/bundle-plugins.mjs),
// so a TypeScript change needs no rollup run; test/package/ and the consumers project test dist/.
import { configDefaults, defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { sourcePlugins } from './scripts/bundle-plugins.mjs';

const variant = (name, build = name, execArgv = []) => ({
  plugins: sourcePlugins({ tests: true }),
  test: {
    name,
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/consumers/**'],
    setupFiles: ['test/helpers/setup.ts'],
    env: { WASM_ATTENTION_BUILD: build },
    execArgv,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const browser = {
  plugins: sourcePlugins({ tests: true }),
  // Cross-origin isolation, so pages get SharedArrayBuffer (AttentionPool's shared path).
  server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  test: {
    name: 'chromium',
    include: ['test/browser/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      // A fresh profile directory per launch (Playwright creates a temporary one).
      provider: playwright({ launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS } }),
      instances: [{ browser: 'chromium' }],
      screenshotFailures: false,
    },
  },
};

/**
 * The packed package (`npm pack`) installed into temporary consumer projects: bundlers,
 * browsers (Chromium, Firefox ESR), Bun, Deno, workerd, and the package's own checks.
 * One file at a time: each builds projects and starts browsers or runtimes.
 */
const consumers = {
  test: {
    name: 'consumers',
    include: ['test/consumers/**/*.test.ts'],
    globalSetup: ['test/consumers/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 600_000,
  },
};

export default defineConfig({
  test: {
    // Node 20 has relaxed SIMD behind a flag (on by default from Node 22 and in Chromium ≥ 114).
    projects: [variant('relaxed', 'relaxed-simd', ['--experimental-wasm-relaxed-simd']), variant('simd'), variant('scalar'),
      browser, consumers],
  },
});
