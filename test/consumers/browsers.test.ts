// The packed package in browser apps: built by Vite, webpack 5, esbuild and Rollup
// with their defaults, unbundled from node_modules, and on Vite's dev server; each
// page loaded at a deep client-side route of a server with an SPA fallback, in
// headless Chromium and Firefox ESR. Every page computes attention (and the same
// through AttentionPool's Web Workers); the result is checked against float64 here.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ViteDevServer } from 'vite';
import { consumerProject, type Project } from './helpers/project.js';
import { esbuildBuild, rollupBuild, unbundled, viteBuild, webpackBuild } from './helpers/bundle.js';
import { serveStatic, type StaticServer } from './helpers/serve.js';
import { launch, pageResult, type BrowserName, type LaunchedBrowser } from './helpers/browsers.js';
import { checkResult } from './helpers/check.js';

interface Target { name: string; server: string; path: string; separate: boolean }

const DEEP = '/app/users/42';
const DEEP_SEPARATE = '/separate/users/42';

let project: Project;
const servers: StaticServer[] = [];
let dev: ViteDevServer | undefined;
const base: Record<string, string> = {};

const TARGETS: Target[] = [
  { name: 'Vite build', server: 'vite', path: DEEP, separate: false },
  { name: 'Vite build, wasm-attention/separate', server: 'vite', path: DEEP_SEPARATE, separate: true },
  { name: 'Vite dev server', server: 'vite-dev', path: DEEP, separate: false },
  // The dev server's fallback answers deep routes with index.html only, so this page is at its own path.
  { name: 'Vite dev server, wasm-attention/separate', server: 'vite-dev', path: '/separate.html', separate: true },
  { name: 'webpack 5', server: 'webpack', path: DEEP, separate: false },
  { name: 'webpack 5, wasm-attention/separate', server: 'webpack', path: DEEP_SEPARATE, separate: true },
  { name: 'esbuild', server: 'esbuild', path: DEEP, separate: false },
  { name: 'Rollup + node-resolve', server: 'rollup', path: DEEP, separate: false },
  { name: 'unbundled ESM from node_modules', server: 'unbundled', path: DEEP, separate: false },
  { name: 'unbundled ESM, wasm-attention/separate', server: 'unbundled', path: DEEP_SEPARATE, separate: true },
];

beforeAll(async () => {
  project = consumerProject(inject('tarball'), 'browsers');
  const outs: Record<string, string> = {
    vite: await viteBuild(project.dir),
    webpack: await webpackBuild(project.dir),
    esbuild: await esbuildBuild(project.dir),
    rollup: await rollupBuild(project.dir),
    unbundled: unbundled(project.dir),
  };
  for (const [name, dir] of Object.entries(outs)) {
    const s = await serveStatic(dir);
    servers.push(s);
    base[name] = s.url;
  }
  const { createServer } = await import('vite');
  dev = await createServer({
    root: project.dir, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  await dev.listen();
  base['vite-dev'] = dev.resolvedUrls!.local[0]!.replace(/\/$/, '');
}, 600_000);

afterAll(async () => {
  await dev?.close();
  await Promise.all(servers.map((s) => s.close()));
  project?.remove();
});

describe.each<BrowserName>(['chromium', 'firefox'])('%s', (browserName) => {
  let browser: LaunchedBrowser;
  beforeAll(async () => { browser = await launch(browserName); }, 180_000);
  afterAll(async () => { await browser?.close(); });

  it.each(TARGETS)('$name: computes attention at $path', async (t) => {
    const r = await pageResult(browser.browser, base[t.server] + t.path);
    checkResult(r);
    expect(r.page).toBe(t.path);
    expect(r.simd).toBe(true);
    if (t.separate) {
      expect(r.shared, 'default entry, separate entry and pool share one instance').toBe(true);
      expect((r.fetched as string[]).length, 'fetched one .wasm file').toBe(1);
    } else {
      expect(r.fetched, 'the default entry uses its embedded binary: no .wasm fetched').toEqual([]);
    }
  });
});
