// Initialises the build this project runs (see vitest.config.mjs) before each file, in the
// ts/ sources' instance the unit tests import (test/package/ initialises dist/'s own).
// The relaxed-SIMD binary is not embedded in the default entry: that project initialises
// through wasm-attention/separate, which shares the one instance with every entry.
import { beforeAll } from 'vitest';
import { init } from '../../ts/index.js';
import { init as initSeparate } from '../../ts/separate.js';

beforeAll(async () => {
  const build = (process.env.WASM_ATTENTION_BUILD ?? 'simd') as 'relaxed-simd' | 'simd' | 'scalar';
  const info = await (build === 'relaxed-simd' ? initSeparate : init)({ build });
  if (info.build !== build) throw new Error(`expected the ${build} build, got the ${info.build} build`);
});
