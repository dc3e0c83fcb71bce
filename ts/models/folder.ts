/**
 * Reading a Hugging Face model folder — `config.json`, `tokenizer.json` (+ `tokenizer_config.json`),
 * `model.safetensors` or the shards listed by `model.safetensors.index.json`, and for
 * sentence-transformers models `modules.json`, `sentence_bert_config.json` and the pooling
 * module's `config.json` — from a directory in Node or from a base URL anywhere `fetch` exists.
 *
 * Where the folder lives:
 * - a `URL`, or a string with a scheme (`https://…/`, `file:///…/`): fetched (`file:` URLs
 *   read from disk in Node, whose fetch does not take them);
 * - any other string: a directory path in Node; elsewhere a URL relative to the page.
 * A response body with a `Content-Length` is read chunk by chunk into one buffer of that size
 * (no intermediate copies of a large weights file).
 *
 * Shards are merged into one safetensors image (a header over every tensor, then the shards'
 * data sections back to back), so the loaders see one file.
 * @internal
 */
import { describe } from '../shape.js';
import { parseConfig } from './config.js';
import { parseEncoderConfig } from './encoder-config.js';
import { TextTokenizer, importTokenizers, type TokenizersModule } from './text.js';
import type { EmbedOptions } from './encoder.js';

/** Where a model folder lives: a directory path (Node), a base URL, or a `URL`. */
export type FolderSource = string | URL;

/** Options of `EncoderModel.fromFolder` and `CausalLM.fromFolder` about the folder and its tokenizer. */
export interface FolderOptions {
  /**
   * The `@huggingface/tokenizers` module (`import * as tokenizers from '@huggingface/tokenizers'`),
   * for bundled workers and pages where a bare dynamic import does not resolve.
   * @defaultValue `await import('@huggingface/tokenizers')`
   */
  tokenizers?: TokenizersModule;
  /**
   * The function that fetches the folder's files by absolute URL (e.g. a service binding's
   * `fetch` in Cloudflare Workers). @defaultValue globalThis.fetch
   */
  fetch?: (url: string) => Promise<Response>;
}

/** What the encoder loader needs from a folder. */
export interface EncoderFolder {
  readonly config: Record<string, unknown>;
  readonly weights: Uint8Array;
  readonly tokenizer: TextTokenizer;
  /** The sentence-transformers pipeline's pooling and normalisation; `{}` without `modules.json`. */
  readonly embedDefaults: EmbedOptions;
}

/** What the decoder loader needs from a folder. */
export interface DecoderFolder {
  readonly config: Record<string, unknown>;
  readonly weights: Uint8Array;
  readonly tokenizer: TextTokenizer;
}

/** Reads an encoder folder; every argument is checked before the first file is read. */
export async function readEncoderFolder(source: FolderSource, options: FolderOptions, at: string): Promise<EncoderFolder> {
  const folder = openFolder(source, options, at);
  const tokenizers = await importTokenizers(options.tokenizers, at);
  const config = await folder.json('config.json') as Record<string, unknown>;
  const cfg = parseEncoderConfig(config);
  const weights = early(readWeights(folder));
  const [tokenizerJson, tokenizerConfig, modules, sentenceConfig] = await Promise.all([
    folder.json('tokenizer.json'), folder.json('tokenizer_config.json', true),
    folder.json('modules.json', true), folder.json('sentence_bert_config.json', true),
  ]);
  const embedDefaults = modules === null ? {} : await sentencePipeline(folder, modules);
  // Longest sentence: sentence-transformers' max_seq_length, else the tokenizer's model_max_length,
  // never past the positions the model has (RoBERTa's start after the pad id).
  const limit = cfg.family === 'roberta' ? cfg.maxPositions - cfg.padTokenId! - 1 : cfg.maxPositions;
  const wanted = positiveInt((sentenceConfig as { max_seq_length?: unknown } | null)?.max_seq_length)
    ?? positiveInt((tokenizerConfig as { model_max_length?: unknown } | null)?.model_max_length) ?? limit;
  const tokenizer = new TextTokenizer(tokenizers, tokenizerJson as object, (tokenizerConfig ?? {}) as object, {
    maxLength: Math.min(wanted, limit), padId: cfg.padTokenId ?? undefined,
  });
  return { config, weights: await weights, tokenizer, embedDefaults };
}

