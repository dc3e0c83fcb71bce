/**
 * A decoder-only transformer language model (GPT-2 or the LLaMA family) from a Hugging
 * Face `config.json` and its safetensors weights. Each block is the planned sequence of
 * kernel calls in `block.ts`; attention reads and writes the cache in place.
 *
 * One forward pass over `n` new tokens at cache position `p` (pre-norm blocks):
 * ```
 * h = embed(ids) (+ learned positions p … p+n−1, GPT-2)
 * per layer:  a = norm₁(h);  q|k|v = a·W_qkvᵀ (+ b);  RoPE(q, k) at p … (LLaMA)
 *             cache.append(k, v);  o = cache.attend(q)  (causal, grouped-query)
 *             h += o·W_oᵀ (+ b);   h += MLP(norm₂(h))
 * logits = norm_f(h)·W_lmᵀ   (W_lm = the token embedding when tied)
 * ```
 * Prefill from an empty cache and one-token decode steps are both causal with the
 * diagonal bottom-right aligned, which is what the cache's attention does; a prompt can
 * also be fed in chunks (each chunk's queries are the newest cached rows).
 *
 * Weights are prepared once at load in the format `load` is given (`weights`): the
 * file's own float dtype by default, or float32, float16, bfloat16, int8 (q8_0) or int4
 * (q4_0). The token embedding is stored in the same format (rows are widened or
 * dequantised when looked up) and is the lm_head when tied; norms, biases and GPT-2's
 * learned positions are float32. Activations live in buffers planned once per token
 * count (the one-token plan is kept for decoding). One sequence per cache (batch 1).
 */
import {
  KVCache, Tensor, readSafetensors, ropeTables, transpose, SafetensorsFile, type TensorDType,
} from '../index.js';
import { Weight, type WeightFormat } from '../ops/linear.js';
import { addRows } from '../ops/elementwise.js';
import * as raw from '../raw.js';
import { describe } from '../shape.js';
import { checkGenerate } from './generate-args.js';
import { readDecoderFolder, type FolderOptions, type FolderSource } from './folder.js';
import { generateText, type TextGenerateOptions, type TextGenerateResult, type TextTokenizer } from './text.js';
import { type DecoderConfig, parseConfig } from './config.js';
import { type SamplingOptions, sampleToken, seededRandom } from './sampling.js';
import { type LoadPlan, type LoadStep, type Owned, prepare, reserveFor, runNow, weightStep } from './load-weights.js';
import type { StreamedSafetensors } from '../io/safetensors-stream.js';
import { type CacheDType } from '../dtype.js';
import { BlockPlan, type BlockShape, type BlockWeights, type Norm, type RopeTables, normInto, runBlock } from '../toolkit/block.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/** Formats {@link CausalLM.load} accepts for the projection, embedding and lm_head weights. */
export type ModelWeightFormat = 'auto' | WeightFormat;

const MODEL_FORMATS: readonly ModelWeightFormat[] = ['auto', 'float32', 'float16', 'bfloat16', 'int8', 'int4'];

/**
 * Weight bytes above which a decode step is taken to have evicted each layer's K/V from
 * cache before that layer runs again (a last-level cache of this size; 32 MiB is one
 * Zen CCD's L3): the attention then reads them in its streaming order.
 */
const COLD_KV_WEIGHT_BYTES = 32 * 2 ** 20;

/** Options of {@link CausalLM.load}. */
export interface LoadOptions {
  /**
   * Storage of the projection, embedding and lm_head weights: `'auto'` keeps the file's
   * float dtype; `'int8'` is q8_0 (blocks of 32 codes with a scale, 9 bits a weight) and
   * `'int4'` q4_0 (5 bits), quantised at load. @defaultValue 'auto'
   */
  weights?: ModelWeightFormat;
}

interface Parts { embed: Weight; positions: Tensor | null; layers: BlockWeights[]; finalNorm: Norm; lmHead: Weight }

/** What a loader allocated, freed together on a failure or by `dispose()`. */

/** Options of {@link CausalLM.forward}. */
export interface ForwardOptions {
  /** Logits of every new position (`'all'`, as transformers returns them) or of the last only. @defaultValue 'all' */
  logits?: 'all' | 'last';
}

