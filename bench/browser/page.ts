/**
 * The quick suite in a browser page: the same cases, sampling and peers as the
 * Node run (onnxruntime-web via the import map, tfjs from its UMD globals). Sets
 * `window.benchResult` (the JSON report) or `window.benchError` when done.
 */
import type * as Tf from '@tensorflow/tfjs-core';
import { buildCases } from '../cases.js';
import { chartSvg } from '../chart.js';
import { BUILDS, type BuildChoice, GROUPS } from '../cli.js';
import { onnxPeers } from '../peers/onnx.js';
import type { Peer } from '../peers/peer.js';
import { tfjsPeer } from '../peers/tfjs.js';
import { consoleTable, NOTES, REFERENCE_PEAK_GFLOPS, type Report } from '../report.js';
import { type PeerStatus, runSuite } from '../suite.js';

interface TfGlobal { wasm?: { setWasmPaths(path: string): void; setThreadsCount(n: number): void } }
type BenchWindow = typeof globalThis & { tf?: typeof Tf & TfGlobal; benchResult?: Report; benchError?: string };

const w = globalThis as BenchWindow;
const logEl = document.getElementById('log')!;
const log = (line: string) => {
  console.log(line);
  logEl.textContent += `${line}\n`;
};

async function loadPeers(): Promise<{ peers: Peer[]; unavailable: PeerStatus[] }> {
  const peers: Peer[] = [];
  const unavailable: PeerStatus[] = [];
  const why = (e: unknown) => `could not load: ${(e as Error).message}`;
  try {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    peers.push(...onnxPeers(ort));
  } catch (e) {
    unavailable.push({ name: 'onnxruntime-web', method: 'wasm EP', status: why(e) });
  }
  try {
    const tf = w.tf;
    if (!tf?.wasm) throw new Error('the tfjs UMD scripts did not load');
    tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    tf.wasm.setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
    peers.push(tfjsPeer(tf));
  } catch (e) {
    unavailable.push({ name: 'tfjs-wasm', method: '@tensorflow/tfjs-backend-wasm', status: why(e) });
  }
  return { peers, unavailable };
}

async function main(): Promise<void> {
  const quick = true;
  const brand = navigator.userAgent.match(/(Chrom(e|ium)|Firefox|Safari)\/[\d.]+/)?.[0] ?? navigator.userAgent;
  const machine = {
    cpu: 'CPU model not exposed to pages', cores: navigator.hardwareConcurrency, runtime: brand, os: navigator.platform,
  };
  log(`${brand}, ${machine.cores} logical cores, 1 thread`);
  const { peers, unavailable } = await loadPeers();
  // ?build= (npm run bench:browser -- --build=...): the build of our kernels to measure.
  const asked = new URLSearchParams(location.search).get('build') ?? 'auto';
  if (!(BUILDS as readonly string[]).includes(asked)) throw new Error(`unknown build '${asked}'`);
  const build = asked as BuildChoice;
  const suite = await runSuite({ quick, cases: buildCases(quick, new Set(GROUPS)), peers, unavailable, log, build });
  const report: Report = {
    schema: 1, date: new Date().toISOString(), mode: 'quick', threads: 1, machine,
    referencePeakGflops: REFERENCE_PEAK_GFLOPS, notes: NOTES, ...suite,
  };
  document.getElementById('table')!.textContent = consoleTable(report);
  document.getElementById('chart')!.innerHTML = chartSvg(report);
  document.getElementById('status')!.textContent = `done in ${suite.seconds.toFixed(1)} s`;
  w.benchResult = report;
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  document.getElementById('status')!.textContent = `failed: ${message}`;
  w.benchError = message;
});
