// Temporary consumer projects: a directory with the packed package unpacked into
// its own node_modules/wasm-attention (never the source tree) and the app files.
// Tools (bundlers, runtimes) come from this repository's node_modules.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
export const appDir = fileURLToPath(new URL('../app', import.meta.url));
/** A binary installed by one of this repository's devDependencies. */
export const bin = (name: string) => join(repoRoot, 'node_modules/.bin', name);

export interface Project { readonly dir: string; remove(): void }

/** A fresh project holding the tarball's package and a copy of test/consumers/app. */
export function consumerProject(tarball: string, label: string): Project {
  const dir = mkdtempSync(join(tmpdir(), `wasm-attention-${label}-`));
  const pkg = join(dir, 'node_modules', 'wasm-attention');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  cpSync(appDir, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${label}`, private: true, type: 'module' }));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
