/**
 * Hugging Face `config.json` → the sizes and choices of a BERT-style encoder.
 *
 * Families read:
 * - `bert` (also all-MiniLM, bge, e5, which are BERT checkpoints): word + learned position +
 *   token-type embeddings, post-norm layers;
 * - `roberta`, `xlm-roberta`: BERT's layers; position ids count real tokens from
 *   `pad_token_id + 1` (padding keeps `pad_token_id`), usually one token type;
 * - `distilbert`: BERT's layers under other names (`q_lin`, `sa_layer_norm`, …), no token
 *   types, LayerNorm ε fixed at 1e-12;
 * - `modernbert`: pre-norm layers without biases (LayerNorm without β by default), RoPE
 *   instead of position embeddings, a GeGLU MLP, and layers alternating between global
 *   attention and a local window (`|i − j| ≤ local_attention / 2`), each with its own RoPE
 *   θ; a final LayerNorm.
 * Anything else, or a setting this implementation does not follow (relative position
 * embeddings, decoder use), is refused with an error naming the field.
 */
import type { Activation } from '../index.js';

/** An encoder as the implementation runs it (all sizes resolved). */
export interface EncoderConfig {
  /** Which weight names and embedding rules apply. */
  readonly family: 'bert' | 'roberta' | 'distilbert' | 'modernbert';
  /** `model_type` of the config. */
  readonly modelType: string;
  /** Rows of the token embedding (`vocab_size`). */
  readonly vocabSize: number;
  /** Width `E` of the hidden states (`hidden_size` / DistilBERT's `dim`). */
  readonly hiddenSize: number;
  /** Layers (`num_hidden_layers` / `n_layers`). */
  readonly numLayers: number;
  /** Attention heads (`num_attention_heads` / `n_heads`). */
  readonly numHeads: number;
  /** Width `D = E / H` of each head. */
  readonly headDim: number;
  /** Width of the MLP's hidden layer (`intermediate_size` / `hidden_dim`). */
  readonly intermediateSize: number;
  /** Rows of the position embedding (`max_position_embeddings`). */
  readonly maxPositions: number;
  /** Rows of the token-type embedding (`type_vocab_size`); 0 when the family has none. */
  readonly typeVocabSize: number;
  /** LayerNorm ε (`layer_norm_eps`; DistilBERT: 1e-12). */
  readonly normEps: number;
  /** MLP activation (`hidden_act` / `activation`). */
  readonly activation: Activation;
  /** `pad_token_id` (RoBERTa's position ids depend on it); null when unset. */
  readonly padTokenId: number | null;
  /** Whether the LayerNorms have a β (ModernBERT's `norm_bias`; true for the BERT family). */
  readonly normBias: boolean;
  /** Whether q/k/v and the attention output have biases (ModernBERT's `attention_bias`). */
  readonly attentionBias: boolean;
  /** Whether the MLP's projections have biases (ModernBERT's `mlp_bias`). */
  readonly mlpBias: boolean;
  /** Per layer: global attention (`'full'`) or the local window (`'sliding'`). */
  readonly layerTypes: readonly ('full' | 'sliding')[];
  /** Keys each side of a query in `'sliding'` layers (`local_attention / 2`); null when no layer slides. */
  readonly slidingWindow: number | null;
  /** RoPE bases θ of global and local layers (ModernBERT); null for learned positions. */
  readonly rope: {
    /** θ of the global (`'full'`) layers (`global_rope_theta`). */
    readonly full: number;
    /** θ of the local (`'sliding'`) layers (`local_rope_theta`). */
    readonly sliding: number;
  } | null;
}

/** A parsed `config.json`. */
export type EncoderJson = Record<string, unknown>;

const ACTIVATIONS: Record<string, Activation> = {
  gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', gelu_fast: 'gelu_tanh', relu: 'relu',
  silu: 'silu', swish: 'silu',
};

const PREFIX = 'wasm-attention: models: EncoderModel';

