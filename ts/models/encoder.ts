/**
 * A BERT-style encoder (BERT and its MiniLM / bge / e5 checkpoints, RoBERTa, XLM-RoBERTa,
 * DistilBERT, ModernBERT) from a Hugging Face `config.json` and safetensors weights, with the
 * sentence-transformers pooling recipe on top. Its layers are the shared transformer block
 * (`block.ts`: `Weight`/`linear` projections, fused bias + activation, residual add + norm,
 * RoPE) and attention is the fused kernel on a packed variable-length batch.
 *
 * A batch runs packed: the sentences' real tokens back to back, `T` rows in all, with row
 * offsets `[B + 1]`; every row-wise step (projections, norms, activations) works on those
 * `T` rows and only attention uses the offsets, each sentence attending to itself, so the
 * cost follows the real token count, not `B · L`. A padded `[B, L]` input with an attention
 * mask is converted (its real tokens keep their padded positions, as in transformers).
 * ```
 * h = LayerNorm(word[ids] + position[pos] (+ type[tokenTypeIds]))
 *     pos = 0 … L−1 (BERT, DistilBERT); RoBERTa: pad+1, pad+2, … over real tokens
 * per layer (post-norm):
 *     q|k|v = h·W_qkvᵀ + b;   o = attention(q, k, v) within each sentence
 *     h = LayerNorm₁(h + o·W_oᵀ + b_o)
 *     h = LayerNorm₂(h + GELU(h·W_1ᵀ + b_1)·W_2ᵀ + b_2)
 * ```
 * ModernBERT instead: no position embeddings; pre-norm layers
 * ```
 *     h += attention(RoPE(q), RoPE(k), v; window |i − j| ≤ w in local layers)·W_oᵀ   (q|k|v from LN₁(h); layer 0: h)
 *     h += (GELU(LN₂(h)·W_inᵀ) ⊙ LN₂(h)·W_gateᵀ)·W_oᵀ                              (GeGLU)
 * h = LN_final(h)
 * ```
 * with RoPE θ per layer type (global / local). Its LayerNorms have no β by default.
 *
 * Padded positions are not computed: `forward()` returns zeros there (transformers gives
 * them values that depend only on the real tokens; pooling never reads them).
 *
 * The projection weights are prepared at load in the format `weights` names (the file's
 * float dtype by default; float16/bfloat16 take half the memory, int8/int4 are quantised
 * as q8_0/q4_0); embeddings, norms and biases are float32.
 */
import {
  Tensor, add, embedding, layerNorm, matmul, readSafetensors, ropeTables, type SafetensorsFile, type TensorDType,
} from '../index.js';
import { Weight, type WeightFormat } from '../ops/linear.js';
import { callAttentionVarlen } from '../ops/attention-call.js';
import { offsetsArg, packedStrides, stageOffsets } from '../ops/attention-varlen.js';
import { ropeRows } from '../ops/elementwise.js';
import { type LoadPlan, type LoadStep, type Owned, prepare, reserveFor, runNow, storedFormat, tensorStep, weightOf, weightStep } from './load-weights.js';
import type { StreamedSafetensors } from '../io/safetensors-stream.js';
import { BlockPlan, type BlockShape, type BlockWeights, type Norm, normInto, runLayer } from '../toolkit/block.js';
import { type EncoderConfig, type EncoderJson, parseEncoderConfig } from './encoder-config.js';
import { readEncoderFolder, type FolderOptions, type FolderSource } from './folder.js';
import { checkTexts, type TextTokenizer } from './text.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

const PREFIX = 'wasm-attention: models: EncoderModel';
/** The op name weight preparation reports errors under. */
const OP_LOAD = 'EncoderModel.load';

/** Formats {@link EncoderModel.load} accepts for the projection weights (`'auto'`: the file's float dtype). */
export type EncoderWeightFormat = 'auto' | WeightFormat;

const FORMATS: readonly EncoderWeightFormat[] = ['auto', 'float32', 'float16', 'bfloat16', 'int8', 'int4'];

/** What a loader allocated, freed together on a failure or by `dispose()`. */

interface Parts {
  word: Tensor;
  /** Learned positions `[P, E]`; null with RoPE (ModernBERT). */
  positions: Tensor | null;
  /** Token-type table `[T, E]`, or null (DistilBERT). */
  types: Tensor | null;
  /** Row 0 of the token-type table `[E]`: what every token adds when no token types are given. */
  type0: Tensor | null;
  embedNorm: Norm;
  /** The blocks; `norm1` is null in ModernBERT's layer 0 (its input is the embedding norm's output). */
  layers: BlockWeights[];
  /** Global attention, or the local window (ModernBERT), per layer. */
  layerTypes: ('full' | 'sliding')[];
  /** ModernBERT's LayerNorm after the last layer. */
  finalNorm: Norm | null;
  /** β = 0 of LayerNorms without bias (a null β would make the kernel an RMSNorm). */
  zeros: Tensor;
}

/** Options of {@link EncoderModel.load}. */
export interface EncoderLoadOptions {
  /**
   * Storage of the projection weights: `'auto'` keeps the file's float dtype, `'float32'`,
   * `'float16'`, `'bfloat16'` convert (round to nearest even), `'int8'` is q8_0 (blocks of
   * 32 codes with a scale, 9 bits a weight) and `'int4'` q4_0 (5 bits),
   * quantised at load. @defaultValue 'auto'
   */
  weights?: EncoderWeightFormat;
  /**
   * The older spelling: `'file'` is `weights: 'auto'`, `'float32'` is `weights: 'float32'`.
   * @defaultValue 'file'
   */
  weightDtype?: 'file' | 'float32';
}

/** A batch of token ids for {@link EncoderModel.forward} and {@link EncoderModel.embed}. */
export interface EncoderInput {
  /** Token ids, row-major `[B, L]` (padded sentences), integers in `[0, vocab_size)`. */
  ids: ArrayLike<number>;
  /** `[B, L]`: sentences and (padded) length. */
  shape: readonly [number, number];
  /**
   * `[B, L]` row-major: 1 (or true) for a real token, 0 (or false) for padding, as a
   * tokenizer's `attention_mask`. Every sentence needs at least one real token.
   * @defaultValue every token is real
   */
  attentionMask?: ArrayLike<number | boolean>;
  /**
   * `[B, L]` segment ids (BERT sentence pairs), integers in `[0, type_vocab_size)`; not for
   * DistilBERT, which has no token types. @defaultValue all 0
   */
  tokenTypeIds?: ArrayLike<number>;
}

