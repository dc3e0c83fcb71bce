// The default entry embeds the SIMD128 binary gzipped: each way init() can get its bytes
// back (node:zlib, DecompressionStream, else the file beside the bundle) gives the same
// working SIMD128 build, in fresh Node processes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/expect-close.js';

const script = fileURLToPath(new URL('./scripts/inflate-path.mjs', import.meta.url));
const run = (path: string) => JSON.parse(execFileSync(process.execPath, [script, path], { encoding: 'utf8' }).trim());
// softmax([1,0]·scale) rows, computed here in float64.
const e = Math.exp(1 / Math.SQRT2);
const WANT = [e / (e + 1), 1 / (e + 1), 1 / (e + 1), e / (e + 1)];

describe('the embedded SIMD128 binary', () => {
  for (const [path, reads] of [['zlib', []], ['stream', []], ['file', ['wasm-attention-simd.wasm']]] as const) {
    it(`${path}: init() takes the SIMD128 build and computes attention`, () => {
      const r = run(path);
      expect(r.build).toBe('simd');
      expect(r.reads).toEqual(reads);
      expectClose(r.out, WANT, `attention (${path})`, 1e-6, 1e-6);
    });
  }
});