/** Options of {@link CausalLM.generate}. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to produce at most. */
  maxNewTokens: number;
  /** End-of-sequence logits are blocked until this many tokens exist (transformers' `min_new_tokens`). @defaultValue 0 */
  minNewTokens?: number;
  /** Ids that stop generation (included in the output). @defaultValue the config's `eos_token_id` */
  eosTokenIds?: readonly number[];
  /** Seed of the sampling generator. @defaultValue 0 */
  seed?: number;
  /** A cache to continue from (the prompt is appended to it); a new one when omitted, disposed at the end. */
  cache?: DecoderCache;
  /** Called with every new token as it is chosen; return `false` to stop. */
  onToken?: (id: number, index: number) => boolean | void;
}

/** What {@link CausalLM.generate} returns. */
export interface GenerateResult {
  /** The new token ids (not the prompt). */
  readonly ids: number[];
  /** Why it stopped. */
  readonly stop: 'length' | 'eos' | 'callback';
}

/** The per-layer key/value caches of one sequence. Owns WASM memory: `dispose()`. */
export class DecoderCache {
  /** One cache per layer. */
  readonly layers: readonly KVCache[];
  /** Capacity in positions. */
  readonly maxLength: number;

  /** @internal */
  constructor(layers: KVCache[], maxLength: number) {
    this.layers = Object.freeze(layers);
    this.maxLength = maxLength;
  }

  /** Positions held (the keys a new token attends to; at most the window with a sliding window). */
  get length(): number {
    return this.layers[0]!.length;
  }

  /** Positions decoded so far: the position of the next token. */
  get position(): number {
    return this.layers[0]!.position;
  }

  /** Sliding window of the caches, if any. */
  get window(): number | undefined {
    return this.layers[0]!.window;
  }

  /** Drops all but the first `n` held positions (e.g. to re-decode from a shared prompt). */
  truncate(n: number): this {
    this.#live();
    for (const c of this.layers) c.truncate(n);
    return this;
  }

  /** Empties the cache, keeping its memory. */
  clear(): this {
    this.#live();
    for (const c of this.layers) c.clear();
    return this;
  }

  /** Whether `dispose()` has been called (on this cache or any of its layers). */
  get disposed(): boolean {
    return this.layers.some((c) => c.disposed);
  }

  #live(): void {
    if (this.disposed) throw new Error('wasm-attention: models: DecoderCache used after dispose()');
  }

  /** Frees every layer's buffers. */
  dispose(): void {
    for (const c of this.layers) c.dispose();
  }

  /** Same as `dispose()`, for `using`. */
  [disposeSymbol](): void {
    this.dispose();
  }
}

/** Options of {@link CausalLM.fromFolder}. */
export interface CausalLMFolderOptions extends LoadOptions, FolderOptions {}

/**
 * A GPT-2 or LLaMA-family causal language model with its weights in WASM memory. Token
 * ids in, logits (`Tensor [n, vocab]`) and generated ids out; text in and out too when
 * loaded with {@link CausalLM.fromFolder}, which brings the folder's tokenizer.
 */
export class CausalLM {
  /** The resolved configuration. */
  readonly config: DecoderConfig;
  /** The storage format of the projection, embedding and lm_head weights. */
  readonly weightFormat: WeightFormat;
  /** `[V, E]` token embedding (looked up by row). */
  readonly #embed: Weight;
  readonly #positions: Tensor | null;
  readonly #layers: BlockWeights[];
  readonly #finalNorm: Norm;
  /** `[V, E]`; the embedding itself when tied. */
  readonly #lmHead: Weight;
  readonly #owned: Owned;
  readonly #shape: BlockShape;
  /** Whether a step's weights evict the layers' K/V from cache (`COLD_KV_WEIGHT_BYTES`). */
  readonly #coldKv: boolean;
  #rope: RopeTables | null = null;
  /** The one-token plan, kept for decoding. */
  #step: BlockPlan | null = null;
  #disposed = false;
  #tokenizer: TextTokenizer | null = null;

