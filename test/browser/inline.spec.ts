// The default entry (the SIMD128 binary embedded, gzipped, inflated here by DecompressionStream)
// in Chromium: init() with no argument takes the SIMD128 build.
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../../ts/index.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init();
  expect(info.build).toBe('simd');
  expect(info.simd).toBe(true);
});

it('runs in a browser page served from localhost', () => {
  expect(typeof window).toBe('object');
  expect(location.hostname).toBe('localhost');
});

correctnessSuite(lib);
