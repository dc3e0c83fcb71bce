/**
 * The WebAssembly binaries the package ships, and which one `init()` picks.
 *
 * This is the one place that knows the set of binaries: a new build (e.g. one
 * needing a further WebAssembly feature) is added to `Variant`, to
 * `VARIANT_PREFERENCE` with its probe, and to the two loaders beside this file.
 * @internal
 */

/** One build of the kernels. */
export type Variant = 'simd' | 'scalar';

/** Compiles the binary of one variant (the entry point decides from where). */
export type BinaryLoader = (variant: Variant) => Promise<WebAssembly.Module>;

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

/**
 * The variants to try, best first, for the `simd` option of `init()`: the first is
 * used, the next ones replace it if it fails the start-up self-test.
 */
export function variantPreference(simd: boolean | 'auto'): Variant[] {
  if (simd === false) return ['scalar'];
  if (!simdSupported()) {
    if (simd === true) throw new Error('wasm-attention: SIMD128 was requested but this engine does not support it');
    return ['scalar'];
  }
  return simd === true ? ['simd'] : ['simd', 'scalar'];
}