  private constructor(config: DecoderConfig, parts: Parts, owned: Owned) {
    this.config = config;
    this.#embed = parts.embed;
    this.#positions = parts.positions;
    this.#layers = parts.layers;
    this.#finalNorm = parts.finalNorm;
    this.#lmHead = parts.lmHead;
    this.#owned = owned;
    this.weightFormat = parts.lmHead.format;
    this.#shape = {
      hidden: config.hiddenSize, heads: config.numHeads, kvHeads: config.numKvHeads, headDim: config.headDim,
      ffn: config.intermediateSize, activation: config.activation, eps: config.normEps, rotaryDim: config.rotaryDim,
      gated: config.family !== 'gpt2',
    };
    this.#coldKv = this.weightBytes > COLD_KV_WEIGHT_BYTES;
  }

  /**
   * Builds the model from a Hugging Face `config.json` (object or text) and the bytes of
   * its `model.safetensors` (or a parsed {@link SafetensorsFile}). Weight names are
   * matched with or without the `transformer.` / `model.` prefix. Each weight is copied
   * (and converted or quantised) into WASM memory once, one tensor at a time.
   */
  static load(config: Record<string, unknown> | string, weights: SafetensorsFile | ArrayBuffer | ArrayBufferView,
    options: LoadOptions = {}): CausalLM {
    const bytes = ArrayBuffer.isView(weights) || weights instanceof ArrayBuffer;
    if (!bytes && !(weights instanceof SafetensorsFile)) {
      throw new TypeError(`wasm-attention: models: CausalLM.load: weights must be the bytes of model.safetensors (an ArrayBuffer, ` +
        `Uint8Array or Buffer) or a SafetensorsFile from readSafetensors(), got ${describe(weights)}`);
    }
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: models: CausalLM.load: options must be an object, got ${describe(options)}`);
    }
    const format = options.weights ?? 'auto';
    if (!MODEL_FORMATS.includes(format)) {
      throw new TypeError(`wasm-attention: models: CausalLM.load: weights must be ${MODEL_FORMATS.map((f) => `'${f}'`).join(', ')}; got ${describe(format)}`);
    }
    const cfg = parseConfig(config);
    const file = bytes ? readSafetensors(weights) : weights;
    reserveFor(file, format, 'any');
    const owned: Owned = [];
    try {
      return new CausalLM(cfg, runNow(plan(cfg, file, format, owned)), owned);
    } catch (e) {
      for (const t of owned) t.dispose();
      throw e;
    }
  }

  /** {@link CausalLM.load} from streamed weights: each tensor written as it arrives. */
  static async #loadStreamed(config: Record<string, unknown>, weights: StreamedSafetensors, format: ModelWeightFormat): Promise<CausalLM> {
    const owned: Owned = [];
    try {
      const cfg = parseConfig(config);
      reserveFor(weights.file, format, 'any');
      const p = plan(cfg, weights.file, format, owned);
      await weights.run(p.steps);
      return new CausalLM(cfg, p.parts(), owned);
    } catch (e) {
      for (const t of owned) t.dispose();
      await weights.close();
      throw e;
    }
  }

  /**
   * Loads a model folder — `config.json`, `model.safetensors` (or its shards and
   * `model.safetensors.index.json`), `tokenizer.json` — from a directory (Node) or a base URL
   * (fetched), so that {@link CausalLM.generate} takes a text prompt and gives text. The
   * tokenizer is the optional peer dependency `@huggingface/tokenizers`.
   */
  static async fromFolder(source: FolderSource, options: CausalLMFolderOptions = {}): Promise<CausalLM> {
    // Options are checked before anything is fetched (the weights may be large).
    if (options?.weights !== undefined && !MODEL_FORMATS.includes(options.weights)) {
      throw new TypeError(`wasm-attention: models: CausalLM.fromFolder: weights must be ${MODEL_FORMATS.map((f) => `'${f}'`).join(', ')}; got ${describe(options.weights)}`);
    }
    const folder = await readDecoderFolder(source, options, 'wasm-attention: models: CausalLM.fromFolder');
    const model = await CausalLM.#loadStreamed(folder.config, folder.weights, options.weights ?? 'auto');
    model.#tokenizer = folder.tokenizer;
    return model;
  }

  /** The tokenizer of a model from {@link CausalLM.fromFolder}; null for {@link CausalLM.load}. */
  get tokenizer(): TextTokenizer | null {
    return this.#tokenizer;
  }

  /**
   * A cache for one sequence of up to `maxLength` positions. @defaultValue maxLength: the config's max positions
   * With a sliding window (Mistral) it keeps what the window can see, so generation may run past `maxLength`
   * (choose `maxLength ≥ 2·W` to shift rarely; see `KVCache`). `dtype` stores keys and values
   * as `KVCache` does: `'float16'`/`'bfloat16'` halve the cache, `'int8'` quarters it. @defaultValue dtype: 'float32'
   */
  createCache(options: { maxLength?: number; dtype?: CacheDType } = {}): DecoderCache {
    this.#live();
    if (options == null || typeof options !== 'object') throw new TypeError(`wasm-attention: models: createCache options must be an object, got ${describe(options)}`);
    const c = this.config, maxLength = options.maxLength ?? c.maxPositions;
    if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`wasm-attention: models: maxLength must be a positive integer, got ${String(maxLength)}`);
    if (c.family === 'gpt2' && maxLength > c.maxPositions) {
      throw new RangeError(`wasm-attention: models: maxLength ${maxLength} exceeds GPT-2's ${c.maxPositions} learned positions (n_positions)`);
    }
    const layers: KVCache[] = [];
    try {
      const window = c.slidingWindow !== null && c.slidingWindow <= maxLength ? c.slidingWindow : undefined;
      const shape = { maxLength, numKvHeads: c.numKvHeads, headDim: c.headDim, window, dtype: options.dtype };
      for (let l = 0; l < c.numLayers; l++) layers.push(new KVCache(shape));
    } catch (e) {
      for (const k of layers) k.dispose();
      throw e;
    }
    return new DecoderCache(layers, maxLength);
  }

  /**
   * Runs `ids` (the next tokens of the sequence in `cache`) through the model, appending
   * their keys and values to the cache. Returns logits `[n, vocab]` (`[1, vocab]` with
   * `logits: 'last'`), which the caller disposes.
   */
  forward(ids: ArrayLike<number>, cache: DecoderCache, options: ForwardOptions = {}): Tensor {
    this.#live();
    const c = this.config;
    if (!(cache instanceof DecoderCache) || cache.layers.length !== c.numLayers) {
      throw new TypeError('wasm-attention: models: forward needs a cache made by this model\'s createCache()');
    }
    if (cache.disposed) throw new Error('wasm-attention: models: DecoderCache used after dispose()');
    if (options == null || typeof options !== 'object') throw new TypeError(`wasm-attention: models: forward options must be an object, got ${describe(options)}`);
    if (options.logits !== undefined && options.logits !== 'last' && options.logits !== 'all') {
      throw new TypeError(`wasm-attention: models: logits must be 'all' or 'last', got ${String(options.logits)}`);
    }
    const n = ids?.length;
    if (typeof n !== 'number' || n < 1) throw new RangeError(`wasm-attention: models: forward needs at least one token id, got ${String(n)}`);
    const p0 = cache.position, held = cache.window === undefined ? cache.length : Math.min(cache.length, cache.window - 1);
    if (held + n > cache.maxLength) {
      throw new RangeError(`wasm-attention: models: ${held} cached + ${n} new positions exceed the cache's maxLength ${cache.maxLength}`);
    }
    if (this.#positions !== null && p0 + n > c.maxPositions) {
      throw new RangeError(`wasm-attention: models: position ${p0 + n - 1} is past GPT-2's ${c.maxPositions} learned positions`);
    }
    const V = c.vocabSize;
    for (let i = 0; i < n; i++) {
      const id = ids[i] as unknown;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= V) {
        throw new RangeError(`wasm-attention: models: ids[${i}] = ${String(id)} is not a row of the table [${V}, ${c.hiddenSize}] (token ids are integers in [0, ${V}))`);
      }
    }
    const E = c.hiddenSize, last = options.logits === 'last';
    const rope = this.#ropeFor(p0 + n);
    const plan = this.#planFor(n);
    try {
      // Embedding rows (widened or dequantised from the weight's format) into h.
      raw.heapU32().set(Array.from(ids as ArrayLike<number>), plan.ids.ptr >>> 2);
      raw.check(raw.wasm().wa_gather_rows(this.#embed.ptr, this.#embed.code, V, E, plan.ids.ptr, n, plan.h.ptr), 'CausalLM.forward');
      if (this.#positions !== null) {
        // GPT-2: learned positions p0 … p0+n−1, rows as contiguous as h's: one add over n·E values.
        addRows(plan.h.ptr, n * E, this.#positions.ptr + p0 * E * 4, plan.h.ptr, n * E, 1, n * E, 'CausalLM.forward');
      }
      for (let l = 0; l < c.numLayers; l++) {
        runBlock(this.#shape, this.#layers[l]!, plan, cache.layers[l]!, p0, c.attentionScale(l), rope, l > 0, this.#coldKv);
      }
      normInto(plan, this.#finalNorm, c.normEps, true, 'CausalLM.forward');
      const rows = last ? 1 : n, first = n - rows;
      const logits = Tensor.empty([rows, V]);
      try {
        raw.check(raw.wasm().wa_linear(rows, E, V, plan.a.ptr + first * E * 4, E, this.#lmHead.ptr, this.#lmHead.linearCode,
          0, logits.ptr, V), 'CausalLM.forward');
      } catch (e) {
        logits.dispose();
        throw e;
      }
      return logits;
    } finally {
      if (plan !== this.#step) plan.dispose();
    }
  }

  /**
   * Continues `prompt` token by token: greedy by default, or sampled with `temperature`,
   * `topK`, `topP` and `seed`. Stops after `maxNewTokens`, at an end-of-sequence id or
   * when `onToken` returns false. A text prompt (a model from {@link CausalLM.fromFolder}) is
   * encoded by the tokenizer, and the new tokens are decoded into `text`, streamed to `onText`.
   */
  generate(prompt: string, options: TextGenerateOptions): TextGenerateResult;
  generate(prompt: ArrayLike<number>, options: GenerateOptions): GenerateResult;
  generate(prompt: ArrayLike<number> | string, options: GenerateOptions | TextGenerateOptions): GenerateResult {
    this.#live();
    if (typeof prompt === 'string') return generateText(this.#tokenizer, prompt, options, (ids, o) => this.generate(ids, o));
    const args = checkGenerate(prompt, options, this.config.vocabSize, this.config.eosTokenIds);
    const { max, min, eos } = args;
    prompt = args.prompt;
    this.#checkRoom(options.cache, prompt.length, max);
    if (max === 0) return { ids: [], stop: 'length' };
    const random = seededRandom(args.seed);
    const cache = options.cache ?? this.createCache({ maxLength: Math.min(this.#cacheLimit(), Math.max(1, prompt.length + max)) });
    const ids: number[] = [];
    let stop: GenerateResult['stop'] = 'length';
    try {
      if (max === 0) return { ids, stop };
      let logits = this.forward(prompt, cache, { logits: 'last' });
      try {
        for (;;) {
          const row = logits.data;
          if (ids.length < min) for (const e of eos) if (e >= 0 && e < row.length) row[e] = -Infinity;
          const id = sampleToken(row, options, random);
          ids.push(id);
          if (options.onToken?.(id, ids.length - 1) === false) { stop = 'callback'; break; }
          if (eos.includes(id) && ids.length >= min) { stop = 'eos'; break; }
          if (ids.length >= max) break;
          logits.dispose();
          logits = this.forward([id], cache, { logits: 'last' });
        }
      } finally {
        logits.dispose();
      }
      return { ids, stop };
    } finally {
      if (options.cache === undefined) cache.dispose();
    }
  }

  /** Frees every weight and buffer. Further calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#owned) t.dispose();
    this.#rope?.cos.dispose();
    this.#rope?.sin.dispose();
    this.#step?.dispose();
  }

  /** Same as `dispose()`, for `using`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Bytes of WASM memory the weights take (in their storage format; a tied lm_head counts once). */
  get weightBytes(): number {
    this.#live();
    let n = 0;
    for (const t of this.#owned) n += t.bytes;
    return n;
  }

  #live(): void {
    if (this.#disposed) throw new Error('wasm-attention: models: the model was used after dispose()');
  }

  /**
   * Refuses a generation the cache cannot finish: the prompt and `max − 1` fed-back tokens
   * must fit (a sliding-window cache only needs room for the prompt, as `forward` counts).
   */
  #checkRoom(cache: DecoderCache | undefined, n: number, max: number): void {
    if (max === 0) return;
    const c = this.config, at = cache?.position ?? 0;
    if (cache !== undefined) {
      if (!(cache instanceof DecoderCache) || cache.layers.length !== c.numLayers) {
        throw new TypeError('wasm-attention: models: generate: options.cache must be a cache made by this model\'s createCache()');
      }
      if (cache.disposed) throw new Error('wasm-attention: models: DecoderCache used after dispose()');
      const w = cache.window, held = w === undefined ? cache.length : Math.min(cache.length, w - 1);
      const need = w === undefined ? held + n + max - 1 : held + n;
      if (need > cache.maxLength) {
        throw new RangeError(`wasm-attention: models: generate: ${held} cached + ${n} prompt + ${max - 1} generated positions ` +
          `exceed the cache's maxLength ${cache.maxLength} (lower maxNewTokens or use a larger cache)`);
      }
    }
    if (this.#positions !== null && at + n + max - 1 > c.maxPositions) {
      throw new RangeError(`wasm-attention: models: generate: position ${at + n + max - 2} is past GPT-2's ${c.maxPositions} learned positions (lower maxNewTokens)`);
    }
  }

  #cacheLimit(): number {
    return this.config.family === 'gpt2' ? this.config.maxPositions : Infinity;
  }

  /** Buffers for `n` tokens: the kept one-token plan, or a new one the caller disposes. */
  #planFor(n: number): BlockPlan {
    if (n !== 1) return new BlockPlan(this.#shape, n);
    this.#step ??= new BlockPlan(this.#shape, 1);
    return this.#step;
  }

  /** Float32 RoPE cos/sin tables covering positions `< upTo` (grown on demand). */
  #ropeFor(upTo: number): RopeTables | null {
    const c = this.config;
    if (c.ropeInvFreq === null) return null;
    if (this.#rope === null || this.#rope.rows < upTo) {
      const rows = Math.max(upTo, Math.min(c.maxPositions, 4096), 2 * (this.#rope?.rows ?? 0));
      const t = ropeTables(rows, c.rotaryDim, { invFreq: c.ropeInvFreq });
      const half = c.rotaryDim / 2;
      const cos = Tensor.from(t.cos, [rows, half]);
      let sin: Tensor;
      try {
        sin = Tensor.from(t.sin, [rows, half]);
      } catch (e) {
        cos.dispose();
        throw e;
      }
      this.#rope?.cos.dispose();
      this.#rope?.sin.dispose();
      this.#rope = { cos, sin, rows };
    }
    return this.#rope;
  }
}

/** Tensor `name` as float32 (norms, biases, embeddings; 16-bit files widened exactly). */
function float32(file: SafetensorsFile, name: string): Tensor {
  return file.tensor(name, { dtype: 'float32' }) as Tensor;
}

/** Finds `name` under the usual prefixes. */
function resolver(file: SafetensorsFile, prefixes: readonly string[]) {
  const find = (name: string): string | null => {
    for (const p of prefixes) if (file.has(p + name)) return p + name;
    return null;
  };
  const need = (name: string, shape: readonly number[]): string => {
    const full = find(name);
    if (full === null) {
      throw new RangeError(`wasm-attention: models: the weights lack "${name}" (looked under ${prefixes.map((p) => JSON.stringify(p)).join(', ')})`);
    }
    const got = file.entry(full).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new RangeError(`wasm-attention: models: weight "${full}" has shape [${got.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    return full;
  };
  return { find, need };
}

/** The loader's name in messages. */
const OP = 'CausalLM.load';

/** The loading of a model of `c`'s family from `file`, as steps. */
function plan(c: DecoderConfig, file: SafetensorsFile, format: ModelWeightFormat, owned: Owned): LoadPlan<Parts> {
  return c.family === 'gpt2' ? loadGpt2(c, file, format, owned) : loadLlama(c, file, format, owned);
}

function loadGpt2(c: DecoderConfig, file: SafetensorsFile, format: ModelWeightFormat, owned: Owned): LoadPlan<Parts> {
  const { need } = resolver(file, ['transformer.', '']);
  const E = c.hiddenSize, F = c.intermediateSize;
  const load = (full: string) => { const t = float32(file, full); owned.push(t); return t; };
  /** GPT-2's Conv1D stores `[in, out]`; transposed once here to the `Linear` layout `[out, in]`. */
  const conv = (full: string) => {
    const t = file.tensor(full);
    let w: Tensor<TensorDType>;
    try {
      w = transpose(t, 0, 1);
    } finally {
      t.dispose();
    }
    return prepare(w, format, owned);
  };
  const normNames = (name: string) => [need(`${name}.weight`, [E]), need(`${name}.bias`, [E])] as const;
  const norm = ([g, b]: readonly [string, string]): Norm => ({ gamma: load(g), beta: load(b) });
  const steps: LoadStep[] = [];
  const wte = need('wte.weight', [c.vocabSize, E]), wpe = need('wpe.weight', [c.maxPositions, E]);
  let embed: Weight | undefined, positions: Tensor | undefined, finalNorm: Norm | undefined, lmHead: Weight | undefined;
  steps.push(weightStep(file, [wte], format, owned, OP, (w) => { embed = w; }));
  steps.push({ reads: [wpe], run: () => { positions = load(wpe); } });
  const layers = new Array<BlockWeights>(c.numLayers);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `h.${l}.`;
    const n1 = normNames(`${p}ln_1`), n2 = normNames(`${p}ln_2`);
    const qkv = need(`${p}attn.c_attn.weight`, [E, 3 * E]), qkvBias = need(`${p}attn.c_attn.bias`, [3 * E]);
    const out = need(`${p}attn.c_proj.weight`, [E, E]), outBias = need(`${p}attn.c_proj.bias`, [E]);
    const fc = need(`${p}mlp.c_fc.weight`, [E, F]), fcBias = need(`${p}mlp.c_fc.bias`, [F]);
    const down = need(`${p}mlp.c_proj.weight`, [F, E]), downBias = need(`${p}mlp.c_proj.bias`, [E]);
    steps.push({
      reads: [...n1, ...n2, qkv, qkvBias, out, outBias, fc, fcBias, down, downBias],
      run: () => {
        layers[l] = {
          norm1: norm(n1), norm2: norm(n2),
          qkv: conv(qkv), qkvBias: load(qkvBias), out: conv(out), outBias: load(outBias),
          fc: conv(fc), fcBias: load(fcBias), up: null, upBias: null, down: conv(down), downBias: load(downBias),
        };
      },
    });
  }
  const lnf = normNames('ln_f');
  steps.push({ reads: lnf, run: () => { finalNorm = norm(lnf); } });
  const head = c.tieWordEmbeddings || !file.has('lm_head.weight') ? null : need('lm_head.weight', [c.vocabSize, E]);
  if (head !== null) steps.push(weightStep(file, [head], format, owned, OP, (w) => { lmHead = w; }));
  return { steps, parts: () => ({ embed: embed!, positions: positions!, layers, finalNorm: finalNorm!, lmHead: lmHead ?? embed! }) };
}

function loadLlama(c: DecoderConfig, file: SafetensorsFile, format: ModelWeightFormat, owned: Owned): LoadPlan<Parts> {
  const { need, find } = resolver(file, ['model.', '']);
  const E = c.hiddenSize, F = c.intermediateSize, Nq = c.numHeads * c.headDim, Nkv = c.numKvHeads * c.headDim;
  const load = (full: string) => { const t = float32(file, full); owned.push(t); return t; };
  /** Stacks `[n]` tensors into one float32 tensor (each copied once from the file). */
  const stack = (full: readonly string[]) => {
    const rows = full.reduce((s, f) => s + file.entry(f).shape[0]!, 0);
    const t = Tensor.empty([rows]);
    owned.push(t);
    let at = 0;
    for (const f of full) at += file.copyInto(f, t, at);
    return t;
  };
  const steps: LoadStep[] = [];
  const layers = new Array<BlockWeights>(c.numLayers);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `layers.${l}.`, a = `${p}self_attn.`, m = `${p}mlp.`;
    const qkvNames = ['q_proj', 'k_proj', 'v_proj'].map((x) => `${a}${x}`), qkvRows = [Nq, Nkv, Nkv];
    const norm1 = need(`${p}input_layernorm.weight`, [E]), norm2 = need(`${p}post_attention_layernorm.weight`, [E]);
    const qkv = qkvNames.map((x, i) => need(`${x}.weight`, [qkvRows[i]!, E]));
    const qkvBias = c.attentionBias ? qkvNames.map((x, i) => need(`${x}.bias`, [qkvRows[i]!])) : null;
    const out = need(`${a}o_proj.weight`, [E, Nq]);
    const outBias = c.attentionBias && find(`${a}o_proj.bias`) !== null ? need(`${a}o_proj.bias`, [E]) : null;
    const fc = need(`${m}gate_proj.weight`, [F, E]), up = need(`${m}up_proj.weight`, [F, E]), down = need(`${m}down_proj.weight`, [E, F]);
    const fcBias = c.mlpBias ? need(`${m}gate_proj.bias`, [F]) : null;
    const upBias = c.mlpBias ? need(`${m}up_proj.bias`, [F]) : null;
    const downBias = c.mlpBias ? need(`${m}down_proj.bias`, [E]) : null;
    // The norms and biases in one step; each projection in its own, written as its rows arrive.
    const small = [norm1, norm2, ...(qkvBias ?? []), outBias, fcBias, upBias, downBias].filter((x): x is string => x !== null);
    const L = {} as BlockWeights;
    layers[l] = L;
    steps.push({
      reads: small,
      run: () => {
        L.norm1 = { gamma: load(norm1), beta: null };
        L.norm2 = { gamma: load(norm2), beta: null };
        L.qkvBias = qkvBias === null ? null : stack(qkvBias);
        L.outBias = outBias === null ? null : load(outBias);
        L.fcBias = fcBias === null ? null : load(fcBias);
        L.upBias = upBias === null ? null : load(upBias);
        L.downBias = downBias === null ? null : load(downBias);
      },
    });
    steps.push(weightStep(file, qkv, format, owned, OP, (w) => { L.qkv = w; }));
    steps.push(weightStep(file, [out], format, owned, OP, (w) => { L.out = w; }));
    steps.push(weightStep(file, [fc], format, owned, OP, (w) => { L.fc = w; }));
    steps.push(weightStep(file, [up], format, owned, OP, (w) => { L.up = w; }));
    steps.push(weightStep(file, [down], format, owned, OP, (w) => { L.down = w; }));
  }
  const embedName = need('embed_tokens.weight', [c.vocabSize, E]), normName = need('norm.weight', [E]);
  if (!c.tieWordEmbeddings && !file.has('lm_head.weight') && !file.has('model.lm_head.weight')) {
    throw new RangeError('wasm-attention: models: the weights lack "lm_head.weight" and tie_word_embeddings is false');
  }
  const head = c.tieWordEmbeddings ? null : need('lm_head.weight', [c.vocabSize, E]);
  let embed: Weight | undefined, finalNorm: Norm | undefined, lmHead: Weight | undefined;
  steps.push(weightStep(file, [embedName], format, owned, OP, (w) => { embed = w; }));
  steps.push({ reads: [normName], run: () => { finalNorm = { gamma: load(normName), beta: null }; } });
  if (head !== null) steps.push(weightStep(file, [head], format, owned, OP, (w) => { lmHead = w; }));
  return { steps, parts: () => ({ embed: embed!, positions: null, layers, finalNorm: finalNorm!, lmHead: lmHead ?? embed! }) };
}
