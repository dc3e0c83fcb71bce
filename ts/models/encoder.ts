/**
 * A BERT-style encoder (BERT and its MiniLM / bge / e5 checkpoints, RoBERTa, XLM-RoBERTa,
 * DistilBERT, ModernBERT) from a Hugging Face `config.json` and safetensors weights, with the
 * sentence-transformers pooling recipe on top. Built on the library's public API: every
 * projection on `matmul`, attention on the fused `attention` kernel with a key-padding
 * mask, embeddings, residual sums, LayerNorm and GELU from the toolkit.
 *
 * One forward pass over a right- or left-padded batch `ids [B, L]` with an attention mask:
 * ```
 * h = LayerNorm(word[ids] + position[pos] (+ type[tokenTypeIds]))
 *     pos = 0 … L−1 (BERT, DistilBERT); RoBERTa: pad+1, pad+2, … over real tokens, pad on pads
 * per layer (post-norm):
 *     q|k|v = h·W_qkvᵀ + b;   o = attention(q, k, v, mask: −∞ on padded keys)
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
 * Padded positions still get hidden states (they attend to the real tokens), as in
 * transformers; pooling ignores them. (ModernBERT: a padded query whose whole local window
 * is padding gets 0 from the kernel where transformers' eager softmax averages the masked keys.)
 *
 * The projection weights stay in the file's dtype by default (float16/bfloat16 take half
 * the memory; the GEMM widens them exactly while it packs them); embeddings, norms and
 * biases are float32.
 */
import {
  Tensor, add, applyActivation, applyRope, attention, embedding, layerNorm, matmul, readSafetensors,
  type AttentionOptions, type SafetensorsFile, type TensorDType,
} from '../index.js';
import { type EncoderConfig, type EncoderJson, parseEncoderConfig } from './encoder-config.js';
import { readEncoderFolder, type FolderOptions, type FolderSource } from './folder.js';
import { checkTexts, type TextTokenizer } from './text.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

const PREFIX = 'wasm-attention: models: EncoderModel';

/** A projection weight `[out, in]` (PyTorch `Linear` layout), float32 or the file's 16-bit dtype. */
type Weight = Tensor<TensorDType>;

/** LayerNorm parameters; `beta` null for ModernBERT's LayerNorm without bias. */
interface Norm { gamma: Tensor; beta: Tensor | null }

interface Layer {
  /** `[3E, E]`: the rows of W_q, W_k, W_v stacked, so one product makes q | k | v. */
  qkv: Weight;
  qkvBias: Tensor | null;
  /** `[E, E]`. */
  out: Weight;
  outBias: Tensor | null;
  /**
   * BERT family: the LayerNorm after the attention's residual sum. ModernBERT: the one before
   * the attention (null in layer 0, whose input is the embedding norm's output).
   */
  norm1: Norm | null;
  /** `[F, E]`: the MLP's first projection (ModernBERT: the activated half of `Wi`). */
  up: Weight;
  upBias: Tensor | null;
  /** `[F, E]`: ModernBERT's gate, the second half of `Wi` (GeGLU: `act(x·upᵀ) ⊙ x·gateᵀ`); null for BERT. */
  gate: Weight | null;
  gateBias: Tensor | null;
  /** `[E, F]`. */
  down: Weight;
  downBias: Tensor | null;
  /** BERT family: the LayerNorm after the MLP's residual sum. ModernBERT: the one before the MLP. */
  norm2: Norm;
  /** Global attention, or the local window (ModernBERT). */
  type: 'full' | 'sliding';
}

interface Parts {
  word: Tensor;
  /** Learned positions `[P, E]`; null with RoPE (ModernBERT). */
  positions: Tensor | null;
  /** Token-type table `[T, E]`, or null (DistilBERT). */
  types: Tensor | null;
  /** Row 0 of the token-type table `[E]`: what every token adds when no token types are given. */
  type0: Tensor | null;
  embedNorm: Norm;
  layers: Layer[];
  /** ModernBERT's LayerNorm after the last layer. */
  finalNorm: Norm | null;
}

