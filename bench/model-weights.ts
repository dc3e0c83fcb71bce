/**
 * The random models of the `models` group: their shapes, Hugging Face `config.json`,
 * and one weight generator both libraries read, so that wasm-attention's safetensors
 * file and the peer's ONNX graph hold the same floats. Every tensor is generated on its
 * own from (model seed, tensor name): the same name gives the same values in any order.
 */

/** A decoder's sizes. */
export interface ModelSpec {
  /** Display name, e.g. `SmolLM-135M`. */
  readonly name: string;
  readonly family: 'llama' | 'gpt2';
  readonly layers: number;
  /** Width of the residual stream. */
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Width of the MLP's hidden layer. */
  readonly mlp: number;
  readonly vocab: number;
  /** Longest sequence (GPT-2's learned positions; LLaMA's max_position_embeddings). */
  readonly positions: number;
  readonly seed: number;
}

/** SmolLM-135M's shape: 30 layers, d 576, 9/3 heads of 64, MLP 1536, vocabulary 49152, tied lm_head. */
export const SMOLLM_135M: ModelSpec = {
  name: 'SmolLM-135M', family: 'llama', layers: 30, hidden: 576, heads: 9, kvHeads: 3, headDim: 64, mlp: 1536,
  vocab: 49152, positions: 2048, seed: 135,
};

/** GPT-2 small's shape: 12 layers, d 768, 12 heads, MLP 3072, vocabulary 50257, 1024 positions. */
export const GPT2_SMALL: ModelSpec = {
  name: 'GPT-2-small', family: 'gpt2', layers: 12, hidden: 768, heads: 12, kvHeads: 12, headDim: 64, mlp: 3072,
  vocab: 50257, positions: 1024, seed: 124,
};

/** Tiny models of the same two families for `--quick` (seconds, not minutes). */
export const TINY_LLAMA: ModelSpec = {
  name: 'tiny LLaMA', family: 'llama', layers: 2, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, mlp: 128,
  vocab: 512, positions: 256, seed: 1,
};
export const TINY_GPT2: ModelSpec = {
  name: 'tiny GPT-2', family: 'gpt2', layers: 2, hidden: 64, heads: 4, kvHeads: 4, headDim: 16, mlp: 256,
  vocab: 512, positions: 256, seed: 2,
};

export const RMS_EPS = 1e-5;
export const LN_EPS = 1e-5;
export const ROPE_THETA = 10000;

/** The Hugging Face `config.json` of a spec (what both libraries read). */
export function hfConfig(s: ModelSpec): Record<string, unknown> {
  if (s.family === 'gpt2') {
    return {
      model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: s.vocab, n_embd: s.hidden, n_head: s.heads,
      n_layer: s.layers, n_positions: s.positions, n_ctx: s.positions, n_inner: null, activation_function: 'gelu_new',
      layer_norm_epsilon: LN_EPS, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 0,
    };
  }
  return {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: s.vocab, hidden_size: s.hidden,
    intermediate_size: s.mlp, num_hidden_layers: s.layers, num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads, head_dim: s.headDim, max_position_embeddings: s.positions,
    rms_norm_eps: RMS_EPS, rope_theta: ROPE_THETA, hidden_act: 'silu', tie_word_embeddings: true,
    attention_bias: false, mlp_bias: false, bos_token_id: 0, eos_token_id: 0,
  };
}

/** What a tensor is (sets its value range). */
export type Kind = 'weight' | 'bias' | 'gain' | 'shift';

