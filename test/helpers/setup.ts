// Initialises the build this project runs (see vitest.config.mjs) before each file.
import { beforeAll } from 'vitest';
import { init } from '../../dist/index.js';

beforeAll(async () => {
  const simd = process.env.WASM_ATTENTION_BUILD !== 'scalar';
  const info = await init({ simd });
  if (info.simd !== simd) throw new Error(`expected the ${simd ? 'SIMD' : 'scalar'} build, got the other`);
});