/**
 * A packed batch for {@link EncoderModel.forward} and {@link EncoderModel.embed}: the
 * sentences' tokens back to back, no padding, no mask. `forward` returns `[T, E]`.
 */
export interface PackedEncoderInput {
  /** Token ids of every sentence back to back, `T` in all; integers in `[0, vocab_size)`. */
  ids: ArrayLike<number>;
  /**
   * `B + 1` offsets into `ids`: sentence `b` is `ids[seqOffsets[b] … seqOffsets[b+1] − 1]`;
   * 0 first, `T` last, every sentence at least one token.
   */
  seqOffsets: ArrayLike<number>;
  /** `[T]` segment ids, as in {@link EncoderInput.tokenTypeIds}. @defaultValue all 0 */
  tokenTypeIds?: ArrayLike<number>;
}

/** How {@link EncoderModel.embed} pools a sentence's hidden states into one vector. */
export type Pooling = 'mean' | 'cls' | 'last';

/** Options of {@link EncoderModel.embed}. */
export interface EmbedOptions {
  /**
   * `'mean'`: average over the real tokens (sentence-transformers' mean pooling: MiniLM, e5,
   * most models); `'cls'`: the first real token, the `[CLS]` (bge); `'last'`: the last real token.
   * @defaultValue 'mean'
   */
  pooling?: Pooling;
  /** Divide every vector by its L2 norm (sentence-transformers' `Normalize`). @defaultValue false */
  normalize?: boolean;
  /**
   * Keep only the first `dimensions` values (Matryoshka truncation), then normalise if
   * `normalize` is set — sentence-transformers' `truncate_dim`. @defaultValue hidden_size
   */
  dimensions?: number;
  /** `'arrays'`: one `Float32Array` per sentence; `'tensor'`: one `Tensor [B, dimensions]`. @defaultValue 'arrays' */
  output?: 'arrays' | 'tensor';
}

/** A checked input: sizes, the mask as 0/1 bytes (null when every token is real), real tokens per row. */
interface Checked {
  B: number;
  L: number;
  mask: Uint8Array | null;
  counts: Int32Array;
  /** RoBERTa's position id of every token; null for 0 … L−1 in every row. */
  positionIds: Int32Array | null;
  ids: ArrayLike<number>;
  /** Token types as given; null for all 0. */
  typeIds: ArrayLike<number> | null;
}

/** Options of {@link EncoderModel.fromFolder}. */
export interface EncoderFolderOptions extends EncoderLoadOptions, FolderOptions {}

/**
 * A BERT, RoBERTa, XLM-RoBERTa, DistilBERT or ModernBERT encoder with its weights in WASM memory: token
 * ids in, last hidden states (`Tensor [B, L, E]`, or `[T, E]` for a packed input) or pooled sentence
 * embeddings out. Texts in too when loaded with {@link EncoderModel.fromFolder}, which brings the
 * folder's tokenizer. Owns WASM memory: `dispose()` (or `using`).
 */
export class EncoderModel {
  /** The resolved configuration. */
  readonly config: EncoderConfig;
  /**
   * The storage format of the projection weights. Float32, int8 and int4 ones are kept as
   * `'float32-panels'` / `'int8-panels'` / `'int4-panels'` (the GEMMs' layouts), since an
   * encoder multiplies whole batches of rows.
   */
  readonly weightFormat: WeightFormat;
  readonly #p: Parts;
  readonly #owned: Owned;
  readonly #shape: BlockShape;
  /** RoPE cos/sin tables `[P, D/2]` per layer type (ModernBERT), over every position. */
  readonly #rope: { full: RopeTable; sliding: RopeTable } | null;
  #disposed = false;
  #tokenizer: TextTokenizer | null = null;
  /** The folder's sentence-transformers pooling and normalisation, under the caller's options. */
  #embedDefaults: EmbedOptions = {};

