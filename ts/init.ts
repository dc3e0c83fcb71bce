/**
 * Loading: one `init()` for Node, browsers, workers and edge runtimes.
 *
 * With no argument it compiles the embedded binary — the SIMD128 build when the
 * engine validates a SIMD probe, the scalar build otherwise — and checks a small
 * known result; if the SIMD build gets it wrong it falls back to the scalar build.
 */
import * as raw from './raw.js';
import { selfTest } from './self-test.js';

/** What `init()` accepts. */
export interface InitOptions {
  /**
   * A compiled `WebAssembly.Module` (edge runtimes that forbid compiling from bytes)
   * or the bytes of a wasm-attention binary.
   * @defaultValue the embedded binary
   */
  module?: WebAssembly.Module | BufferSource;
  /**
   * Which embedded build to use: `true` SIMD128, `false` scalar, `'auto'` probe.
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

/** A module whose only function returns a v128 constant: validates iff SIMD128 is supported. */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

/** Whether this engine runs WebAssembly SIMD128. */
export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

let info: InitInfo | null = null;
let pending: Promise<InitInfo> | null = null;

/**
 * Loads and instantiates the WebAssembly module. Safe to call many times and
 * concurrently: every call resolves to the same instance.
 */
export function init(options: InitOptions = {}): Promise<InitInfo> {
  if (info !== null) return Promise.resolve(sameOrThrow(info, options));
  if (pending === null) {
    pending = load(options).then(
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
  if (info !== null) return sameOrThrow(info, options);
  if (pending !== null) throw new Error('wasm-attention: initSync() called while init() is still loading');
  if (options == null || options.module == null) {
    throw new TypeError('wasm-attention: initSync() needs { module: WebAssembly.Module | BufferSource }');
  }
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

async function load(options: InitOptions): Promise<InitInfo> {
  if (options.module !== undefined) {
    const module = options.module instanceof WebAssembly.Module
      ? options.module
      : await WebAssembly.compile(bytesOf(options.module));
    return activate(module);
  }
  const wantSimd = options.simd === undefined || options.simd === 'auto' ? simdSupported() : options.simd;
  if (wantSimd && !simdSupported()) {
    throw new Error('wasm-attention: SIMD128 was requested but this engine does not support it');
  }
  const module = await raw.compileEmbedded(wantSimd);
  try {
    return activate(module);
  } catch (e) {
    if (!wantSimd || options.simd === true) throw e;
    // The SIMD build computed a wrong answer on this engine: use the scalar build.
    const reason = (e as Error).message;
    console.warn(`${reason}; falling back to the scalar build`);
    return { ...activate(await raw.compileEmbedded(false)), fallbackReason: reason };
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
  const exports = raw.instantiate(module);
  const simd = exports.wa_simd() === 1;
  const failure = selfTest();
  if (failure !== null) {
    raw.deactivate();
    throw new Error(`wasm-attention: the ${simd ? 'SIMD128' : 'scalar'} build failed its start-up self-test (${failure})`);
  }
  return { simd, module };
}
