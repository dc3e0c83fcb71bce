// The separate-file bundle in Chromium: init() with no argument fetches
// wasm-attention-simd.wasm from beside the bundle (new URL(..., import.meta.url)),
// whatever the page's path, and nothing is embedded.
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../../dist/separate.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init();
  expect(info.simd).toBe(true);
});

it('loaded its binary from the .wasm file beside the bundle', () => {
  const fetched = performance.getEntriesByType('resource').map((e) => e.name)
    .filter((name) => name.endsWith('/wasm-attention-simd.wasm'));
  expect(fetched.length).toBe(1);
  expect(new URL(fetched[0]!).pathname).toMatch(/\/dist\/wasm-attention-simd\.wasm$/);
});

correctnessSuite(lib);