/** Reads a Hugging Face encoder config (the parsed `config.json` object, or its text). */
export function parseEncoderConfig(config: EncoderJson | string): EncoderConfig {
  let c: unknown = config;
  if (typeof config === 'string') {
    try {
      c = JSON.parse(config);
    } catch (e) {
      throw new TypeError(`${PREFIX}: config text is not JSON (${(e as Error).message})`);
    }
  }
  if (c === null || typeof c !== 'object' || Array.isArray(c)) {
    throw new TypeError(`${PREFIX}: config must be a config.json object or its text, got ${c === null ? 'null' : typeof c}`);
  }
  const j = c as EncoderJson;
  const type = String(j.model_type ?? '');
  if (type === 'bert' || type === 'roberta' || type === 'xlm-roberta') return bertLike(j, type);
  if (type === 'distilbert') return distilbert(j);
  if (type === 'modernbert') return modernbert(j);
  throw new RangeError(`${PREFIX}: model_type ${JSON.stringify(j.model_type)} is not supported (bert, roberta, xlm-roberta, distilbert, modernbert)`);
}

function int(c: EncoderJson, key: string, fallback?: number, min = 1): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${PREFIX}: config.${key} must be an integer ≥ ${min}, got ${JSON.stringify(c[key])}`);
  }
  return v;
}

function num(c: EncoderJson, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`${PREFIX}: config.${key} must be a number ≥ 0, got ${JSON.stringify(c[key])}`);
  }
  return v;
}

function activation(c: EncoderJson, key: string, fallback: string): Activation {
  const name = c[key] ?? fallback;
  const a = typeof name === 'string' ? ACTIVATIONS[name] : undefined;
  if (a === undefined) {
    throw new RangeError(`${PREFIX}: config.${key} ${JSON.stringify(name)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return a;
}

function heads(E: number, H: number, eKey: string, hKey: string): number {
  if (E % H !== 0) throw new RangeError(`${PREFIX}: config.${eKey} ${E} is not a multiple of config.${hKey} ${H}`);
  return E / H;
}

function padId(c: EncoderJson): number | null {
  const p = c.pad_token_id;
  if (p === undefined || p === null) return null;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) {
    throw new RangeError(`${PREFIX}: config.pad_token_id must be an integer ≥ 0, got ${JSON.stringify(p)}`);
  }
  return p;
}

function bertLike(c: EncoderJson, type: string): EncoderConfig {
  const position = c.position_embedding_type ?? 'absolute';
  if (position !== 'absolute') {
    throw new RangeError(`${PREFIX}: config.position_embedding_type ${JSON.stringify(position)} is not supported (absolute)`);
  }
  if (c.is_decoder === true || c.add_cross_attention === true) {
    throw new RangeError(`${PREFIX}: config.is_decoder / add_cross_attention: decoder use of ${type} is not supported`);
  }
  const E = int(c, 'hidden_size'), H = int(c, 'num_attention_heads');
  const family = type === 'bert' ? 'bert' : 'roberta';
  const padTokenId = padId(c);
  if (family === 'roberta' && padTokenId === null) {
    throw new RangeError(`${PREFIX}: config.pad_token_id is needed: ${type} position ids start after it`);
  }
  return {
    family, modelType: type, vocabSize: int(c, 'vocab_size'), hiddenSize: E, numLayers: int(c, 'num_hidden_layers'),
    numHeads: H, headDim: heads(E, H, 'hidden_size', 'num_attention_heads'), intermediateSize: int(c, 'intermediate_size'),
    maxPositions: int(c, 'max_position_embeddings', 512), typeVocabSize: int(c, 'type_vocab_size', 2, 0),
    normEps: num(c, 'layer_norm_eps', 1e-12), activation: activation(c, 'hidden_act', 'gelu'), padTokenId,
    ...learnedPositions(int(c, 'num_hidden_layers')),
  };
}

