/**
 * One transformer block (the decoders and the encoders) as a fixed sequence of kernel
 * calls over activation buffers planned once per token count `n`. Pre-norm (GPT-2, the
 * LLaMA family, ModernBERT):
 * ```
 * a = norm₁(h += y)                    residual add fused into the norm (y: the previous block's MLP)
 * qkv = a·W_qkvᵀ (+ b)                 linear: GEMV kernels for n ≤ 16, else the packed GEMM
 * o = attend(qkv)                      the caller's step: RoPE, KV cache, fused attention → [n, H_q·D]
 * y = o·W_oᵀ (+ b)
 * a = norm₂(h += y)
 * y = down(act(gate(a) + b) ⊙ (up(a) + b))   gated (SwiGLU, GeGLU), or down(act(fc(a) + b))
 * ```
 * The MLP's `y` is added to `h` by the next block's first norm (or the final norm), so a
 * block is nine kernel calls and no `Tensor` is allocated once the plan exists.
 * Post-norm (BERT, RoBERTa, DistilBERT) reads `h` itself and folds each residual sum into
 * its norm: `h = norm₁(h + o·W_oᵀ + b)`, `h = norm₂(h + MLP(h))`. Heads are addressed by
 * strides, never split or merged by copies. The decoder's attend step is [runBlock]'s
 * (RoPE at one cache position, KV cache, cached attention); the encoder's is its own
 * (RoPE per sequence, packed variable-length attention).
 * A layer is a sequence of sub-layers, each `input → products → output` in the layer's norm
 * placement: {@link runAttention} (self-attention, or cross-attention whose keys and values
 * the caller projected from another sequence) and {@link runMlp}. The models' layers are
 * attention + MLP ({@link runLayer}); the toolkit's `decoderLayer` is self-attention,
 * cross-attention and the MLP.
 * @internal
 */
import { Tensor } from '../tensor.js';
import { linearRows, type RowWeight, type Weight } from '../ops/linear.js';
import { ACTIVATION_CODES, biasActivation, gatedActivation, normRows, ropeRows } from '../ops/elementwise.js';
import type { Activation } from './elementwise.js';
import type { KVCache } from './kv-cache.js';
import * as raw from '../raw.js';

/** A float32 vector in WASM memory (a `Tensor`, or a parameter staged for one call). */
export interface Vec { readonly ptr: number }

/** A norm's parameters: RMSNorm when `beta` is null. */
export interface Norm<T extends Vec = Tensor> { gamma: T; beta: T | null }

/** An MLP's products: `down(act(fc(x) + b) (⊙ (up(x) + b))) + b`. */
export interface MlpWeights<W extends RowWeight = Weight, T extends Vec = Tensor> {
  /** `[F, E]`: GPT-2's `c_fc`, LLaMA's `gate_proj`. */
  fc: W;
  fcBias: T | null;
  /** `[F, E]`: LLaMA's `up_proj`; null for GPT-2. */
  up: W | null;
  upBias: T | null;
  /** `[E, F]`. */
  down: W;
  downBias: T | null;
}

/**
 * The weights of one block: the models' prepared once in their kernels' layout (`Weight`s),
 * the toolkit layers' read in place from the caller's tensors for one call.
 */
export interface BlockWeights<W extends RowWeight = Weight, T extends Vec = Tensor> extends MlpWeights<W, T> {
  /** Null: no norm before the attention (ModernBERT's layer 0; pre-norm only). */
  norm1: Norm<T> | null;
  norm2: Norm<T>;
  /** `[Hq·D + 2·Hkv·D, E]`: the rows of W_q, W_k, W_v. */
  qkv: W;
  qkvBias: T | null;
  /** `[E, Hq·D]`. */
  out: W;
  outBias: T | null;
}

/** Sizes shared by every block of a model. */
export interface BlockShape {
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly ffn: number;
  readonly activation: Activation;
  readonly eps: number;
  readonly rotaryDim: number;
  readonly gated: boolean;
}

/** Activation buffers for `n` tokens, shared by every block of a call with that `n`. */
export class BlockPlan {
  readonly n: number;
  /** `[n, E]` the residual stream. */
  readonly h: Tensor;
  /** `[n, E]` a sub-layer's normed input. */
  readonly a: Tensor;
  /** `[n, E]` a sub-layer's output, added to `h` by the next norm. */
  readonly y: Tensor;
  /** `[n, Hq·D + 2·Hkv·D]`. */
  readonly qkv: Tensor;
  /** `[Hkv, n, D]` keys and values gathered by head (`n > 1` only). */
  readonly k: Tensor | null;
  readonly v: Tensor | null;
  /** `[n, Hq·D]` attention output, heads side by side. */
  readonly o: Tensor;
  /** `[n, F]` the MLP hidden layer (the gate's when gated). */
  readonly f: Tensor;
  /** `[n, F]` the up projection (gated only). */
  readonly g: Tensor | null;
  /** `[n]` u32 token ids. */
  readonly ids: Tensor;
  readonly #all: Tensor[] = [];

