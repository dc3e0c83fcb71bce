// The inline bundle (binaries embedded as base64) in Chromium, SIMD128 build.
import { beforeAll, expect, it } from 'vitest';
import * as lib from '../../dist/index.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init({ simd: true });
  expect(info.simd).toBe(true);
});

it('runs in a browser page served from localhost', () => {
  expect(typeof window).toBe('object');
  expect(location.hostname).toBe('localhost');
});

correctnessSuite(lib);
