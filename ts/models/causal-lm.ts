/**
 * A decoder-only transformer language model (GPT-2 or the LLaMA family) from a Hugging
 * Face `config.json` and its safetensors weights, on the library's public API: every
 * product on `matmul`, attention on `KVCache.attend` (the fused kernel reading the cache
 * in place), norms, RoPE, embeddings and MLPs from the toolkit.
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
 * The projection and lm_head weights stay in the file's dtype: float16/bfloat16 weights
 * take half the memory and the GEMM widens them exactly while it packs them; norms,
 * biases and embeddings are float32. One sequence per cache (batch 1).
 */
import {
  KVCache, Tensor, add, applyRope, embedding, feedForward, gatedFeedForward, layerNorm, matmul, readSafetensors,
  rmsNorm, ropeTables, transpose, SafetensorsFile, type TensorDType,
} from '../index.js';
import { describe } from '../shape.js';
import { checkGenerate } from './generate-args.js';
import { type DecoderConfig, parseConfig } from './config.js';
import { type SamplingOptions, sampleToken, seededRandom } from './sampling.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

interface Norm { gamma: Tensor; beta: Tensor | null }

/** The weights a loader hands to the constructor. */
/** A projection weight, in float32 or the 16-bit dtype of its file. */
type Weight = Tensor<TensorDType>;

interface Parts { embed: Tensor; positions: Tensor | null; layers: Layer[]; finalNorm: Norm; lmHead: Weight }

interface Layer {
  norm1: Norm;
  norm2: Norm;
  /** `[Hq·D + 2·Hkv·D, E]`: the rows of W_q, W_k, W_v (PyTorch `Linear` layout). */
  qkv: Weight;
  qkvBias: Tensor | null;
  /** `[E, Hq·D]`. */
  out: Weight;
  outBias: Tensor | null;
  /** `[F, E]` (GPT-2's `c_fc`, LLaMA's `gate_proj`). */
  fc: Weight;
  fcBias: Tensor | null;
  /** `[F, E]` LLaMA's `up_proj`; null for GPT-2. */
  up: Weight | null;
  upBias: Tensor | null;
  /** `[E, F]`. */
  down: Weight;
  downBias: Tensor | null;
}

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

/**
 * A GPT-2 or LLaMA-family causal language model with its weights in WASM memory. Token
 * ids in, logits (`Tensor [n, vocab]`) and generated ids out; tokenisation is the caller's.
 */
export class CausalLM {
  /** The resolved configuration. */
  readonly config: DecoderConfig;
  readonly #embed: Tensor;
  readonly #positions: Tensor | null;
  readonly #layers: Layer[];
  readonly #finalNorm: Norm;
  /** `[V, E]`; the embedding itself when tied. */
  readonly #lmHead: Weight;
  #rope: { cos: Float64Array; sin: Float64Array; rows: number } | null = null;
  #disposed = false;

  private constructor(config: DecoderConfig, embed: Tensor, positions: Tensor | null, layers: Layer[], finalNorm: Norm, lmHead: Weight) {
    this.config = config;
    this.#embed = embed;
    this.#positions = positions;
    this.#layers = layers;
    this.#finalNorm = finalNorm;
    this.#lmHead = lmHead;
  }

  /**
   * Builds the model from a Hugging Face `config.json` (object or text) and the bytes of
   * its `model.safetensors` (or a parsed {@link SafetensorsFile}). Weight names are
   * matched with or without the `transformer.` / `model.` prefix.
   */
  static load(config: Record<string, unknown> | string, weights: SafetensorsFile | ArrayBuffer | ArrayBufferView): CausalLM {
    const bytes = ArrayBuffer.isView(weights) || weights instanceof ArrayBuffer;
    if (!bytes && !(weights instanceof SafetensorsFile)) {
      throw new TypeError(`wasm-attention: models: CausalLM.load: weights must be the bytes of model.safetensors (an ArrayBuffer, ` +
        `Uint8Array or Buffer) or a SafetensorsFile from readSafetensors(), got ${describe(weights)}`);
    }
    const cfg = parseConfig(config);
    const file = bytes ? readSafetensors(weights) : weights;
    const owned: Weight[] = [];
    try {
      const w = cfg.family === 'gpt2' ? loadGpt2(cfg, file, owned) : loadLlama(cfg, file, owned);
      return new CausalLM(cfg, w.embed, w.positions, w.layers, w.finalNorm, w.lmHead);
    } catch (e) {
      for (const t of owned) t.dispose();
      throw e;
    }
  }

