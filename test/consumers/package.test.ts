// The tarball itself: what it holds, publint --strict, attw on every entry point,
// and its declarations type-checked by a consumer under TypeScript's default lib.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, consumerProject, repoRoot, type Project } from './helpers/project.js';
import { bundleSizes } from '../../bench/bundle-size.mjs';

const tarball = () => inject('tarball');
const tool = (name: string, args: string[], cwd = repoRoot) => {
  try {
    return { status: 0, output: execFileSync(bin(name), args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }) };
  } catch (e) {
    const err = e as { status: number; stdout?: string; stderr?: string };
    return { status: err.status, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
};

describe('tarball contents', () => {
  let files: string[];
  let project: Project;
  beforeAll(() => {
    files = execFileSync('tar', ['-tzf', tarball()], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    project = consumerProject(tarball(), 'contents');
  });
  afterAll(() => project?.remove());

  it('has the LICENSE, the README, the three binaries and every exported file', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/lib.js', 'dist/separate.js',
      'dist/pool/index.js', 'dist/pool-worker.js', 'dist/wasm-attention-relaxed-simd.wasm', 'dist/wasm-attention-simd.wasm',
      'dist/wasm-attention-scalar.wasm']) {
      expect(files).toContain(f);
    }
    expect(readFileSync(join(project.dir, 'node_modules/wasm-attention/LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('has no source maps, no build stamp, no empty and no duplicate files', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /build-stamp/.test(f))).toEqual([]);
    const seen = new Map<string, string>();
    for (const f of files) {
      const body = readFileSync(join(project.dir, 'node_modules/wasm-attention', f));
      expect(body.length, `${f} is empty`).toBeGreaterThan(0);
      const hash = createHash('sha256').update(body).digest('hex');
      expect(seen.get(hash), `${f} duplicates ${seen.get(hash)}`).toBeUndefined();
      seen.set(hash, f);
    }
  });
});

describe('bundle size', () => {
  let project: Project;
  beforeAll(() => { project = consumerProject(tarball(), 'size'); });
  afterAll(() => project?.remove());

  // The budget of the default entry with everything it needs (docs/performance.md, "Bundle size").
  it('the default entry, bundled minified by esbuild, is at most 150 KB gzip', async () => {
    const sizes = await bundleSizes(join(project.dir, 'node_modules/wasm-attention/dist'));
    const gzip = sizes.find((r) => r.key === 'default')!.gzip;
    expect(gzip, `default entry: ${(gzip / 1024).toFixed(1)} KB gzip`).toBeLessThanOrEqual(150 * 1024);
  });
});

it('publint --strict finds nothing', () => {
  const r = tool('publint', ['--strict', tarball()]);
  expect(r.output).toMatch(/All good/);
  expect(r.status, r.output).toBe(0);
});

it('attw: every entry point resolves with types under node10, node16 and bundler (ESM-only: CJS must import())', () => {
  // The one rule left out: the package is ESM only, so require() from CommonJS resolves to ESM
  // (docs/runtimes.md, "Packaging"). Every other problem of every entry point fails this test.
  const r = tool('attw', [tarball(), '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii']);
  expect(r.status, r.output).toBe(0);
  for (const entry of ['wasm-attention', 'wasm-attention/pool', 'wasm-attention/separate', 'wasm-attention/relaxed-simd.wasm', 'wasm-attention/simd.wasm',
    'wasm-attention/scalar.wasm', 'wasm-attention/pool-worker.js', 'wasm-attention/baseline']) {
    expect(r.output).toContain(`"${entry}"`);
  }
});

describe.each([
  { resolution: 'node16', module: 'node16' },
  { resolution: 'bundler', module: 'esnext' },
])('declarations under moduleResolution $resolution, default lib, skipLibCheck false', ({ resolution, module }) => {
  let project: Project;
  beforeAll(() => { project = consumerProject(tarball(), `types-${resolution}`); });
  afterAll(() => project?.remove());

  it('type-check (including the returnLse overloads)', () => {
    copyFileSync(join(repoRoot, 'test/consumers/types/consumer.ts'), join(project.dir, 'consumer.ts'));
    writeFileSync(join(project.dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module, moduleResolution: resolution, strict: true, skipLibCheck: false,
        noEmit: true, types: [],
      },
      files: ['consumer.ts'],
    }));
    const r = tool('tsc', ['-p', 'tsconfig.json'], project.dir);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});

it('npm run docs: typedoc documents every export (a missing TSDoc comment fails it)', () => {
  const out = mkdtempSync(join(tmpdir(), 'wasm-attention-docs-'));
  try {
    // typedoc.json: validation.notDocumented with treatValidationWarningsAsErrors.
    const r = tool('typedoc', ['--out', out, '--logLevel', 'Warn']);
    expect(r.output).not.toMatch(/does not have any documentation/);
    expect(r.status, r.output).toBe(0);
    expect(readFileSync(join(out, 'classes', 'index.Tensor.html'), 'utf8')).toMatch(/A tensor in WASM memory/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
