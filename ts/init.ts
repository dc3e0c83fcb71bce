/**
 * Loading: one `init()` for Node, browsers, workers and edge runtimes.
 *
 * With no module given it compiles one of the entry point's binaries — the relaxed-SIMD
 * build (fused multiply-add) when the engine validates a relaxed-SIMD probe, else the
 * SIMD128 build when it validates a SIMD probe, else the scalar build — and checks a
 * small known result; a build that gets it wrong is replaced by the next one. Where
 * the binaries come from is the entry point's choice (`BinarySource`): the default entry
 * embeds SIMD128 and reads scalar from its file, `wasm-attention/separate` reads all three.
 *
 * The state here (the one instance) is shared by every entry point of the package:
 * the bundles import it from one shared chunk, so `init()` from any entry serves all.
 */
import * as raw from './raw.js';
import { selfTest } from './self-test.js';
import {
  buildName, buildOfMarker, buildPreference, isBuildChoice, type BinarySource, type Build,
} from './binaries/variants.js';

export { relaxedSimdSupported, simdSupported, type Build } from './binaries/variants.js';

/** What `init()` accepts. */
export interface InitOptions {
  /**
   * A compiled `WebAssembly.Module` (edge runtimes that forbid compiling from bytes)
   * or the bytes of a wasm-attention binary.
   * @defaultValue the package's binary: embedded (default entry) or its file (`wasm-attention/separate`)
   */
  module?: WebAssembly.Module | BufferSource;
  /**
   * Which of the package's builds to use: `'auto'` probes the engine and takes the best
   * build that passes the start-up self-test (relaxed SIMD, then SIMD128, then scalar;
   * the default entry holds only SIMD128 and scalar, `wasm-attention/separate` has all
   * three); a named build is used alone, and `init()` rejects if the engine lacks its
   * feature or the entry point the build.
   * Ignored when `module` is given.
   * @defaultValue 'auto'
   */
  build?: Build | 'auto';
  /**
   * The older spelling of `build`: `true` is `'simd'`, `false` is `'scalar'`.
   * @deprecated use `build`
   */
  simd?: boolean | 'auto';
}

/** What the library is running on after `init()`. */
export interface InitInfo {
  /** The active build (what its binary reports, also when it was given as `module`). */
  readonly build: Build;
  /** Whether the active binary uses SIMD128 kernels (the relaxed-SIMD and SIMD128 builds). */
  readonly simd: boolean;
  /** The compiled module in use; post it to workers and pass it to `initSync({ module })`. */
  readonly module: WebAssembly.Module;
  /** Set when a better build failed the start-up self-test and the next one replaced it. */
  readonly fallbackReason?: string;
}

let info: InitInfo | null = null;
let pending: Promise<InitInfo> | null = null;

/**
 * `init()` of an entry point: loads the package's binaries from `source`.
 * Safe to call many times and concurrently: every call resolves to the same instance.
 * @internal
 */
export function initWith(source: BinarySource, options: InitOptions = {}): Promise<InitInfo> {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(new TypeError('wasm-attention: init() takes an options object, e.g. init({ module })'));
  }
  let build: Build | 'auto';
  try {
    build = requestedBuild(options);
    if (info !== null) return Promise.resolve(sameOrThrow(info, options, build));
  } catch (e) {
    return Promise.reject(e);
  }
  if (pending === null) {
    pending = load(source, options, build).then(
      (result) => { info = result; pending = null; return result; },
      (error: unknown) => { pending = null; throw error; },
    );
  }
  return pending;
}

/**
 * Instantiates synchronously from a compiled module or bytes (workers, edge runtimes).
 * Browsers forbid compiling more than 4 KB synchronously on the main thread: pass a
 * `WebAssembly.Module` there (e.g. the `module` of another thread's `InitInfo`).
 */
export function initSync(options: { module: WebAssembly.Module | BufferSource }): InitInfo {
  if (options == null || options.module == null) {
    throw new TypeError('wasm-attention: initSync() needs { module: WebAssembly.Module | BufferSource }');
  }
  if (info !== null) return sameOrThrow(info, options, 'auto');
  if (pending !== null) throw new Error('wasm-attention: initSync() called while init() is still loading');
  const module = toModuleSync(options.module);
  info = activate(module);
  return info;
}

/** The active instance's information, or null before `init()`. */
export function initInfo(): InitInfo | null {
  return info;
}

/** The build `options` ask for: `build`, else the deprecated `simd`, else `'auto'`. */
function requestedBuild(options: InitOptions): Build | 'auto' {
  const { build, simd } = options;
  if (build !== undefined && !isBuildChoice(build)) {
    throw new TypeError(`wasm-attention: init({ build }) must be 'auto', 'relaxed-simd', 'simd' or 'scalar', not ${String(build)}`);
  }
  if (simd !== undefined && simd !== true && simd !== false && simd !== 'auto') {
    throw new TypeError(`wasm-attention: init({ simd }) must be true, false or 'auto', not ${String(simd)}`);
  }
  const fromSimd = simd === undefined ? undefined : simd === 'auto' ? 'auto' : simd ? 'simd' : 'scalar';
  if (build !== undefined && fromSimd !== undefined && build !== fromSimd) {
    throw new TypeError(`wasm-attention: init() got build: '${build}' and simd: ${String(simd)}, which disagree; pass build only`);
  }
  return build ?? fromSimd ?? 'auto';
}

function sameOrThrow(current: InitInfo, options: InitOptions, build: Build | 'auto'): InitInfo {
  if (options.module instanceof WebAssembly.Module && options.module !== current.module) {
    throw new Error('wasm-attention: already initialised with another module');
  }
  if (options.module === undefined && build !== 'auto' && build !== current.build) {
    throw new Error(`wasm-attention: already initialised with the ${current.build} build, not ${build}`);
  }
  return current;
}

async function load(source: BinarySource, options: InitOptions, build: Build | 'auto'): Promise<InitInfo> {
  if (options.module !== undefined) {
    const module = options.module instanceof WebAssembly.Module
      ? options.module
      : await WebAssembly.compile(bytesOf(options.module));
    return activate(module);
  }
  const builds = buildPreference(build, source);
  let reason: string | undefined;
  for (let i = 0; ; i++) {
    const module = await source.load(builds[i]!);
    try {
      const active = activate(module);
      return reason === undefined ? active : { ...active, fallbackReason: reason };
    } catch (e) {
      if (i + 1 >= builds.length) throw e;
      // This build computed a wrong answer on this engine: use the next one.
      reason = (e as Error).message;
      console.warn(`${reason}; falling back to the ${buildName(builds[i + 1]!)} build`);
    }
  }
}

function toModuleSync(source: WebAssembly.Module | BufferSource): WebAssembly.Module {
  return source instanceof WebAssembly.Module ? source : new WebAssembly.Module(bytesOf(source));
}

function bytesOf(source: BufferSource): BufferSource {
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return source;
  throw new TypeError('wasm-attention: module must be a WebAssembly.Module, an ArrayBuffer or a typed array');
}

/** Instantiates `module` and checks a known result; throws if the binary computes it wrongly. */
function activate(module: WebAssembly.Module): InitInfo {
  const active = raw.instantiate(module);
  const build = buildOfMarker(active.wa_simd());
  const failure = selfTest();
  if (failure !== null) {
    raw.deactivate();
    throw new Error(`wasm-attention: the ${buildName(build)} build failed its start-up self-test (${failure})`);
  }
  return { build, simd: build !== 'scalar', module };
}