/** Reads a decoder folder; every argument is checked before the first file is read. */
export async function readDecoderFolder(source: FolderSource, options: FolderOptions, at: string): Promise<DecoderFolder> {
  const folder = openFolder(source, options, at);
  const tokenizers = await importTokenizers(options.tokenizers, at);
  const config = await folder.json('config.json') as Record<string, unknown>;
  parseConfig(config); // an unsupported model fails before its weights are fetched
  const weights = early(readWeights(folder));
  const [tokenizerJson, tokenizerConfig] = await Promise.all([folder.json('tokenizer.json'), folder.json('tokenizer_config.json', true)]);
  const tokenizer = new TextTokenizer(tokenizers, tokenizerJson as object, (tokenizerConfig ?? {}) as object);
  return { config, weights: await weights, tokenizer };
}

/**
 * `p`, marked handled: the weights are read while the tokenizer is built (their bytes arrive
 * while it parses), and a failure before they are awaited must not surface as unhandled.
 */
function early<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** A model folder's files by name (`null` for an optional file that is absent). */
interface Folder {
  where(name: string): string;
  bytes(name: string, optional?: false): Promise<Uint8Array>;
  bytes(name: string, optional: true): Promise<Uint8Array | null>;
  json(name: string, optional?: false): Promise<unknown>;
  json(name: string, optional: true): Promise<unknown>;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Checks `source` and `options` and returns the folder's reader (nothing is read yet). */
function openFolder(source: FolderSource, options: FolderOptions, at: string): Folder {
  if (options === null || typeof options !== 'object') throw new TypeError(`${at}: options must be an object, got ${describe(options)}`);
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError(`${at}: options.fetch must be a function, got ${describe(options.fetch)}`);
  }
  if (!(source instanceof URL) && (typeof source !== 'string' || source === '')) {
    throw new TypeError(`${at}: source must be a folder path or URL (a non-empty string or a URL), got ${describe(source)}`);
  }
  let base: URL | null = null;
  if (source instanceof URL) base = new URL(source.href);
  else if (/^[a-z][a-z\d+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) base = new URL(source);
  else if (!isNode) {
    const page = (globalThis as { location?: { href: string } }).location?.href;
    if (page === undefined) throw new TypeError(`${at}: source ${JSON.stringify(source)} is relative, but there is no page to resolve it against: pass an absolute URL`);
    base = new URL(source, page);
  }
  if (base !== null && !base.pathname.endsWith('/')) base.pathname += '/';
  const doFetch = options.fetch ?? (typeof fetch === 'function' ? (u: string) => fetch(u) : undefined);
  const viaDisk = base === null || (base.protocol === 'file:' && options.fetch === undefined && isNode);
  if (!viaDisk && doFetch === undefined) throw new TypeError(`${at}: there is no fetch here to read ${base!.href}: pass options.fetch`);
  const where = (name: string) => (base === null ? `${(source as string).replace(/[\\/]+$/, '')}/${name}` : new URL(name, base).href);

  async function bytes(name: string, optional = false): Promise<Uint8Array | null> {
    const place = where(name);
    if (viaDisk) {
      const fs = await nodeFs();
      try {
        const b = await fs.readFile(base === null ? place : new URL(place));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if (optional && (e as { code?: string }).code === 'ENOENT') return null;
        throw new Error(`${at}: cannot read ${place}: ${(e as Error).message}`, { cause: e });
      }
    }
    let res: Response;
    try {
      res = await doFetch!(place);
    } catch (e) {
      throw new Error(`${at}: cannot fetch ${place}: ${(e as Error).message}`, { cause: e });
    }
    if (optional && res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`${at}: fetching ${place} answered ${res.status} ${res.statusText}`);
    }
    return readBody(res, place, at);
  }
  async function json(name: string, optional = false): Promise<unknown> {
    const b = await bytes(name, optional as true);
    if (b === null) return null;
    try {
      return JSON.parse(new TextDecoder().decode(b));
    } catch (e) {
      throw new Error(`${at}: ${where(name)} is not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  return { where, bytes, json } as Folder;
}

/** `node:fs/promises`, imported only when a path is read (the specifier hidden from bundlers). */
async function nodeFs(): Promise<{ readFile(p: string | URL): Promise<Uint8Array> }> {
  const specifier = 'node:fs/promises';
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<{ readFile(p: string | URL): Promise<Uint8Array> }>;
}

/**
 * A response body as bytes. With a `Content-Length` (and no content encoding) the body is read
 * into one buffer of that size: through a BYOB reader where the body is a byte stream (the
 * runtime writes straight into the buffer, in chunks as large as it likes — 2–4× faster than
 * copying workerd's small chunks one by one), else chunk by chunk. Otherwise `arrayBuffer()`.
 */
async function readBody(res: Response, place: string, at: string): Promise<Uint8Array> {
  const announced = Number(res.headers.get('content-length') ?? NaN);
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  if (res.body === null || !Number.isSafeInteger(announced) || encoded) return new Uint8Array(await res.arrayBuffer());
  const tooLong = () => new Error(`${at}: ${place} sent more than its Content-Length of ${announced} bytes`);
  const tooShort = (n: number) => new Error(`${at}: ${place} ended after ${n} of its ${announced} bytes`);
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = res.body.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream: read the chunks below.
  }
  if (byob !== null) {
    let buffer = new ArrayBuffer(Math.max(announced, 1)), filled = 0;
    while (filled < announced) {
      const { done, value } = await byob.read(new Uint8Array(buffer, filled, announced - filled));
      if (done) throw tooShort(filled);
      // The view's buffer was transferred to the stream and back: keep the returned one.
      buffer = value.buffer as ArrayBuffer;
      filled += value.byteLength;
    }
    // The stream must end here: a read of one more byte finds its end.
    const { done } = await byob.read(new Uint8Array(1));
    if (!done) {
      await byob.cancel();
      throw tooLong();
    }
    return new Uint8Array(buffer, 0, announced);
  }
  const out = new Uint8Array(announced);
  const reader = res.body.getReader();
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (filled + value.length > announced) {
      await reader.cancel();
      throw tooLong();
    }
    out.set(value, filled);
    filled += value.length;
  }
  if (filled !== announced) throw tooShort(filled);
  return out;
}

/** `model.safetensors`, or the shards of `model.safetensors.index.json` merged into one image. */
async function readWeights(folder: Folder): Promise<Uint8Array> {
  const single = await folder.bytes('model.safetensors', true);
  if (single !== null) return single;
  const index = await folder.json('model.safetensors.index.json', true) as { weight_map?: unknown } | null;
  if (index === null) {
    throw new Error(`${folder.where('model.safetensors')} is missing, and so is ${folder.where('model.safetensors.index.json')} (sharded weights)`);
  }
  const map = index.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((f) => typeof f === 'string' && f !== '')) {
    throw new Error(`${folder.where('model.safetensors.index.json')}: weight_map must map tensor names to shard file names`);
  }
  const files = [...new Set(Object.values(map as Record<string, string>))];
  for (const f of files) {
    if (f.includes('/') || f.includes('\\') || f.startsWith('.')) throw new Error(`${folder.where('model.safetensors.index.json')}: shard name ${JSON.stringify(f)} is not a file of the folder`);
  }
  // One shard at a time: its header is read, then its data kept for the merge.
  const shards: Shard[] = [];
  for (const f of files) shards.push(shardOf(await folder.bytes(f), folder.where(f)));
  return mergeShards(shards, map as Record<string, string>, files, folder.where('model.safetensors.index.json'));
}

interface Shard {
  place: string;
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  data: Uint8Array;
}

/** Splits a safetensors file into its header entries and data section (the full checks come later, on the merge). */
function shardOf(u8: Uint8Array, place: string): Shard {
  if (u8.length < 8) throw new RangeError(`${place}: truncated safetensors file (${u8.length} bytes)`);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (8 + n > u8.length) throw new RangeError(`${place}: truncated safetensors file (a ${n}-byte header in ${u8.length} bytes)`);
  let header: Shard['header'];
  try {
    header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + n))) as Shard['header'];
  } catch (e) {
    throw new RangeError(`${place}: bad safetensors header: ${(e as Error).message}`, { cause: e });
  }
  delete (header as Record<string, unknown>).__metadata__;
  return { place, header, data: u8.subarray(8 + n) };
}

/**
 * One safetensors image holding every shard's tensors: the entries' offsets moved by the data
 * of the shards before them, the header padded with spaces to 8 bytes as the format allows.
 */
function mergeShards(shards: Shard[], map: Record<string, string>, files: string[], indexPlace: string): Uint8Array {
  const entries: Record<string, unknown> = {};
  let offset = 0;
  shards.forEach((s, i) => {
    for (const [name, e] of Object.entries(s.header)) {
      if (Object.hasOwn(entries, name)) throw new RangeError(`${s.place}: tensor "${name}" is also in an earlier shard`);
      const off = e?.data_offsets;
      if (!Array.isArray(off) || off.length !== 2) throw new RangeError(`${s.place}: bad safetensors header entry "${name}"`);
      entries[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off[0] + offset, off[1] + offset] };
      if (map[name] !== undefined && map[name] !== files[i]) {
        throw new RangeError(`${indexPlace}: weight_map puts "${name}" in ${map[name]}, but ${files[i]} holds it`);
      }
    }
    offset += s.data.length;
  });
  for (const name of Object.keys(map)) {
    if (!Object.hasOwn(entries, name)) throw new RangeError(`${indexPlace}: weight_map lists "${name}", which its shard ${map[name]} lacks`);
  }
  let text = JSON.stringify(entries);
  text += ' '.repeat((8 - ((new TextEncoder().encode(text).length) % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const s of shards) {
    out.set(s.data, at);
    at += s.data.length;
  }
  return out;
}

/**
 * Pooling and normalisation of a sentence-transformers pipeline (`modules.json`): a Transformer,
 * then Pooling (mean, cls or last token), then optionally Normalize. Other modules (Dense, …)
 * are refused by name.
 */
async function sentencePipeline(folder: Folder, modules: unknown): Promise<EmbedOptions> {
  const place = folder.where('modules.json');
  if (!Array.isArray(modules)) throw new Error(`${place}: expected an array of modules, got ${describe(modules)}`);
  const out: EmbedOptions = {};
  for (const m of modules as { type?: unknown; path?: unknown }[]) {
    const type = typeof m?.type === 'string' ? m.type.split('.').pop()! : '';
    if (type === 'Transformer') continue;
    if (type === 'Normalize') { out.normalize = true; continue; }
    if (type !== 'Pooling') throw new Error(`${place}: module ${JSON.stringify(m?.type)} is not supported (Transformer, Pooling, Normalize)`);
    const dir = typeof m.path === 'string' && m.path !== '' ? `${m.path}/` : '';
    const c = await folder.json(`${dir}config.json`) as Record<string, unknown>;
    const modes = typeof c.pooling_mode === 'string' ? [c.pooling_mode]
      : Object.keys(c).filter((k) => k.startsWith('pooling_mode_') && c[k] === true).map((k) => k.slice('pooling_mode_'.length));
    const known: Record<string, EmbedOptions['pooling']> = {
      mean: 'mean', mean_tokens: 'mean', cls: 'cls', cls_token: 'cls', lasttoken: 'last',
    };
    if (modes.length !== 1 || !Object.hasOwn(known, modes[0]!)) {
      throw new Error(`${folder.where(`${dir}config.json`)}: pooling ${JSON.stringify(modes)} is not supported (one of mean, cls, lasttoken)`);
    }
    out.pooling = known[modes[0]!];
  }
  return out;
}

function positiveInt(x: unknown): number | null {
  // model_max_length is 1e30 in configs that set no limit.
  return typeof x === 'number' && Number.isInteger(x) && x > 0 && x < 2 ** 31 ? x : null;
}