  private constructor(config: EncoderConfig, parts: Parts, owned: Owned, format: WeightFormat,
    rope: { full: RopeTable; sliding: RopeTable } | null) {
    this.config = config;
    this.#p = parts;
    this.#owned = owned;
    this.weightFormat = format;
    this.#rope = rope;
    const c = config;
    this.#shape = {
      hidden: c.hiddenSize, heads: c.numHeads, kvHeads: c.numHeads, headDim: c.headDim, ffn: c.intermediateSize,
      activation: c.activation, eps: c.normEps, rotaryDim: c.rope === null ? 0 : c.headDim, gated: c.family === 'modernbert',
    };
  }

  /**
   * Builds the model from a Hugging Face `config.json` (object or text) and the bytes of its
   * `model.safetensors` (or a parsed {@link SafetensorsFile}), float32, float16 or bfloat16.
   * Weight names are matched with or without the family's prefix (`bert.`, `roberta.`,
   * `distilbert.`, ModernBERT's `model.`, as task-head checkpoints store them); an old checkpoint's
   * `LayerNorm.gamma`/`beta` are read as `weight`/`bias`. `options.weights` sets the projections'
   * storage format (float32, float16, bfloat16, int8 q8_0, int4 q4_0).
   */
  static load(config: EncoderJson | string, weights: SafetensorsFile | ArrayBuffer | ArrayBufferView,
    options: EncoderLoadOptions = {}): EncoderModel {
    const cfg = parseEncoderConfig(config);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${PREFIX}.load: options must be an object, got ${show(options)}`);
    }
    const format = formatOf(options, `${PREFIX}.load`);
    const isBytes = ArrayBuffer.isView(weights) || weights instanceof ArrayBuffer;
    if (!isBytes && (weights === null || typeof weights !== 'object' || typeof (weights as SafetensorsFile).has !== 'function')) {
      throw new TypeError(`${PREFIX}.load: weights must be safetensors bytes or a SafetensorsFile, got ${show(weights)}`);
    }
    const file = isBytes ? readSafetensors(weights) : weights;
    reserveFor(file, format, 'many');
    const owned: Owned = [];
    try {
      return EncoderModel.#finish(cfg, runNow(plan(cfg, file, format, owned)), owned, format);
    } catch (e) {
      for (const t of owned) t.dispose();
      throw e;
    }
  }

  /** {@link EncoderModel.load} from streamed weights: each tensor written as it arrives. */
  static async #loadStreamed(config: EncoderJson, weights: StreamedSafetensors, format: EncoderWeightFormat): Promise<EncoderModel> {
    const owned: Owned = [];
    try {
      const cfg = parseEncoderConfig(config);
      reserveFor(weights.file, format, 'many');
      const p = plan(cfg, weights.file, format, owned);
      await weights.run(p.steps);
      return EncoderModel.#finish(cfg, p.parts(), owned, format);
    } catch (e) {
      for (const t of owned) t.dispose();
      await weights.close();
      throw e;
    }
  }

  /** The model over loaded `parts` (its rotary tables made here); on failure the caller frees `owned`. */
  static #finish(cfg: EncoderConfig, parts: Parts, owned: Owned, format: EncoderWeightFormat): EncoderModel {
    const resolved = parts.layers[0]?.qkv.format ?? storedFormat(format === 'auto' ? 'float32' : format, 'many');
    let rope: { full: RopeTable; sliding: RopeTable } | null = null;
    if (cfg.rope !== null) {
      rope = { full: ropeTable(cfg.maxPositions, cfg.headDim, cfg.rope.full, owned),
        sliding: ropeTable(cfg.maxPositions, cfg.headDim, cfg.rope.sliding, owned) };
    }
    return new EncoderModel(cfg, parts, owned, resolved, rope);
  }

  /**
   * Loads a model folder — `config.json`, `model.safetensors` (or its shards and
   * `model.safetensors.index.json`), `tokenizer.json` — from a directory (Node) or a base URL
   * (fetched), so that {@link EncoderModel.embed} takes texts. A sentence-transformers folder
   * (`modules.json`) also sets `embed`'s default pooling and normalisation, and its
   * `max_seq_length` cuts long texts. The tokenizer is the optional peer dependency
   * `@huggingface/tokenizers`.
   */
  static async fromFolder(source: FolderSource, options: EncoderFolderOptions = {}): Promise<EncoderModel> {
    // Options are checked before anything is fetched (the weights may be large).
    const format = formatOf(options ?? {}, `${PREFIX}.fromFolder`);
    const folder = await readEncoderFolder(source, options, `${PREFIX}.fromFolder`);
    const model = await EncoderModel.#loadStreamed(folder.config as EncoderJson, folder.weights, format);
    model.#tokenizer = folder.tokenizer;
    model.#embedDefaults = folder.embedDefaults;
    return model;
  }

  /** The tokenizer of a model from {@link EncoderModel.fromFolder}; null for {@link EncoderModel.load}. */
  get tokenizer(): TextTokenizer | null {
    return this.#tokenizer;
  }

  /**
   * The last hidden states `[B, L, E]` (transformers' `last_hidden_state`) of a padded
   * batch, zeros at padded positions; or `[T, E]`, one row per token, of a packed input.
   * The caller disposes the tensor. Every argument is checked before anything is allocated.
   */
  forward(input: EncoderInput | PackedEncoderInput): Tensor {
    this.#live('forward');
    const c = checkAny(input, this.config, 'forward');
    const E = this.config.hiddenSize;
    return this.#run(c, (h) => {
      if (c.rows === null) return Tensor.from(h.data.subarray(0, c.T * E), [c.T, E]);
      const out = Tensor.zeros([c.B, c.L, E]);
      // One row copy per real token into its padded place (views read after the allocation).
      const src = h.data, dst = out.data;
      for (let t = 0; t < c.T; t++) dst.set(src.subarray(t * E, (t + 1) * E), c.rows[t]! * E);
      return out;
    });
  }

  /**
   * Sentence embeddings: the hidden states pooled per sentence (`pooling`), optionally
   * truncated (`dimensions`) and L2-normalised (`normalize`) — what sentence-transformers'
   * `encode` computes with its `Pooling` and `Normalize` modules. One `Float32Array` per
   * sentence, or a `Tensor [B, dimensions]` (`output: 'tensor'`, the caller disposes it).
   * A padded input runs packed: only its real tokens are computed. Texts (an array of strings) are
   * tokenised by the folder's tokenizer ({@link EncoderModel.fromFolder}).
   */
  embed(input: EncoderInput | PackedEncoderInput | readonly string[], options: EmbedOptions & { output: 'tensor' }): Tensor;
  embed(input: EncoderInput | PackedEncoderInput | readonly string[], options?: EmbedOptions & { output?: 'arrays' }): Float32Array[];
  embed(input: EncoderInput | PackedEncoderInput | readonly string[], options?: EmbedOptions): Float32Array[] | Tensor;
  embed(input: EncoderInput | PackedEncoderInput | readonly string[], options: EmbedOptions = {}): Float32Array[] | Tensor {
    this.#live('embed');
    const o = checkEmbedOptions(options === null || typeof options !== 'object' ? options : { ...this.#embedDefaults, ...options }, this.config.hiddenSize);
    const c = checkAny(Array.isArray(input) ? this.#tokenize(input, 'embed') : input as EncoderInput | PackedEncoderInput, this.config, 'embed');
    const vectors = this.#run(c, (h) => pool(h, c, o.pooling, o.dimensions));
    if (o.normalize) for (const v of vectors) normalizeInPlace(v);
    if (o.output === 'arrays') return vectors;
    const t = Tensor.empty([c.B, o.dimensions]);
    const d = t.data;
    vectors.forEach((v, b) => d.set(v, b * o.dimensions));
    return t;
  }

  /** Frees every weight. Further calls throw; calling it again does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#owned) t.dispose();
  }

  /** Same as `dispose()`, for `using`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Whether `dispose()` has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Bytes of WASM memory the weights take, projections in their storage format (16-bit
   * weights count 2 bytes an element, q8_0 9 bits, q4_0 5 bits); RoPE tables excluded.
   */
  get weightBytes(): number {
    this.#live('weightBytes');
    const r = this.#rope;
    const rope = new Set<unknown>(r ? [r.full.cos, r.full.sin, r.sliding.cos, r.sliding.sin] : []);
    let n = 0;
    for (const t of this.#owned) if (!rope.has(t) && t !== this.#p.zeros) n += t.bytes;
    return n;
  }

  /** Texts → a padded batch through the folder's tokenizer. */
  #tokenize(texts: readonly unknown[], op: string): EncoderInput {
    const at = `${PREFIX}.${op}`;
    if (texts.length > 0 && typeof texts[0] !== 'string') {
      throw new TypeError(`${at}: input must be an EncoderInput ({ ids, shape, … }) or an array of strings, got an array whose first entry is ${show(texts[0])}`);
    }
    checkTexts(texts, at);
    if (this.#tokenizer === null) throw new Error(`${at}: texts need a tokenizer: load the model with EncoderModel.fromFolder()`);
    return this.#tokenizer.encodeBatch(texts);
  }

  #live(op: string): void {
    if (this.#disposed) throw new Error(`${PREFIX}.${op}: the model was used after dispose()`);
  }

  /**
   * Embeddings of the packed tokens, then every layer on one block plan of `T` rows;
   * `finish` reads the final hidden states `[T, E]` before the plan is freed.
   */
  #run<R>(c: Packed, finish: (h: Tensor) => R): R {
    const cfg = this.config, p = this.#p, s = this.#shape, T = c.T;
    const op = 'EncoderModel.forward';
    const temps: Tensor[] = [];
    const keep = (t: Tensor) => { temps.push(t); return t; };
    let plan: BlockPlan | null = null;
    let offsets: { ptr: number; release(): void } | null = null;
    try {
      const x = keep(embedding(p.word, c.ids) as Tensor);
      if (p.positions !== null) add(x, keep(embedding(p.positions, c.positions) as Tensor), { out: x });
      if (p.types !== null) {
        if (c.types === null) add(x, p.type0!, { out: x });
        else add(x, keep(embedding(p.types, c.types) as Tensor), { out: x });
      }
      plan = new BlockPlan(s, T, { kv: false });
      layerNorm(x, p.embedNorm.gamma, p.embedNorm.beta ?? p.zeros, { eps: cfg.normEps, out: plan.h });
      for (const t of temps.splice(0)) t.dispose();
      offsets = stageOffsets(c.offsets);
      const pre = cfg.family === 'modernbert';
      for (let l = 0; l < p.layers.length; l++) {
        const attend = this.#attend(c, offsets.ptr, p.layerTypes[l]!, op);
        runLayer(s, p.layers[l]!, plan, attend, pre ? 'pre' : 'post', pre && l > 0, op);
      }
      if (pre) {
        normInto(plan, p.finalNorm!, cfg.normEps, true, op);
        return finish(plan.a);
      }
      return finish(plan.h);
    } finally {
      offsets?.release();
      plan?.dispose();
      for (const t of temps) t.dispose();
    }
  }

  /**
   * The attention step of a layer: RoPE on q and k (ModernBERT; one call per run of
   * consecutive positions, normally one per sentence), then the fused kernel over the
   * packed rows, each sentence attending to itself (within the window in local layers).
   */
  #attend(c: Packed, offsetsPtr: number, type: 'full' | 'sliding', op: string): (plan: BlockPlan) => void {
    const cfg = this.config, H = cfg.numHeads, D = cfg.headDim, E = H * D, W = 3 * E;
    const rope = this.#rope === null ? null : this.#rope[type];
    const window = type === 'sliding' ? cfg.slidingWindow! : null;
    return (plan) => {
      const base = plan.qkv.ptr;
      if (rope !== null) {
        const half = D / 2;
        for (let r = 0; r < c.runs.length; r += 3) {
          const t0 = c.runs[r]!, n = c.runs[r + 1]!, at = c.runs[r + 2]! * half * 4;
          ropeRows(base + t0 * W * 4, n, W, 2 * H, D, D, rope.cos.ptr + at, rope.sin.ptr + at, n, 0, op);
        }
      }
      const strides = { batch: 0, head: D, row: W };
      callAttentionVarlen({
        scale: 1 / Math.sqrt(D), causal: false, ...(window !== null ? { window: [window, window] as const } : {}),
        dims: { batch: 1, headsQ: H, headsKv: H, lenQ: c.T, lenK: c.T, headDim: D, valueDim: D },
        q: { ptr: base, strides }, k: { ptr: base + E * 4, strides }, v: { ptr: base + 2 * E * 4, strides },
      }, { ptr: plan.o.ptr, strides: packedStrides(H, D) }, offsetsPtr, c.B);
    };
  }
}

/** Float32 RoPE tables `[P, D/2]` in WASM memory. */
interface RopeTable { readonly cos: Tensor; readonly sin: Tensor }

function ropeTable(P: number, D: number, base: number, owned: Owned): RopeTable {
  const t = ropeTables(P, D, { base });
  const cos = Tensor.from(t.cos, [P, D / 2]);
  owned.push(cos);
  const sin = Tensor.from(t.sin, [P, D / 2]);
  owned.push(sin);
  return { cos, sin };
}

/**
 * Similarity of two embeddings, accumulated in float64: `'cosine'` (`a·b / (‖a‖·‖b‖)`, 0 when
 * either is all zeros) or `'dot'` (`a·b`, equal to cosine for normalised vectors, and cheaper).
 */
export function similarity(a: ArrayLike<number>, b: ArrayLike<number>, metric: 'cosine' | 'dot' = 'cosine'): number {
  const op = 'wasm-attention: models: similarity';
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<number>).length !== 'number') {
      throw new TypeError(`${op}: ${name} must be an array of numbers, got ${show(v)}`);
    }
  }
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(`${op}: a and b must have the same non-zero length, got ${a.length} and ${b.length}`);
  }
  if (metric !== 'cosine' && metric !== 'dot') throw new RangeError(`${op}: metric must be 'cosine' or 'dot', got ${show(metric)}`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = +a[i]!, y = +b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (metric === 'dot') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Short description of a bad value for error messages. */
function show(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === 'string') return JSON.stringify(x);
  return typeof x === 'object' ? `a ${(x as object).constructor?.name ?? 'object'}` : `${typeof x} ${String(x)}`;
}

/** Validates an input against the config (no WASM memory is touched). */
function checkInput(input: EncoderInput, cfg: EncoderConfig, op: string): Checked {
  const at = `${PREFIX}.${op}`;
  if (input === null || typeof input !== 'object') throw new TypeError(`${at}: input must be { ids, shape, attentionMask?, tokenTypeIds? }, got ${show(input)}`);
  const { ids, shape, attentionMask, tokenTypeIds } = input;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`${at}: shape must be [B, L] with positive integers, got ${Array.isArray(shape) ? `[${shape.join(', ')}]` : show(shape)}`);
  }
  const [B, L] = shape as [number, number];
  const n = B * L;
  const arrayOf = (x: unknown, name: string): ArrayLike<unknown> => {
    if (x === null || typeof x !== 'object' || typeof (x as ArrayLike<unknown>).length !== 'number') {
      throw new TypeError(`${at}: ${name} must be an array of ${n} values ([B, L] = [${B}, ${L}]), got ${show(x)}`);
    }
    const a = x as ArrayLike<unknown>;
    if (a.length !== n) throw new RangeError(`${at}: ${name} has ${a.length} values, shape [${B}, ${L}] needs ${n}`);
    return a;
  };
  const idArr = arrayOf(ids, 'ids');
  const V = cfg.vocabSize;
  for (let i = 0; i < n; i++) {
    const id = idArr[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= V) {
      throw new RangeError(`${at}: ids[${i}] = ${show(id)} is not a token id (integers in [0, ${V}))`);
    }
  }
  let mask: Uint8Array | null = null;
  const counts = new Int32Array(B).fill(L);
  if (attentionMask !== undefined) {
    const m = arrayOf(attentionMask, 'attentionMask');
    const bytes = new Uint8Array(n);
    let all = true;
    for (let i = 0; i < n; i++) {
      const x = m[i];
      if (x === 1 || x === true) bytes[i] = 1;
      else if (x === 0 || x === false) all = false;
      else throw new RangeError(`${at}: attentionMask[${i}] = ${show(x)}; use 1 (or true) for a token, 0 (or false) for padding`);
    }
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = b * L; i < (b + 1) * L; i++) s += bytes[i]!;
      if (s === 0) throw new RangeError(`${at}: attentionMask row ${b} has no real token (every sentence needs one)`);
      counts[b] = s;
    }
    if (!all) mask = bytes;
  }
  let typeIds: ArrayLike<number> | null = null;
  if (tokenTypeIds !== undefined) {
    if (cfg.typeVocabSize === 0) throw new TypeError(`${at}: tokenTypeIds given, but ${cfg.modelType} has no token types`);
    const t = arrayOf(tokenTypeIds, 'tokenTypeIds');
    for (let i = 0; i < n; i++) {
      const x = t[i];
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= cfg.typeVocabSize) {
        throw new RangeError(`${at}: tokenTypeIds[${i}] = ${show(x)} is not a token type (integers in [0, ${cfg.typeVocabSize}))`);
      }
    }
    typeIds = t as ArrayLike<number>;
  }
  let positionIds: Int32Array | null = null;
  if (cfg.family === 'roberta') {
    // transformers' create_position_ids_from_input_ids: real tokens (id ≠ pad) count from
    // pad + 1 in order, pad tokens take pad itself. It reads the ids, not the attention mask.
    const pad = cfg.padTokenId!;
    positionIds = new Int32Array(n);
    for (let b = 0; b < B; b++) {
      let count = 0;
      for (let i = b * L; i < (b + 1) * L; i++) positionIds[i] = idArr[i] === pad ? pad : pad + ++count;
      if (pad + count >= cfg.maxPositions) {
        throw new RangeError(`${at}: sentence ${b} has ${count} tokens; ${cfg.modelType} positions reach ${cfg.maxPositions - pad - 1} (max_position_embeddings ${cfg.maxPositions} − pad_token_id − 1)`);
      }
    }
  } else if (L > cfg.maxPositions) {
    throw new RangeError(`${at}: length L = ${L} exceeds max_position_embeddings ${cfg.maxPositions}`);
  }
  return { B, L, mask, counts, positionIds, ids: idArr as ArrayLike<number>, typeIds };
}

/** A batch as the packed run takes it. */
interface Packed {
  B: number;
  T: number;
  /** `[B + 1]` row offsets of the sentences. */
  offsets: Uint32Array;
  ids: Int32Array;
  /** Every token's position: the learned table's row, or its RoPE position. */
  positions: Int32Array;
  types: Int32Array | null;
  /** Runs of consecutive positions, for RoPE: (first row, rows, first position) triples. */
  runs: Int32Array;
  /** A padded input's `[B, L]` row of every token (null for a packed input), and its L. */
  rows: Int32Array | null;
  L: number;
}

/** Checks either form of input and packs it. */
function checkAny(input: EncoderInput | PackedEncoderInput, cfg: EncoderConfig, op: string): Packed {
  if (input !== null && typeof input === 'object' && 'seqOffsets' in input) return checkPacked(input, cfg, op);
  return packPadded(checkInput(input, cfg, op));
}

/** The real tokens of a checked padded batch, back to back, with their padded positions. */
function packPadded(c: Checked): Packed {
  const { B, L, mask } = c;
  let T = 0;
  for (let b = 0; b < B; b++) T += c.counts[b]!;
  const offsets = new Uint32Array(B + 1), ids = new Int32Array(T), positions = new Int32Array(T), rows = new Int32Array(T);
  const types = c.typeIds === null ? null : new Int32Array(T);
  let t = 0;
  for (let b = 0; b < B; b++) {
    offsets[b] = t;
    for (let i = 0; i < L; i++) {
      const r = b * L + i;
      if (mask !== null && mask[r] === 0) continue;
      rows[t] = r;
      ids[t] = c.ids[r]!;
      positions[t] = c.positionIds === null ? i : c.positionIds[r]!;
      if (types !== null) types[t] = c.typeIds![r]!;
      t++;
    }
  }
  offsets[B] = T;
  return { B, T, offsets, ids, positions, types, runs: positionRuns(positions, offsets), rows, L };
}

/** Checks a packed input against the config (no WASM memory is touched). */
function checkPacked(input: PackedEncoderInput, cfg: EncoderConfig, op: string): Packed {
  const at = `${PREFIX}.${op}`;
  const { ids, seqOffsets, tokenTypeIds } = input;
  if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${at}: ids must be an array of token ids, got ${show(ids)}`);
  }
  const T = ids.length;
  const offsets = offsetsArg(seqOffsets, T, `models: EncoderModel.${op}`);
  const B = offsets.length - 1;
  if (B === 0) throw new RangeError(`${at}: seqOffsets must describe at least one sentence, got [0]`);
  for (let b = 0; b < B; b++) {
    if (offsets[b + 1] === offsets[b]) {
      throw new RangeError(`${at}: sentence ${b} is empty (seqOffsets[${b}] = seqOffsets[${b + 1}] = ${offsets[b]}); every sentence needs a token`);
    }
  }
  const V = cfg.vocabSize, packed = new Int32Array(T);
  for (let i = 0; i < T; i++) {
    const id = ids[i];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= V) {
      throw new RangeError(`${at}: ids[${i}] = ${show(id)} is not a token id (integers in [0, ${V}))`);
    }
    packed[i] = id;
  }
  let types: Int32Array | null = null;
  if (tokenTypeIds !== undefined) {
    if (cfg.typeVocabSize === 0) throw new TypeError(`${at}: tokenTypeIds given, but ${cfg.modelType} has no token types`);
    if (tokenTypeIds === null || typeof tokenTypeIds !== 'object' || tokenTypeIds.length !== T) {
      throw new RangeError(`${at}: tokenTypeIds must be an array of ${T} values (one per token), got ${show(tokenTypeIds)}`);
    }
    types = new Int32Array(T);
    for (let i = 0; i < T; i++) {
      const x = tokenTypeIds[i];
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= cfg.typeVocabSize) {
        throw new RangeError(`${at}: tokenTypeIds[${i}] = ${show(x)} is not a token type (integers in [0, ${cfg.typeVocabSize}))`);
      }
      types[i] = x;
    }
  }
  const positions = new Int32Array(T);
  for (let b = 0; b < B; b++) {
    // RoBERTa counts real tokens from pad + 1 (a pad id keeps pad); the others from 0.
    const pad = cfg.family === 'roberta' ? cfg.padTokenId! : -1;
    let count = 0;
    for (let t = offsets[b]!; t < offsets[b + 1]!; t++) {
      positions[t] = pad < 0 ? t - offsets[b]! : packed[t] === pad ? pad : pad + ++count;
    }
    const top = pad < 0 ? offsets[b + 1]! - offsets[b]! - 1 : pad + count;
    if (top >= cfg.maxPositions) {
      throw new RangeError(`${at}: sentence ${b} needs position ${top}; ${cfg.modelType} has max_position_embeddings ${cfg.maxPositions}`);
    }
  }
  return { B, T, offsets, ids: packed, positions, types, runs: positionRuns(positions, offsets), rows: null, L: 0 };
}

