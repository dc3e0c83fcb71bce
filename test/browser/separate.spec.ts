// The separate-file bundle in Chromium: init() with no argument probes relaxed SIMD
// (on by default since Chromium 114) and fetches wasm-attention-relaxed-simd.wasm from beside the bundle (new URL(..., import.meta.url)),
// whatever the page's path, and nothing is embedded.
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../../dist/separate.js';
import { correctnessSuite, type Lib } from './suite.js';

beforeAll(async () => {
  const info = await lib.init();
  expect(lib.relaxedSimdSupported()).toBe(true);
  expect(info.build).toBe('relaxed-simd');
  expect(info.simd).toBe(true);
});

it('loaded its binary from the .wasm file beside the bundle', () => {
  const fetched = performance.getEntriesByType('resource').map((e) => e.name)
    .filter((name) => /\/wasm-attention-[a-z-]+\.wasm$/.test(name));
  expect(fetched.length).toBe(1);
  expect(new URL(fetched[0]!).pathname).toMatch(/\/dist\/wasm-attention-relaxed-simd\.wasm$/);
});

correctnessSuite(lib as unknown as Lib);
