/**
 * Transformer layers as PyTorch's `nn.TransformerEncoderLayer` / `nn.TransformerDecoderLayer`
 * (`batch_first=True`, inference), in both arrangements of the residual and the norm:
 * - post-norm ("Attention Is All You Need", `norm_first=False`, the default): every
 *   sub-layer is wrapped in "Add & Norm", `x ← LayerNorm(x + Sublayer(x))`;
 * - pre-norm (`normFirst: true`, PyTorch's `norm_first=True`; GPT-2 and LLaMA stacks):
 *   `x ← x + Sublayer(LayerNorm(x))`, so the residual stream itself is never normalised.
 * - Encoder: self-attention, then the feed-forward network.
 * - Decoder: masked (causal) self-attention, cross-attention whose keys and values are
 *   the encoder output (`memory`), then the feed-forward network.
 */
import { Tensor } from '../tensor.js';
import type { MaskInput } from '../ops/mask.js';
import { type Floats } from './common.js';
import { add } from './elementwise.js';
import { type FeedForwardWeights, feedForward } from './feed-forward.js';
import type { MultiHeadAttention } from './multi-head-attention.js';
import { layerNorm } from './norm.js';

/** LayerNorm parameters (`[E]` each). */
export interface NormWeights {
  /** Scale `γ`. */
  gamma: Floats;
  /** Shift `β`. */
  beta: Floats;
}

/** Parameters of {@link encoderLayer}. */
export interface EncoderLayerWeights {
  /** Self-attention (weights loaded). */
  selfAttention: MultiHeadAttention;
  /** "Add & Norm" after attention. */
  norm1: NormWeights;
  /** Position-wise feed-forward network. */
  feedForward: FeedForwardWeights;
  /** "Add & Norm" after the feed-forward network. */
  norm2: NormWeights;
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  eps?: number;
  /** Pre-norm: normalise each sub-layer's input instead of the residual sum (`norm_first=True`). @defaultValue false */
  normFirst?: boolean;
}

/** Options of {@link encoderLayer}. */
export interface EncoderLayerOptions {
  /** Attention mask (see `MultiHeadAttention.forward`). @defaultValue none */
  mask?: MaskInput;
  /** `[B, L]` flags, true = padding (PyTorch's `src_key_padding_mask`). @defaultValue none */
  keyPaddingMask?: ArrayLike<boolean | number>;
  /** Causal self-attention (a decoder-only stack). @defaultValue false */
  causal?: boolean;
}

/**
 * Post-norm: `h = LN₁(x + MHA(x))`, `out = LN₂(h + FFN(h))`; pre-norm (`normFirst`):
 * `h = x + MHA(LN₁(x))`, `out = h + FFN(LN₂(h))`. For `x [B, L, E]` (or `[L, E]`); a new tensor.
 */
export function encoderLayer(x: Tensor, weights: EncoderLayerWeights, options: EncoderLayerOptions = {}): Tensor {
  const eps = weights.eps ?? 1e-5;
  const attend = (t: Tensor) => weights.selfAttention.forward(t, {
    mask: options.mask, keyPaddingMask: options.keyPaddingMask, causal: options.causal,
  });
  if (weights.normFirst === true) {
    const h = preNorm(x, weights.norm1, eps, attend);
    try {
      return preNorm(h, weights.norm2, eps, (t) => feedForward(t, weights.feedForward));
    } finally {
      h.dispose();
    }
  }
  const h = attend(x);
  try {
    addAndNorm(x, h, weights.norm1, eps);
    return ffnBlock(h, weights.feedForward, weights.norm2, eps);
  } finally {
    h.dispose();
  }
}

/** Parameters of {@link decoderLayer}. */
export interface DecoderLayerWeights {
  /** Masked self-attention. */
  selfAttention: MultiHeadAttention;
  /** "Add & Norm" after self-attention. */
  norm1: NormWeights;
  /** Cross-attention over the encoder output (`kdim`/`vdim` = the encoder's width). */
  crossAttention: MultiHeadAttention;
  /** "Add & Norm" after cross-attention. */
  norm2: NormWeights;
  /** Position-wise feed-forward network. */
  feedForward: FeedForwardWeights;
  /** "Add & Norm" after the feed-forward network. */
  norm3: NormWeights;
  /** LayerNorm epsilon. @defaultValue 1e-5 */
  eps?: number;
  /** Pre-norm: normalise each sub-layer's input instead of the residual sum (`norm_first=True`). @defaultValue false */
  normFirst?: boolean;
}