function distilbert(c: EncoderJson): EncoderConfig {
  const E = int(c, 'dim', 768), H = int(c, 'n_heads', 12);
  return {
    family: 'distilbert', modelType: 'distilbert', vocabSize: int(c, 'vocab_size'), hiddenSize: E,
    numLayers: int(c, 'n_layers', 6), numHeads: H, headDim: heads(E, H, 'dim', 'n_heads'),
    intermediateSize: int(c, 'hidden_dim', 4 * E), maxPositions: int(c, 'max_position_embeddings', 512),
    // transformers' DistilBERT hard-codes its LayerNorms' ε.
    typeVocabSize: 0, normEps: 1e-12, activation: activation(c, 'activation', 'gelu'), padTokenId: padId(c),
    ...learnedPositions(int(c, 'n_layers', 6)),
  };
}

/** The BERT family: biases everywhere, global attention in every layer, learned positions. */
function learnedPositions(layers: number) {
  return {
    normBias: true, attentionBias: true, mlpBias: true, layerTypes: new Array<'full'>(layers).fill('full'),
    slidingWindow: null, rope: null,
  };
}

function bool(c: EncoderJson, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') throw new RangeError(`${PREFIX}: config.${key} must be true or false, got ${JSON.stringify(c[key])}`);
  return v;
}

/**
 * ModernBERT as transformers 5 saves it (`layer_types`, `rope_parameters`) or as the
 * published checkpoints spell it (`global_attn_every_n_layers`, `global_rope_theta`,
 * `local_rope_theta`).
 */
function modernbert(c: EncoderJson): EncoderConfig {
  const E = int(c, 'hidden_size', 768), H = int(c, 'num_attention_heads', 12), layers = int(c, 'num_hidden_layers', 22);
  let layerTypes: ('full' | 'sliding')[];
  if (c.layer_types != null) {
    const t = c.layer_types;
    if (!Array.isArray(t) || t.length !== layers || !t.every((x) => x === 'full_attention' || x === 'sliding_attention')) {
      throw new RangeError(`${PREFIX}: config.layer_types must list ${layers} of 'full_attention' / 'sliding_attention', got ${JSON.stringify(t)}`);
    }
    layerTypes = t.map((x) => (x === 'full_attention' ? 'full' : 'sliding'));
  } else {
    const every = int(c, 'global_attn_every_n_layers', 3);
    layerTypes = Array.from({ length: layers }, (_, i) => (i % every === 0 ? 'full' : 'sliding'));
  }
  const params = (c.rope_parameters ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const theta = (kind: 'full_attention' | 'sliding_attention', legacy: string, fallback: number): number => {
    const p = params[kind] ?? {};
    const type = p.rope_type ?? 'default';
    if (type !== 'default') throw new RangeError(`${PREFIX}: config.rope_parameters.${kind}.rope_type ${JSON.stringify(type)} is not supported (default)`);
    return p.rope_theta !== undefined ? num(p as EncoderJson, 'rope_theta', fallback) : num(c, legacy, fallback);
  };
  return {
    family: 'modernbert', modelType: 'modernbert', vocabSize: int(c, 'vocab_size'), hiddenSize: E, numLayers: layers,
    numHeads: H, headDim: heads(E, H, 'hidden_size', 'num_attention_heads'), intermediateSize: int(c, 'intermediate_size', 1152),
    maxPositions: int(c, 'max_position_embeddings', 8192), typeVocabSize: 0, normEps: num(c, 'norm_eps', 1e-5),
    activation: activation(c, 'hidden_activation', 'gelu'), padTokenId: padId(c),
    normBias: bool(c, 'norm_bias', false), attentionBias: bool(c, 'attention_bias', false), mlpBias: bool(c, 'mlp_bias', false),
    layerTypes, slidingWindow: layerTypes.includes('sliding') ? Math.floor(int(c, 'local_attention', 128) / 2) : null,
    rope: { full: theta('full_attention', 'global_rope_theta', 160000), sliding: theta('sliding_attention', 'local_rope_theta', 10000) },
  };
}
