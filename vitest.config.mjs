// The suite runs twice in Node, once per WebAssembly build (SIMD128 and scalar), against
// the bundle in dist/ — the artifact users import — and once more in a real browser:
// Debian's Chromium (/usr/bin/chromium, headless) through @vitest/browser-playwright,
// running test/browser/*.spec.ts against both browser bundles, in Web Workers and the pool.
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const variant = (name) => ({
  test: {
    name,
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    env: { WASM_ATTENTION_BUILD: name },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const browser = {
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

export default defineConfig({
  test: {
    projects: [variant('simd'), variant('scalar'), browser],
  },
});
