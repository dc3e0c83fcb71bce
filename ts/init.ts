/**
 * Loading: one `init()` for Node, browsers, workers and edge runtimes.
 *
 * With no module given it compiles one of the package's binaries — the SIMD128
 * build when the engine validates a SIMD probe, the scalar build otherwise — and
 * checks a small known result; if the SIMD build gets it wrong it falls back to the
 * scalar build. Where the binaries come from is the entry point's choice
 * (`BinaryLoader`): embedded in the default entry, files in `wasm-attention/separate`.
 *
 * The state here (the one instance) is shared by every entry point of the package:
 * the bundles import it from one shared chunk, so `init()` from any entry serves all.
 */
import * as raw from './raw.js';
import { selfTest } from './self-test.js';
import { variantPreference, type BinaryLoader } from './binaries/variants.js';

export { simdSupported } from './binaries/variants.js';

/** What `init()` accepts. */
export interface InitOptions {
  /**
   * A compiled `WebAssembly.Module` (edge runtimes that forbid compiling from bytes)
   * or the bytes of a wasm-attention binary.
   * @defaultValue the package's binary: embedded (default entry) or its file (`wasm-attention/separate`)
   */
  module?: WebAssembly.Module | BufferSource;
  /**
   * Which of the package's builds to use: `true` SIMD128, `false` scalar, `'auto'` probe.
   * Ignored when `module` is given.
   * @defaultValue 'auto'
   */
  simd?: boolean | 'auto';
}

/** What the library is running on after `init()`. */
export interface InitInfo {
  /** Whether the active binary uses SIMD128 kernels. */
  readonly simd: boolean;
  /** The compiled module in use; post it to workers and pass it to `initSync({ module })`. */
  readonly module: WebAssembly.Module;
  /** Set when the SIMD build failed the start-up self-test and the scalar build replaced it. */
  readonly fallbackReason?: string;
}

let info: InitInfo | null = null;
let pending: Promise<InitInfo> | null = null;

/**
 * `init()` of an entry point: loads the package's binaries through `loader`.
 * Safe to call many times and concurrently: every call resolves to the same instance.
 * @internal
 */
export function initWith(loader: BinaryLoader, options: InitOptions = {}): Promise<InitInfo> {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(new TypeError('wasm-attention: init() takes an options object, e.g. init({ module })'));
  }
  if (info !== null) return Promise.resolve(sameOrThrow(info, options));
  if (pending === null) {
    pending = load(loader, options).then(
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
  if (info !== null) return sameOrThrow(info, options);
  if (pending !== null) throw new Error('wasm-attention: initSync() called while init() is still loading');
  const module = toModuleSync(options.module);
  info = activate(module);
  return info;
}

/** The active instance's information, or null before `init()`. */
export function initInfo(): InitInfo | null {
  return info;
}

function sameOrThrow(current: InitInfo, options: InitOptions): InitInfo {
  if (options.module instanceof WebAssembly.Module && options.module !== current.module) {
    throw new Error('wasm-attention: already initialised with another module');
  }
  return current;
}

async function load(loader: BinaryLoader, options: InitOptions): Promise<InitInfo> {
  if (options.module !== undefined) {
    const module = options.module instanceof WebAssembly.Module
      ? options.module
      : await WebAssembly.compile(bytesOf(options.module));
    return activate(module);
  }
  const variants = variantPreference(options.simd ?? 'auto');
  let reason: string | undefined;
  for (let i = 0; ; i++) {
    const module = await loader(variants[i]!);
    try {
      const active = activate(module);
      return reason === undefined ? active : { ...active, fallbackReason: reason };
    } catch (e) {
      if (i + 1 >= variants.length) throw e;
      // This build computed a wrong answer on this engine: use the next one.
      reason = (e as Error).message;
      console.warn(`${reason}; falling back to the ${variants[i + 1]} build`);
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
  const simd = active.wa_simd() === 1;
  const failure = selfTest();
  if (failure !== null) {
    raw.deactivate();
    throw new Error(`wasm-attention: the ${simd ? 'SIMD128' : 'scalar'} build failed its start-up self-test (${failure})`);
  }
  return { simd, module };
}