/** Runs of consecutive positions within each sentence: (first row, rows, first position) triples. */
function positionRuns(positions: Int32Array, offsets: Uint32Array): Int32Array {
  const r: number[] = [];
  for (let b = 0; b + 1 < offsets.length; b++) {
    for (let t = offsets[b]!; t < offsets[b + 1]!; t++) {
      if (t > offsets[b]! && positions[t] === positions[t - 1]! + 1) r[r.length - 2]!++;
      else r.push(t, 1, positions[t]!);
    }
  }
  return Int32Array.from(r);
}

function checkEmbedOptions(options: EmbedOptions, E: number): Required<EmbedOptions> {
  const at = `${PREFIX}.embed`;
  if (options === null || typeof options !== 'object') throw new TypeError(`${at}: options must be an object, got ${show(options)}`);
  const pooling = options.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls' && pooling !== 'last') {
    throw new RangeError(`${at}: pooling must be 'mean', 'cls' or 'last', got ${show(pooling)}`);
  }
  const dimensions = options.dimensions ?? E;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > E) {
    throw new RangeError(`${at}: dimensions must be an integer in [1, ${E}] (hidden_size), got ${show(options.dimensions)}`);
  }
  const output = options.output ?? 'arrays';
  if (output !== 'arrays' && output !== 'tensor') throw new RangeError(`${at}: output must be 'arrays' or 'tensor', got ${show(output)}`);
  if (options.normalize !== undefined && typeof options.normalize !== 'boolean') {
    throw new TypeError(`${at}: normalize must be a boolean, got ${show(options.normalize)}`);
  }
  return { pooling, dimensions, output, normalize: options.normalize === true };
}

