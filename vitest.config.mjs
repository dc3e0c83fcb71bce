// The suite runs twice, once per WebAssembly build (SIMD128 and scalar), against
// the bundle in dist/ — the artifact users import.
import { defineConfig } from 'vitest/config';

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

export default defineConfig({
  test: {
    projects: [variant('simd'), variant('scalar')],
  },
});