  /** `kv: false` leaves out the gathered keys and values (attention that reads them in place). */
  constructor(s: BlockShape, n: number, options: { kv?: boolean } = {}) {
    this.n = n;
    const kv = options.kv !== false && n > 1;
    const W = (s.heads + 2 * s.kvHeads) * s.headDim;
    const make = (shape: number[]) => { const t = Tensor.empty(shape); this.#all.push(t); return t; };
    try {
      this.h = make([n, s.hidden]);
      this.a = make([n, s.hidden]);
      this.y = make([n, s.hidden]);
      this.qkv = make([n, W]);
      this.k = kv ? make([s.kvHeads, n, s.headDim]) : null;
      this.v = kv ? make([s.kvHeads, n, s.headDim]) : null;
      this.o = make([n, s.heads * s.headDim]);
      this.f = make([n, s.ffn]);
      this.g = s.gated ? make([n, s.ffn]) : null;
      this.ids = make([n]);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Bytes the buffers take. */
  get bytes(): number {
    return this.#all.reduce((s, t) => s + t.bytes, 0);
  }

  dispose(): void {
    for (const t of this.#all) t.dispose();
  }
}

/** Float32 rotary tables `[P, rotaryDim/2]` in WASM memory. */
export interface RopeTables { readonly cos: Tensor; readonly sin: Tensor; readonly rows: number }

/**
 * `a ← norm(h (+= y))` over the plan's rows: the residual add of the previous sub-layer
 * fused into the norm when `addY`.
 */
export function normInto(plan: BlockPlan, p: Norm<Vec>, eps: number, addY: boolean, op: string): void {
  normRows(plan.h.ptr, addY ? plan.y.ptr : 0, plan.a.ptr, plan.n, plan.h.shape[1]!, p.gamma.ptr, p.beta?.ptr ?? 0, eps, op);
}

/** Where a layer's norms sit: before each sub-layer, or after its residual sum. */
export type NormPlacement = 'pre' | 'post';

/** A layer's attention step: reads the projected rows from `plan.qkv` and writes `plan.o` `[n, Hq·D]`. */
export type Attend = (plan: BlockPlan) => void;

/**
 * An attention sub-layer's weights: `proj` projects the sub-layer's input into `plan.qkv`
 * (self-attention: the q | k | v rows; cross-attention: q's alone, the keys and values
 * being projected from the other sequence by the caller), `out` maps the context back.
 */
export interface AttentionSublayer<W extends RowWeight = Weight, T extends Vec = Tensor> {
  norm: Norm<T> | null;
  proj: W;
  projBias: T | null;
  out: W;
  outBias: T | null;
}

/** Sizes a sub-layer reads. */
type SublayerShape = Pick<BlockShape, 'hidden' | 'eps' | 'ffn' | 'activation'>;

/**
 * A sub-layer's input. Pre-norm: `a = norm(h (+= y))`, the pending output `y` of the
 * sub-layer before added first when `addY`; post-norm (or no norm): `h` itself.
 */
function sublayerInput(s: SublayerShape, plan: BlockPlan, norm: Norm<Vec> | null, placement: NormPlacement, addY: boolean,
  op: string): Tensor {
  if (placement === 'pre' && norm !== null) {
    normInto(plan, norm, s.eps, addY, op);
    return plan.a;
  }
  if (addY) throw new Error(`wasm-attention: ${op}: a layer without a first norm cannot take a pending residual`);
  return plan.h;
}

/** Post-norm: `h = norm(h + y)` in place (pre-norm leaves `y` pending for the next norm). */
function sublayerOutput(s: SublayerShape, plan: BlockPlan, norm: Norm<Vec> | null, placement: NormPlacement, op: string): void {
  if (placement === 'post') {
    normRows(plan.h.ptr, plan.y.ptr, plan.h.ptr, plan.n, s.hidden, norm!.gamma.ptr, norm!.beta?.ptr ?? 0, s.eps, op);
  }
}

/** Attention sub-layer: input (see {@link sublayerInput}), `qkv = x·projᵀ + b`, attend, `y = o·outᵀ + b`, output. */
export function runAttention(s: SublayerShape, w: AttentionSublayer<RowWeight, Vec>, plan: BlockPlan, attend: Attend,
  placement: NormPlacement, addY: boolean, op: string): void {
  const x = sublayerInput(s, plan, w.norm, placement, addY, op);
  // Products on the plan's buffers (shapes fixed when the plan and the weights were made).
  linearRows(plan.n, x.ptr, w.proj, w.projBias?.ptr ?? 0, plan.qkv.ptr, op);
  attend(plan);
  linearRows(plan.n, plan.o.ptr, w.out, w.outBias?.ptr ?? 0, plan.y.ptr, op);
  sublayerOutput(s, plan, w.norm, placement, op);
}

/** MLP sub-layer with its `norm`: `y = down(act(fc(x) + b) (⊙ (up(x) + b))) + b`, bias and activation in one pass after the product. */
export function runMlp(s: SublayerShape, norm: Norm<Vec>, w: MlpWeights<RowWeight, Vec>, plan: BlockPlan,
  placement: NormPlacement, addY: boolean, op: string): void {
  const x = sublayerInput(s, plan, norm, placement, addY, op);
  const { n } = plan, F = s.ffn, act = ACTIVATION_CODES[s.activation];
  linearRows(n, x.ptr, w.fc, 0, plan.f.ptr, op);
  if (w.up !== null) {
    linearRows(n, x.ptr, w.up, 0, plan.g!.ptr, op);
    gatedActivation(plan.f.ptr, F, plan.g!.ptr, F, n, F, w.fcBias?.ptr ?? 0, w.upBias?.ptr ?? 0, act, op);
  } else {
    biasActivation(plan.f.ptr, F, n, F, w.fcBias?.ptr ?? 0, act, op);
  }
  linearRows(n, plan.f.ptr, w.down, w.downBias?.ptr ?? 0, plan.y.ptr, op);
  sublayerOutput(s, plan, norm, placement, op);
}

/**
 * Runs one layer over `plan.h`: self-attention, then the MLP (see the module notes).
 * Pre-norm leaves the MLP output in `plan.y` for the caller to add (`addY`: `plan.y` holds
 * the previous block's output, not yet added to `h`); post-norm leaves the new residual
 * stream in `plan.h`.
 */
export function runLayer(s: BlockShape, w: BlockWeights<RowWeight, Vec>, plan: BlockPlan, attend: Attend, placement: NormPlacement,
  addY: boolean, op: string): void {
  runAttention(s, { norm: w.norm1, proj: w.qkv, projBias: w.qkvBias, out: w.out, outBias: w.outBias }, plan, attend,
    placement, addY, op);
  runMlp(s, w.norm2, w, plan, placement, placement === 'pre', op);
}

/**
 * Runs one pre-norm decoder block over `plan.h` at cache position `p0`, leaving the MLP
 * output in `plan.y` for the caller to add: RoPE at positions `p0 …`, the new keys and
 * values appended to `cache`, attention over the cache (`coldKv`: read as coming from
 * memory, see `KVCache.attendRows`).
 */
export function runBlock(s: BlockShape, w: BlockWeights<RowWeight, Vec>, plan: BlockPlan, cache: KVCache, p0: number,
  scale: number, rope: RopeTables | null, addY: boolean, coldKv = false): void {
  const op = 'CausalLM.forward';
  const Hq = s.heads, Hkv = s.kvHeads, D = s.headDim;
  const W = (Hq + 2 * Hkv) * D;
  runLayer(s, w, plan, (plan) => {
    const { n } = plan;
    const base = plan.qkv.ptr;
    if (rope) {
      // Table rows p0 … p0+n−1 serve rows 0 … n−1; q's and k's heads are adjacent.
      const half = s.rotaryDim / 2, at = p0 * half * 4;
      ropeRows(base, n, W, Hq + Hkv, D, s.rotaryDim, rope.cos.ptr + at, rope.sin.ptr + at, n, 0, op);
    }
    const kAt = base + Hq * D * 4, vAt = base + (Hq + Hkv) * D * 4;
    if (n === 1) {
      cache.appendRows(kAt, vAt, 1);
    } else {
      gatherHeads(kAt, W, n, Hkv, D, plan.k!.ptr);
      gatherHeads(vAt, W, n, Hkv, D, plan.v!.ptr);
      cache.appendRows(plan.k!.ptr, plan.v!.ptr, n);
    }
    cache.attendRows({ ptr: base, strides: { batch: 0, head: D, row: W } }, Hq, n,
      { ptr: plan.o.ptr, strides: { batch: 0, head: D, row: Hq * D } }, scale, coldKv);
  }, 'pre', addY, op);
}

/** Rows of `[n, W]` at byte `at` (head `h` at column `h·D`) copied to `[H, n, D]` at `dst`. */
function gatherHeads(at: number, W: number, n: number, H: number, D: number, dst: number): void {
  const heap = raw.heapU8();
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < n; i++) {
      const from = at + (i * W + h * D) * 4;
      heap.copyWithin(dst + (h * n + i) * D * 4, from, from + D * 4);
    }
  }
}
