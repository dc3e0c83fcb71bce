/**
 * The binaries embedded in the bundle (base64 text, see rollup.config.mjs), so the
 * default entry needs no file lookup, no server set-up and no bundler plugin.
 *
 * Two of the three builds: SIMD128 and scalar. The relaxed-SIMD one would add its
 * whole size again to every app that bundles the default entry (measured in
 * docs/performance.md); `wasm-attention/separate` loads it, or pass it as `init({ module })`.
 * @internal
 */
import simdBase64 from '../../pkg/simd/wasm_attention_bg.wasm';
import scalarBase64 from '../../pkg/scalar/wasm_attention_bg.wasm';
import type { BinarySource, Build } from './variants.js';

const BASE64: Partial<Record<Build, string>> = { simd: simdBase64, scalar: scalarBase64 };

/** Value of each base64 character code (the standard alphabet); 255 for any other. */
const SEXTET = new Uint8Array(128).fill(255);
for (let i = 0; i < 64; i++) {
  SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}

/**
 * Decodes base64 text (the embedded binaries) to bytes: `Uint8Array.fromBase64` where
 * the engine has it, else a table decoder. Not `atob`: in Node 20 it took 12 ms for the
 * SIMD binary (a binary string, then one `charCodeAt` per byte), this loop 1 ms.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const fromBase64 = (Uint8Array as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(text);
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61) end--; // '=' padding
  const bytes = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? SEXTET[code]! : 255;
    if (v === 255) throw new Error(`wasm-attention: the embedded binary is corrupt (character ${i} is not base64)`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[o++] = (acc >>> bits) & 0xff;
    }
  }
  return bytes;
}

/** The embedded binaries as the default entry's source. */
export const embedded: BinarySource = {
  builds: ['simd', 'scalar'],
  elsewhere: "the default entry embeds the simd and scalar builds; 'wasm-attention/separate' loads all three, "
    + "or pass init({ module }) the binary 'wasm-attention/relaxed-simd.wasm'",
  load(build: Build): Promise<WebAssembly.Module> {
    const text = BASE64[build];
    if (text === undefined) throw new Error(`wasm-attention: the ${build} binary is not embedded`);
    return WebAssembly.compile(decodeBase64(text));
  },
};
