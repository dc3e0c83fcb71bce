// Server-side runtimes (Node, Bun, Deno): the default entry and the pool, no configuration.
import * as lib from 'wasm-attention';
import * as poolLib from 'wasm-attention/pool';
import { compute } from './compute.js';

const result = await compute(lib, poolLib);
console.log(JSON.stringify({ ...result, finalization: typeof FinalizationRegistry === 'function' }));