export interface TensorInfo {
  /** Hugging Face name (the safetensors key). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: Kind;
}

/** Every tensor of the model under its Hugging Face name and layout (GPT-2: Conv1D `[in, out]`). */
export function tensorList(s: ModelSpec): TensorInfo[] {
  const E = s.hidden, F = s.mlp, out: TensorInfo[] = [];
  const t = (name: string, shape: number[], kind: Kind = 'weight') => out.push({ name, shape, kind });
  if (s.family === 'gpt2') {
    t('transformer.wte.weight', [s.vocab, E]);
    t('transformer.wpe.weight', [s.positions, E]);
    for (let l = 0; l < s.layers; l++) {
      const p = `transformer.h.${l}.`;
      t(`${p}ln_1.weight`, [E], 'gain'); t(`${p}ln_1.bias`, [E], 'shift');
      t(`${p}attn.c_attn.weight`, [E, 3 * E]); t(`${p}attn.c_attn.bias`, [3 * E], 'bias');
      t(`${p}attn.c_proj.weight`, [E, E]); t(`${p}attn.c_proj.bias`, [E], 'bias');
      t(`${p}ln_2.weight`, [E], 'gain'); t(`${p}ln_2.bias`, [E], 'shift');
      t(`${p}mlp.c_fc.weight`, [E, F]); t(`${p}mlp.c_fc.bias`, [F], 'bias');
      t(`${p}mlp.c_proj.weight`, [F, E]); t(`${p}mlp.c_proj.bias`, [E], 'bias');
    }
    t('transformer.ln_f.weight', [E], 'gain'); t('transformer.ln_f.bias', [E], 'shift');
    return out;
  }
  const Nq = s.heads * s.headDim, Nkv = s.kvHeads * s.headDim;
  t('model.embed_tokens.weight', [s.vocab, E]);
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    t(`${p}input_layernorm.weight`, [E], 'gain');
    t(`${p}self_attn.q_proj.weight`, [Nq, E]); t(`${p}self_attn.k_proj.weight`, [Nkv, E]);
    t(`${p}self_attn.v_proj.weight`, [Nkv, E]); t(`${p}self_attn.o_proj.weight`, [E, Nq]);
    t(`${p}post_attention_layernorm.weight`, [E], 'gain');
    t(`${p}mlp.gate_proj.weight`, [F, E]); t(`${p}mlp.up_proj.weight`, [F, E]); t(`${p}mlp.down_proj.weight`, [E, F]);
  }
  t('model.norm.weight', [E], 'gain');
  return out;
}

/** FNV-1a of a string (the per-tensor seed). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The values of one tensor (seeded xorshift32 → uniform): weights ±0.04, biases and
 * LayerNorm shifts ±0.02, norm gains 1 ± 0.1.
 */
export function fillTensor(s: { readonly seed: number }, info: TensorInfo, out: Float32Array): Float32Array {
  let x = (hash(info.name) ^ Math.imul(s.seed, 0x9e3779b1)) >>> 0 || 1;
  const [centre, half] = info.kind === 'gain' ? [1, 0.1] : info.kind === 'weight' ? [0, 0.04] : [0, 0.02];
  const scale = (2 * half) / 4294967296;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = centre - half + (x >>> 0) * scale;
  }
  return out;
}

/** A tensor's values, newly allocated. */
export function tensorValues(s: { readonly seed: number }, info: TensorInfo): Float32Array {
  return fillTensor(s, info, new Float32Array(info.shape.reduce((a, b) => a * b, 1)));
}

/** float32 → IEEE half bits, rounding to nearest even (subnormals kept, overflow to infinity). */
const HALF_F32 = new Float32Array(1);
const HALF_U32 = new Uint32Array(HALF_F32.buffer);
export function toHalf(value: number): number {
  HALF_F32[0] = value;
  const u = HALF_U32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/**
 * The model as an in-memory safetensors file, `F32` or `F16` (the same floats rounded
 * to half precision; norms and biases too, as a float16 checkpoint has them).
 */
export function safetensorsBytes(s: ModelSpec, dtype: 'F32' | 'F16'): Uint8Array {
  return safetensorsOf(s, tensorList(s), dtype);
}

/** A safetensors file of the tensors `list`, filled by {@link fillTensor} with `s`'s seed. */
export function safetensorsOf(s: { readonly seed: number }, list: readonly TensorInfo[], dtype: 'F32' | 'F16'): Uint8Array {
  const size = dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of list) {
    const n = t.shape.reduce((a, b) => a * b, 1) * size;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const buf = new Uint8Array(8 + json.length + offset);
  new DataView(buf.buffer).setUint32(0, json.length, true);
  buf.set(new TextEncoder().encode(json), 8);
  const start = 8 + json.length;
  let scratch = new Float32Array(0);
  for (const t of list) {
    const [a, b] = (header[t.name] as { data_offsets: [number, number] }).data_offsets;
    if (dtype === 'F32') {
      fillTensor(s, t, new Float32Array(buf.buffer, start + a, (b - a) / 4));
    } else {
      const n = (b - a) / 2;
      if (scratch.length < n) scratch = new Float32Array(n);
      const f = fillTensor(s, t, scratch.subarray(0, n));
      const h = new Uint16Array(buf.buffer, start + a, n);
      for (let i = 0; i < n; i++) h[i] = toHalf(f[i]!);
    }
  }
  return buf;
}