/**
 * Pools the packed hidden states `h [T, E]` per sentence with one product on the GEMM: a
 * weight row per sentence over the `T` rows (`1/n` on its tokens for mean, one-hot on its
 * first / last token for cls / last), as sentence-transformers' `Pooling` sums `h·mask`
 * and divides by the token count. Returns the first `dims` values of each pooled vector.
 */
function pool(h: Tensor, c: Packed, mode: Pooling, dims: number): Float32Array[] {
  const { B, T, offsets } = c, E = h.shape[1]!;
  const w = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const a = offsets[b]!, e = offsets[b + 1]!, row = b * T;
    if (mode === 'cls') w[row + a] = 1;
    else if (mode === 'last') w[row + e - 1] = 1;
    else w.fill(1 / (e - a), row + a, row + e);
  }
  const weights = Tensor.from(w, [B, T]);
  let pooled: Tensor | null = null;
  try {
    pooled = matmul(weights, h);
    const d = pooled.data;
    return Array.from({ length: B }, (_, b) => d.slice(b * E, b * E + dims));
  } finally {
    weights.dispose();
    pooled?.dispose();
  }
}

/** `v / max(‖v‖₂, 1e-12)` in place (PyTorch's `F.normalize`, which sentence-transformers' `Normalize` calls). */
function normalizeInPlace(v: Float32Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
}

