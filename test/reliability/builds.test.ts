// Which of the three builds init() picks, and how it can be forced: in fresh Node
// processes with and without relaxed SIMD (Node 20 has it behind a flag).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { init, initInfo } from '../../ts/index.js';
import { expectClose } from '../helpers/expect-close.js';

const FLAG = '--experimental-wasm-relaxed-simd';
const script = fileURLToPath(new URL('./scripts/build-choice.mjs', import.meta.url));
const run = (flag: boolean, ...args: string[]) =>
  JSON.parse(execFileSync(process.execPath, [...(flag ? [FLAG] : []), script, ...args], { encoding: 'utf8' }).trim());
// softmax([1,0]·scale) rows, the result of the probe attention in the script.
const e = Math.exp(1 / Math.SQRT2);
const WANT = [e / (e + 1), 1 / (e + 1), 1 / (e + 1), e / (e + 1)];

describe('choosing the build', () => {
  it('auto: the separate entry takes relaxed SIMD where the engine has it, else SIMD128', () => {
    const withFlag = run(true, 'separate', 'auto');
    expect(withFlag).toMatchObject({ build: 'relaxed-simd', simd: true, relaxedSupported: true, fallbackReason: null });
    expectClose(withFlag.out, WANT, 'relaxed-simd output', 1e-6, 1e-6);
    expect(run(false, 'separate', 'auto')).toMatchObject({ build: 'simd', relaxedSupported: false });
  });

  it('auto: the default entry, which holds SIMD128 and scalar, takes SIMD128 either way', () => {
    expect(run(true, 'index', 'auto')).toMatchObject({ build: 'simd', relaxedSupported: true });
    expect(run(false, 'index', 'auto')).toMatchObject({ build: 'simd', relaxedSupported: false });
  });

  it('each build can be forced', () => {
    expect(run(true, 'separate', 'relaxed-simd').build).toBe('relaxed-simd');
    expect(run(true, 'separate', 'simd').build).toBe('simd');
    const scalar = run(true, 'separate', 'scalar');
    expect(scalar).toMatchObject({ build: 'scalar', simd: false });
    expectClose(scalar.out, WANT, 'scalar output', 1e-6, 1e-6);
  });

  it('forcing relaxed SIMD where the engine lacks it rejects, naming the feature and the Node flag', () => {
    const r = run(false, 'separate', 'relaxed-simd');
    expect(r.error).toMatch(/relaxed-simd build was requested but this engine does not support relaxed SIMD/);
    expect(r.error).toMatch(/--experimental-wasm-relaxed-simd/);
    expect(r.initInfo).toBeNull();
  });

  it('forcing relaxed SIMD on the default entry rejects, naming where the build is', () => {
    const r = run(true, 'index', 'relaxed-simd');
    expect(r.error).toMatch(/does not hold it.*wasm-attention\/separate.*wasm-attention\/relaxed-simd\.wasm/);
    expect(r.initInfo).toBeNull();
  });

  it('the relaxed-SIMD binary given as init({ module }) reports its build', () => {
    const r = run(true, 'module', 'auto');
    expect(r).toMatchObject({ build: 'relaxed-simd', simd: true });
    expectClose(r.out, WANT, 'relaxed-simd output', 1e-6, 1e-6);
  });

  it('a relaxed-SIMD build that fails the self-test is replaced by the SIMD128 build', () => {
    const r = run(true, 'separate', 'auto', '2');
    expect(r.build).toBe('simd');
    expect(r.fallbackReason).toMatch(/relaxed-SIMD build failed its start-up self-test/);
    expect(r.warnings.join('\n')).toMatch(/falling back to the SIMD128 build/);
    expectClose(r.out, WANT, 'SIMD128 output', 1e-6, 1e-6);
  });
});

describe('the build option in this process (already initialised by the project set-up)', () => {
  const current = process.env.WASM_ATTENTION_BUILD!;
  const other = current === 'scalar' ? 'simd' : 'scalar';

  it('initInfo() names the build this project runs', () => {
    expect(initInfo()!.build).toBe(current);
    expect(initInfo()!.simd).toBe(current !== 'scalar');
  });

  it('asking for the active build resolves to the same instance; another build rejects, naming both', async () => {
    const before = initInfo();
    await expect(init({ build: current as 'simd' })).resolves.toBe(before);
    await expect(init({ build: other })).rejects.toThrow(`already initialised with the ${current} build, not ${other}`);
    expect(initInfo()).toBe(before);
  });

  it('an unknown build or a build that disagrees with the older simd option is a TypeError', async () => {
    await expect(init({ build: 'avx' as 'simd' })).rejects.toThrow(/build.*must be 'auto', 'relaxed-simd', 'simd' or 'scalar', not avx/);
    await expect(init({ build: 'simd', simd: false })).rejects.toThrow(/build: 'simd' and simd: false, which disagree/);
    await expect(init({ simd: 'yes' as unknown as boolean })).rejects.toThrow(TypeError);
  });
});
