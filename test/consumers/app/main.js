// Browser page of the default entry: `import { init } from 'wasm-attention'`, no configuration.
// Its SIMD128 binary is embedded, so the page fetches no .wasm file (recorded in `fetched`).
import * as lib from 'wasm-attention';
import * as poolLib from 'wasm-attention/pool';
import { compute } from './compute.js';

compute(lib, poolLib).then(
  (result) => {
    const fetched = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm(\?|$)/.test(n));
    window.__result = { ...result, page: location.pathname, fetched };
  },
  (error) => { window.__result = { error: String(error && error.stack || error) }; },
);
