// Server-side runtimes with the separate-file entry: the .wasm beside the bundle is read from disk.
import * as lib from 'wasm-attention/separate';
import * as poolLib from 'wasm-attention/pool';
import { initInfo } from 'wasm-attention';
import { compute } from './compute.js';

const result = await compute(lib, poolLib);
console.log(JSON.stringify({ ...result, shared: initInfo() !== null && initInfo() === lib.initInfo() }));
