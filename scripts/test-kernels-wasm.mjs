// Runs the kernel crate's tests (crates/kernels: unit tests and tests/*.rs) as
// WebAssembly with SIMD128, under Node's WASI, without the wasm-bindgen or
// TypeScript build: a kernel change is checked on the instruction set it ships
// with, in seconds once the first build is done.
//
//   node scripts/test-kernels-wasm.mjs [libtest arguments, e.g. a name filter]
//
// 1. Debian's cargo and rustc 1.63 (the only Rust here with a wasm32 standard
//    library; `libstd-rust-dev-wasm32` ships wasm32-wasi beside wasm32-unknown-unknown)
//    build the test binaries: `cargo test --no-run --target wasm32-wasi` with
//    `-C target-feature=+simd128`, so every `cfg(target_feature = "simd128")` kernel
//    is the one compiled. The repository's offline `.cargo/config.toml` applies; the
//    crate has no dependencies.
// 2. Each binary's `target_features` section must list simd128 (proof the flag took).
// 3. The kernels written in WebAssembly text are linked in (scripts/link-wat.mjs), as in the
//    build; each binary then runs under `node:wasi`, in a Node process of its own (this script with
//    `--one <binary>`): several WASI instances run one after another in one process
//    crashed Node 20 intermittently after they had passed (a segfault, or a corrupted
//    heap in the next iteration), while each binary alone never did. wasm32-wasi aborts
//    on panic (no unwinding), so a failing test traps and ends its binary: the trap is
//    reported as a failure after the test name libtest printed last. libtest runs with
//    --nocapture, since a captured panic message would be lost with the aborted process.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = join(root, 'target', 'wasm32-wasi-simd128');

if (process.argv[2] === '--one') {
  // A child: check and run one binary, exit with its status.
  const [file, ...args] = process.argv.slice(3);
  process.exit(await runOne(file, args));
}
const testArgs = process.argv.slice(2);

// 1. Build. The dev profile (opt-level 0 and debug assertions, as native `cargo test`)
// compiles in a fraction of the release profile's time (LTO, one codegen unit).
const build = spawnSync(
  '/usr/bin/cargo',
  ['test', '--no-run', '--profile', 'wasm-test', '-p', 'wasm-attention-kernels', '--target', 'wasm32-wasi', '--message-format=json-render-diagnostics'],
  {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      RUSTC: '/usr/bin/rustc',
      RUSTDOC: '/usr/bin/rustdoc',
      RUSTFLAGS: '-C target-feature=+simd128',
      CARGO_TARGET_DIR: targetDir,
    },
  },
);
if (build.status !== 0) {
  console.error(`[kernels-wasm] FAILED: cargo test --no-run --target wasm32-wasi exited with ${build.status}`);
  process.exit(1);
}
const binaries = build.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((m) => m.reason === 'compiler-artifact' && m.profile.test && m.executable)
  .map((m) => m.executable);
if (binaries.length === 0) {
  console.error('[kernels-wasm] FAILED: cargo built no test binary');
  process.exit(1);
}

// 2 and 3. Check and run each binary, each in a process of its own.
const failed = [];
// The kernels written in WebAssembly text, linked as the build links them; here, so that
// the children that run the binaries load no binaryen.
const { linkWat } = await import('./link-wat.mjs');
for (const file of binaries) linkWat(file, `${file}.linked.wasm`);
for (const file of binaries) {
  const name = relative(root, file);
  console.log(`[kernels-wasm] ${name}`);
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', file, ...testArgs], { cwd: root, stdio: 'inherit' });
  if (run.status === 2) process.exit(1); // not built with simd128 (reported by the child)
  if (run.status !== 0) failed.push(run.signal ? `${name} (${run.signal})` : name);
}
if (failed.length > 0) {
  console.error(`[kernels-wasm] FAILED: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`[kernels-wasm] ${binaries.length} test binaries passed on wasm32 with SIMD128`);

/** Checks that `file` was built with simd128 (else 2) and runs its tests; returns libtest's status. */
async function runOne(file, args) {
  const name = relative(root, file);
  // node:wasi is marked experimental in Node 20 and says so on import; the warning is noise here.
  process.removeAllListeners('warning');
  const { WASI } = await import('node:wasi');
  const built = await WebAssembly.compile(readFileSync(file));
  const features = WebAssembly.Module.customSections(built, 'target_features')
    .map((s) => Buffer.from(s).toString('latin1'))
    .join('');
  if (!features.includes('simd128')) {
    console.error(`[kernels-wasm] FAILED: ${name} was not built with simd128`);
    return 2;
  }
  // Linked by the parent (the kernels written in WebAssembly text, see step 3).
  const module = await WebAssembly.compile(readFileSync(`${file}.linked.wasm`));
  // No preopened directories: the kernel tests touch no files.
  const wasi = new WASI({ version: 'preview1', args: [name, '--nocapture', ...args], env: {}, returnOnExit: true });
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  try {
    return wasi.start(instance);
  } catch (e) {
    console.error(`[kernels-wasm] ${name} trapped (a panic aborts on wasm32-wasi): ${e.message}`);
    return 101;
  }
}
