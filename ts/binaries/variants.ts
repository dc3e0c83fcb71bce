/**
 * The WebAssembly binaries the package ships, and which one `init()` picks.
 *
 * This is the one place that knows the set of binaries: a new build (e.g. one
 * needing a further WebAssembly feature) is added to `Build`, to `PREFERENCE`
 * with its probe, and to the two loaders beside this file.
 * @internal
 */

/**
 * One build of the kernels: `'relaxed-simd'` (SIMD128 with `f32x4.relaxed_madd`, fused
 * multiply-add, in the GEMM and attention kernels), `'simd'` (SIMD128) or `'scalar'`.
 */
export type Build = 'relaxed-simd' | 'simd' | 'scalar';

/** Where an entry point's binaries come from: which builds it has, and how to compile one. */
export interface BinarySource {
  /** The builds this source holds. */
  readonly builds: readonly Build[];
  /** Where to get a build this source lacks (completes an error message). */
  readonly elsewhere: string;
  /** Compiles the binary of one of `builds`. */
  load(build: Build): Promise<WebAssembly.Module>;
}

/** Every build, best first: the order `init()` tries them in. */
const PREFERENCE: readonly Build[] = ['relaxed-simd', 'simd', 'scalar'];

/** A v128.const of zeros (opcode 0xfd 0x0c and 16 bytes). */
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** A module whose one function is `() -> v128` with `body` (no locals, then `end`). */
function probe(body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, code.length + 2, 0x01, code.length, ...code, // code section (bodies here stay < 128 bytes)
  ]);
}

/** Validates iff SIMD128 is supported: returns a v128 constant. */
const SIMD_PROBE = probe(V128_ZERO);
/** Validates iff relaxed SIMD is supported: `f32x4.relaxed_madd` (0xfd 0x105, LEB128 `85 02`) of three constants. */
const RELAXED_SIMD_PROBE = probe([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether this engine runs WebAssembly SIMD128. */
export function simdSupported(): boolean {
  return validates(SIMD_PROBE);
}

/**
 * Whether this engine runs WebAssembly relaxed SIMD (on by default in Chrome ≥ 114,
 * Firefox ≥ 145 and Node ≥ 22; behind `--experimental-wasm-relaxed-simd` in Node 20).
 */
export function relaxedSimdSupported(): boolean {
  return simdSupported() && validates(RELAXED_SIMD_PROBE);
}

function supported(build: Build): boolean {
  return build === 'scalar' || (build === 'simd' ? simdSupported() : relaxedSimdSupported());
}

const FEATURE: Record<Build, string> = { 'relaxed-simd': 'relaxed SIMD', simd: 'SIMD128', scalar: '' };

/**
 * The builds of `source` to try, best first, for the `build` option of `init()`: the
 * first is used, the next ones replace it if it fails the start-up self-test. `'auto'`
 * is every build of the source this engine supports; a named build is that one alone.
 */
export function buildPreference(build: Build | 'auto', source: BinarySource): Build[] {
  if (build === 'auto') return PREFERENCE.filter((b) => source.builds.includes(b) && supported(b));
  if (!source.builds.includes(build)) {
    throw new Error(`wasm-attention: the ${build} build was requested but this entry point does not hold it; ${source.elsewhere}`);
  }
  if (!supported(build)) {
    throw new Error(`wasm-attention: the ${build} build was requested but this engine does not support ${FEATURE[build]}`
      + (build === 'relaxed-simd' ? ' (Node 20 needs --experimental-wasm-relaxed-simd)' : ''));
  }
  return [build];
}

/** Whether `value` names a build (or `'auto'`). */
export function isBuildChoice(value: unknown): value is Build | 'auto' {
  return value === 'auto' || (PREFERENCE as readonly unknown[]).includes(value);
}

/** The build a binary reports through its `wa_simd` export (2 relaxed SIMD, 1 SIMD128, 0 scalar). */
export function buildOfMarker(marker: number): Build {
  return marker === 2 ? 'relaxed-simd' : marker === 1 ? 'simd' : 'scalar';
}

/** Human name of a build, for messages. */
export function buildName(build: Build): string {
  return build === 'relaxed-simd' ? 'relaxed-SIMD' : build === 'simd' ? 'SIMD128' : 'scalar';
}
