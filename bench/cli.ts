/** Command-line options of the benchmark suite. */

/** Case groups, in the order they run. */
export const GROUPS = ['gemm', 'softmax', 'attention', 'decode', 'long', 'models', 'encoders'] as const;
export type Group = (typeof GROUPS)[number];

export interface CliOptions {
  /** Smaller sizes and fewer samples (under a minute in total). */
  readonly quick: boolean;
  /** Groups to run. */
  readonly only: ReadonlySet<Group>;
  /** Print only the JSON result on stdout. */
  readonly json: boolean;
  /** Threads asked for with --threads (every run uses 1: see {@link threadsNotice}). */
  readonly threads: number;
  /** The build of our kernels to measure (`init({ build })`). */
  readonly build: BuildChoice;
  /** `--shapes`: the models and encoders groups run only these shapes (names, lower case); null for all. */
  readonly shapes: ReadonlySet<string> | null;
  /** `--peer-threads`: transformers.js's thread counts in the models and encoders groups; null for the default. */
  readonly peerThreads: readonly number[] | null;
}

/** Values of --build. */
export const BUILDS = ['auto', 'relaxed-simd', 'simd', 'scalar'] as const;
export type BuildChoice = (typeof BUILDS)[number];

export const USAGE = `usage: npm run bench -- [--quick] [--only=${GROUPS.join('|')}[,...]] [--json] [--threads=1] [--build=${BUILDS.join('|')}]
                     [--shapes=NAME[,...]] [--peer-threads=N[,...]]
  --quick     smaller sizes and fewer samples (under a minute; models: two tiny decoders, encoders: a tiny BERT)
  --only=...  run only these case groups (comma-separated)
  --json      print the JSON result only (progress goes to stderr)
  --threads=N threads per implementation; only 1 is supported for now (others run with 1)
  --build=B   our kernels' build (default auto); scripts/bench.sh runs Node with
              --experimental-wasm-relaxed-simd for relaxed-simd (Node 20 needs it)
  --shapes=.. full runs of models/encoders: only these shapes (SmolLM-135M, GPT-2-small, MiniLM-L6, BERT-base)
  --peer-threads=.. full runs of models/encoders: transformers.js thread counts (default 1,2)`;

/** The message printed when more than one thread is asked for, or null. */
export function threadsNotice(threads: number): string | null {
  return threads === 1 ? null
    : `--threads=${threads}: only single-threaded runs are supported for now (the WASM kernels have no ` +
      'threaded build yet); running every implementation with 1 thread';
}

/** Parses `argv` (without node and script); throws an Error with a readable message on bad input. */
export function parseArgs(argv: readonly string[]): CliOptions {
  let quick = false;
  let json = false;
  let threads = 1;
  let only = new Set<Group>(GROUPS);
  let build: BuildChoice = 'auto';
  let shapes: Set<string> | null = null;
  let peerThreads: number[] | null = null;
  for (const arg of argv) {
    if (arg === '--') continue;
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean);
      if (names.length === 0) throw new Error(`--only needs at least one of ${GROUPS.join(', ')}`);
      for (const n of names) {
        if (!(GROUPS as readonly string[]).includes(n)) {
          throw new Error(`--only: unknown group '${n}' (expected ${GROUPS.join(', ')})`);
        }
      }
      only = new Set(names as Group[]);
    } else if (arg.startsWith('--threads=')) {
      const value = arg.slice('--threads='.length);
      threads = Number(value);
      if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got '${value}'`);
    } else if (arg.startsWith('--build=')) {
      const value = arg.slice('--build='.length);
      if (!(BUILDS as readonly string[]).includes(value)) throw new Error(`--build: unknown build '${value}' (expected ${BUILDS.join(', ')})`);
      build = value as BuildChoice;
    } else if (arg.startsWith('--shapes=')) {
      const names = arg.slice('--shapes='.length).split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
      if (names.length === 0) throw new Error(`--shapes needs at least one shape name, got '${arg}'`);
      shapes = new Set(names);
    } else if (arg.startsWith('--peer-threads=')) {
      const value = arg.slice('--peer-threads='.length);
      peerThreads = value.split(',').map((x) => Number(x.trim()));
      if (peerThreads.length === 0 || peerThreads.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
        throw new Error(`--peer-threads must be positive integers (comma-separated), got '${value}'`);
      }
    } else if (arg === '--help' || arg === '-h') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown option '${arg}'\n${USAGE}`);
    }
  }
  return { quick, only, json, threads, build, shapes, peerThreads };
}
