// The default entry in Chromium, scalar build: fetched as a file (only SIMD128 is embedded; beside the
// bundle in dist/, from pkg/ in this build of the sources, see scripts/bundle-plugins.mjs).
import { beforeAll, expect } from 'vitest';
import * as lib from '../../ts/index.js';
import { correctnessSuite } from './suite.js';

beforeAll(async () => {
  const info = await lib.init({ build: 'scalar' });
  expect(info.build).toBe('scalar');
  expect(info.simd).toBe(false);
});

correctnessSuite(lib);
