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
import * as raw from '../raw.js';
import type { MaskInput } from '../ops/mask.js';
import { type RowWeight, linearRows, tensorWeight } from '../ops/linear.js';
import { ACTIVATION_CODES, addRows, type Staged, stage } from '../ops/elementwise.js';
import { type Floats } from './common.js';
import { add } from './elementwise.js';
import { type FeedForwardWeights, feedForward } from './feed-forward.js';
import type { MultiHeadAttention } from './multi-head-attention.js';
import { layerNorm } from './norm.js';
import {
  BlockPlan, type BlockShape, type MlpWeights, type Norm, type NormPlacement, type Vec, runAttention, runMlp,
} from './block.js';

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
  const onBlock = blockEncoderLayer(x, weights, options);
  if (onBlock !== null) return onBlock;
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
  const onBlock = blockDecoderLayer(x, memory, weights, options);
  if (onBlock !== null) return onBlock;
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

/**
 * `w` as a `[rows, cols]` float32 tensor (`rows` null: any), or null: a tensor used in place,
 * an array of numbers copied into a new one (pushed on `temps`).
 */
function matrix(w: unknown, rows: number | null, cols: number, temps: Tensor[]): Tensor | null {
  if (w instanceof Tensor) {
    if (w.dtype !== 'float32' || w.disposed || w.rank !== 2) return null;
    return (rows === null || w.shape[0] === rows) && w.shape[1] === cols ? w : null;
  }
  const len = (w as ArrayLike<number> | null | undefined)?.length;
  if (w == null || typeof w !== 'object' || typeof len !== 'number' || cols === 0 || len % cols !== 0) return null;
  const r = len / cols;
  if (r === 0 || (rows !== null && r !== rows)) return null;
  const t = Tensor.from(raw.stableSource(w as ArrayLike<number>, 'encoderLayer: a feed-forward weight'), [r, cols]);
  temps.push(t);
  return t;
}

/** Whether `v` is `n` floats: an array, or a float32 tensor of `n` values. */
function vector(v: unknown, n: number): boolean {
  if (v instanceof Tensor) return v.dtype === 'float32' && !v.disposed && v.size === n;
  return v != null && typeof v === 'object' && (v as ArrayLike<number>).length === n;
}

/**
 * {@link encoderLayer} on the transformer block the models run (toolkit/block.ts): the
 * layer's buffers planned for the call, the projections read in place from the weights'
 * tensors, bias + activation and the residual adds fused into the kernels that follow the
 * products. Null — the layer is then composed from the toolkit's ops, which also report
 * bad arguments — unless the attention is a plain self-attention block
 * (`MultiHeadAttention.blockProjections`) and {@link onBlock}'s conditions hold.
 */
function blockEncoderLayer(x: Tensor, weights: EncoderLayerWeights, options: EncoderLayerOptions): Tensor | null {
  const op = 'encoderLayer';
  if (weights == null || typeof weights !== 'object' || options == null || typeof options !== 'object') return null;
  const mha = weights.selfAttention;
  const proj = typeof mha?.blockProjections === 'function' ? mha.blockProjections() : null;
  if (proj === null) return null;
  // Padding flags given as a view of WASM memory are copied before anything is allocated.
  const attention = { mask: options.mask, keyPaddingMask: stableFlags(options.keyPaddingMask, op), causal: options.causal };
  return onBlock(op, x, mha, [weights.norm1, weights.norm2], weights, (c) => {
    const { plan, norms: [n1, n2] } = c;
    runAttention(c.shape, { norm: n1!, proj: proj.qkv, projBias: proj.qkvBias, out: proj.out, outBias: proj.outBias }, plan,
      (p) => mha.attendRows(selfRows(p, c), selfRows(p, c), c.B, c.L, c.L, attention, p.o.ptr, op), c.placement, false, op);
    runMlp(c.shape, n2!, c.mlp, plan, c.placement, c.placement === 'pre', op);
  });
}

