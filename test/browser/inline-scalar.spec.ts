// The default entry in Chromium, scalar build: fetched from its file beside the bundle (only SIMD128 is embedded).
import { beforeAll, expect } from 'vitest';
import * as lib from '../../dist/index.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init({ build: 'scalar' });
  expect(info.build).toBe('scalar');
  expect(info.simd).toBe(false);
});

correctnessSuite(lib);
