/**
 * Hugging Face `config.json` → the sizes and choices of a decoder-only transformer.
 *
 * Two families are read:
 * - `gpt2`: learned positions, LayerNorm with bias, one packed `c_attn` projection, a
 *   `gelu_new` MLP, lm_head tied to the token embedding;
 * - the LLaMA family (`llama`, `mistral` with its sliding window, `qwen2`, SmolLM's `llama`): RMSNorm, RoPE
 *   (`rope_theta`, either top level or in `rope_parameters`/`rope_scaling`, with the
 *   `default`, `linear` and `llama3` frequency rules), grouped-query heads, a SwiGLU MLP,
 *   optional q/k/v biases (Qwen2 always has them), tied or separate lm_head.
 * Anything else, or a setting this implementation does not follow (e.g. Qwen2's per-layer
 * sliding window), is refused with an error naming the field.
 */
import type { Activation } from '../index.js';
import { MAX_BYTES } from '../raw.js';

/** The decoder as the implementation runs it (all sizes resolved). */
export interface DecoderConfig {
  /** Which block structure the weights follow. */
  readonly family: 'gpt2' | 'llama';
  /** `model_type` of the config. */
  readonly modelType: string;
  /** Rows of the token embedding (`vocab_size`). */
  readonly vocabSize: number;
  /** Width `E` of the residual stream. */
  readonly hiddenSize: number;
  /** Transformer blocks (`n_layer` / `num_hidden_layers`). */
  readonly numLayers: number;
  /** Query heads. */
  readonly numHeads: number;
  /** Key/value heads (grouped-query when fewer than `numHeads`). */
  readonly numKvHeads: number;
  /** Width `D` of each attention head. */
  readonly headDim: number;
  /** Width of the MLP's hidden layer. */
  readonly intermediateSize: number;
  /** `'layer'` (LayerNorm with bias) or `'rms'` (RMSNorm). */
  readonly norm: 'layer' | 'rms';
  /** The norms' epsilon (`layer_norm_epsilon` / `rms_norm_eps`). */
  readonly normEps: number;
  /** MLP activation (for the LLaMA family, of the gate). */
  readonly activation: Activation;
  /** Sliding-window attention (Mistral): each query sees itself and the `W − 1` positions before it. */
  readonly slidingWindow: number | null;
  /** Longest sequence the positions cover (`n_positions` / `max_position_embeddings`). */
  readonly maxPositions: number;
  /** RoPE inverse frequencies (`[rotaryDim / 2]`), LLaMA family only. */
  readonly ropeInvFreq: Float64Array | null;
  /** Rotated part of each head (partial rotary when `< headDim`). */
  readonly rotaryDim: number;
  /** Whether q/k/v projections have biases. */
  readonly attentionBias: boolean;
  /** Whether the MLP's projections have biases. */
  readonly mlpBias: boolean;
  /** Scale of the attention scores per layer (`1/√D`, or GPT-2's optional `1/(√D·(layer+1))`). */
  readonly attentionScale: (layer: number) => number;
  /** lm_head shares the token embedding. */
  readonly tieWordEmbeddings: boolean;
  /** Token ids that end generation. */
  readonly eosTokenIds: readonly number[];
}

/** A parsed `config.json`. */
export type Json = Record<string, unknown>;

const ACTIVATIONS: Record<string, Activation> = {
  gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu_fast: 'gelu_tanh', gelu: 'gelu',
  silu: 'silu', swish: 'silu', relu: 'relu',
};

/** Reads a Hugging Face config (the parsed `config.json` object, or its text). */
export function parseConfig(config: Json | string): DecoderConfig {
  let c: Json;
  try {
    c = (typeof config === 'string' ? JSON.parse(config) : config) as Json;
  } catch (e) {
    throw new TypeError(`wasm-attention: models: config text is not JSON (${(e as Error).message})`);
  }
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new TypeError('wasm-attention: models: config must be a config.json object or its text');
  const type = String(c.model_type ?? '');
  if (type === 'gpt2') return gpt2(c);
  if (type === 'llama' || type === 'mistral' || type === 'qwen2') return llama(c, type);
  throw new RangeError(`wasm-attention: models: model_type ${JSON.stringify(c.model_type)} is not supported (gpt2, llama, mistral, qwen2)`);
}