/**
 * {@link decoderLayer} on the transformer block: self-attention, cross-attention (q projected
 * from the layer's rows, keys and values once from `memory`, read in place by head) and the
 * MLP as the block's sub-layers. Null (the composition) unless both attentions are such
 * sub-layers' (`blockProjections`, `crossProjections` with the same `embedDim`), `memory` is
 * float32 `[B, S, kdim]` like `x`'s rank and batch, and {@link onBlock}'s conditions hold.
 */
function blockDecoderLayer(x: Tensor, memory: Tensor, weights: DecoderLayerWeights, options: DecoderLayerOptions): Tensor | null {
  const op = 'decoderLayer';
  if (weights == null || typeof weights !== 'object' || options == null || typeof options !== 'object') return null;
  const self = weights.selfAttention, cross = weights.crossAttention;
  const sp = typeof self?.blockProjections === 'function' ? self.blockProjections() : null;
  const cp = typeof cross?.crossProjections === 'function' ? cross.crossProjections() : null;
  if (sp === null || cp === null || cross.embedDim !== self.embedDim || !(x instanceof Tensor) || !(memory instanceof Tensor)
    || memory.disposed || memory.dtype !== 'float32' || memory.size === 0 || memory.rank !== x.rank
    || memory.shape[memory.rank - 1] !== cross.kdim || (x.rank === 3 && memory.shape[0] !== x.shape[0])) return null;
  const S = memory.shape[memory.rank - 2]!;
  const selfOptions = { mask: options.mask, keyPaddingMask: stableFlags(options.keyPaddingMask, op), causal: options.causal ?? true };
  const crossOptions = { mask: options.memoryMask, keyPaddingMask: stableFlags(options.memoryKeyPaddingMask, op) };
  return onBlock(op, x, self, [weights.norm1, weights.norm2, weights.norm3], weights, (c) => {
    const { plan, norms: [n1, n2, n3], placement } = c;
    const E = self.embedDim, Ekv = cross.kvDim;
    // The memory's keys and values, [B·S, 2·E_kv]: projected once, read by head in place.
    const kv = Tensor.empty([c.B * S, 2 * Ekv]);
    c.temps.push(kv);
    linearRows(c.B * S, memory.ptr, cp.kv, cp.kvBias?.ptr ?? 0, kv.ptr, op);
    runAttention(c.shape, { norm: n1!, proj: sp.qkv, projBias: sp.qkvBias, out: sp.out, outBias: sp.outBias }, plan,
      (p) => self.attendRows(selfRows(p, c), selfRows(p, c), c.B, c.L, c.L, selfOptions, p.o.ptr, op), placement, false, op);
    // Cross-attention: q alone into the plan's projection buffer, [n, E].
    runAttention(c.shape, { norm: n2!, proj: cp.q, projBias: cp.qBias, out: cp.out, outBias: cp.outBias }, plan,
      (p) => cross.attendRows({ ptr: p.qkv.ptr, width: E }, { ptr: kv.ptr, width: 2 * Ekv, k: 0, v: Ekv }, c.B, c.L, S,
        crossOptions, p.o.ptr, op), placement, placement === 'pre', op);
    runMlp(c.shape, n3!, c.mlp, plan, placement, placement === 'pre', op);
  });
}

/** Flags copied out of WASM memory (a view of it would be detached by the allocations that follow). */
function stableFlags(flags: ArrayLike<boolean | number> | undefined, op: string): ArrayLike<boolean | number> | undefined {
  return flags === undefined ? undefined : raw.stableSource(flags, `${op}: padding flags`);
}

/** A self-attention sub-layer's q | k | v rows in the plan's projection buffer. */
function selfRows(p: BlockPlan, c: LayerCall): { ptr: number; width: number; k: number; v: number } {
  const E = c.shape.heads * c.shape.headDim, Ekv = c.shape.kvHeads * c.shape.headDim;
  return { ptr: p.qkv.ptr, width: E + 2 * Ekv, k: E, v: E + Ekv };
}

