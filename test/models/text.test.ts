// Text in and out: EncoderModel.fromFolder / embed(texts) and CausalLM.fromFolder / generate(text)
// against the Rust tokenizers library, sentence-transformers and transformers, on the model folders
// scripts/make-text-fixtures.py writes (tiny random models with tokenizers trained on a small corpus).
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tokenizers from '@huggingface/tokenizers';
import { CausalLM, EncoderModel } from '../../ts/models/index.js';
import { expectClose } from '../helpers/expect-close.js';

const dir = (name: string) => fileURLToPath(new URL(`../fixtures/text/${name}`, import.meta.url));
const json = <T>(name: string) => JSON.parse(readFileSync(dir(name), 'utf8')) as T;
const bert = json<{ texts: string[]; ids: number[][]; vectors: number[][]; max_seq_length: number }>('bert.json');
const gpt2 = json<{ cases: { prompt: string; ids: number[]; generated: number[]; text: string }[] }>('gpt2.json');
const TOL = 1e-5;

/** Serves test/fixtures/text over HTTP with Content-Length, counting requests per path. */
function serve(): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    let body: Buffer;
    try {
      if (path.includes('..') || !statSync(dir(path.slice(1))).isFile()) throw new Error('not a file');
      body = readFileSync(dir(path.slice(1)));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) });
  }));
}

