// Weights streamed into a model (fromFolder): the tensors are taken as they arrive, in whatever
// order the file holds them, across shards, in chunks of any size, and the model equals the one
// load() makes from the same bytes in memory. StreamedSafetensors on its own: every step sees its
// tensors' exact bytes, holds no more than what arrived ahead of a step, and bad streams fail.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../ts/index.js';
import { CausalLM, EncoderModel } from '../../ts/models/index.js';
import { StreamedSafetensors, type ByteStream } from '../../ts/io/safetensors-stream.js';
import { writeSafetensors } from '../helpers/safetensors.js';

// Copies, not Node Buffers: a byte stream takes over the ArrayBuffer of each chunk it is given, and
// a Buffer's slice shares (and would hand over) the Buffer's.
const text = (p: string) => new Uint8Array(readFileSync(new URL(`../fixtures/text/${p}`, import.meta.url)));
const fixture = (kind: string, name: string, file: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${kind}/${name}/${file}`, import.meta.url)));
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

/** Header entries and data section of a safetensors file. */
function split(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  delete (header as Record<string, unknown>).__metadata__;
  return { header, data: bytes.subarray(8 + n) };
}

/** A safetensors file of `names` (taken from `bytes`) in that order. */
function rewrite(bytes: Uint8Array, names: readonly string[]): Uint8Array {
  const { header, data } = split(bytes);
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const name of names) {
    const e = header[name]!, size = e.data_offsets[1] - e.data_offsets[0];
    out[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, at + size] };
    at += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(out));
  const file = new Uint8Array(8 + json.length + at);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const [b, e] = header[name]!.data_offsets;
    file.set(data.subarray(b, e), pos);
    pos += e - b;
  }
  return file;
}

/** The same file in bfloat16 (each F32 value's high half: any 16 bits are a bfloat16). */
function bfloat16(bytes: Uint8Array): Uint8Array {
  const { header, data } = split(bytes);
  const out: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(header)) {
    out[name] = { dtype: 'BF16', shape: e.shape, data_offsets: [e.data_offsets[0] / 2, e.data_offsets[1] / 2] };
  }
  const json = new TextEncoder().encode(JSON.stringify(out));
  const file = new Uint8Array(8 + json.length + data.length / 2);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  for (let i = 0; i < data.length / 4; i++) {
    file[8 + json.length + 2 * i] = data[4 * i + 2]!;
    file[8 + json.length + 2 * i + 1] = data[4 * i + 3]!;
  }
  return file;
}

/** Where `got` first differs from `want` (-1: nowhere): a cheap check for long arrays, whose diffs are slow to print. */
function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return i;
  return -1;
}

/** A folder served by a fetch stub in chunks of `chunk` bytes (a byte stream when `byob`). */
function served(files: Map<string, Uint8Array>, chunk: number, byob: boolean) {
  return async (url: string) => {
    const bytes = files.get(url.slice('https://models.example/m/'.length));
    if (bytes === undefined) return new Response(null, { status: 404 });
    const body = new ReadableStream({
      type: byob ? 'bytes' : undefined,
      start(c: ReadableStreamDefaultController<Uint8Array>) {
        for (let i = 0; i < bytes.length; i += chunk) c.enqueue(bytes.slice(i, i + chunk));
        c.close();
      },
    } as UnderlyingDefaultSource<Uint8Array>);
    return new Response(body, { headers: { 'content-length': String(bytes.length) } });
  };
}

/** The folder's weights three ways: reversed, in three shards dealt round-robin, and as they are. */
function layouts(weights: Uint8Array): [string, Map<string, Uint8Array>][] {
  const names = Object.keys(split(weights).header).sort();
  const shards = [0, 1, 2].map((k) => names.filter((_, i) => i % 3 === k));
  const index = { weight_map: Object.fromEntries(shards.flatMap((s, k) => s.map((n) => [n, `model-0000${k + 1}-of-00003.safetensors`]))) };
  return [
    ['reversed', new Map([['model.safetensors', rewrite(weights, names.slice().reverse())]])],
    ['sharded', new Map<string, Uint8Array>([
      ['model.safetensors.index.json', new TextEncoder().encode(JSON.stringify(index))],
      ...shards.map((s, k) => [`model-0000${k + 1}-of-00003.safetensors`, rewrite(weights, s)] as [string, Uint8Array]),
    ])],
    ['as written', new Map([['model.safetensors', weights]])],
  ];
}

describe('fromFolder streams the weights into the same model as load()', () => {
  const bertTokenizer = text('bert/tokenizer.json'), gpt2Tokenizer = text('gpt2/tokenizer.json');

  it.each(['bert', 'roberta', 'distilbert', 'modernbert'].flatMap((n) => [[n, 'F32'], [n, 'BF16']]))('encoder %s, %s file', async (name, dtype) => {
    const config = fixture('encoders', name, 'config.json'), f32 = fixture('encoders', name, 'model.safetensors');
    const weights = dtype === 'F32' ? f32 : bfloat16(f32);
    const expected = JSON.parse(utf8(fixture('encoders', name, 'expected.json'))) as { shape: [number, number]; ids: number[]; attention_mask: number[] };
    const input = { ids: expected.ids, shape: expected.shape, attentionMask: expected.attention_mask };
    for (const format of ['auto', 'int8'] as const) {
      const ref = EncoderModel.load(utf8(config), weights, { weights: format });
      const want = ref.forward(input);
      try {
        for (const [how, files] of layouts(weights)) {
          files.set('config.json', config);
          files.set('tokenizer.json', bertTokenizer);
          for (const [chunk, byob] of [[997, false], [4096, true]] as const) {
            const m = await EncoderModel.fromFolder('https://models.example/m/', { fetch: served(files, chunk, byob), weights: format });
            try {
              const got = m.forward(input);
              const at = firstDifference(got.data, want.data);
              expect(at, `${name} ${format} ${how} ${chunk}: ${got.data[at]} ≠ ${want.data[at]}`).toBe(-1);
              got.dispose();
              expect(m.weightBytes).toBe(ref.weightBytes);
            } finally {
              m.dispose();
            }
          }
        }
      } finally {
        want.dispose();
        ref.dispose();
      }
    }
  });

  it.each(['gpt2', 'llama', 'mistral', 'qwen2'])('decoder %s', async (name) => {
    const config = fixture('models', name, 'config.json'), weights = fixture('models', name, 'model.safetensors');
    const ids = [1, 5, 9, 2];
    const logits = (m: CausalLM) => {
      const cache = m.createCache();
      try {
        const t = m.forward(ids, cache);
        try { return Array.from(t.data); } finally { t.dispose(); }
      } finally {
        cache.dispose();
      }
    };
    for (const format of ['auto', 'int4'] as const) {
      const ref = CausalLM.load(utf8(config), weights, { weights: format });
      const want = logits(ref);
      try {
        for (const [how, files] of layouts(weights)) {
          files.set('config.json', config);
          files.set('tokenizer.json', gpt2Tokenizer);
          const m = await CausalLM.fromFolder('https://models.example/m/', { fetch: served(files, 1013, false), weights: format });
          try {
            const got = logits(m), at = firstDifference(got, want);
            expect(at, `${name} ${format} ${how}: ${got[at]} ≠ ${want[at]}`).toBe(-1);
            expect(m.weightBytes).toBe(ref.weightBytes);
          } finally {
            m.dispose();
          }
        }
      } finally {
        ref.dispose();
      }
    }
  });

  it('a failure while streaming frees what was loaded and stops reading', async () => {
    const config = fixture('encoders', 'bert', 'config.json'), weights = fixture('encoders', 'bert', 'model.safetensors');
    const files = new Map([['config.json', config], ['tokenizer.json', bertTokenizer], ['model.safetensors', weights]]);
    const fetchCut = async (url: string) => {
      const name = url.slice('https://models.example/m/'.length), bytes = files.get(name);
      if (bytes === undefined) return new Response(null, { status: 404 });
      if (name !== 'model.safetensors') return new Response(bytes, { headers: { 'content-length': String(bytes.length) } });
      // The body breaks two thirds of the way in.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent > (bytes.length * 2) / 3) { c.error(new Error('connection reset')); return; }
          c.enqueue(bytes.slice(sent, sent + 2048));
          sent += 2048;
        },
      });
      return new Response(body, { headers: { 'content-length': String(bytes.length) } });
    };
    const { memoryStats } = await import('../../ts/index.js');
    const before = memoryStats().liveBytes;
    await expect(EncoderModel.fromFolder('https://models.example/m/', { fetch: fetchCut })).rejects.toThrow(/connection reset/);
    expect(memoryStats().liveBytes).toBe(before);
  });
});

/** A stream over `bytes` in chunks of `chunk` (the last chunk shorter), optionally with a wrong length. */
function streamOf(bytes: Uint8Array, chunk: number, place = 'file', length: number | null = bytes.length): ByteStream & { closed: boolean } {
  let at = 0;
  const s = {
    place, length, closed: false,
    next: async () => {
      if (at >= bytes.length) return null;
      const c = bytes.subarray(at, at + chunk);
      at += c.length;
      return c;
    },
    close: async () => { s.closed = true; },
  };
  return s;
}

describe('StreamedSafetensors', () => {
  // Six tensors of 100 floats; step k reads tensors k and 5 − k, so each step's first tensor arrives
  // early and waits for its last.
  const values = (k: number) => Float32Array.from({ length: 100 }, (_, i) => k * 1000 + i);
  const tensors = new Map(Array.from({ length: 6 }, (_, k) => [`t${k}`, [[10, 10], values(k)] as [number[], Float32Array]]));
  const bytes = writeSafetensors(tensors);

  it.each([1, 7, 400, 4096, bytes.length])('gives each step its tensors\' bytes (chunks of %i)', async (chunk) => {
    const st = await StreamedSafetensors.open([streamOf(bytes, chunk)]);
    const seen: string[] = [];
    const steps = [0, 1, 2].map((k) => ({
      reads: [`t${k}`, `t${5 - k}`],
      run: () => {
        for (const n of [`t${k}`, `t${5 - k}`]) {
          const t = st.file.tensor(n);
          expect(Array.from(t.data)).toEqual(Array.from(tensors.get(n)![1]));
          t.dispose();
        }
        seen.push(`step${k}`);
        // A tensor of another step is not there to read.
        expect(() => st.file.tensor(k === 2 ? 't0' : 't2')).toThrow(/read outside the load step that names it/);
      },
    }));
    await st.run(steps);
    // The steps run as their last tensors arrive: t3 (step 2) first, then t4 (step 1), t5 (step 0).
    expect(seen).toEqual(['step2', 'step1', 'step0']);
    // Held at once: t0, t1, t2 and the tensor completing a step (4 × 400 bytes), plus the tensors
    // a chunk reaches into beyond it.
    expect(st.peakHeldBytes).toBeLessThanOrEqual(Math.min(6, 4 + Math.ceil(chunk / 400)) * 400);
    expect(st.peakHeldBytes).toBeGreaterThanOrEqual(4 * 400);
  });

  it.each([[1, 400], [333, 800]])('holds one tensor at a time when the steps follow the file (chunks of %i)', async (chunk, most) => {
    const st = await StreamedSafetensors.open([streamOf(bytes, chunk)]);
    await st.run([...tensors.keys()].map((n) => ({ reads: [n], run: () => { st.file.tensor(n).dispose(); } })));
    // One tensor, and the start of the next where a chunk reaches into it.
    expect(st.peakHeldBytes).toBe(most);
  });

  it('reads tensors across shards, and tensors no step names are skipped, not kept', async () => {
    const a = writeSafetensors(new Map([...tensors].slice(0, 3))), b = writeSafetensors(new Map([...tensors].slice(3)));
    const st = await StreamedSafetensors.open([streamOf(a, 50, 'a'), streamOf(b, 50, 'b')]);
    expect(st.shardOf('t4')).toBe(1);
    let sum = 0;
    await st.run([{ reads: ['t0', 't5'], run: () => { const t = st.file.tensor('t5'); sum = t.data[1]!; t.dispose(); } }]);
    expect(sum).toBe(5001);
    expect(st.peakHeldBytes).toBe(800);
  });

  it('rejects bad streams by name and closes them', async () => {
    const cut = streamOf(bytes.subarray(0, bytes.length - 10), 64, 'cut.safetensors', null);
    const st = await StreamedSafetensors.open([cut]);
    await expect(st.run([{ reads: ['t5'], run: () => {} }])).rejects.toThrow(/cut\.safetensors: truncated file: it ended at byte \d+, its tensors end at \d+/);
    expect(cut.closed).toBe(true);
    const long = new Uint8Array(bytes.length + 3);
    long.set(bytes);
    const extra = await StreamedSafetensors.open([streamOf(long, 64, 'long', null)]);
    await expect(extra.run([])).rejects.toThrow(/long: bad file: its bytes from \d+ on belong to no tensor/);
    // A length that disagrees with the header fails before any tensor is read.
    await expect(StreamedSafetensors.open([streamOf(bytes, 64, 'lies', bytes.length + 1)])).rejects.toThrow(/lies: bad file: its last 1 bytes belong to no tensor/);
    await expect(StreamedSafetensors.open([streamOf(bytes.subarray(0, 20), 64, 'short')])).rejects.toThrow(/short: truncated file: it ended inside its header/);
    const again = [streamOf(bytes, 64, 'one'), streamOf(bytes, 64, 'two')];
    await expect(StreamedSafetensors.open(again)).rejects.toThrow(/two: tensor "t0" is also in one/);
    expect(again.every((s) => s.closed)).toBe(true);
    // A step that throws stops the reading.
    const s1 = streamOf(bytes, 64);
    const st1 = await StreamedSafetensors.open([s1]);
    await expect(st1.run([{ reads: ['t0'], run: () => { throw new Error('boom'); } }])).rejects.toThrow('boom');
    expect(s1.closed).toBe(true);
    const st2 = await StreamedSafetensors.open([streamOf(bytes, 64)]);
    await expect(st2.run([{ reads: ['nope'], run: () => {} }])).rejects.toThrow(/no tensor named "nope"/);
  });

  it('an empty tensor arrives without bytes', async () => {
    const file = writeSafetensors(new Map([['e', [[0, 4], new Float32Array(0)]]]));
    const st = await StreamedSafetensors.open([streamOf(file, 8)]);
    let shape: readonly number[] = [];
    await st.run([{ reads: ['e'], run: () => { const t = st.file.tensor('e'); shape = t.shape; t.dispose(); } }]);
    expect(shape).toEqual([0, 4]);
    expect(readSafetensors(file).entry('e').shape).toEqual([0, 4]);
  });
});
