/**
 * Safetensors files read as streams (a fetched body, a file read in order), so that a model
 * loads without a copy of the whole file in memory.
 *
 * The headers come first: they are read and checked as `readSafetensors` checks them, and give
 * a `SafetensorsFile` whose entries are all known but whose bytes arrive later. The loader then
 * hands over its work as steps, each naming the tensors it reads. The steps run in the order
 * in which their last tensor arrives; a tensor's bytes are kept from its first byte until the
 * last step that reads it has run, except for a step that takes its tensors' bytes as they
 * come (a weight, written row by row into its place). So what is held at once is the
 * tensors that arrived ahead of their step (in a file whose tensors are grouped by layer, about
 * one layer), never the file.
 * A sharded model is its shards' streams one after another.
 * @internal
 */
import { headerEntries, headerLength, SafetensorsFile, type SafetensorsEntry } from './safetensors.js';

/** Bytes arriving in order: a response body or a file. @internal */
export interface ByteStream {
  /** Where the bytes come from, for messages. */
  readonly place: string;
  /** The total length, when known (a `Content-Length`, a file's size): the stream checks it. */
  readonly length: number | null;
  /** The next chunk (valid until the next call), or null at the end. */
  next(): Promise<Uint8Array | null>;
  /** Stops reading early; idempotent. */
  close(): Promise<void>;
}

/** A piece of a model's loading: the file's tensors it reads, and the code that reads them. @internal */
export interface LoadStep {
  readonly reads: readonly string[];
  run(): void;
  /**
   * Takes the bytes of the step's tensors piece by piece as they arrive (each tensor's in
   * order), so that they are never held whole; `run` then ends the step. Without it (or from
   * bytes in memory) `run` reads the tensors from the file.
   */
  readonly take?: (name: string, bytes: Uint8Array) => void;
}

/** One stream's position and its part of the entries. */
interface Shard {
  readonly stream: ByteStream;
  /** Entries in the order of their bytes. */
  readonly entries: SafetensorsEntry[];
  /** Where the tensors end (absolute position in the stream). */
  readonly end: number;
  /** Bytes read so far (absolute position in the stream). */
  pos: number;
  /** Index of the first entry not yet passed. */
  next: number;
  /** Bytes read with the header but belonging to the data. */
  leftover: Uint8Array | null;
}

/** A tensor being received. */
interface Incoming { bytes: Uint8Array; filled: number }

/** Safetensors headers read from streams; their tensors follow as {@link StreamedSafetensors.run} needs them. @internal */
export class StreamedSafetensors {
  /** The entries of every shard, their bytes readable once they have arrived. */
  readonly file: SafetensorsFile;
  readonly #shards: Shard[];
  readonly #shardOf: Map<string, number>;
  readonly #resident = new Map<string, Uint8Array>();
  /** The tensors the running step may read. */
  #reading: ReadonlySet<string> = new Set();
  /** The most bytes held at once (tensors arrived ahead of their steps). */
  #peak = 0;
  #held = 0;

  private constructor(shards: Shard[], shardOf: Map<string, number>, entries: Map<string, SafetensorsEntry>,
    metadata: Record<string, string>) {
    this.#shards = shards;
    this.#shardOf = shardOf;
    this.file = SafetensorsFile.streamed(entries, metadata, (e) => {
      const b = this.#reading.has(e.name) ? this.#resident.get(e.name) : undefined;
      if (b === undefined) throw new Error(`wasm-attention: safetensors: tensor "${e.name}" was read outside the load step that names it`);
      return b;
    });
  }

  /**
   * Reads and checks the header of each stream (a shard each; the names must not repeat
   * across shards). Closes every stream if one fails.
   */
  static async open(streams: readonly ByteStream[]): Promise<StreamedSafetensors> {
    const shards: Shard[] = [];
    const entries = new Map<string, SafetensorsEntry>(), shardOf = new Map<string, number>();
    let metadata: Record<string, string> = {};
    try {
      for (const [i, stream] of streams.entries()) {
        const fail = (what: string): never => { throw new RangeError(`wasm-attention: safetensors: ${stream.place}: ${what}`); };
        const reader = new Exact(stream);
        const n = headerLength(await reader.take(8, fail), fail);
        const json = await reader.take(n, fail);
        const start = 8 + n;
        const header = headerEntries(json, start, stream.length === null ? null : stream.length - start, fail);
        for (const [name, e] of header.entries) {
          if (entries.has(name)) fail(`tensor "${name}" is also in ${streams[shardOf.get(name)!]!.place}`);
          entries.set(name, e);
          shardOf.set(name, i);
        }
        if (i === 0) metadata = header.metadata;
        shards.push({
          stream, entries: [...header.entries.values()].sort((a, b) => a.begin - b.begin), end: header.end,
          pos: start, next: 0, leftover: reader.rest(),
        });
      }
    } catch (e) {
      await Promise.all(streams.map((s) => s.close().catch(() => {})));
      throw e;
    }
    return new StreamedSafetensors(shards, shardOf, entries, metadata);
  }

  /** The index of the stream holding tensor `name` (its shard). */
  shardOf(name: string): number {
    this.file.entry(name);
    return this.#shardOf.get(name)!;
  }

  /** The most bytes of tensors held at once by {@link run} so far. */
  get peakHeldBytes(): number {
    return this.#peak;
  }