/** The weight names of a family, relative to the layer prefix where per-layer. */
interface Names {
  word: string; positions: string; types: string | null; embedNorm: string;
  layer: (l: number) => string;
  q: string; k: string; v: string; out: string; norm1: string; up: string; down: string; norm2: string;
}

const BERT_NAMES: Names = {
  word: 'embeddings.word_embeddings', positions: 'embeddings.position_embeddings', types: 'embeddings.token_type_embeddings',
  embedNorm: 'embeddings.LayerNorm', layer: (l) => `encoder.layer.${l}.`,
  q: 'attention.self.query', k: 'attention.self.key', v: 'attention.self.value', out: 'attention.output.dense',
  norm1: 'attention.output.LayerNorm', up: 'intermediate.dense', down: 'output.dense', norm2: 'output.LayerNorm',
};

const DISTILBERT_NAMES: Names = {
  word: 'embeddings.word_embeddings', positions: 'embeddings.position_embeddings', types: null,
  embedNorm: 'embeddings.LayerNorm', layer: (l) => `transformer.layer.${l}.`,
  q: 'attention.q_lin', k: 'attention.k_lin', v: 'attention.v_lin', out: 'attention.out_lin',
  norm1: 'sa_layer_norm', up: 'ffn.lin1', down: 'ffn.lin2', norm2: 'output_layer_norm',
};