function int(c: Json, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`wasm-attention: models: config.${key} must be a positive integer, got ${JSON.stringify(c[key])}`);
  }
  return v;
}

/**
 * Throws a RangeError naming the config fields when a tensor of `dims` float32 values
 * cannot fit in WASM memory (checked before any table or weight is allocated).
 */
function fits(what: string, ...dims: [string, number][]): void {
  const n = dims.reduce((p, [, d]) => p * d, 1);
  if (!(n * 4 <= MAX_BYTES)) {
    throw new RangeError(`wasm-attention: models: config.${dims.map(([k, d]) => `${k} ${d}`).join(' × config.')} ` +
      `gives ${what} of ${n} values, more than WASM's 4 GiB memory`);
  }
}

/**
 * Throws unless all layers' projections fit in WASM memory together, counted at 2 bytes an
 * element (the smallest dtype a weight may keep), so an absurd layer count fails here.
 */
function layersFit(layersKey: string, layers: number, perLayer: number): void {
  if (!(layers * perLayer * 2 <= MAX_BYTES)) {
    throw new RangeError(`wasm-attention: models: config.${layersKey} ${layers} layers of ${perLayer} weights each ` +
      'need more than WASM\'s 4 GiB memory');
  }
}

/** Rows × columns of the RoPE cos/sin tables (float64 in JS) at most: 1 GiB each. */
const MAX_ROPE_TABLE = 2 ** 27;

