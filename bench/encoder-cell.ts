/**
 * One cell of the `encoders` group in Node: one library, one BERT encoder, one weight format,
 * one thread count — load, a correctness batch, the latency of one short query and the
 * throughput of two batches, memory (the timed code is encoder-run.ts, shared with the
 * Chromium page). Runs in the bench process (`--quick`) or as its own process (full runs),
 * started by encoders.ts as `node --import tsx bench/encoder-cell.ts <spec.json> <result.json>`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EncoderCellResult, type EncoderRunSpec, runEncoder } from './encoder-run.js';
import { nodeHost, saveCheck } from './model-cell.js';

export type { BatchTiming, EncoderCellResult, TimedBatch } from './encoder-run.js';

/** What a cell runs, in Node. */
export interface EncoderCellSpec extends EncoderRunSpec {
  /** The peer's model folder (config.json, onnx/). */
  readonly peerDir?: string;
  /** Where the correctness batch's output goes (float32: pooled `[3, E]`, then sentence 0's hidden states `[16, E]`). */
  readonly checkFile: string;
}

/** Runs one cell. `log` gets progress lines. */
export async function runEncoderCell(spec: EncoderCellSpec, log: (line: string) => void = () => {}): Promise<EncoderCellResult> {
  const { result, check } = await runEncoder(spec, nodeHost(spec), log);
  if (check) saveCheck(spec.checkFile, check);
  return result.status === 'ok' || result.status.startsWith('n/a')
    ? { ...result, peakRssBytes: process.resourceUsage().maxRSS * 1024 } : result;
}

// As a process of its own: `encoder-cell.ts <spec.json> <result.json>`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EncoderCellSpec;
  const result = await runEncoderCell(spec, (line) => console.error(line));
  writeFileSync(process.argv[3]!, JSON.stringify(result));
  process.exit(0);
}
