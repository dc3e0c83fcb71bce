// Builds a consumer project's pages with each bundler, as a new user would: the
// bundler's defaults plus the entry files, nothing about wasm-attention. Each
// writes <project>/out-<bundler>/ with index.html (default entry) and, where the
// bundler copies files referenced by new URL(…, import.meta.url), separate.html.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Bundler = 'vite' | 'webpack' | 'esbuild' | 'rollup';

const page = (script: string, { module = true, head = '' } = {}) => `<!doctype html>
<meta charset="utf-8">
${head}<script ${module ? 'type="module"' : 'defer'} src="${script}"></script>
`;

export async function viteBuild(dir: string): Promise<string> {
  const { build } = await import('vite');
  const outDir = join(dir, 'out-vite');
  await build({
    root: dir, configFile: false, logLevel: 'warn',
    build: { outDir, rollupOptions: { input: { main: join(dir, 'index.html'), separate: join(dir, 'separate.html') } } },
  });
  return outDir;
}

export async function webpackBuild(dir: string): Promise<string> {
  const { default: webpack } = await import('webpack');
  const outDir = join(dir, 'out-webpack');
  const stats = await new Promise<import('webpack').Stats>((resolve, reject) => {
    webpack({
      mode: 'production', context: dir, entry: { main: './main.js', separate: './separate.js' },
      output: { path: outDir, filename: '[name].js' }, performance: { hints: false },
    }, (err, s) => (err || !s ? reject(err ?? new Error('no stats')) : resolve(s)));
  });
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  // webpack's default output is a classic script (its automatic publicPath reads document.currentScript).
  writeFileSync(join(outDir, 'index.html'), page('/main.js', { module: false }));
  writeFileSync(join(outDir, 'separate.html'), page('/separate.js', { module: false }));
  return outDir;
}

export async function esbuildBuild(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  const outDir = join(dir, 'out-esbuild');
  await esbuild.build({
    absWorkingDir: dir, entryPoints: ['main.js'], bundle: true, format: 'esm', outdir: outDir, logLevel: 'warning',
  });
  writeFileSync(join(outDir, 'index.html'), page('/main.js'));
  return outDir;
}

export async function rollupBuild(dir: string): Promise<string> {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const outDir = join(dir, 'out-rollup');
  const bundle = await rollup({ input: join(dir, 'main.js'), plugins: [nodeResolve({ browser: true })], logLevel: 'warn' });
  await bundle.write({ dir: outDir, format: 'es' });
  await bundle.close();
  writeFileSync(join(outDir, 'index.html'), page('/main.js'));
  return outDir;
}

/**
 * No bundler: the app's modules and node_modules served as they are (as a CDN
 * serves a package's files), bare specifiers mapped by an import map.
 */
export function unbundled(dir: string): string {
  const outDir = join(dir, 'out-unbundled');
  mkdirSync(outDir);
  for (const f of ['main.js', 'separate.js', 'compute.js']) writeFileSync(join(outDir, f), readFileSync(join(dir, f)));
  symlinkSync(join(dir, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  const at = '/node_modules/wasm-attention/dist';
  const head = `<script type="importmap">${JSON.stringify({ imports: {
    'wasm-attention': `${at}/index.js`, 'wasm-attention/pool': `${at}/pool/index.js`,
    'wasm-attention/separate': `${at}/separate.js`,
  } })}</script>\n`;
  writeFileSync(join(outDir, 'index.html'), page('/main.js', { head }));
  writeFileSync(join(outDir, 'separate.html'), page('/separate.js', { head }));
  return outDir;
}
