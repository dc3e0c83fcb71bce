// The separate-file bundle in Chromium: init() with no argument fetches
// wasm-attention-simd.wasm relative to the page (and nothing is embedded).
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../../dist/browser/index.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init();
  expect(info.simd).toBe(true);
});

it('loaded its binary from a .wasm file next to the page', () => {
  const fetched = performance.getEntriesByType('resource').map((e) => e.name)
    .filter((name) => name.endsWith('/wasm-attention-simd.wasm'));
  expect(fetched.length).toBe(1);
  expect(new URL(fetched[0]!).hostname).toBe('localhost');
});

correctnessSuite(lib);