  /**
   * A cache for one sequence of up to `maxLength` positions. @defaultValue maxLength: the config's max positions
   * With a sliding window (Mistral) it keeps what the window can see, so generation may run past `maxLength`
   * (choose `maxLength ≥ 2·W` to shift rarely; see `KVCache`).
   */
  createCache(options: { maxLength?: number } = {}): DecoderCache {
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
      for (let l = 0; l < c.numLayers; l++) layers.push(new KVCache({ maxLength, numKvHeads: c.numKvHeads, headDim: c.headDim, window }));
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
    const h = embedding(this.#embed, ids);
    const temps: (Tensor | null)[] = [];
    try {
      if (this.#positions !== null) {
        const pos = embedding(this.#positions, Array.from({ length: n }, (_, i) => p0 + i));
        temps.push(pos);
        add(h, pos, { out: h });
      }
      const rope = this.#ropeFor(p0 + n);
      for (let l = 0; l < c.numLayers; l++) this.#block(l, h, cache.layers[l]!, p0, rope);
      const last = options.logits === 'last';
      // Tensor.from copies the view of h before allocating (allocation may grow memory).
      const rows = last ? Tensor.from(h.data.subarray((n - 1) * c.hiddenSize, n * c.hiddenSize), [1, c.hiddenSize]) : h;
      if (rows !== h) temps.push(rows);
      const normed = this.#norm(rows, this.#finalNorm);
      temps.push(normed);
      return matmul(normed, this.#lmHead, { transposeB: true });
    } finally {
      h.dispose();
      for (const t of temps) t?.dispose();
    }
  }

  /**
   * Continues `prompt` token by token: greedy by default, or sampled with `temperature`,
   * `topK`, `topP` and `seed`. Stops after `maxNewTokens`, at an end-of-sequence id or
   * when `onToken` returns false.
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions): GenerateResult {
    this.#live();
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

  /** Frees every weight. Further calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const all = new Set<Weight>([this.#embed, this.#lmHead, this.#finalNorm.gamma]);
    if (this.#positions) all.add(this.#positions);
    if (this.#finalNorm.beta) all.add(this.#finalNorm.beta);
    for (const L of this.#layers) {
      for (const t of [L.norm1.gamma, L.norm1.beta, L.norm2.gamma, L.norm2.beta, L.qkv, L.qkvBias, L.out, L.outBias,
        L.fc, L.fcBias, L.up, L.upBias, L.down, L.downBias]) if (t) all.add(t);
    }
    for (const t of all) t.dispose();
  }

  /** Same as `dispose()`, for `using`. */
  [disposeSymbol](): void {
    this.dispose();
  }

  /** Bytes of WASM memory the weights take (16-bit projection weights count 2 bytes an element). */
  get weightBytes(): number {
    this.#live();
    const all = new Set<Weight>([this.#embed, this.#lmHead]);
    if (this.#positions) all.add(this.#positions);
    for (const L of this.#layers) {
      for (const t of [L.norm1.gamma, L.norm1.beta, L.norm2.gamma, L.norm2.beta, L.qkv, L.qkvBias, L.out, L.outBias,
        L.fc, L.fcBias, L.up, L.upBias, L.down, L.downBias]) if (t) all.add(t);
    }
    let n = 0;
    for (const t of all) n += t.bytes;
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

  #norm(x: Tensor, n: Norm): Tensor {
    const eps = this.config.normEps;
    return n.beta ? layerNorm(x, n.gamma, n.beta, { eps }) : rmsNorm(x, n.gamma, { eps });
  }

  /** RoPE cos/sin tables covering positions `< upTo` (grown on demand). */
  #ropeFor(upTo: number): { cos: Float64Array; sin: Float64Array } | null {
    const c = this.config;
    if (c.ropeInvFreq === null) return null;
    if (this.#rope === null || this.#rope.rows < upTo) {
      const rows = Math.max(upTo, c.maxPositions, 2 * (this.#rope?.rows ?? 0));
      this.#rope = { ...ropeTables(rows, c.rotaryDim, { invFreq: c.ropeInvFreq }), rows };
    }
    return this.#rope;
  }

  /** One pre-norm block, updating the residual stream `h [n, E]` in place. */
  #block(l: number, h: Tensor, cache: KVCache, p0: number, rope: { cos: Float64Array; sin: Float64Array } | null): void {
    const c = this.config, L = this.#layers[l]!;
    const Hq = c.numHeads, Hkv = c.numKvHeads, D = c.headDim;
    const temps: Tensor[] = [];
    const keep = (t: Tensor) => { temps.push(t); return t; };
    try {
      // Attention: q|k|v in one product, heads split, RoPE, cache, fused attention, output projection.
      const qkv = keep(matmul(keep(this.#norm(h, L.norm1)), L.qkv, { transposeB: true }));
      if (L.qkvBias) add(qkv, L.qkvBias, { out: qkv });
      const q = keep(splitHeads(qkv, 0, Hq, D));
      const k = keep(splitHeads(qkv, Hq * D, Hkv, D));
      const v = keep(splitHeads(qkv, (Hq + Hkv) * D, Hkv, D));
      if (rope) {
        const r = { cos: rope.cos, sin: rope.sin, offset: p0, rotaryDim: c.rotaryDim, style: 'half' as const };
        applyRope(q, r);
        applyRope(k, r);
      }
      cache.append(k, v);
      const o = keep(cache.attend(q, { scale: c.attentionScale(l) }));
      const proj = keep(matmul(keep(mergeHeads(o)), L.out, { transposeB: true }));
      if (L.outBias) add(proj, L.outBias, { out: proj });
      add(h, proj, { out: h });
      // MLP.
      const m = keep(this.#norm(h, L.norm2));
      const f = keep(L.up === null
        ? feedForward(m, { w1: L.fc, b1: L.fcBias ?? undefined, w2: L.down, b2: L.downBias ?? undefined, activation: c.activation })
        : gatedFeedForward(m, {
          gate: L.fc, up: L.up, down: L.down, gateBias: L.fcBias ?? undefined, upBias: L.upBias ?? undefined,
          downBias: L.downBias ?? undefined, activation: c.activation,
        }));
      add(h, f, { out: h });
    } finally {
      for (const t of temps) t.dispose();
    }
  }
}

/** Columns `[col, col + H·D)` of `x [n, W]` as heads `[H, n, D]` (a copy). */
function splitHeads(x: Tensor, col: number, H: number, D: number): Tensor {
  const [n, W] = x.shape as [number, number];
  const t = Tensor.empty([H, n, D]);
  const src = x.data, dst = t.data;
  for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) {
    const from = i * W + col + h * D;
    dst.set(src.subarray(from, from + D), (h * n + i) * D);
  }
  return t;
}

/** Heads `[H, n, D]` back to rows `[n, H·D]` (a copy). */
function mergeHeads(x: Tensor): Tensor {
  const [H, n, D] = x.shape as [number, number, number];
  const t = Tensor.empty([n, H * D]);
  const src = x.data, dst = t.data;
  for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) {
    dst.set(src.subarray((h * n + i) * D, (h * n + i + 1) * D), i * H * D + h * D);
  }
  return t;
}

/** Tensor `name` as float32 (norms, biases, embeddings; 16-bit files widened exactly). */
function float32(file: SafetensorsFile, name: string): Tensor {
  return file.tensor(name, { dtype: 'float32' }) as Tensor;
}

/**
 * A projection weight (the `b` of `matmul(x, w, { transposeB: true })`) in the file's own
 * dtype: a float16/bfloat16 weight is widened by the GEMM as it packs, so it takes half
 * the memory and a decode step streams half the bytes.
 */
function weight(file: SafetensorsFile, name: string): Tensor<TensorDType> {
  return file.tensor(name);
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

function loadGpt2(c: DecoderConfig, file: SafetensorsFile, owned: Weight[]): Parts {
  const { need } = resolver(file, ['transformer.', '']);
  const E = c.hiddenSize, F = c.intermediateSize;
  const load = (name: string, shape: number[]) => { const t = float32(file, need(name, shape)); owned.push(t); return t; };
  /** GPT-2's Conv1D stores `[in, out]`; transposed once here to the `Linear` layout `[out, in]`. */
  const conv = (name: string, inDim: number, outDim: number) => {
    const t = weight(file, need(name, [inDim, outDim]));
    try {
      const w = transpose(t, 0, 1);
      owned.push(w);
      return w;
    } finally {
      t.dispose();
    }
  };
  const norm = (name: string): Norm => ({ gamma: load(`${name}.weight`, [E]), beta: load(`${name}.bias`, [E]) });
  const embed = load('wte.weight', [c.vocabSize, E]);
  const positions = load('wpe.weight', [c.maxPositions, E]);
  const layers: Layer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `h.${l}.`;
    layers.push({
      norm1: norm(`${p}ln_1`), norm2: norm(`${p}ln_2`),
      qkv: conv(`${p}attn.c_attn.weight`, E, 3 * E), qkvBias: load(`${p}attn.c_attn.bias`, [3 * E]),
      out: conv(`${p}attn.c_proj.weight`, E, E), outBias: load(`${p}attn.c_proj.bias`, [E]),
      fc: conv(`${p}mlp.c_fc.weight`, E, F), fcBias: load(`${p}mlp.c_fc.bias`, [F]), up: null, upBias: null,
      down: conv(`${p}mlp.c_proj.weight`, F, E), downBias: load(`${p}mlp.c_proj.bias`, [E]),
    });
  }
  const finalNorm = norm('ln_f');
  const lmHead = c.tieWordEmbeddings || !file.has('lm_head.weight') ? embed : (() => {
    const t = weight(file, need('lm_head.weight', [c.vocabSize, E]));
    owned.push(t);
    return t;
  })();
  return { embed, positions, layers, finalNorm, lmHead };
}

function loadLlama(c: DecoderConfig, file: SafetensorsFile, owned: Weight[]): Parts {
  const { need, find } = resolver(file, ['model.', '']);
  const E = c.hiddenSize, F = c.intermediateSize, Nq = c.numHeads * c.headDim, Nkv = c.numKvHeads * c.headDim;
  const load = (name: string, shape: number[]) => { const t = float32(file, need(name, shape)); owned.push(t); return t; };
  const loadW = (name: string, shape: number[]) => { const t = weight(file, need(name, shape)); owned.push(t); return t; };
  const maybe = (name: string, shape: number[]) => (find(name) === null ? null : load(name, shape));
  /**
   * Stacks tensors row-wise into one new tensor, each copied once from the file: weights
   * in the first one's dtype, biases in float32.
   */
  const stack = (names: string[], shapes: number[][]) => {
    const full = names.map((nm, i) => need(nm, shapes[i]!));
    const rows = shapes.reduce((s, sh) => s + sh[0]!, 0);
    const dtype: TensorDType = shapes[0]!.length === 1 ? 'float32' : file.entry(full[0]!).tensorDtype ?? 'float32';
    const t = Tensor.empty(shapes[0]!.length === 1 ? [rows] : [rows, shapes[0]![1]!], { dtype });
    owned.push(t);
    let at = 0;
    for (const f of full) at += file.copyInto(f, t, at);
    return t;
  };
  const layers: Layer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `layers.${l}.`, a = `${p}self_attn.`, m = `${p}mlp.`;
    const qkvNames = ['q_proj', 'k_proj', 'v_proj'].map((x) => `${a}${x}`);
    layers.push({
      norm1: { gamma: load(`${p}input_layernorm.weight`, [E]), beta: null },
      norm2: { gamma: load(`${p}post_attention_layernorm.weight`, [E]), beta: null },
      qkv: stack(qkvNames.map((x) => `${x}.weight`), [[Nq, E], [Nkv, E], [Nkv, E]]),
      qkvBias: c.attentionBias ? stack(qkvNames.map((x) => `${x}.bias`), [[Nq], [Nkv], [Nkv]]) as Tensor : null,
      out: loadW(`${a}o_proj.weight`, [E, Nq]), outBias: c.attentionBias ? maybe(`${a}o_proj.bias`, [E]) : null,
      fc: loadW(`${m}gate_proj.weight`, [F, E]), fcBias: c.mlpBias ? load(`${m}gate_proj.bias`, [F]) : null,
      up: loadW(`${m}up_proj.weight`, [F, E]), upBias: c.mlpBias ? load(`${m}up_proj.bias`, [F]) : null,
      down: loadW(`${m}down_proj.weight`, [E, F]), downBias: c.mlpBias ? load(`${m}down_proj.bias`, [E]) : null,
    });
  }
  const embed = load('embed_tokens.weight', [c.vocabSize, E]);
  const finalNorm = { gamma: load('norm.weight', [E]), beta: null };
  const lmHead = c.tieWordEmbeddings ? embed : (() => {
    if (!file.has('lm_head.weight')) throw new RangeError('wasm-attention: models: the weights lack "lm_head.weight" and tie_word_embeddings is false');
    const t = weight(file, need('lm_head.weight', [c.vocabSize, E]));
    owned.push(t);
    return t;
  })();
  return { embed, positions: null, layers, finalNorm, lmHead };
}

