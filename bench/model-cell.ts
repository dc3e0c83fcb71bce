/**
 * One cell of the `models` group in Node: one library, one model, one weight format,
 * one thread count — load, a correctness prompt, prefill and decode timings, memory
 * (the timed code is model-run.ts, shared with the Chromium page).
 * Runs in the bench process (`--quick`) or as its own process (full runs), started by
 * models.ts as `node --import tsx bench/model-cell.ts <spec.json> <result.json>`,
 * so that each cell's resident memory is its own and onnxruntime-web's thread count
 * (fixed once per process) can differ between cells.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CellHost, type CellResult, type ModelCellSpec, runModelCell } from './model-run.js';

export { CHECK_IDS, CHECK_NEXT, type CellResult } from './model-run.js';

/** What a cell runs, in Node. */
export interface CellSpec extends ModelCellSpec {
  /** The peer's model folder (config.json, generation_config.json, onnx/). */
  readonly peerDir?: string;
  /** Where the correctness prompt's logits go (float32, `[checkTokens + 1, vocab]`). */
  readonly checkFile: string;
}

/** Writes float32 rows back to back (a cell's correctness output). */
export function saveCheck(file: string, rows: Float32Array[]): void {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) { out.set(r, at); at += r.length; }
  writeFileSync(file, out);
}

/** A Node cell's host: the process RSS, and transformers.js with `threads` threads on the model folder `peerDir`. */
export function nodeHost(spec: { readonly peerDir?: string; readonly threads: number }): CellHost {
  const dir = spec.peerDir;
  return {
    memory: () => process.memoryUsage.rss(),
    peerModel: dir === undefined ? undefined : path.basename(dir),
    peerDevice: 'auto',
    transformers: async () => {
      const { loadTransformers } = await import('./peers/transformers.js');
      const { tf } = await loadTransformers(spec.threads);
      tf.env.localModelPath = path.dirname(dir!) + path.sep;
      return tf;
    },
  };
}

/** Runs one cell. `log` gets progress lines. */
export async function runCell(spec: CellSpec, log: (line: string) => void = () => {}): Promise<CellResult> {
  const { result, check } = await runModelCell(spec, nodeHost(spec), log);
  if (check) saveCheck(spec.checkFile, check);
  return result;
}

// As a process of its own: `model-cell.ts <spec.json> <result.json>`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CellSpec;
  const result = await runCell(spec, (line) => console.error(line));
  writeFileSync(process.argv[3]!, JSON.stringify(result));
  process.exit(0);
}
