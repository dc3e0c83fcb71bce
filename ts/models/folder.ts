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
 * The weights are not read here: their files are opened and their headers read
 * (`StreamedSafetensors`), and the model's loader then takes their tensors as they arrive, so
 * that no copy of the whole file is held. Shards are streamed one after another. A response body
 * with a `Content-Length` is held to it.
 * @internal
 */
import { describe } from '../shape.js';
import { StreamedSafetensors, type ByteStream } from '../io/safetensors-stream.js';
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
  /** The weights' headers; their tensors are read as the loader needs them. */
  readonly weights: StreamedSafetensors;
  readonly tokenizer: TextTokenizer;
  /** The sentence-transformers pipeline's pooling and normalisation; `{}` without `modules.json`. */
  readonly embedDefaults: EmbedOptions;
}

/** What the decoder loader needs from a folder. */
export interface DecoderFolder {
  readonly config: Record<string, unknown>;
  /** The weights' headers; their tensors are read as the loader needs them. */
  readonly weights: StreamedSafetensors;
  readonly tokenizer: TextTokenizer;
}

/** Reads an encoder folder; every argument is checked before the first file is read. */
export async function readEncoderFolder(source: FolderSource, options: FolderOptions, at: string): Promise<EncoderFolder> {
  const folder = openFolder(source, options, at);
  const tokenizers = await importTokenizers(options.tokenizers, at);
  const config = await folder.json('config.json') as Record<string, unknown>;
  const cfg = parseEncoderConfig(config);
  const weights = early(openWeights(folder));
  return closingOnFailure(weights, async () => {
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
  });
}

/** Reads a decoder folder; every argument is checked before the first file is read. */
export async function readDecoderFolder(source: FolderSource, options: FolderOptions, at: string): Promise<DecoderFolder> {
  const folder = openFolder(source, options, at);
  const tokenizers = await importTokenizers(options.tokenizers, at);
  const config = await folder.json('config.json') as Record<string, unknown>;
  parseConfig(config); // an unsupported model fails before its weights are fetched
  const weights = early(openWeights(folder));
  return closingOnFailure(weights, async () => {
    const [tokenizerJson, tokenizerConfig] = await Promise.all([folder.json('tokenizer.json'), folder.json('tokenizer_config.json', true)]);
    const tokenizer = new TextTokenizer(tokenizers, tokenizerJson as object, (tokenizerConfig ?? {}) as object);
    return { config, weights: await weights, tokenizer };
  });
}