function num(c: Json, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`wasm-attention: models: config.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function activation(c: Json, key: string, fallback: string): Activation {
  const name = String(c[key] ?? fallback);
  const a = ACTIVATIONS[name];
  if (a === undefined) throw new RangeError(`wasm-attention: models: config.${key} ${JSON.stringify(name)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  return a;
}

function eos(c: Json): number[] {
  const e = c.eos_token_id;
  if (e === undefined || e === null) return [];
  return (Array.isArray(e) ? e : [e]).filter((x): x is number => typeof x === 'number');
}

function gpt2(c: Json): DecoderConfig {
  const E = int(c, 'n_embd'), H = int(c, 'n_head');
  if (E % H !== 0) throw new RangeError(`wasm-attention: models: n_embd ${E} is not a multiple of n_head ${H}`);
  // reorder_and_upcast_attn only changes PyTorch's score precision; scores are float32 here anyway.
  const D = E / H, byLayer = c.scale_attn_by_inverse_layer_idx === true, scaled = c.scale_attn_weights !== false;
  const F = c.n_inner == null ? 4 * E : int(c, 'n_inner'), V = int(c, 'vocab_size'), P = int(c, 'n_positions', 1024);
  fits('the token embedding', ['vocab_size', V], ['n_embd', E]);
  fits('the learned positions', ['n_positions', P], ['n_embd', E]);
  fits('the MLP weights', ['n_inner', F], ['n_embd', E]);
  fits('the q/k/v weights', ['n_embd', E], ['n_embd', 3 * E]);
  layersFit('n_layer', int(c, 'n_layer'), 4 * E * E + 2 * F * E);
  return {
    family: 'gpt2', modelType: 'gpt2', vocabSize: int(c, 'vocab_size'), hiddenSize: E, numLayers: int(c, 'n_layer'),
    numHeads: H, numKvHeads: H, headDim: D, intermediateSize: c.n_inner == null ? 4 * E : int(c, 'n_inner'),
    norm: 'layer', normEps: num(c, 'layer_norm_epsilon', 1e-5), activation: activation(c, 'activation_function', 'gelu_new'),
    slidingWindow: null, maxPositions: int(c, 'n_positions', 1024), ropeInvFreq: null, rotaryDim: 0, attentionBias: true, mlpBias: true,
    attentionScale: (l) => (scaled ? 1 / Math.sqrt(D) : 1) / (byLayer ? l + 1 : 1),
    tieWordEmbeddings: c.tie_word_embeddings !== false, eosTokenIds: eos(c),
  };
}

function llama(c: Json, type: string): DecoderConfig {
  const E = int(c, 'hidden_size'), H = int(c, 'num_attention_heads'), Hkv = int(c, 'num_key_value_heads', H);
  if (H % Hkv !== 0) throw new RangeError(`wasm-attention: models: num_attention_heads ${H} is not a multiple of num_key_value_heads ${Hkv}`);
  const D = c.head_dim == null ? E / H : int(c, 'head_dim');
  if (!Number.isInteger(D)) throw new RangeError(`wasm-attention: models: hidden_size ${E} is not a multiple of num_attention_heads ${H}`);
  const maxPositions = int(c, 'max_position_embeddings', 2048);
  if (type === 'qwen2' && c.use_sliding_window === true) {
    // Qwen2 windows only the layers from max_window_layers on.
    throw new RangeError('wasm-attention: models: Qwen2 with use_sliding_window is not supported');
  }
  const slidingWindow = type === 'mistral' && c.sliding_window != null ? int(c, 'sliding_window') : null;
  const V = int(c, 'vocab_size'), F = int(c, 'intermediate_size');
  fits('the token embedding', ['vocab_size', V], ['hidden_size', E]);
  fits('the MLP weights', ['intermediate_size', F], ['hidden_size', E]);
  fits('the q/k/v weights', ['hidden_size', E], ['head_dim', D], ['num_attention_heads + 2·num_key_value_heads', H + 2 * Hkv]);
  layersFit('num_hidden_layers', int(c, 'num_hidden_layers'), (2 * H + 2 * Hkv) * D * E + 3 * F * E);
  const rotaryDim = 2 * Math.floor((D * num(c, 'partial_rotary_factor', 1)) / 2);
  if (rotaryDim < 0 || rotaryDim > D) throw new RangeError(`wasm-attention: models: config.partial_rotary_factor must be in [0, 1], got ${String(c.partial_rotary_factor)}`);
  if (maxPositions * (rotaryDim / 2) > MAX_ROPE_TABLE) {
    throw new RangeError(`wasm-attention: models: config.max_position_embeddings ${maxPositions} × ${rotaryDim / 2} rotary frequencies ` +
      `exceeds the ${MAX_ROPE_TABLE}-entry RoPE tables this implementation builds`);
  }
  return {
    family: 'llama', modelType: type, vocabSize: int(c, 'vocab_size'), hiddenSize: E, numLayers: int(c, 'num_hidden_layers'),
    numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: int(c, 'intermediate_size'),
    norm: 'rms', normEps: num(c, 'rms_norm_eps', 1e-6), activation: activation(c, 'hidden_act', 'silu'),
    slidingWindow, maxPositions, ropeInvFreq: ropeFrequencies(c, rotaryDim), rotaryDim,
    attentionBias: type === 'qwen2' || c.attention_bias === true, mlpBias: c.mlp_bias === true,
    attentionScale: () => 1 / Math.sqrt(D),
    tieWordEmbeddings: c.tie_word_embeddings === true, eosTokenIds: eos(c),
  };
}

/**
 * Inverse frequencies as transformers' `ROPE_INIT_FUNCTIONS` compute them:
 * `default` `θ^(−2i/d)`; `linear` divides them by `factor`; `llama3` keeps high
 * frequencies, divides low ones by `factor` and blends in between (LLaMA 3.1).
 */
function ropeFrequencies(c: Json, dim: number): Float64Array {
  const params = (c.rope_parameters ?? c.rope_scaling ?? {}) as Json;
  const theta = num(params.rope_theta !== undefined ? params : c, 'rope_theta', 10000);
  const type = String(params.rope_type ?? params.type ?? 'default');
  const inv = Float64Array.from({ length: dim / 2 }, (_, i) => Math.pow(theta, (-2 * i) / dim));
  if (type === 'default') return inv;
  const factor = num(params, 'factor', 1);
  if (type === 'linear') return inv.map((f) => f / factor);
  if (type === 'llama3') {
    const low = num(params, 'low_freq_factor', 1), high = num(params, 'high_freq_factor', 4);
    const old = num(params, 'original_max_position_embeddings', 8192);
    const lowWave = old / low, highWave = old / high;
    return inv.map((f) => {
      const wave = (2 * Math.PI) / f;
      if (wave < highWave) return f;
      if (wave > lowWave) return f / factor;
      const smooth = (old / wave - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new RangeError(`wasm-attention: models: rope type ${JSON.stringify(type)} is not supported (default, linear, llama3)`);
}
