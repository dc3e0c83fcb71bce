// The published bundle in dist/, entry by entry, in each Node project: the unit tests run the
// ts/ sources, so this file is what keeps dist/ itself (rollup's chunks, the embedded binary,
// the binaries beside it, the embedded pool worker) tested in every build. dist/ holds an
// instance of its own, apart from the sources' one that test/helpers/setup.ts initialises.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../dist/index.js';
import * as separate from '../../dist/separate.js';
import { AttentionPool } from '../../dist/pool/index.js';
import { CausalLM } from '../../dist/models/index.js';
import { attentionTs } from '../../dist/baseline/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const build = (process.env.WASM_ATTENTION_BUILD ?? 'simd') as 'relaxed-simd' | 'simd' | 'scalar';
const dist = (file: string) => new URL(`../../dist/${file}`, import.meta.url);
const [H, L, D] = [2, 19, 16];
const q = randoms(H * L * D, 1, -2, 2), k = randoms(H * L * D, 2, -2, 2), v = randoms(H * L * D, 3);
const want = attention64(q, k, v, 1, H, H, L, L, D, D, { causal: true });

beforeAll(async () => {
  // The default entry holds no relaxed-SIMD binary: that build comes from the separate entry.
  const info = await (build === 'relaxed-simd' ? separate.init : lib.init)({ build });
  expect(info.build).toBe(build);
});

describe('dist/', () => {
  it('index.js and separate.js share the one instance and compute attention', async () => {
    expect((await separate.init()).module).toBe(lib.initInfo()!.module);
    using qt = lib.Tensor.from(q, [H, L, D]);
    using kt = lib.Tensor.from(k, [H, L, D]);
    using vt = lib.Tensor.from(v, [H, L, D]);
    using out = lib.attention(qt, kt, vt, { causal: true });
    expectClose(out.data, want.out, 'dist attention');
  });

  it('holds the three binaries beside the bundle, each the one pkg/ built', () => {
    for (const b of ['relaxed-simd', 'simd', 'scalar']) {
      const published = readFileSync(dist(`wasm-attention-${b}.wasm`));
      expect(published.equals(readFileSync(new URL(`../../pkg/${b}/wasm_attention_bg.wasm`, import.meta.url)))).toBe(true);
    }
  });

  it('pool/index.js starts workers from its embedded source', async () => {
    const pool = await AttentionPool.create({ workers: 2 });
    try {
      const r = await pool.attention(q, k, v, { headsQ: H, lenQ: L, headDim: D }, { causal: true, split: 'heads' });
      expectClose(r.out, want.out, 'dist pool attention');
    } finally {
      pool.dispose();
    }
  });

  it('models/index.js runs a decoder on the shared instance', () => {
    const fixture = (file: string) => readFileSync(new URL(`../fixtures/models/gpt2/${file}`, import.meta.url));
    const model = CausalLM.load(JSON.parse(fixture('config.json').toString('utf8')) as Record<string, unknown>,
      fixture('model.safetensors'));
    try {
      const { prompt, generated } = JSON.parse(fixture('expected.json').toString('utf8')) as { prompt: number[]; generated: number[] };
      expect(model.generate(prompt, { maxNewTokens: 8, minNewTokens: 8 }).ids).toEqual(generated.slice(0, 8));
    } finally {
      model.dispose();
    }
  });

  it('holds none of the pool\'s fault hooks, which only the tests\' build of ts/ keeps', () => {
    // The internals accessor's key, the faults and their messages, and the build-time constant itself.
    const markers = ['wasm-attention.pool.internals', 'strike', 'EscapingFault', 'TRAP_MODULE', 'injected fault',
      'a heap fault', '__POOL_FAULT_HOOKS__'];
    for (const file of ['index.js', 'lib.js', 'separate.js', 'pool/index.js', 'pool-worker.js', 'models/index.js']) {
      const text = readFileSync(dist(file), 'utf8');
      expect(markers.filter((m) => text.includes(m)), file).toEqual([]);
    }
    expect(Object.getOwnPropertySymbols(AttentionPool.prototype).map(String)).not.toContain('Symbol(wasm-attention.pool.internals)');
    for (const file of ['pool/faults.d.ts', 'pool/internal.d.ts']) expect(existsSync(dist(file)), file).toBe(false);
  });

  it('baseline/index.js computes attention', () => {
    expectClose(attentionTs(q, k, v, H, H, L, L, D, D, { causal: true }), want.out, 'dist baseline attention', 1e-5, 1e-3);
  });
});
