/**
 * The random BERT encoders of the `encoders` group: their shapes, Hugging Face
 * `config.json`, tensor list (BertModel's names) and the batches both libraries embed.
 * Values come from model-weights.ts's seeded generator: the same (seed, tensor name)
 * gives the same floats in our safetensors file and the peer's ONNX graph.
 */
import { safetensorsOf, type Kind, type TensorInfo } from './model-weights.js';

/** A BERT encoder's sizes. */
export interface EncoderSpec {
  /** Display name, e.g. `MiniLM-L6`. */
  readonly name: string;
  readonly layers: number;
  /** Width of the residual stream. */
  readonly hidden: number;
  readonly heads: number;
  /** Width of the MLP's hidden layer. */
  readonly mlp: number;
  readonly vocab: number;
  /** Learned positions (longest sentence). */
  readonly positions: number;
  /** Rows of the token-type table. */
  readonly typeVocab: number;
  readonly seed: number;
}

/** all-MiniLM-L6-v2's shape: 6 layers, d 384, 12 heads, MLP 1536, vocabulary 30522, 512 positions. */
export const MINILM_L6: EncoderSpec = {
  name: 'MiniLM-L6', layers: 6, hidden: 384, heads: 12, mlp: 1536, vocab: 30522, positions: 512, typeVocab: 2, seed: 6,
};

/** bert-base-uncased's shape: 12 layers, d 768, 12 heads, MLP 3072, vocabulary 30522, 512 positions. */
export const BERT_BASE: EncoderSpec = {
  name: 'BERT-base', layers: 12, hidden: 768, heads: 12, mlp: 3072, vocab: 30522, positions: 512, typeVocab: 2, seed: 110,
};

/** A tiny BERT for `--quick`. */
export const TINY_BERT: EncoderSpec = {
  name: 'tiny BERT', layers: 2, hidden: 64, heads: 4, mlp: 256, vocab: 512, positions: 128, typeVocab: 2, seed: 3,
};

/** BERT's LayerNorm ε (`layer_norm_eps`). */
export const BERT_LN_EPS = 1e-12;

/** The Hugging Face `config.json` of a spec (what both libraries read). */
export function encoderHfConfig(s: EncoderSpec): Record<string, unknown> {
  return {
    model_type: 'bert', architectures: ['BertModel'], vocab_size: s.vocab, hidden_size: s.hidden,
    num_hidden_layers: s.layers, num_attention_heads: s.heads, intermediate_size: s.mlp, hidden_act: 'gelu',
    max_position_embeddings: s.positions, type_vocab_size: s.typeVocab, layer_norm_eps: BERT_LN_EPS,
    position_embedding_type: 'absolute', pad_token_id: 0,
  };
}

/** Every tensor of BertModel under its Hugging Face name, `Linear` weights `[out, in]`. */
export function encoderTensorList(s: EncoderSpec): TensorInfo[] {
  const E = s.hidden, F = s.mlp, out: TensorInfo[] = [];
  const t = (name: string, shape: number[], kind: Kind = 'weight') => out.push({ name, shape, kind });
  const linear = (name: string, outDim: number, inDim: number) => {
    t(`${name}.weight`, [outDim, inDim]);
    t(`${name}.bias`, [outDim], 'bias');
  };
  const norm = (name: string) => {
    t(`${name}.weight`, [E], 'gain');
    t(`${name}.bias`, [E], 'shift');
  };
  t('embeddings.word_embeddings.weight', [s.vocab, E]);
  t('embeddings.position_embeddings.weight', [s.positions, E]);
  t('embeddings.token_type_embeddings.weight', [s.typeVocab, E]);
  norm('embeddings.LayerNorm');
  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}.`;
    linear(`${p}attention.self.query`, E, E);
    linear(`${p}attention.self.key`, E, E);
    linear(`${p}attention.self.value`, E, E);
    linear(`${p}attention.output.dense`, E, E);
    norm(`${p}attention.output.LayerNorm`);
    linear(`${p}intermediate.dense`, F, E);
    linear(`${p}output.dense`, E, F);
    norm(`${p}output.LayerNorm`);
  }
  return out;
}

/** The encoder as an in-memory safetensors file, `F32` or `F16` (the same floats rounded). */
export function encoderSafetensors(s: EncoderSpec, dtype: 'F32' | 'F16'): Uint8Array {
  return safetensorsOf(s, encoderTensorList(s), dtype);
}

/** A padded batch: ids and mask row-major `[B, L]`, L = the longest sentence. */
export interface Batch {
  readonly lengths: readonly number[];
  readonly B: number;
  readonly L: number;
  readonly ids: Int32Array;
  /** 1 for a real token, 0 for padding (right-padded). */
  readonly mask: Uint8Array;
  /** Real tokens (the sum of the lengths). */
  readonly tokens: number;
}

/**
 * Sentences of the given lengths, right-padded to the longest with id 0; token ids are
 * a fixed function of (sentence, position) below the vocabulary (the cost does not depend on them).
 */
export function makeBatch(lengths: readonly number[], vocab: number): Batch {
  const B = lengths.length, L = Math.max(...lengths);
  const ids = new Int32Array(B * L), mask = new Uint8Array(B * L);
  lengths.forEach((n, b) => {
    for (let i = 0; i < n; i++) {
      ids[b * L + i] = 1 + ((b * 7919 + i * 104729 + 13) % (vocab - 1));
      mask[b * L + i] = 1;
    }
  });
  return { lengths, B, L, ids, mask, tokens: lengths.reduce((a, b) => a + b, 0) };
}

/**
 * `count` sentence lengths in `[min, max]` from a fixed seeded distribution: log-normal with
 * median `median` tokens and σ = 0.6 (xorshift32 + Box–Muller), clamped — short sentences
 * common, a few long ones, as in a batch of real text.
 */
export function raggedLengths(count: number, median: number, min: number, max: number, seed: number): number[] {
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  const uniform = () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return ((x >>> 0) + 1) / 4294967297;
  };
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    out.push(Math.min(max, Math.max(min, Math.round(median * Math.exp(0.6 * z)))));
  }
  return out;
}

/** The correctness batch: three sentences (one unpadded, two padded) below every vocabulary used. */
export const CHECK_LENGTHS = [16, 5, 11];