describe('EncoderModel.fromFolder (sentence-transformers folder, WordPiece tokenizer)', () => {
  let model: EncoderModel;
  beforeAll(async () => { model = await EncoderModel.fromFolder(dir('bert')); });
  afterAll(() => model?.dispose());

  it('encodes every text to the Rust tokenizer\'s ids (lower case, accents, CJK, unknown pieces, cut at max_seq_length)', () => {
    expect(model.tokenizer!.maxLength).toBe(bert.max_seq_length);
    for (const [i, text] of bert.texts.entries()) expect(model.tokenizer!.encode(text), JSON.stringify(text)).toEqual(bert.ids[i]);
  });

  it('embed(texts) equals SentenceTransformer.encode (mean pooling, normalised, as modules.json says)', () => {
    const vectors = model.embed(bert.texts);
    vectors.forEach((v, i) => expectClose(v, bert.vectors[i]!, `embed(${JSON.stringify(bert.texts[i])})`, TOL, 0));
    // The caller's options override the folder's: unnormalised vectors point the same way.
    const raw = model.embed(bert.texts.slice(0, 2), { normalize: false });
    const norm = Math.hypot(...raw[0]!);
    expect(Math.abs(norm - 1)).toBeGreaterThan(1e-3);
    expectClose(raw[0]!.map((x) => x / norm), bert.vectors[0]!, 'unnormalised, then normalised', TOL, 0);
  });

  it('encodeBatch pads on the right with the pad token and masks the padding', () => {
    const b = model.tokenizer!.encodeBatch(['a query', '']);
    const L = bert.ids[0]!.length;
    expect(b.shape).toEqual([2, L]);
    expect(Array.from(b.ids)).toEqual([...bert.ids[0]!, ...bert.ids[6]!, ...Array(L - 2).fill(model.tokenizer!.padId)]);
    expect(model.tokenizer!.padId).toBe(0);
    expect(Array.from(b.attentionMask)).toEqual([...Array(L).fill(1), 1, 1, ...Array(L - 2).fill(0)]);
  });

  it('reads sharded weights (model.safetensors.index.json) into the same model', async () => {
    const sharded = await EncoderModel.fromFolder(dir('bert-sharded'), { tokenizers });
    try {
      // No modules.json there: embed's own defaults (mean, not normalised) apply.
      const batch = model.tokenizer!.encodeBatch(bert.texts);
      const vectors = sharded.embed(batch, { normalize: true });
      vectors.forEach((v, i) => expectClose(v, bert.vectors[i]!, `sharded ${i}`, TOL, 0));
      expect(sharded.weightBytes).toBe(model.weightBytes);
    } finally {
      sharded.dispose();
    }
  });

  it('loads from a base URL (fetched; absent optional files are 404s) and from a file: URL', async () => {
    const server = await serve();
    try {
      const remote = await EncoderModel.fromFolder(`${server.url}/bert`);
      try {
        remote.embed(bert.texts).forEach((v, i) => expectClose(v, bert.vectors[i]!, `fetched ${i}`, TOL, 0));
      } finally {
        remote.dispose();
      }
      expect(server.hits.get('/bert/model.safetensors')).toBe(1);
      const viaFetch: string[] = [];
      const shardedRemote = await EncoderModel.fromFolder(new URL(`${server.url}/bert-sharded/`), {
        fetch: (u) => { viaFetch.push(u); return fetch(u); },
      });
      shardedRemote.dispose();
      expect(viaFetch).toContain(`${server.url}/bert-sharded/model.safetensors.index.json`);
      expect(viaFetch).toContain(`${server.url}/bert-sharded/model-00003-of-00003.safetensors`);
    } finally {
      await server.close();
    }
    const local = await EncoderModel.fromFolder(pathToFileURL(dir('bert')));
    try {
      expectClose(local.embed(['a query'])[0]!, bert.vectors[0]!, 'file: URL', TOL, 0);
    } finally {
      local.dispose();
    }
  });

  it('reads bodies by the byte (BYOB) and by the chunk, and holds them to their Content-Length', async () => {
    /**
     * A fetch over the fixture folder in 1000-byte chunks whose weights body announces `lie` more
     * bytes than the file has, sends `extra` bytes more, or breaks `cut` bytes before the end.
     */
    const stub = (type: 'bytes' | undefined, { lie = 0, extra = 0, cut = 0 }) => async (url: string) => {
      const name = url.slice('https://models.example/bert/'.length);
      let bytes: Uint8Array;
      try { bytes = new Uint8Array(readFileSync(dir(`bert/${name}`))); } catch { return new Response(null, { status: 404 }); }
      const weights = name === 'model.safetensors', length = bytes.length + (weights ? lie : 0);
      if (weights) bytes = Uint8Array.from([...bytes.subarray(0, bytes.length - cut), ...new Uint8Array(extra)]);
      const body = new ReadableStream({
        type, start(c: ReadableStreamDefaultController<Uint8Array>) {
          for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.slice(i, i + 1000));
          c.close();
        },
      } as UnderlyingDefaultSource<Uint8Array>);
      return new Response(body, { headers: { 'content-length': String(length) } });
    };
    const n = statSync(dir('bert/model.safetensors')).size;
    for (const type of ['bytes', undefined] as const) {
      const m = await EncoderModel.fromFolder('https://models.example/bert/', { fetch: stub(type, {}) });
      try {
        expectClose(m.embed(['a query'])[0]!, bert.vectors[0]!, `${type ?? 'default'} stream`, TOL, 0);
      } finally {
        m.dispose();
      }
      await expect(EncoderModel.fromFolder('https://models.example/bert/', { fetch: stub(type, { cut: 1 }) }))
        .rejects.toThrow(`model.safetensors ended after ${n - 1} of its ${n} bytes`);
      await expect(EncoderModel.fromFolder('https://models.example/bert/', { fetch: stub(type, { extra: 1 }) }))
        .rejects.toThrow(`model.safetensors sent more than its Content-Length of ${n} bytes`);
      // A Content-Length that disagrees with the header fails before the tensors are read.
      await expect(EncoderModel.fromFolder('https://models.example/bert/', { fetch: stub(type, { lie: 1 }) }))
        .rejects.toThrow(/model\.safetensors: bad file: its last 1 bytes belong to no tensor/);
      // One byte short: the header's check, or the stream's when its first read brings every byte.
      await expect(EncoderModel.fromFolder('https://models.example/bert/', { fetch: stub(type, { lie: -1 }) }))
        .rejects.toThrow(new RegExp(`model\\.safetensors: truncated file: tensor ".*" ends at byte \\d+ of the data but the file holds \\d+ data bytes|model\\.safetensors sent more than its Content-Length of ${n - 1} bytes`));
    }
  });

  it('rejects bad input with errors naming it', async () => {
    await expect(EncoderModel.fromFolder(42 as never)).rejects.toThrow(/source must be a folder path or URL .*got number 42/);
    await expect(EncoderModel.fromFolder(dir('bert'), { fetch: 'x' as never })).rejects.toThrow(/options\.fetch must be a function/);
    await expect(EncoderModel.fromFolder(dir('bert'), { tokenizers: {} as never })).rejects.toThrow(/options\.tokenizers must be the @huggingface\/tokenizers module/);
    await expect(EncoderModel.fromFolder(dir('missing'))).rejects.toThrow(/cannot read .*missing\/config\.json/);
    await expect(EncoderModel.fromFolder(dir('bert'), { weightDtype: 'int8' as never })).rejects.toThrow(/weightDtype must be 'file' or 'float32', got "int8"/);
    await expect(CausalLM.fromFolder(dir('gpt2'), { weights: 'int3' as never })).rejects.toThrow(/CausalLM\.fromFolder: weights must be 'auto', .*got string int3/);
    // A decoder folder is not an encoder: refused from its config.json, before the weights are read.
    await expect(EncoderModel.fromFolder(dir('gpt2'))).rejects.toThrow(/model_type/);
    const server = await serve();
    try {
      await expect(EncoderModel.fromFolder(`${server.url}/gpt2-none/`)).rejects.toThrow(/config\.json answered 404/);
    } finally {
      await server.close();
    }
    expect(() => model.embed([] as string[])).toThrow(/texts must hold at least one string/);
    expect(() => model.embed(['a', 7] as never)).toThrow(/texts\[1\] must be a string, got number 7/);
    expect(() => model.embed([3, 4] as never)).toThrow(/an EncoderInput .* or an array of strings/);
  });

  it('a model from load() has no tokenizer and says how to get one', () => {
    const bytes = readFileSync(dir('bert/model.safetensors'));
    const plain = EncoderModel.load(readFileSync(dir('bert/config.json'), 'utf8'), bytes);
    try {
      expect(plain.tokenizer).toBeNull();
      expect(() => plain.embed(['a query'])).toThrow(/texts need a tokenizer: load the model with EncoderModel\.fromFolder\(\)/);
    } finally {
      plain.dispose();
    }
  });
});