  /**
   * Runs `steps`, each once the tensors it reads have arrived, reading the streams to their
   * ends (so that their lengths are checked). Every name a step reads must be an entry.
   * On failure the streams are closed.
   */
  async run(steps: readonly LoadStep[]): Promise<void> {
    try {
      const refs = new Map<string, number>(), takers = new Map<string, { step: LoadStep; taken: number }>();
      for (const s of steps) {
        if (s.take !== undefined) {
          for (const n of s.reads) {
            this.file.entry(n);
            if (takers.has(n)) throw new Error(`wasm-attention: safetensors: two load steps take the bytes of "${n}"`);
            takers.set(n, { step: s, taken: 0 });
          }
          continue;
        }
        for (const n of s.reads) refs.set(n, (refs.get(n) ?? 0) + 1);
      }
      // A step's place: the position of the last byte it reads; steps reading nothing run last.
      const place = (s: LoadStep): [number, number] => {
        let shard = Infinity, end = Infinity;
        for (const n of s.reads) {
          const i = this.#shardOf.get(n)!, e = this.file.entry(n).end;
          if (shard === Infinity || i > shard || (i === shard && e > end)) { shard = i; end = e; }
        }
        return [shard, end];
      };
      const order = steps.map((s) => ({ s, at: place(s) }))
        .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || 0);
      const incoming = new Map<string, Incoming>();
      for (const n of [...refs.keys(), ...takers.keys()]) {
        const e = this.file.entry(n);
        if (e.end === e.begin) this.#resident.set(n, new Uint8Array(0));
      }
      const arrived = (n: string) => {
        if (this.#resident.has(n)) return true;
        const t = takers.get(n), e = this.file.entry(n);
        return t !== undefined && t.taken === e.end - e.begin;
      };
      let shard = 0;
      for (const { s } of order) {
        while (!s.reads.every(arrived)) {
          if (shard >= this.#shards.length) throw new Error('wasm-attention: safetensors: the streams ended before every tensor arrived');
          if (!(await this.#pump(this.#shards[shard]!, refs, takers, incoming))) shard++;
        }
        this.#reading = new Set(s.reads);
        try {
          s.run();
        } finally {
          this.#reading = new Set();
        }
        if (s.take !== undefined) continue;
        for (const n of s.reads) {
          const left = refs.get(n)! - 1;
          refs.set(n, left);
          if (left === 0) {
            this.#held -= this.#resident.get(n)!.length;
            this.#resident.delete(n);
          }
        }
      }
      for (; shard < this.#shards.length; shard++) while (await this.#pump(this.#shards[shard]!, refs, takers, incoming));
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Closes every stream (after a failure, or to give up). */
  async close(): Promise<void> {
    this.#resident.clear();
    await Promise.all(this.#shards.map((s) => s.stream.close().catch(() => {})));
  }

  /**
   * Reads one chunk of `shard` and keeps the bytes of the tensors some step still reads;
   * false at the stream's end (after checking that every tensor arrived).
   */
  async #pump(shard: Shard, refs: Map<string, number>, takers: Map<string, { step: LoadStep; taken: number }>,
    incoming: Map<string, Incoming>): Promise<boolean> {
    let chunk = shard.leftover;
    shard.leftover = null;
    if (chunk === null) chunk = await shard.stream.next();
    if (chunk === null) {
      if (shard.pos < shard.end) {
        throw new RangeError(`wasm-attention: safetensors: ${shard.stream.place}: truncated file: it ended at byte ${shard.pos}, its tensors end at ${shard.end}`);
      }
      return false;
    }
    const from = shard.pos, to = from + chunk.length;
    if (to > shard.end) {
      throw new RangeError(`wasm-attention: safetensors: ${shard.stream.place}: bad file: its bytes from ${shard.end} on belong to no tensor`);
    }
    const list = shard.entries;
    for (let i = shard.next; i < list.length && list[i]!.begin < to; i++) {
      const e = list[i]!;
      const taker = takers.get(e.name);
      if (taker !== undefined) {
        const a = Math.max(e.begin + taker.taken, from), b = Math.min(e.end, to);
        if (b > a) {
          taker.step.take!(e.name, chunk.subarray(a - from, b - from));
          taker.taken += b - a;
        }
      }
      if ((refs.get(e.name) ?? 0) > 0 && !this.#resident.has(e.name)) {
        let got = incoming.get(e.name);
        if (got === undefined) {
          got = { bytes: new Uint8Array(e.end - e.begin), filled: 0 };
          incoming.set(e.name, got);
          this.#held += got.bytes.length;
          this.#peak = Math.max(this.#peak, this.#held);
        }
        const a = Math.max(e.begin, from), b = Math.min(e.end, to);
        if (b > a) got.bytes.set(chunk.subarray(a - from, b - from), a - e.begin);
        got.filled += Math.max(0, b - a);
        if (got.filled === got.bytes.length) {
          this.#resident.set(e.name, got.bytes);
          incoming.delete(e.name);
        }
      }
      if (e.end <= to) shard.next = i + 1;
    }
    shard.pos = to;
    return true;
  }
}

/** Reads exact byte counts from a stream (for its header), keeping what follows. */
class Exact {
  readonly #stream: ByteStream;
  #buf: Uint8Array = new Uint8Array(0);

  constructor(stream: ByteStream) {
    this.#stream = stream;
  }

  /** The next `n` bytes (a copy). */
  async take(n: number, fail: (what: string) => never): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < n) {
      if (this.#buf.length === 0) {
        const c = await this.#stream.next();
        if (c === null) fail(`truncated file: it ended inside its header (${have} of the ${n} bytes wanted)`);
        this.#buf = c!.slice();
      }
      const k = Math.min(n - have, this.#buf.length);
      parts.push(this.#buf.subarray(0, k));
      this.#buf = this.#buf.subarray(k);
      have += k;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  /** The bytes read past the last `take`, or null. */
  rest(): Uint8Array | null {
    return this.#buf.length > 0 ? this.#buf : null;
  }
}