/** Options of {@link EncoderModel.load}. */
export interface EncoderLoadOptions {
  /**
   * Storage of the projection weights: `'file'` keeps a float16/bfloat16 file's dtype (half
   * the memory; widened exactly inside the GEMM), `'float32'` widens them once on load.
   * Results are identical either way. @defaultValue 'file'
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
 * ids in, last hidden states (`Tensor [B, L, E]`) or pooled sentence embeddings out. Texts in too
 * when loaded with {@link EncoderModel.fromFolder}, which brings the folder's tokenizer.
 * Owns WASM memory: `dispose()` (or `using`).
 */
export class EncoderModel {
  /** The resolved configuration. */
  readonly config: EncoderConfig;
  readonly #p: Parts;
  /** β = 0 for LayerNorms without bias (a plain array: no WASM memory). */
  readonly #zeros: Float32Array;
  #disposed = false;
  #tokenizer: TextTokenizer | null = null;
  /** The folder's sentence-transformers pooling and normalisation, under the caller's options. */
  #embedDefaults: EmbedOptions = {};

  private constructor(config: EncoderConfig, parts: Parts) {
    this.config = config;
    this.#p = parts;
    this.#zeros = new Float32Array(config.hiddenSize);
  }

  /**
   * Builds the model from a Hugging Face `config.json` (object or text) and the bytes of its
   * `model.safetensors` (or a parsed {@link SafetensorsFile}), float32, float16 or bfloat16.
   * Weight names are matched with or without the family's prefix (`bert.`, `roberta.`,
   * `distilbert.`, ModernBERT's `model.`, as task-head checkpoints store them); an old checkpoint's
   * `LayerNorm.gamma`/`beta` are read as `weight`/`bias`.
   */
  static load(config: EncoderJson | string, weights: SafetensorsFile | ArrayBuffer | ArrayBufferView,
    options: EncoderLoadOptions = {}): EncoderModel {
    const cfg = parseEncoderConfig(config);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${PREFIX}.load: options must be an object, got ${show(options)}`);
    }
    const wd = options.weightDtype ?? 'file';
    if (wd !== 'file' && wd !== 'float32') {
      throw new RangeError(`${PREFIX}.load: weightDtype must be 'file' or 'float32', got ${show(wd)}`);
    }
    const isBytes = ArrayBuffer.isView(weights) || weights instanceof ArrayBuffer;
    if (!isBytes && (weights === null || typeof weights !== 'object' || typeof (weights as SafetensorsFile).has !== 'function')) {
      throw new TypeError(`${PREFIX}.load: weights must be safetensors bytes or a SafetensorsFile, got ${show(weights)}`);
    }
    const file = isBytes ? readSafetensors(weights) : weights;
    const owned: Tensor<TensorDType>[] = [];
    try {
      const parts = cfg.family === 'modernbert' ? loadModernBert(cfg, file, wd === 'float32', owned) : loadParts(cfg, file, wd === 'float32', owned);
      return new EncoderModel(cfg, parts);
    } catch (e) {
      for (const t of owned) t.dispose();
      throw e;
    }
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
    const wd = options?.weightDtype;
    if (wd !== undefined && wd !== 'file' && wd !== 'float32') {
      throw new RangeError(`${PREFIX}.fromFolder: weightDtype must be 'file' or 'float32', got ${show(wd)}`);
    }
    const folder = await readEncoderFolder(source, options, `${PREFIX}.fromFolder`);
    const model = EncoderModel.load(folder.config, folder.weights, { weightDtype: options.weightDtype });
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
   * batch; the caller disposes the tensor. Every argument is checked before anything is
   * allocated.
   */
  forward(input: EncoderInput): Tensor {
    this.#live('forward');
    return this.#run(checkInput(input, this.config, 'forward'));
  }

  /**
   * Sentence embeddings: the hidden states pooled per sentence (`pooling`), optionally
   * truncated (`dimensions`) and L2-normalised (`normalize`) — what sentence-transformers'
   * `encode` computes with its `Pooling` and `Normalize` modules. One `Float32Array` per
   * sentence, or a `Tensor [B, dimensions]` (`output: 'tensor'`, the caller disposes it).
   * Texts (an array of strings) are tokenised by the folder's tokenizer ({@link EncoderModel.fromFolder}).
   */
  embed(input: EncoderInput | readonly string[], options: EmbedOptions & { output: 'tensor' }): Tensor;
  embed(input: EncoderInput | readonly string[], options?: EmbedOptions & { output?: 'arrays' }): Float32Array[];
  embed(input: EncoderInput | readonly string[], options?: EmbedOptions): Float32Array[] | Tensor;
  embed(input: EncoderInput | readonly string[], options: EmbedOptions = {}): Float32Array[] | Tensor {
    this.#live('embed');
    const o = checkEmbedOptions(options === null || typeof options !== 'object' ? options : { ...this.#embedDefaults, ...options }, this.config.hiddenSize);
    const c = checkInput(Array.isArray(input) ? this.#tokenize(input, 'embed') : input as EncoderInput, this.config, 'embed');
    const h = this.#run(c);
    let vectors: Float32Array[];
    try {
      vectors = pool(h, c, o.pooling, o.dimensions);
    } finally {
      h.dispose();
    }
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
    for (const t of allTensors(this.#p)) t.dispose();
  }

  /** Same as `dispose()`, for `using`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Whether `dispose()` has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Bytes of WASM memory the weights take (16-bit projection weights count 2 bytes an element). */
  get weightBytes(): number {
    this.#live('weightBytes');
    let n = 0;
    for (const t of allTensors(this.#p)) n += t.bytes;
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

  /** Embeddings, then every layer; returns `[B, L, E]`. */
  #run(c: Checked): Tensor {
    const cfg = this.config, p = this.#p, { B, L } = c;
    const temps: Tensor[] = [];
    const keep = (t: Tensor) => { temps.push(t); return t; };
    let h: Tensor | null = null;
    try {
      const x = keep(embedding(p.word, c.ids, { shape: [B, L] }) as Tensor);
      if (p.positions === null) {
        // RoPE: positions enter in every layer's attention instead.
      } else if (c.positionIds === null) {
        // Positions 0 … L−1 are the same in every row: one [L, E] lookup broadcast over the batch.
        add(x, keep(embedding(p.positions, iota(L)) as Tensor), { out: x });
      } else {
        add(x, keep(embedding(p.positions, c.positionIds, { shape: [B, L] }) as Tensor), { out: x });
      }
      if (p.types !== null) {
        if (c.typeIds === null) add(x, p.type0!, { out: x });
        else add(x, keep(embedding(p.types, c.typeIds, { shape: [B, L] }) as Tensor), { out: x });
      }
      h = this.#norm(x, p.embedNorm);
      const mask = c.mask === null ? null : keep(keyPaddingMask(c.mask, B, L));
      for (const layer of p.layers) {
        if (cfg.family === 'modernbert') this.#preNormLayer(layer, h, mask, B, L);
        else this.#layer(layer, h, mask, B, L);
      }
      if (p.finalNorm !== null) this.#norm(h, p.finalNorm, h);
      return h;
    } catch (e) {
      h?.dispose();
      throw e;
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /** LayerNorm of `x` into `out` (a new tensor when omitted). */
  #norm(x: Tensor, n: Norm, out?: Tensor): Tensor {
    return layerNorm(x, n.gamma, n.beta ?? this.#zeros, { eps: this.config.normEps, out });
  }

  /** Self-attention of `x [B, L, E]` with the layer's projections, mask, RoPE and window; a new `[B, L, E]`. */
  #attention(w: Layer, x: Tensor, mask: Tensor | null, B: number, L: number): Tensor {
    const cfg = this.config, H = cfg.numHeads, D = cfg.headDim;
    const temps: Tensor[] = [];
    const keep = (t: Tensor) => { temps.push(t); return t; };
    try {
      const [q, k, v] = splitQkv(keep(project(x, w.qkv, w.qkvBias)), B, L, H, D);
      temps.push(q, k, v);
      if (cfg.rope !== null) {
        // Positions 0 … L−1 of every sequence ([B, H, L, D]: L is the row axis), rotate-half pairs.
        const base = w.type === 'full' ? cfg.rope.full : cfg.rope.sliding;
        applyRope(q, { base, style: 'half' });
        applyRope(k, { base, style: 'half' });
      }
      const options: AttentionOptions & { returnLse?: false } = {};
      if (mask !== null) options.mask = mask;
      if (w.type === 'sliding') options.window = [cfg.slidingWindow!, cfg.slidingWindow!];
      const o = keep(attention(q, k, v, options));
      return project(keep(mergeHeads(o, B, L, H, D)), w.out, w.outBias);
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /** The MLP of `x [B, L, E]`: `act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂`, or GeGLU with a gate; a new `[B, L, E]`. */
  #mlp(w: Layer, x: Tensor): Tensor {
    const temps: Tensor[] = [];
    try {
      const f = project(x, w.up, w.upBias);
      temps.push(f);
      applyActivation(f, this.config.activation);
      if (w.gate !== null) {
        const g = project(x, w.gate, w.gateBias);
        temps.push(g);
        multiplyInto(f, g);
      }
      return project(f, w.down, w.downBias);
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /** One post-norm (BERT) layer, replacing the contents of `h [B, L, E]`. */
  #layer(w: Layer, h: Tensor, mask: Tensor | null, B: number, L: number): void {
    const temps: Tensor[] = [];
    try {
      const a = this.#attention(w, h, mask, B, L);
      temps.push(a);
      add(a, h, { out: a });
      this.#norm(a, w.norm1!, h);
      const m = this.#mlp(w, h);
      temps.push(m);
      add(m, h, { out: m });
      this.#norm(m, w.norm2, h);
    } finally {
      for (const t of temps) t.dispose();
    }
  }

  /** One pre-norm (ModernBERT) layer, updating the residual stream `h [B, L, E]` in place. */
  #preNormLayer(w: Layer, h: Tensor, mask: Tensor | null, B: number, L: number): void {
    const temps: Tensor[] = [];
    const keep = (t: Tensor) => { temps.push(t); return t; };
    try {
      const x = w.norm1 === null ? h : keep(this.#norm(h, w.norm1));
      add(h, keep(this.#attention(w, x, mask, B, L)), { out: h });
      add(h, keep(this.#mlp(w, keep(this.#norm(h, w.norm2)))), { out: h });
    } finally {
      for (const t of temps) t.dispose();
    }
  }
}

/**
 * `x·wᵀ + bias` for a `Linear` weight `w [out, in]`: every projection of the encoder goes
 * through here, so that a change of GEMM (a fused linear op, pre-packed or quantized
 * weights) is made in one place.
 */
function project(x: Tensor, w: Weight, bias: Tensor | null): Tensor {
  const y = matmul(x, w, { transposeB: true });
  if (bias !== null) add(y, bias, { out: y });
  return y;
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

/** Every weight once (the type-0 row is a copy, so it is listed too). */
function allTensors(p: Parts): Tensor<TensorDType>[] {
  const all: (Tensor<TensorDType> | null | undefined)[] = [p.word, p.positions, p.types, p.type0, p.embedNorm.gamma,
    p.embedNorm.beta, p.finalNorm?.gamma, p.finalNorm?.beta];
  for (const l of p.layers) {
    all.push(l.qkv, l.qkvBias, l.out, l.outBias, l.norm1?.gamma, l.norm1?.beta, l.up, l.upBias, l.gate, l.gateBias,
      l.down, l.downBias, l.norm2.gamma, l.norm2.beta);
  }
  return all.filter((t): t is Tensor<TensorDType> => t != null);
}

/**
 * `a ← a ⊙ b` element-wise (GeGLU's product), one pass over two typed-array views; the
 * toolkit's `gatedFeedForward` forms the same product, but its projections would bypass
 * {@link project}.
 */
function multiplyInto(a: Tensor, b: Tensor): void {
  const x = a.data, y = b.data;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * y[i]!;
}

function iota(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
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

/** Additive key-padding mask `[B, 1, 1, L]`: 0 for real tokens, −∞ for padding (broadcast over heads and queries). */
function keyPaddingMask(mask: Uint8Array, B: number, L: number): Tensor {
  const m = new Float32Array(B * L);
  for (let i = 0; i < m.length; i++) m[i] = mask[i] ? 0 : -Infinity;
  return Tensor.from(m, [B, 1, 1, L]);
}

/**
 * Columns q | k | v of `qkv [B, L, 3E]` as three `[B, H, L, D]` tensors, the layout the
 * attention kernel reads; one contiguous `D`-run copy per head and row.
 */
function splitQkv(qkv: Tensor, B: number, L: number, H: number, D: number): [Tensor, Tensor, Tensor] {
  const E = H * D, W = 3 * E;
  const parts: Tensor[] = [];
  try {
    for (let p = 0; p < 3; p++) parts.push(Tensor.empty([B, H, L, D]));
  } catch (e) {
    for (const t of parts) t.dispose();
    throw e;
  }
  // Views are read after the allocations above (a memory growth would detach earlier ones).
  const src = qkv.data;
  for (let p = 0; p < 3; p++) {
    const dst = parts[p]!.data;
    for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) {
      const from = (b * L + i) * W + p * E;
      for (let h = 0; h < H; h++) dst.set(src.subarray(from + h * D, from + (h + 1) * D), ((b * H + h) * L + i) * D);
    }
  }
  return parts as [Tensor, Tensor, Tensor];
}

/** Heads `[B, H, L, D]` back to rows `[B, L, H·D]` (heads concatenated). */
function mergeHeads(o: Tensor, B: number, L: number, H: number, D: number): Tensor {
  const t = Tensor.empty([B, L, H * D]);
  const src = o.data, dst = t.data;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
    const from = ((b * H + h) * L + i) * D;
    dst.set(src.subarray(from, from + D), (b * L + i) * H * D + h * D);
  }
  return t;
}

/**
 * Pools `h [B, L, E]` per sentence with one batched product on the GEMM: a weight row per
 * sentence (`1/n` on its real tokens for mean, one-hot for cls / last) times its hidden
 * states, as sentence-transformers' `Pooling` sums `h·mask` and divides by the token count.
 * Returns the first `dims` values of each pooled vector.
 */
function pool(h: Tensor, c: Checked, mode: Pooling, dims: number): Float32Array[] {
  const { B, L, mask, counts } = c, E = h.shape[2]!;
  const w = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    const row = b * L;
    if (mode === 'cls') {
      // The first real token (position 0 with right padding), as sentence-transformers takes it.
      let first = 0;
      if (mask !== null) while (mask[row + first] === 0) first++;
      w[row + first] = 1;
    } else if (mode === 'last') {
      // The last real token (right or left padding): the last 1 of the mask row.
      let last = L - 1;
      if (mask !== null) while (mask[row + last] === 0) last--;
      w[row + last] = 1;
    } else {
      const inv = 1 / counts[b]!;
      for (let i = 0; i < L; i++) w[row + i] = mask === null || mask[row + i] ? inv : 0;
    }
  }
  const weights = Tensor.from(w, [B, 1, L]);
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

/** Reads every weight, checking names and shapes against the config; every tensor made is pushed to `owned`. */
function loadParts(c: EncoderConfig, file: SafetensorsFile, widen: boolean, owned: Tensor<TensorDType>[]): Parts {
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
  const f32 = (name: string, shape: readonly number[]): Tensor => {
    const t = file.tensor(resolve(name, shape), { dtype: 'float32' }) as Tensor;
    owned.push(t);
    return t;
  };
  const proj = (name: string, shape: readonly number[]): Weight => {
    const full = resolve(name, shape);
    const t = widen ? file.tensor(full, { dtype: 'float32' }) : file.tensor(full);
    owned.push(t);
    return t;
  };
  const norm = (name: string): Norm => ({ gamma: f32(`${name}.weight`, [E]), beta: f32(`${name}.bias`, [E]) });
  /** Stacks `[E, E]` weights (or `[E]` biases) row-wise into one tensor, one copy each from the file. */
  const stack = (parts: string[], bias: boolean): Weight => {
    const full = parts.map((n) => resolve(n, bias ? [E] : [E, E]));
    const dtype: TensorDType = bias || widen ? 'float32' : file.entry(full[0]!).tensorDtype ?? 'float32';
    const t = Tensor.empty(bias ? [3 * E] : [3 * E, E], { dtype });
    owned.push(t);
    let at = 0;
    for (const f of full) at += file.copyInto(f, t, at);
    return t;
  };
  const word = f32(`${names.word}.weight`, [c.vocabSize, E]);
  const positions = f32(`${names.positions}.weight`, [c.maxPositions, E]);
  let types: Tensor | null = null, type0: Tensor | null = null;
  if (names.types !== null && c.typeVocabSize > 0) {
    types = f32(`${names.types}.weight`, [c.typeVocabSize, E]);
    type0 = Tensor.from(types.data.subarray(0, E), [E]);
    owned.push(type0);
  }
  const embedNorm = norm(names.embedNorm);
  const layers: Layer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = names.layer(l), qkv = [names.q, names.k, names.v].map((n) => `${p}${n}`);
    layers.push({
      qkv: stack(qkv.map((n) => `${n}.weight`), false), qkvBias: stack(qkv.map((n) => `${n}.bias`), true) as Tensor,
      out: proj(`${p}${names.out}.weight`, [E, E]), outBias: f32(`${p}${names.out}.bias`, [E]),
      norm1: norm(`${p}${names.norm1}`),
      up: proj(`${p}${names.up}.weight`, [F, E]), upBias: f32(`${p}${names.up}.bias`, [F]),
      down: proj(`${p}${names.down}.weight`, [E, F]), downBias: f32(`${p}${names.down}.bias`, [E]),
      norm2: norm(`${p}${names.norm2}`), gate: null, gateBias: null, type: 'full',
    });
  }
  return { word, positions, types, type0, embedNorm, layers, finalNorm: null };
}

/** ModernBERT's weights (names with or without `model.`, as ModernBertForMaskedLM stores them). */
function loadModernBert(c: EncoderConfig, file: SafetensorsFile, widen: boolean, owned: Tensor<TensorDType>[]): Parts {
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
  const f32 = (name: string, shape: readonly number[]): Tensor => {
    const t = file.tensor(resolve(name, shape), { dtype: 'float32' }) as Tensor;
    owned.push(t);
    return t;
  };
  const proj = (name: string, shape: readonly number[]): Weight => {
    const full = resolve(name, shape);
    const t = widen ? file.tensor(full, { dtype: 'float32' }) : file.tensor(full);
    owned.push(t);
    return t;
  };
  const norm = (name: string): Norm => ({ gamma: f32(`${name}.weight`, [E]), beta: c.normBias ? f32(`${name}.bias`, [E]) : null });
  /** Rows `[from, from + n)` of a tensor as a new one of the same dtype (raw elements copied, never converted). */
  const rows = (t: Tensor<TensorDType>, from: number, n: number): Tensor<TensorDType> => {
    const cols = t.rank === 2 ? t.shape[1]! : 1;
    const r = Tensor.empty(t.rank === 2 ? [n, cols] : [n], { dtype: t.dtype });
    owned.push(r);
    (r.data as Float32Array).set((t.data as Float32Array).subarray(from * cols, (from + n) * cols));
    return r;
  };
  const layers: Layer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `layers.${l}.`;
    // Wi [2F, E] is chunked by transformers into (input, gate): the first F rows are activated.
    const wi = proj(`${p}mlp.Wi.weight`, [2 * F, E]);
    const wiBias = c.mlpBias ? f32(`${p}mlp.Wi.bias`, [2 * F]) : null;
    layers.push({
      norm1: l === 0 ? null : norm(`${p}attn_norm`),
      qkv: proj(`${p}attn.Wqkv.weight`, [3 * E, E]), qkvBias: c.attentionBias ? f32(`${p}attn.Wqkv.bias`, [3 * E]) : null,
      out: proj(`${p}attn.Wo.weight`, [E, E]), outBias: c.attentionBias ? f32(`${p}attn.Wo.bias`, [E]) : null,
      norm2: norm(`${p}mlp_norm`),
      up: rows(wi, 0, F), upBias: wiBias && rows(wiBias, 0, F) as Tensor,
      gate: rows(wi, F, F), gateBias: wiBias && rows(wiBias, F, F) as Tensor,
      down: proj(`${p}mlp.Wo.weight`, [E, F]), downBias: c.mlpBias ? f32(`${p}mlp.Wo.bias`, [E]) : null,
      type: c.layerTypes[l]!,
    });
    // The halves are copies: the whole Wi is not kept.
    owned.splice(owned.indexOf(wi), 1);
    wi.dispose();
    if (wiBias) { owned.splice(owned.indexOf(wiBias), 1); wiBias.dispose(); }
  }
  return {
    word: f32('embeddings.tok_embeddings.weight', [c.vocabSize, E]), positions: null, types: null, type0: null,
    embedNorm: norm('embeddings.norm'), layers, finalNorm: norm('final_norm'),
  };
}
