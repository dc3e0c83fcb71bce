// Packs the package once (`npm pack`, exactly what would be published) into a
// temporary directory for every consumer test; removed at the end.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext { tarball: string; packDir: string }
}

const root = fileURLToPath(new URL('../..', import.meta.url));

export default function setup(project: TestProject) {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run npm run build first');
  const packDir = mkdtempSync(join(tmpdir(), 'wasm-attention-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  project.provide('tarball', join(packDir, filename));
  project.provide('packDir', packDir);
  return () => rmSync(packDir, { recursive: true, force: true });
}
