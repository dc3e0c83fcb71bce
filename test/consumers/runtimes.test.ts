// The packed package in server-side runtimes, each running the same app script
// from a consumer project with the tarball in its node_modules: Node, Bun and Deno
// (default entry and pool; the separate-file entry reading its .wasm from disk),
// and workerd with the platform-compiled module, on a compatibility date before
// FinalizationRegistry existed there (2025-05-05) and on a current one.
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin, consumerProject, repoRoot, type Project } from './helpers/project.js';
import { checkResult } from './helpers/check.js';
import { bundleWorker, startWorkerd } from './helpers/workerd.js';
import { attention64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

let project: Project;
beforeAll(() => { project = consumerProject(inject('tarball'), 'runtimes'); });
afterAll(() => project?.remove());

const RUNTIMES: { name: string; command: () => string[] }[] = [
  { name: 'Node', command: () => [process.execPath] },
  { name: 'Bun', command: () => [bin('bun')] },
  // Deno resolves the package from the project's node_modules (it has a package.json).
  { name: 'Deno', command: () => [bin('deno'), 'run', '--allow-read', '--allow-env'] },
];

const run = (command: string[], script: string) => {
  const [exe, ...args] = command;
  const out = execFileSync(exe!, [...args, script], {
    cwd: project.dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
};

describe.each(RUNTIMES)('$name', ({ command }) => {
  it("import { init } from 'wasm-attention'; await init(): attention and AttentionPool", () => {
    const r = run(command(), 'runtime.mjs');
    checkResult(r);
    expect(r.simd).toBe(true);
  });

  it("'wasm-attention/separate' reads its .wasm from beside the bundle and shares the instance", () => {
    const r = run(command(), 'runtime-separate.mjs');
    checkResult(r);
    expect(r.shared).toBe(true);
  });
});

describe.each([
  { date: '2024-01-01', finalization: 'undefined' },
  { date: '2026-11-01', finalization: 'function' },
])('workerd, compatibility date $date', ({ date, finalization }) => {
  let server: Awaited<ReturnType<typeof startWorkerd>>;
  beforeAll(async () => {
    for (const f of ['worker.mjs', 'handler.mjs']) copyFileSync(join(repoRoot, 'examples/edge', f), join(project.dir, f));
    const workerFile = await bundleWorker(project.dir, 'edge-worker.mjs');
    server = await startWorkerd(project.dir, workerFile, date);
  }, 120_000);
  afterAll(async () => { await server?.stop(); });

  it(`FinalizationRegistry is ${finalization} there`, async () => {
    const env = await (await fetch(`${server.url}/runtime`)).json();
    expect(env.finalizationRegistry).toBe(finalization);
  });

  it('the example worker computes attention with init({ module })', async () => {
    const [H, L, D] = [2, 9, 8];
    const values = (seed: number) => Array.from({ length: H * L * D }, (_, i) => Math.fround(Math.cos(seed + i * 0.37)));
    const body = { q: values(1), k: values(2), v: values(3), shape: [H, L, D], causal: true };
    const res = await fetch(server.url, { method: 'POST', body: JSON.stringify(body) });
    const r = await res.json();
    expect(res.status, server.log()).toBe(200);
    expect(r.simd).toBe(true);
    expectClose(r.out, attention64(body.q, body.k, body.v, 1, H, H, L, L, D, D, { causal: true }).out, 'workerd attention');
  });

  it('answers bad input with 400 and a message naming the problem', async () => {
    const bad = await fetch(server.url, { method: 'POST', body: JSON.stringify({ q: [1, 2, 3], k: [], v: [], shape: [1, 2, 2] }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/length 3 does not match shape \[1, 2, 2\]/);
    const notJson = await fetch(server.url, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    // The instance survived the bad requests.
    const ok = await fetch(server.url, { method: 'POST', body: JSON.stringify({ q: [1, 0], k: [1, 0], v: [3, 4], shape: [1, 1, 2] }) });
    expect((await ok.json()).out).toEqual([3, 4]);
  });
});
