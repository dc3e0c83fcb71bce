/**
 * Turns the embedded binary — gzip, then base64 — back into its bytes.
 *
 * Why gzip inside the bundle: base64 hides the byte structure of a binary from the gzip
 * that serves the bundle (SIMD128 binary: 97.6 KB gzip raw, 142.7 KB as gzipped base64),
 * while base64 of already-gzipped bytes gzips to their own size (98.0 KB). The bundle
 * thus carries the binary at about its compressed size, at the cost of one inflate here.
 *
 * Two ways to inflate, the first this engine has:
 *  1. Node, Bun and Deno: `node:zlib`'s `gunzipSync` (about 1.5 ms for the SIMD binary in
 *     Node 20; its `DecompressionStream` took 12 ms warm and over 70 ms on first use).
 *  2. Browsers and other engines: `DecompressionStream('gzip')`, native in every browser
 *     that runs SIMD128 since 2023 (Chrome 80, Firefox 113, Safari 16.4).
 * Where neither exists, `null`: the caller loads the `.wasm` file instead.
 * @internal
 */

interface NodeRuntime {
  zlib: { gunzipSync(data: Uint8Array): Uint8Array };
  Buffer: { from(text: string, encoding: 'base64'): Uint8Array };
}

/** `node:zlib` and `Buffer` where the runtime has Node's built-in modules (no import statement, so browser bundles stay clean). */
function nodeRuntime(): NodeRuntime | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return null;
  const zlib = proc.getBuiltinModule('node:zlib') as NodeRuntime['zlib'] | undefined;
  const buffer = proc.getBuiltinModule('node:buffer') as { Buffer?: NodeRuntime['Buffer'] } | undefined;
  if (typeof zlib?.gunzipSync !== 'function' || buffer?.Buffer === undefined) return null;
  return { zlib, Buffer: buffer.Buffer };
}

/**
 * The bytes that `text` (base64 of gzip data) holds, or null where this engine can inflate
 * neither way. Corrupt data throws.
 */
export async function gunzipBase64(text: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const node = nodeRuntime();
  if (node !== null) return node.zlib.gunzipSync(node.Buffer.from(text, 'base64')) as Uint8Array<ArrayBuffer>;
  if (typeof DecompressionStream !== 'function' || typeof Response !== 'function' || typeof Blob !== 'function') {
    return null;
  }
  const inflated = new Blob([decodeBase64(text)]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

/** Value of each base64 character code (the standard alphabet); 255 for any other. */
const SEXTET = new Uint8Array(128).fill(255);
for (let i = 0; i < 64; i++) {
  SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
}

/**
 * Decodes base64 text to bytes: `Uint8Array.fromBase64` where the engine has it, else a
 * table decoder (not `atob`: in Node 20 it took 12 ms for a 300 KB binary — a binary
 * string, then one `charCodeAt` per byte — where this loop took 1 ms).
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