/** What a layer run on the block gets from {@link onBlock}. */
interface LayerCall {
  readonly B: number;
  readonly L: number;
  readonly shape: BlockShape;
  readonly plan: BlockPlan;
  readonly placement: NormPlacement;
  /** The layer's norms, staged in WASM memory, in the order given. */
  readonly norms: Norm<Vec>[];
  /** The feed-forward sub-layer's products (its norm is the layer's to pick). */
  readonly mlp: MlpWeights<RowWeight, Vec>;
  /** Tensors freed when the call ends. */
  readonly temps: Tensor[];
}

/**
 * A toolkit layer run on the transformer block: checks what the block needs (else null),
 * stages the norms' and feed-forward's parameters, plans the buffers for `x`'s rows (the
 * projection buffer sized by `selfAttention`), runs `layer` over them and returns the result
 * as a new tensor shaped like `x`. Null unless `x` is float32 `[B, L, E]`/`[L, E]`, the norms
 * are `E` floats each and the feed-forward weights float32 tensors or arrays of the right
 * sizes with a known activation.
 */
function onBlock(op: string, x: Tensor, selfAttention: MultiHeadAttention, norms: NormWeights[],
  weights: { feedForward: FeedForwardWeights; eps?: number; normFirst?: boolean }, layer: (c: LayerCall) => void): Tensor | null {
  const mha = selfAttention, ffn = weights.feedForward;
  if (!(x instanceof Tensor) || x.disposed || x.dtype !== 'float32' || x.size === 0) return null;
  const E = mha.embedDim;
  if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== E || ffn == null || typeof ffn !== 'object') return null;
  const activation = ffn.activation ?? 'relu';
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, activation)
    || !norms.every((n) => n != null && vector(n.gamma, E) && vector(n.beta, E))) return null;
  const [B, L] = x.rank === 3 ? [x.shape[0]!, x.shape[1]!] : [1, x.shape[0]!];
  const staged: Staged[] = [];
  const temps: Tensor[] = [];
  const st = (v: Floats): Vec => { const s = stage(v); staged.push(s); return s; };
  let plan: BlockPlan | null = null;
  try {
    const w1 = matrix(ffn.w1, null, E, temps);
    const F = w1?.shape[0] ?? 0;
    const w2 = w1 === null ? null : matrix(ffn.w2, E, F, temps);
    if (w1 === null || w2 === null || (ffn.b1 !== undefined && !vector(ffn.b1, F))
      || (ffn.b2 !== undefined && !vector(ffn.b2, E))) return null;
    const mlp = {
      fc: tensorWeight(w1), fcBias: ffn.b1 === undefined ? null : st(ffn.b1), up: null, upBias: null,
      down: tensorWeight(w2), downBias: ffn.b2 === undefined ? null : st(ffn.b2),
    };
    const stagedNorms = norms.map((n) => ({ gamma: st(n.gamma), beta: st(n.beta) }));
    const shape: BlockShape = {
      hidden: E, heads: mha.numHeads, kvHeads: mha.numKvHeads, headDim: mha.headDim, ffn: F, activation,
      eps: weights.eps ?? 1e-5, rotaryDim: 0, gated: false,
    };
    const n = B * L, placement: NormPlacement = weights.normFirst === true ? 'pre' : 'post';
    plan = new BlockPlan(shape, n, { kv: false });
    const out = Tensor.empty(x.shape);
    try {
      raw.heapU8().copyWithin(plan.h.ptr, x.ptr, x.ptr + x.bytes);
      layer({ B, L, shape, plan, placement, norms: stagedNorms, mlp, temps });
      // Pre-norm leaves the MLP's output in y for the caller to add to the residual stream.
      if (placement === 'pre') addRows(plan.h.ptr, n * E, plan.y.ptr, out.ptr, n * E, 1, n * E, op);
      else raw.heapU8().copyWithin(out.ptr, plan.h.ptr, plan.h.ptr + out.bytes);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  } finally {
    plan?.dispose();
    for (const s of staged) s.release();
    for (const t of temps) t.dispose();
  }
}
