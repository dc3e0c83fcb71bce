// Runs a worker in workerd (npm `workerd`) as Cloudflare deploys one: the worker is
// bundled by esbuild with the `.wasm` import left to the platform, and the capnp
// config declares that binary as a wasm module, which workerd compiles before the
// worker runs (the worker only instantiates it through init({ module })).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { bin } from './project.js';

export interface Workerd { readonly url: string; readonly log: () => string; stop(): Promise<void> }

/** A free TCP port on 127.0.0.1 (released just before workerd binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function bundleWorker(dir: string, entry: string, out = 'worker.js'): Promise<string> {
  const esbuild = await import('esbuild');
  const outfile = join(dir, 'out-workerd', out);
  await esbuild.build({
    absWorkingDir: dir, entryPoints: [entry], bundle: true, format: 'esm', outfile, logLevel: 'warning',
    external: ['*.wasm'], conditions: ['workerd', 'worker'],
  });
  return outfile;
}

/** Options of {@link startWorkerd}. */
export interface WorkerdOptions {
  /** A directory served read-only by a `disk` service, bound to the worker as `env.MODEL`. */
  modelDir?: string;
  /** The path polled (GET, until it answers 2xx) before the server counts as up. @defaultValue '/runtime' */
  readyPath?: string;
  /** A weight format bound as the text `env.WEIGHTS` (the embeddings example's stored format). */
  weights?: string;
  /** The binary declared as the module `wasm-attention/<build>.wasm`. @defaultValue 'simd' */
  build?: 'simd' | 'relaxed-simd';
}

/**
 * The capnp config of a workerd serving `workerFile` on 127.0.0.1:`port` (embed paths relative to
 * `dir`, where the config is written) with `wasm-attention/simd.wasm` (or `options.build`'s) declared as a wasm module
 * `options.modelDir` bound as `env.MODEL` and `options.weights` as the text `env.WEIGHTS`.
 */
export function workerdConfig(dir: string, workerFile: string, compatibilityDate: string, port: number, options: WorkerdOptions = {}): string {
  const model = options.modelDir === undefined ? '' : `, (name = "model", disk = (path = ${JSON.stringify(options.modelDir)}, writable = false))`;
  const bound = [
    ...(options.modelDir === undefined ? [] : ['(name = "MODEL", service = "model")']),
    ...(options.weights === undefined ? [] : [`(name = "WEIGHTS", text = ${JSON.stringify(options.weights)})`]),
  ];
  const bindings = bound.length === 0 ? '' : `\n  bindings = [ ${bound.join(', ')} ],`;
  const build = options.build ?? 'simd';
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker)${model} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed ${JSON.stringify(relative(dir, workerFile))}),
    (name = "wasm-attention/${build}.wasm", wasm = embed "node_modules/wasm-attention/dist/wasm-attention-${build}.wasm"),
  ],${bindings}
  compatibilityDate = "${compatibilityDate}",
);
`;
}

/** Starts workerd with {@link workerdConfig}'s config; waits until `options.readyPath` answers. */
export async function startWorkerd(dir: string, workerFile: string, compatibilityDate: string, options: WorkerdOptions = {}): Promise<Workerd> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(dir, `workerd-${compatibilityDate}-${port}.capnp`);
    writeFileSync(config, workerdConfig(dir, workerFile, compatibilityDate, port, options));
    let output = '';
    const child: ChildProcess = spawn(bin('workerd'), ['serve', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => { if (child.exitCode === null) { child.kill('SIGTERM'); await exited; } };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const up = await fetch(`${url}${options.readyPath ?? '/runtime'}`).then((r) => r.ok, () => false);
      if (up) return { url, log: () => output, stop };
      await new Promise((r) => setTimeout(r, 200));
    }
    await stop();
    if (attempt >= 2) throw new Error(`workerd did not start (compatibility date ${compatibilityDate}):\n${output}`);
  }
}