describe('CausalLM.fromFolder (GPT-2, byte-level BPE tokenizer)', () => {
  let model: CausalLM;
  beforeAll(async () => { model = await CausalLM.fromFolder(dir('gpt2')); });
  afterAll(() => model?.dispose());

  it.each(gpt2.cases)('generate($prompt) gives transformers\' greedy ids and text', (c) => {
    expect(model.tokenizer!.encode(c.prompt)).toEqual(c.ids);
    const pieces: string[] = [];
    const r = model.generate(c.prompt, { maxNewTokens: c.generated.length, eosTokenIds: [], onText: (t) => { pieces.push(t); } });
    expect(r.ids).toEqual(c.generated);
    expect(r.text).toBe(c.text);
    expect(pieces.join('')).toBe(c.text);
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('onText returning false stops generation; id prompts still work', () => {
    const c = gpt2.cases[0]!;
    let calls = 0;
    const r = model.generate(c.prompt, { maxNewTokens: 12, eosTokenIds: [], onText: () => ++calls < 2 });
    expect(r.stop).toBe('callback');
    expect(r.ids).toEqual(c.generated.slice(0, r.ids.length));
    expect(model.generate(c.ids, { maxNewTokens: 3, eosTokenIds: [] }).ids).toEqual(c.generated.slice(0, 3));
  });

  it('rejects bad text-generation options by name', () => {
    expect(() => model.generate('The', { maxNewTokens: 2, onText: 3 as never })).toThrow(/options\.onText must be a function, got number 3/);
    expect(() => model.generate('', { maxNewTokens: 2 })).toThrow(/encodes to no tokens/);
    expect(() => model.generate('The', null as never)).toThrow(/options\.maxNewTokens is required/);
  });
});