const FAMILY_PREFIX: Record<EncoderConfig['family'], string> = { bert: 'bert.', roberta: 'roberta.', distilbert: 'distilbert.', modernbert: 'model.' };

/**
 * The loading of every weight as steps (the embeddings, then one per layer), names and shapes
 * checked against the config first; every tensor made is pushed to `owned`.
 */
/** The weights' format from `weights` and the older `weightDtype`, checked. */
function formatOf(options: EncoderLoadOptions, at: string): EncoderWeightFormat {
  const wd = options.weightDtype;
  if (wd !== undefined && wd !== 'file' && wd !== 'float32') {
    throw new RangeError(`${at}: weightDtype must be 'file' or 'float32', got ${show(wd)}`);
  }
  const format: EncoderWeightFormat = options.weights ?? (wd === 'float32' ? 'float32' : 'auto');
  if (!FORMATS.includes(format)) {
    throw new RangeError(`${at}: weights must be ${FORMATS.map((f) => `'${f}'`).join(', ')}; got ${show(options.weights)}`);
  }
  if (options.weights !== undefined && wd !== undefined && (wd === 'float32') !== (options.weights === 'float32')) {
    throw new RangeError(`${at}: weightDtype ${show(wd)} contradicts weights ${show(options.weights)}; give one of them`);
  }
  return format;
}

/** The loading of an encoder of `c`'s family from `file`, as steps. */
function plan(c: EncoderConfig, file: SafetensorsFile, format: EncoderWeightFormat, owned: Owned): LoadPlan<Parts> {
  return c.family === 'modernbert' ? loadModernBert(c, file, format, owned) : loadParts(c, file, format, owned);
}