/** Options of {@link decoderLayer}. */
export interface DecoderLayerOptions {
  /** Causal self-attention (the decoder cannot peek at later tokens). @defaultValue true */
  causal?: boolean;
  /** Extra self-attention mask. @defaultValue none */
  mask?: MaskInput;
  /** `[B, L]` padding flags of the target, true = padding. @defaultValue none */
  keyPaddingMask?: ArrayLike<boolean | number>;
  /** Cross-attention mask. @defaultValue none */
  memoryMask?: MaskInput;
  /** `[B, S]` padding flags of the encoder output, true = padding. @defaultValue none */
  memoryKeyPaddingMask?: ArrayLike<boolean | number>;
}

/**
 * Post-norm: `h₁ = LN₁(x + MaskedMHA(x))`, `h₂ = LN₂(h₁ + MHA(h₁, memory))`, `out = LN₃(h₂ + FFN(h₂))`;
 * pre-norm (`normFirst`): `h₁ = x + MaskedMHA(LN₁(x))`, `h₂ = h₁ + MHA(LN₂(h₁), memory)`,
 * `out = h₂ + FFN(LN₃(h₂))` (the memory itself is not normalised, as in PyTorch).
 * For `x [B, L, E]`, `memory [B, S, E_enc]`; a new tensor.
 */
export function decoderLayer(x: Tensor, memory: Tensor, weights: DecoderLayerWeights,
  options: DecoderLayerOptions = {}): Tensor {
  const eps = weights.eps ?? 1e-5;
  const selfAttend = (t: Tensor) => weights.selfAttention.forward(t, {
    causal: options.causal ?? true, mask: options.mask, keyPaddingMask: options.keyPaddingMask,
  });
  const crossAttend = (t: Tensor) => weights.crossAttention.forward(t, {
    context: memory, mask: options.memoryMask, keyPaddingMask: options.memoryKeyPaddingMask,
  });
  if (weights.normFirst === true) {
    const h1 = preNorm(x, weights.norm1, eps, selfAttend);
    try {
      const h2 = preNorm(h1, weights.norm2, eps, crossAttend);
      try {
        return preNorm(h2, weights.norm3, eps, (t) => feedForward(t, weights.feedForward));
      } finally {
        h2.dispose();
      }
    } finally {
      h1.dispose();
    }
  }
  const h1 = selfAttend(x);
  try {
    addAndNorm(x, h1, weights.norm1, eps);
    const h2 = crossAttend(h1);
    try {
      addAndNorm(h1, h2, weights.norm2, eps);
      return ffnBlock(h2, weights.feedForward, weights.norm3, eps);
    } finally {
      h2.dispose();
    }
  } finally {
    h1.dispose();
  }
}

/** `x + sublayer(LN(x))` as a new tensor (the pre-norm residual block). */
function preNorm(x: Tensor, norm: NormWeights, eps: number, sublayer: (t: Tensor) => Tensor): Tensor {
  const n = layerNorm(x, norm.gamma, norm.beta, { eps });
  try {
    const y = sublayer(n);
    return add(y, x, { out: y });
  } finally {
    n.dispose();
  }
}

/** `y ← LN(x + y)` in place in `y` (the residual add fused into the norm's first pass). */
function addAndNorm(x: Tensor, y: Tensor, norm: NormWeights, eps: number): void {
  layerNorm(y, norm.gamma, norm.beta, { eps, out: y, residual: x });
}

/** `LN(h + FFN(h))` as a new tensor. */
function ffnBlock(h: Tensor, ffn: FeedForwardWeights, norm: NormWeights, eps: number): Tensor {
  const f = feedForward(h, ffn);
  try {
    addAndNorm(h, f, norm, eps);
  } catch (e) {
    f.dispose();
    throw e;
  }
  return f;
}
