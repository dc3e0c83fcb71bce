/**
 * `npm run bench:browser -- --models [--quick]`: the `models` group, then the `encoders`
 * group's short query and ragged batch, in one headless Chromium page, one thread on both
 * sides (the page is not cross-origin isolated, so onnxruntime-web could not start more).
 * Full runs: the SmolLM-135M and MiniLM-L6 shapes (random seeded weights of
 * model-weights.ts); `--quick`: the tiny decoders and the tiny BERT, nothing written.
 *
 * Here in Node: the peer's model folders (config files and the fp32 / q8 ONNX graphs of
 * peers/onnx-decoder.ts and onnx-encoder.ts, as in the Node run) are written to a temporary directory and
 * served under /models/ with a plan.json; the page (models-page.ts) runs every cell with
 * the code the Node cells run (model-run.ts) and returns a `ModelsResult`. The 1-minute
 * load average is sampled during the run (the machine may be shared); full runs write
 * bench/results/browser-models.{json,md}.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encoderBatches, ENCODER_FORMATS, writeEncoderFolder } from '../encoders.js';
import { encodersConsole, encodersMarkdown } from '../encoders-report.js';
import { MINILM_L6, TINY_BERT } from '../encoder-weights.js';
import { markdownTable, textTable } from '../format.js';
import { type ModelSpec, SMOLLM_135M, TINY_GPT2, TINY_LLAMA } from '../model-weights.js';
import { MODEL_PLANS, OUR_FORMATS, PEER_FORMATS, peerVersionsFromPackages, writeModelFolder } from '../models.js';
import { modelsConsole, modelsMarkdown, modelsRatios } from '../models-report.js';
import { openPage, pageResult } from './chromium.js';
import type { BrowserModelsPlan, BrowserPageResult } from './models-page.js';
import { serve } from './serve.js';

const TIMEOUT_MS = 40 * 60_000;

/** The 1-minute load average over the run: every sample, and their min, median and max. */
export interface LoadAverage { readonly samples: number[]; readonly min: number; readonly median: number; readonly max: number }

export type BrowserModelsResult = BrowserPageResult & {
  readonly date: string;
  readonly machine: { cpu: string; cores: number; os: string; note: string };
  readonly loadAverage: LoadAverage;
};

function summary(samples: number[]): LoadAverage {
  const sorted = samples.slice().sort((a, b) => a - b);
  return { samples, min: sorted[0] ?? 0, median: sorted[sorted.length >> 1] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

/** The results file (bench/results/browser-models.md) of a run. */
export function browserModelsMarkdown(r: BrowserModelsResult): string {
  const l = r.loadAverage, ratios = modelsRatios(r);
  const lines = [
    '# wasm-attention whole-model benchmarks (Chromium)', '',
    `${r.date} — ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.os}; ${r.browser} (headless, one page for ` +
      `every cell); ours: the ${r.ourBuild} build, 1 thread; transformers.js: 1 thread. ${r.machine.note} 1-minute load ` +
      `average during the run: ${l.min.toFixed(2)}–${l.max.toFixed(2)} (median ${l.median.toFixed(2)}, ${l.samples.length} samples).`,
    '', 'Command: `npm run bench:browser -- --models`.', '',
    ...modelsMarkdown(r),
    '## Speed, ours ÷ transformers.js', '',
    'Within this run: decode = transformers.js ms/token ÷ ours; prefill = ours tok/s ÷ transformers.js (above 1: ours is faster).', '',
    ...markdownTable(ratios.header, ratios.rows), '',
    ...(r.encoders ? encodersMarkdown(r.encoders) : []),
  ];
  return lines.join('\n');
}

/** Runs the group in Chromium; returns the process exit code. */
export async function runModelsInChromium(opts: { root: string; quick: boolean; build: string }): Promise<number> {
  const { root, quick } = opts;
  const specs: ModelSpec[] = quick ? [TINY_LLAMA, TINY_GPT2] : [SMOLLM_135M];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wasm-attention-browser-models-'));
  const loads: number[] = [os.loadavg()[0]!];
  const timer = setInterval(() => loads.push(os.loadavg()[0]!), 5000);
  let code = 0;
  try {
    const models: BrowserModelsPlan['models'] = specs.map((s) => {
      const id = s.family === 'llama' ? 'llama' : 'gpt2';
      const peerBytes = writeModelFolder(s, path.join(tmp, id), (line) => console.log(line));
      return { spec: s, id, peerBytes };
    });
    const encoders: BrowserModelsPlan['encoders'] = (quick ? [TINY_BERT] : [MINILM_L6]).map((e) => {
      const id = e.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
      return { spec: e, id, fileBytes: writeEncoderFolder(e, path.join(tmp, id), (line) => console.log(line)) };
    });
    const plan: BrowserModelsPlan = { quick, build: opts.build, models, ours: OUR_FORMATS, peer: PEER_FORMATS,
      ...MODEL_PLANS[quick ? 'quick' : 'full'], peerVersions: peerVersionsFromPackages(), encoders,
      // The short query and the ragged batch (the encoders issue's cells); not the 8 × 512 one.
      encoderOurs: ENCODER_FORMATS, encoderBatches: encoderBatches(quick).filter((b) => b.name !== 'full') };
    writeFileSync(path.join(tmp, 'plan.json'), JSON.stringify(plan));
    const { server, url } = await serve(root, { '/models/': tmp });
    const { page, close } = await openPage();
    try {
      console.log(`page ${url}/bench/browser/models.html`);
      await page.goto(`${url}/bench/browser/models.html`);
      const { result, error } = await pageResult<BrowserPageResult>(page, TIMEOUT_MS);
      if (error !== undefined || result === undefined) {
        console.error(`the models failed in the page: ${error}`);
        return 1;
      }
      loads.push(os.loadavg()[0]!);
      const cpus = os.cpus();
      const full: BrowserModelsResult = {
        ...result, date: new Date().toISOString(),
        machine: { cpu: cpus[0]?.model.trim() ?? 'unknown CPU', cores: cpus.length, os: `${os.type()} ${os.release()} ${os.arch()}`,
          note: 'The machine is shared: other work may run alongside.' },
        loadAverage: summary(loads),
      };
      const ratios = modelsRatios(full);
      console.log(`\n${modelsConsole(full)}\n\nSpeed, ours ÷ transformers.js (decode: their ms ÷ ours; prefill: our tok/s ÷ theirs):\n` +
        `${textTable(ratios.header, ratios.rows)}\n`);
      if (full.encoders) console.log(`${encodersConsole(full.encoders)}\n`);
      const l = full.loadAverage;
      console.log(`${full.browser}; 1-minute load average ${l.min.toFixed(2)}–${l.max.toFixed(2)} (median ${l.median.toFixed(2)})`);
      if (!quick) {
        const dir = path.join(root, 'bench/results');
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'browser-models.json'), JSON.stringify(full, null, 2) + '\n');
        writeFileSync(path.join(dir, 'browser-models.md'), browserModelsMarkdown(full));
        console.log('wrote bench/results/browser-models.{json,md}');
      }
    } finally {
      await close();
      server.close();
    }
  } catch (e) {
    console.error((e as Error).stack ?? String(e));
    code = 1;
  } finally {
    clearInterval(timer);
    rmSync(tmp, { recursive: true, force: true });
  }
  return code;
}