function loadParts(c: EncoderConfig, file: SafetensorsFile, format: EncoderWeightFormat, owned: Owned): LoadPlan<Parts> {
  const names = c.family === 'distilbert' ? DISTILBERT_NAMES : BERT_NAMES;
  // One prefix for the whole file (the one its word embedding is under), so that a file
  // holding two models' tensors is never mixed.
  const prefix = ['', FAMILY_PREFIX[c.family]].find((p) => file.has(`${p}${names.word}.weight`));
  if (prefix === undefined) {
    throw new RangeError(`${PREFIX}.load: the weights lack "${names.word}.weight" (looked with no prefix and under "${FAMILY_PREFIX[c.family]}"); is this a ${c.modelType} checkpoint?`);
  }
  const E = c.hiddenSize, F = c.intermediateSize;
  const resolve = (name: string, shape: readonly number[]): string => {
    let full = prefix + name;
    // Checkpoints from before PyTorch's LayerNorm naming store gamma/beta.
    if (!file.has(full)) full = full.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    if (!file.has(full)) throw new RangeError(`${PREFIX}.load: the weights lack "${prefix}${name}"`);
    const got = file.entry(full).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new RangeError(`${PREFIX}.load: weight "${full}" has shape [${got.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    return full;
  };
  const f32 = (full: string): Tensor => {
    const t = file.tensor(full, { dtype: 'float32' }) as Tensor;
    owned.push(t);
    return t;
  };
  const normNames = (name: string) => [resolve(`${name}.weight`, [E]), resolve(`${name}.bias`, [E])] as const;
  const norm = ([g, b]: readonly [string, string]): Norm => ({ gamma: f32(g), beta: f32(b) });
  /** Stacks `[E]` biases into one float32 tensor, one copy each from the file. */
  const stackBiases = (full: readonly string[]): Tensor => {
    const t = Tensor.empty([3 * E]);
    owned.push(t);
    let at = 0;
    for (const f of full) at += file.copyInto(f, t, at);
    return t;
  };
  const steps: LoadStep[] = [];
  const wordName = resolve(`${names.word}.weight`, [c.vocabSize, E]);
  const positionsName = resolve(`${names.positions}.weight`, [c.maxPositions, E]);
  const typesName = names.types !== null && c.typeVocabSize > 0 ? resolve(`${names.types}.weight`, [c.typeVocabSize, E]) : null;
  const embedNormNames = normNames(names.embedNorm);
  let word: Tensor | undefined, positions: Tensor | undefined, embedNorm: Norm | undefined;
  let types: Tensor | null = null, type0: Tensor | null = null;
  steps.push(tensorStep(file, wordName, owned, OP_LOAD, (t) => { word = t; }));
  steps.push(tensorStep(file, positionsName, owned, OP_LOAD, (t) => { positions = t; }));
  steps.push({
    reads: [...(typesName === null ? [] : [typesName]), ...embedNormNames],
    run: () => {
      if (typesName !== null) {
        types = f32(typesName);
        type0 = Tensor.from(types.data.subarray(0, E), [E]);
        owned.push(type0);
      }
      embedNorm = norm(embedNormNames);
    },
  });
  const layers = new Array<BlockWeights>(c.numLayers);
  for (let l = 0; l < c.numLayers; l++) {
    const p = names.layer(l), qkv = [names.q, names.k, names.v].map((n) => `${p}${n}`);
    const qkvW = qkv.map((n) => resolve(`${n}.weight`, [E, E])), qkvB = qkv.map((n) => resolve(`${n}.bias`, [E]));
    const out = resolve(`${p}${names.out}.weight`, [E, E]), outBias = resolve(`${p}${names.out}.bias`, [E]);
    const fc = resolve(`${p}${names.up}.weight`, [F, E]), fcBias = resolve(`${p}${names.up}.bias`, [F]);
    const down = resolve(`${p}${names.down}.weight`, [E, F]), downBias = resolve(`${p}${names.down}.bias`, [E]);
    const norm1 = normNames(`${p}${names.norm1}`), norm2 = normNames(`${p}${names.norm2}`);
    // The norms and biases in one step; each projection in its own, written as its rows arrive.
    const L = { up: null, upBias: null } as unknown as BlockWeights;
    layers[l] = L;
    steps.push({
      reads: [...qkvB, outBias, fcBias, downBias, ...norm1, ...norm2],
      run: () => {
        L.qkvBias = stackBiases(qkvB);
        L.outBias = f32(outBias);
        L.norm1 = norm(norm1);
        L.fcBias = f32(fcBias);
        L.downBias = f32(downBias);
        L.norm2 = norm(norm2);
      },
    });
    steps.push(weightStep(file, qkvW, format, owned, OP_LOAD, (w) => { L.qkv = w; }, 'many'));
    steps.push(weightStep(file, [out], format, owned, OP_LOAD, (w) => { L.out = w; }, 'many'));
    steps.push(weightStep(file, [fc], format, owned, OP_LOAD, (w) => { L.fc = w; }, 'many'));
    steps.push(weightStep(file, [down], format, owned, OP_LOAD, (w) => { L.down = w; }, 'many'));
  }
  const zeros = Tensor.zeros([E]);
  owned.push(zeros);
  return {
    steps,
    parts: () => ({ word: word!, positions: positions!, types, type0, embedNorm: embedNorm!, layers, layerTypes: layers.map(() => 'full'), finalNorm: null, zeros }),
  };
}

/** ModernBERT's weights (names with or without `model.`, as ModernBertForMaskedLM stores them), as steps. */
function loadModernBert(c: EncoderConfig, file: SafetensorsFile, format: EncoderWeightFormat, owned: Owned): LoadPlan<Parts> {
  const prefix = ['', 'model.'].find((p) => file.has(`${p}embeddings.tok_embeddings.weight`));
  if (prefix === undefined) {
    throw new RangeError(`${PREFIX}.load: the weights lack "embeddings.tok_embeddings.weight" (looked with no prefix and under "model."); is this a modernbert checkpoint?`);
  }
  const E = c.hiddenSize, F = c.intermediateSize;
  const resolve = (name: string, shape: readonly number[]): string => {
    const full = prefix + name;
    if (!file.has(full)) throw new RangeError(`${PREFIX}.load: the weights lack "${full}"`);
    const got = file.entry(full).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new RangeError(`${PREFIX}.load: weight "${full}" has shape [${got.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
    return full;
  };
  const f32 = (full: string): Tensor => {
    const t = file.tensor(full, { dtype: 'float32' }) as Tensor;
    owned.push(t);
    return t;
  };
  const proj = (full: string): Weight => weightOf(file, [full], format, owned, OP_LOAD, 'many');
  const zeros = Tensor.zeros([E]);
  owned.push(zeros);
  // A LayerNorm without bias is β = 0 (a null β would be an RMSNorm in the kernel).
  const normNames = (name: string) => (c.normBias ? [resolve(`${name}.weight`, [E]), resolve(`${name}.bias`, [E])] : [resolve(`${name}.weight`, [E])]);
  const norm = (n: readonly string[]): Norm => ({ gamma: f32(n[0]!), beta: n.length > 1 ? f32(n[1]!) : zeros });
  /** Rows `[from, from + n)` of a tensor as a new one of the same dtype (raw elements copied, never converted). */
  const rows = (t: Tensor<TensorDType>, from: number, n: number): Tensor<TensorDType> => {
    const cols = t.rank === 2 ? t.shape[1]! : 1;
    const r = Tensor.empty(t.rank === 2 ? [n, cols] : [n], { dtype: t.dtype });
    owned.push(r);
    (r.data as Float32Array).set((t.data as Float32Array).subarray(from * cols, (from + n) * cols));
    return r;
  };
  /** A half of Wi as a weight (the copy freed once prepared). */
  const half = (t: Tensor<TensorDType>, from: number): Weight => {
    const r = rows(t, from, F);
    owned.splice(owned.indexOf(r), 1);
    return prepare(r, format, owned, 'many');
  };
  const steps: LoadStep[] = [];
  const layers = new Array<BlockWeights>(c.numLayers);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `layers.${l}.`;
    // Wi [2F, E] is chunked by transformers into (input, gate): the first F rows are activated
    // (the block's `fc`), the second F multiply (its `up`).
    const wiFull = resolve(`${p}mlp.Wi.weight`, [2 * F, E]);
    const wiBiasName = c.mlpBias ? resolve(`${p}mlp.Wi.bias`, [2 * F]) : null;
    const norm1 = l === 0 ? null : normNames(`${p}attn_norm`), norm2 = normNames(`${p}mlp_norm`);
    const qkv = resolve(`${p}attn.Wqkv.weight`, [3 * E, E]), qkvBias = c.attentionBias ? resolve(`${p}attn.Wqkv.bias`, [3 * E]) : null;
    const out = resolve(`${p}attn.Wo.weight`, [E, E]), outBias = c.attentionBias ? resolve(`${p}attn.Wo.bias`, [E]) : null;
    const down = resolve(`${p}mlp.Wo.weight`, [E, F]), downBias = c.mlpBias ? resolve(`${p}mlp.Wo.bias`, [E]) : null;
    const reads = [wiFull, wiBiasName, ...(norm1 ?? []), ...norm2, qkv, qkvBias, out, outBias, down, downBias]
      .filter((x): x is string => x !== null);
    steps.push({
      reads,
      run: () => {
        const wi = file.tensor(wiFull);
        owned.push(wi);
        const wiBias = wiBiasName === null ? null : f32(wiBiasName);
        layers[l] = {
          norm1: norm1 === null ? null : norm(norm1),
          qkv: proj(qkv), qkvBias: qkvBias === null ? null : f32(qkvBias),
          out: proj(out), outBias: outBias === null ? null : f32(outBias),
          norm2: norm(norm2),
          fc: half(wi, 0), fcBias: wiBias && rows(wiBias, 0, F) as Tensor,
          up: half(wi, F), upBias: wiBias && rows(wiBias, F, F) as Tensor,
          down: proj(down), downBias: downBias === null ? null : f32(downBias),
        };
        // The halves are copies: the whole Wi is not kept.
        owned.splice(owned.indexOf(wi), 1);
        wi.dispose();
        if (wiBias) { owned.splice(owned.indexOf(wiBias), 1); wiBias.dispose(); }
      },
    });
  }
  const wordName = resolve('embeddings.tok_embeddings.weight', [c.vocabSize, E]);
  const embedNormNames = normNames('embeddings.norm'), finalNormNames = normNames('final_norm');
  let word: Tensor | undefined, embedNorm: Norm | undefined, finalNorm: Norm | undefined;
  steps.push(tensorStep(file, wordName, owned, OP_LOAD, (t) => { word = t; }));
  steps.push({ reads: embedNormNames, run: () => { embedNorm = norm(embedNormNames); } });
  steps.push({ reads: finalNormNames, run: () => { finalNorm = norm(finalNormNames); } });
  return {
    steps,
    parts: () => ({
      word: word!, positions: null, types: null, type0: null, embedNorm: embedNorm!, layers, layerTypes: c.layerTypes.slice(),
      finalNorm: finalNorm!, zeros,
    }),
  };
}