/** `read()`, closing the opened weights' streams if it fails (nothing is left reading). */
async function closingOnFailure<T>(weights: Promise<StreamedSafetensors>, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    await (await weights.catch(() => null))?.close();
    throw e;
  }
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
  stream(name: string, optional?: false): Promise<ByteStream>;
  stream(name: string, optional: true): Promise<ByteStream | null>;
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

  async function stream(name: string, optional = false): Promise<ByteStream | null> {
    const place = where(name);
    if (viaDisk) {
      try {
        return await fileStream(base === null ? place : new URL(place), place);
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
    return bodyStream(res, place, at);
  }
  async function json(name: string, optional = false): Promise<unknown> {
    const st = await stream(name, optional as true);
    if (st === null) return null;
    const b = await readAll(st);
    try {
      return JSON.parse(new TextDecoder().decode(b));
    } catch (e) {
      throw new Error(`${at}: ${where(name)} is not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  return { where, stream, json } as Folder;
}

/** The part of `node:fs/promises` the folder reader uses. */
interface NodeFs {
  open(p: string | URL, flags: 'r'): Promise<{
    stat(): Promise<{ size: number }>;
    read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
    close(): Promise<void>;
  }>;
}

/** `node:fs/promises`, imported only when a path is read (the specifier hidden from bundlers). */
async function nodeFs(): Promise<NodeFs> {
  const specifier = 'node:fs/promises';
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<NodeFs>;
}

/** Bytes per read of a file or a byte-stream body: few calls, small beside any weights file. */
const CHUNK_BYTES = 4 * 2 ** 20;

/** A file read in order, `CHUNK_BYTES` at a time into one buffer; closed at its end. */
async function fileStream(path: string | URL, place: string): Promise<ByteStream> {
  const fh = await (await nodeFs()).open(path, 'r');
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (e) {
    await fh.close();
    throw e;
  }
  const buf = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(size, 1)));
  let pos = 0, closed = false;
  const close = async () => {
    if (!closed) { closed = true; await fh.close(); }
  };
  return {
    place, length: size, close,
    async next() {
      if (closed) return null;
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) {
        await close();
        if (pos !== size) throw new Error(`${place} ended after ${pos} of its ${size} bytes (it changed while read)`);
        return null;
      }
      pos += bytesRead;
      return buf.subarray(0, bytesRead);
    },
  };
}

/**
 * A response body as a stream held to its `Content-Length` (when it has one and no content
 * encoding): read through a BYOB reader into one buffer where the body is a byte stream (the
 * runtime fills it in chunks as large as it likes: 2–4× faster than taking workerd's small chunks
 * one by one), else chunk by chunk.
 */
function bodyStream(res: Response, place: string, at: string): ByteStream {
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const header = Number(res.headers.get('content-length') ?? NaN);
  const announced = Number.isSafeInteger(header) && !encoded ? header : null;
  const body = res.body;
  let byob: ReadableStreamBYOBReader | null = null, reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  if (body !== null) {
    try {
      byob = body.getReader({ mode: 'byob' });
    } catch {
      reader = body.getReader();
    }
  }
  let buffer = new ArrayBuffer(CHUNK_BYTES), filled = 0, ended = body === null;
  const close = async () => {
    if (!ended) { ended = true; await (byob ?? reader)!.cancel(); }
  };
  return {
    place, length: announced, close,
    async next() {
      if (ended) return null;
      let chunk: Uint8Array | null;
      if (byob !== null) {
        const { done, value } = await byob.read(new Uint8Array(buffer));
        // The view's buffer was transferred to the stream and back: keep the returned one.
        if (value !== undefined) buffer = value.buffer as ArrayBuffer;
        chunk = done ? null : value!;
      } else {
        const { done, value } = await reader!.read();
        chunk = done ? null : value!;
      }
      if (chunk === null) {
        ended = true;
        if (announced !== null && filled !== announced) throw new Error(`${at}: ${place} ended after ${filled} of its ${announced} bytes`);
        return null;
      }
      filled += chunk.length;
      if (announced !== null && filled > announced) {
        await close();
        throw new Error(`${at}: ${place} sent more than its Content-Length of ${announced} bytes`);
      }
      return chunk;
    },
  };
}

/** The whole of a (small) stream. */
async function readAll(stream: ByteStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let c = await stream.next(); c !== null; c = await stream.next()) {
    parts.push(c.slice());
    n += c.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * `model.safetensors`, or the shards of `model.safetensors.index.json`, opened: their headers
 * read and checked (and the index against them), their tensors not yet.
 */
async function openWeights(folder: Folder): Promise<StreamedSafetensors> {
  const single = await folder.stream('model.safetensors', true);
  if (single !== null) return StreamedSafetensors.open([single]);
  const indexPlace = folder.where('model.safetensors.index.json');
  const index = await folder.json('model.safetensors.index.json', true) as { weight_map?: unknown } | null;
  if (index === null) {
    throw new Error(`${folder.where('model.safetensors')} is missing, and so is ${indexPlace} (sharded weights)`);
  }
  const map = index.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((f) => typeof f === 'string' && f !== '')) {
    throw new Error(`${indexPlace}: weight_map must map tensor names to shard file names`);
  }
  const files = [...new Set(Object.values(map as Record<string, string>))];
  for (const f of files) {
    if (f.includes('/') || f.includes('\\') || f.startsWith('.')) throw new Error(`${indexPlace}: shard name ${JSON.stringify(f)} is not a file of the folder`);
  }
  const streams: ByteStream[] = [];
  try {
    for (const f of files) streams.push(await folder.stream(f));
  } catch (e) {
    await Promise.all(streams.map((s) => s.close().catch(() => {})));
    throw e;
  }
  const weights = await StreamedSafetensors.open(streams);
  try {
    for (const [name, f] of Object.entries(map as Record<string, string>)) {
      if (!weights.file.has(name)) throw new RangeError(`${indexPlace}: weight_map lists "${name}", which its shard ${f} lacks`);
      const holder = files[weights.shardOf(name)]!;
      if (holder !== f) throw new RangeError(`${indexPlace}: weight_map puts "${name}" in ${f}, but ${holder} holds it`);
    }
  } catch (e) {
    await weights.close();
    throw e;
  }
  return weights;
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
