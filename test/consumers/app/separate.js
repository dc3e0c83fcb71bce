// Browser page of the separate-file entry: its .wasm located with new URL(…, import.meta.url).
// It also imports the default entry and the pool: all three must share one instance.
import * as lib from 'wasm-attention/separate';
import * as poolLib from 'wasm-attention/pool';
import { initInfo } from 'wasm-attention';
import { compute } from './compute.js';

compute(lib, poolLib).then(
  (result) => {
    const fetched = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\.wasm(\?|$)/.test(n));
    window.__result = { ...result, page: location.pathname, shared: initInfo() === lib.initInfo() && initInfo() !== null, fetched };
  },
  (error) => { window.__result = { error: String(error && error.stack || error) }; },
);
