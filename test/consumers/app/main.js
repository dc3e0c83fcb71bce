// Browser page of the default entry: `import { init } from 'wasm-attention'`, no configuration.
import * as lib from 'wasm-attention';
import * as poolLib from 'wasm-attention/pool';
import { compute } from './compute.js';

compute(lib, poolLib).then(
  (result) => { window.__result = { ...result, page: location.pathname }; },
  (error) => { window.__result = { error: String(error && error.stack || error) }; },
);
