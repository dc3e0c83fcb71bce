/**
 * The benchmark suite in Node (`npm run bench -- [--quick] [--only=...] [--json]`):
 * our WASM kernels against the pure-TS baseline and the peers, in one process.
 * Writes bench/results/latest.{json,md,svg} (or quick.* for --quick runs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCases } from './cases.js';
import { chartSvg } from './chart.js';
import { GROUPS, parseArgs, threadsNotice } from './cli.js';
import { nodeMachine } from './machine.js';
import { runEncodersGroup } from './encoders.js';
import { runModelsGroup } from './models.js';
import { loadNodePeers } from './peers/load-node.js';
import { consoleTable, markdown, NOTES, REFERENCE_PEAK_GFLOPS, type Report } from './report.js';
import { runSuite } from './suite.js';

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
// Progress goes to stderr when stdout carries JSON.
const log = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
const notice = threadsNotice(options.threads);
if (notice) console.error(`warning: ${notice}`);
const machine = nodeMachine();
log(`wasm-attention benchmarks (${options.quick ? 'quick' : 'full'}) — ${machine.cpu}, ${machine.cores} cores, ` +
  `${machine.runtime}, 1 thread`);
const kernelGroups = [...options.only].some((g) => g !== 'models' && g !== 'encoders');
const { peers, unavailable } = kernelGroups ? await loadNodePeers() : { peers: [], unavailable: [] };
const suite = await runSuite({
  quick: options.quick, cases: buildCases(options.quick, options.only), peers, unavailable, log, build: options.build,
});
// The models group runs after the kernel cases (whole decoders, ours against transformers.js).
const models = options.only.has('models')
  ? await runModelsGroup({ quick: options.quick, log, build: options.build, bandwidth: suite.bandwidth,
    shapes: options.shapes, peerThreads: options.peerThreads })
  : undefined;
// Then the encoders (sentence embeddings, ours against transformers.js).
const encoders = options.only.has('encoders')
  ? await runEncodersGroup({ quick: options.quick, log, build: options.build, shapes: options.shapes ?? undefined,
    peerThreads: options.peerThreads ?? undefined })
  : undefined;
const report: Report = {
  schema: 1, date: new Date().toISOString(), mode: options.quick ? 'quick' : 'full', threads: 1, machine,
  referencePeakGflops: REFERENCE_PEAK_GFLOPS, notes: NOTES, ...suite, ...(models ? { models } : {}),
  ...(encoders ? { encoders } : {}),
};

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
// Only a full run of every group, every shape and the default peer threads replaces the committed results.
const complete = !options.quick && options.only.size === GROUPS.length && !options.shapes && !options.peerThreads;
const base = complete ? 'latest' : options.quick ? 'quick' : 'partial';
writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
writeFileSync(path.join(dir, `${base}.svg`), chartSvg(report));
writeFileSync(path.join(dir, `${base}.md`), markdown(report, `${base}.svg`));

if (options.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(`\n${consoleTable(report)}\n`);
  console.log(`wrote bench/results/${base}.{json,md,svg} — suite ${suite.seconds.toFixed(1)} s`);
}
