/**
 * The binaries embedded in the bundle (base64 text, see rollup.config.mjs), so the
 * default entry needs no file lookup, no server set-up and no bundler plugin.
 * @internal
 */
import simdBase64 from '../../pkg/simd/wasm_attention_bg.wasm';
import scalarBase64 from '../../pkg/scalar/wasm_attention_bg.wasm';
import type { Variant } from './variants.js';

const BASE64: Record<Variant, string> = { simd: simdBase64, scalar: scalarBase64 };

/** Decodes base64 text (the embedded binaries) to bytes. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  // Uint8Array.fromBase64 (ES2026) where the engine has it, else atob (every runtime here has it).
  const fromBase64 = (Uint8Array as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Compiles the embedded binary of `variant`. */
export function loadEmbedded(variant: Variant): Promise<WebAssembly.Module> {
  return WebAssembly.compile(decodeBase64(BASE64[variant]));
}
