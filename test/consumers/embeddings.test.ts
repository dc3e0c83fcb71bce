// The embeddings worker (examples/edge/embeddings.mjs) in workerd, from a consumer project with the
// packed package and @huggingface/tokenizers in its node_modules: bundled by esbuild, the model folder
// served by a workerd `disk` service bound as env.MODEL (the tiny sentence-transformers fixture of
// scripts/make-text-fixtures.py), vectors checked against SentenceTransformer.encode's.
// And, in a project without that package, the error fromFolder gives.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consumerProject, repoRoot, type Project } from './helpers/project.js';
import { bundleWorker, startWorkerd, type Workerd } from './helpers/workerd.js';
import { expectClose } from '../helpers/expect-close.js';

const fixtures = join(repoRoot, 'test/fixtures/text');
const bert = JSON.parse(readFileSync(join(fixtures, 'bert.json'), 'utf8')) as { texts: string[]; vectors: number[][] };

let project: Project;
let server: Workerd;
beforeAll(async () => {
  project = consumerProject(inject('tarball'), 'embeddings');
  // The optional peer dependency, as an application that reads text installs it.
  mkdirSync(join(project.dir, 'node_modules/@huggingface'), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules/@huggingface/tokenizers'), join(project.dir, 'node_modules/@huggingface/tokenizers'));
  copyFileSync(join(repoRoot, 'examples/edge/embeddings.mjs'), join(project.dir, 'embeddings.mjs'));
  const worker = await bundleWorker(project.dir, 'embeddings.mjs', 'embeddings.js');
  server = await startWorkerd(project.dir, worker, '2026-11-01', { modelDir: join(fixtures, 'bert'), readyPath: '/', build: 'relaxed-simd' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  project?.remove();
});

const embed = (body: unknown) => fetch(`${server.url}/embed`, { method: 'POST', body: JSON.stringify(body) });

describe('workerd: the embeddings worker', () => {
  it('answers sentence-transformers\' vectors for texts (model fetched once per isolate)', async () => {
    expect(await (await fetch(server.url)).json()).toEqual({ ready: false });
    const res = await embed({ texts: bert.texts });
    const r = await res.json() as { dimensions: number; vectors: number[][] };
    expect(res.status, server.log()).toBe(200);
    expect(r.dimensions).toBe(32);
    r.vectors.forEach((v, i) => expectClose(v, bert.vectors[i]!, `workerd embed(${JSON.stringify(bert.texts[i])})`, 1e-5, 0));
    expect(await (await fetch(server.url)).json()).toEqual({ ready: true });
    const again = await (await embed({ texts: [bert.texts[1]] })).json() as { vectors: number[][] };
    expectClose(again.vectors[0]!, bert.vectors[1]!, 'second request', 1e-5, 0);
  });

  it('answers bad requests with 400 and a message, and keeps serving', async () => {
    for (const body of [{ texts: [] }, { texts: 'a' }, { texts: ['a', 3] }, {}]) {
      const res = await embed(body);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/texts must be an array of 1 to 64 strings/);
    }
    const notJson = await fetch(`${server.url}/embed`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await embed({ texts: ['a query'] })).status).toBe(200);
  });
});

describe('Node, without the optional peer dependency', () => {
  it('fromFolder fails with an error naming @huggingface/tokenizers and how to get it', () => {
    const bare = consumerProject(inject('tarball'), 'no-tokenizers');
    try {
      writeFileSync(join(bare.dir, 'load.mjs'), `import { init } from 'wasm-attention';
import { EncoderModel } from 'wasm-attention/models';
await init();
const r = await EncoderModel.fromFolder(process.argv[2]).then(() => ({ loaded: true }), (e) => ({ error: e.message }));
console.log(JSON.stringify(r));
`);
      const out = execFileSync(process.execPath, ['load.mjs', join(fixtures, 'bert')], { cwd: bare.dir, encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { error?: string };
      expect(r.error).toMatch(/needs the optional peer dependency @huggingface\/tokenizers: install it \(npm install @huggingface\/tokenizers\)/);
    } finally {
      bare.remove();
    }
  });
});
