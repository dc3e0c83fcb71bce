/**
 * ONNX graphs of the `models` group's decoders (LLaMA and GPT-2), built in code from the
 * same random weights as wasm-attention's safetensors file (model-weights.ts), in the
 * form transformers.js loads: inputs `input_ids`, `attention_mask`, `position_ids`,
 * `past_key_values.N.key/value` (`[batch, kv heads, past, head dim]`) and
 * `num_logits_to_keep`; outputs `logits` and `present.N.key/value`.
 *
 * Standard ONNX ops only (opset 17, no contrib ops), the op sequence a PyTorch export
 * (`torch.onnx.export`, opset 17) of these models produces:
 * - RMSNorm as `Pow → ReduceMean → Add(ε) → Sqrt → Div → Mul(γ)`; GPT-2's LayerNorm as
 *   `LayerNormalization`; SwiGLU as `Sigmoid`/`Mul`; `gelu_new` as its tanh formula;
 * - RoPE (rotate-half) from cos/sin tables gathered at `position_ids`;
 * - attention as `MatMul(Q, Kᵀ) → Mul(1/√D) → Add(mask) → Softmax → MatMul(V)` over the
 *   past keys/values concatenated with the new ones, the mask built from
 *   `attention_mask` and the causal order; grouped-query heads as `[B, Hkv, G·S, D]`
 *   rows (a free reshape, so K and V are not repeated);
 * - `num_logits_to_keep` slices the last positions before the final norm and lm_head
 *   (transformers.js passes 1 while generating);
 * - lm_head tied to the embedding: a transposed copy `[E, V]` (what an export stores).
 *
 * `q8` is what onnxruntime's `quantize_dynamic(weight_type=QInt8, per_channel=True)`
 * makes of that graph: every MatMul with a constant weight becomes
 * `DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, 0) → Cast → Mul(x_scale·w_scale)`
 * with symmetric int8 weights, one scale per output column (max|w|/127), and the
 * embedding `Gather`s read an int8 table (one scale) through `DequantizeLinear`.
 * onnxruntime's optimiser fuses the MatMul sequence into `DynamicQuantizeMatMul`.
 */
import { GraphBuilder, type PeerFormat, transposed } from './onnx-builder.js';
import { encodeModelChunks, type GraphSpec, type ValueSpec } from './onnx-model.js';
import { LN_EPS, type ModelSpec, RMS_EPS, ROPE_THETA, tensorList, tensorValues, type TensorInfo } from '../model-weights.js';

export type { PeerFormat };

export interface DecoderGraph {
  /** The ModelProto's bytes in chunks (write them one after another). */
  readonly chunks: Uint8Array[];
  /** Bytes of constant weights one token reads: every MatMul's weight (and scales), norms and biases. */
  readonly weightBytesPerToken: number;
}

const INT64_MAX = 9223372036854775807n;

/** Builds the decoder graph of `s` in `format`. */
export function decoderGraph(s: ModelSpec, format: PeerFormat): DecoderGraph {
  const b = new GraphBuilder(format);
  const tensors = new Map<string, TensorInfo>(tensorList(s).map((t) => [t.name, t]));
  const values = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`no tensor ${name}`);
    return tensorValues(s, t);
  };
  const E = s.hidden, H = s.heads, Hkv = s.kvHeads, D = s.headDim, G = H / Hkv, Nq = H * D;

  // Constants.
  const zero = b.i64('c_zero', [0], []), one = b.i64('c_one', [1], []), idx1 = b.i64('c_idx1', [1], []);
  const ax0 = b.i64('c_axes0', [0]), ax1 = b.i64('c_axes1', [1]), ax12 = b.i64('c_axes12', [1, 2]);
  const ax3 = b.i64('c_axes3', [3]);
  b.i64('c_int64_max', [INT64_MAX]);

  const linear = b.linear.bind(b);
  const gather = (table: Float32Array, name: string, rows: number, ids: string) => b.gather(table, name, rows, E, ids);
  const vector = (name: string, hf: string) => b.vector(name, values(hf));
  const rms = (x: string, gamma: string): string => {
    const two = b.f32('c_two', [2]), eps = b.f32('c_rms_eps', [RMS_EPS]);
    const p = b.node('Pow', [x, two]);
    const m = b.node('ReduceMean', [p], [{ name: 'axes', ints: [-1] }, { name: 'keepdims', i: 1 }]);
    const r = b.node('Sqrt', [b.node('Add', [m, eps])]);
    return b.node('Mul', [gamma, b.node('Div', [x, r])]);
  };
  const layerNorm = (x: string, gamma: string, beta: string): string =>
    b.node('LayerNormalization', [x, gamma, beta], [{ name: 'axis', i: -1 }, { name: 'epsilon', f: LN_EPS }]);
  /** `[B, S, heads·D]` → `[B, heads, S, D]`. */
  const toHeads = (x: string, heads: number): string => {
    const shape = b.i64(`c_shape_heads${heads}`, [0, 0, heads, D]);
    return b.node('Transpose', [b.node('Reshape', [x, shape])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
  };

  // Inputs.
  const inputs: ValueSpec[] = [
    { name: 'input_ids', dims: ['batch_size', 'sequence_length'], type: 'int64' },
    { name: 'attention_mask', dims: ['batch_size', 'total_sequence_length'], type: 'int64' },
    { name: 'position_ids', dims: ['batch_size', 'sequence_length'], type: 'int64' },
  ];
  const outputs: ValueSpec[] = [{ name: 'logits', dims: ['batch_size', 'logits_length', s.vocab] }];
  for (let l = 0; l < s.layers; l++) {
    for (const kv of ['key', 'value']) {
      inputs.push({ name: `past_key_values.${l}.${kv}`, dims: ['batch_size', Hkv, 'past_sequence_length', D] });
      outputs.push({ name: `present.${l}.${kv}`, dims: ['batch_size', Hkv, 'total_sequence_length', D] });
    }
  }
  inputs.push({ name: 'num_logits_to_keep', dims: [], type: 'int64' });

  // Additive mask [B, 1, S, T]: 0 where key j ≤ the query's position and attention_mask[j] = 1.
  const S = b.node('Gather', [b.node('Shape', ['input_ids']), idx1]);
  const T = b.node('Gather', [b.node('Shape', ['attention_mask']), idx1]);
  const past = b.node('Sub', [T, S]);
  const qpos = b.node('Unsqueeze', [b.node('Range', [past, T, one]), ax1]);
  const kpos = b.node('Range', [zero, T, one]);
  const causal = b.node('LessOrEqual', [kpos, qpos]);
  const pad = b.node('Unsqueeze', [b.node('Cast', ['attention_mask'], [{ name: 'to', i: 9 }]), ax12]);
  const allowed = b.node('And', [causal, pad]);
  let mask = b.node('Where', [allowed, b.f32('c_0f', [0]), b.f32('c_min', [-3.4028234663852886e38])]);
  if (G > 1) mask = b.node('Tile', [mask, b.i64('c_tile', [1, 1, G, 1])]);
  const scale = b.f32('c_scale', [1 / Math.sqrt(D)]);

  let h: string;
  let cos = '', sin = '';
  if (s.family === 'llama') {
    h = gather(values('model.embed_tokens.weight'), 'embed_tokens', s.vocab, 'input_ids');
    // RoPE tables [positions, D]: cos/sin(p·θ^(−2i/D)), the half-width angles repeated (rotate-half layout).
    const half = D / 2, P = s.positions;
    const ct = new Float32Array(P * D), st = new Float32Array(P * D);
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < half; i++) {
        const a = p * Math.pow(ROPE_THETA, (-2 * i) / D);
        ct[p * D + i] = ct[p * D + half + i] = Math.cos(a);
        st[p * D + i] = st[p * D + half + i] = Math.sin(a);
      }
    }
    b.init({ name: 'rope_cos', dims: [P, D], float: ct });
    b.init({ name: 'rope_sin', dims: [P, D], float: st });
    cos = b.node('Unsqueeze', [b.node('Gather', ['rope_cos', 'position_ids']), ax1]);
    sin = b.node('Unsqueeze', [b.node('Gather', ['rope_sin', 'position_ids']), ax1]);
  } else {
    const tok = gather(values('transformer.wte.weight'), 'wte', s.vocab, 'input_ids');
    const pos = gather(values('transformer.wpe.weight'), 'wpe', s.positions, 'position_ids');
    h = b.node('Add', [tok, pos]);
  }
  const halfStart = b.i64('c_half_start', [0]), halfMid = b.i64('c_half_mid', [D / 2]), halfEnd = b.i64('c_half_end', [D]);
  const rope = (x: string): string => {
    const x1 = b.node('Slice', [x, halfStart, halfMid, ax3]);
    const x2 = b.node('Slice', [x, halfMid, halfEnd, ax3]);
    const rot = b.node('Concat', [b.node('Neg', [x2]), x1], [{ name: 'axis', i: 3 }]);
    return b.node('Add', [b.node('Mul', [x, cos]), b.node('Mul', [rot, sin])]);
  };
  /** Attention of `q [B, H, S, D]` over the past + new `k`, `v` `[B, Hkv, S, D]`; returns `[B, S, H·D]`. */
  const attention = (l: number, q: string, k: string, v: string): string => {
    const pk = b.node('Concat', [`past_key_values.${l}.key`, k], [{ name: 'axis', i: 2 }], [`present.${l}.key`]);
    const pv = b.node('Concat', [`past_key_values.${l}.value`, v], [{ name: 'axis', i: 2 }], [`present.${l}.value`]);
    const qg = G > 1 ? b.node('Reshape', [q, b.i64('c_shape_groups', [0, Hkv, -1, D])]) : q;
    const kt = b.node('Transpose', [pk], [{ name: 'perm', ints: [0, 1, 3, 2] }]);
    const scores = b.node('Add', [b.node('Mul', [b.node('MatMul', [qg, kt]), scale]), mask]);
    const p = b.node('Softmax', [scores], [{ name: 'axis', i: -1 }]);
    let o = b.node('MatMul', [p, pv]);
    if (G > 1) o = b.node('Reshape', [o, b.i64('c_shape_ungroup', [0, H, -1, D])]);
    o = b.node('Transpose', [o], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
    return b.node('Reshape', [o, b.i64('c_shape_merge', [0, 0, Nq])]);
  };

  for (let l = 0; l < s.layers; l++) {
    if (s.family === 'llama') {
      const p = `model.layers.${l}.`;
      const w = (name: string, rows: number, cols: number) => transposed(values(`${p}${name}.weight`), rows, cols);
      const x = rms(h, vector(`l${l}_ln1`, `${p}input_layernorm.weight`));
      const q = rope(toHeads(linear(x, `l${l}_q`, w('self_attn.q_proj', Nq, E), E, Nq), H));
      const k = rope(toHeads(linear(x, `l${l}_k`, w('self_attn.k_proj', Hkv * D, E), E, Hkv * D), Hkv));
      const v = toHeads(linear(x, `l${l}_v`, w('self_attn.v_proj', Hkv * D, E), E, Hkv * D), Hkv);
      const o = attention(l, q, k, v);
      h = b.node('Add', [h, linear(o, `l${l}_o`, w('self_attn.o_proj', E, Nq), Nq, E)]);
      const x2 = rms(h, vector(`l${l}_ln2`, `${p}post_attention_layernorm.weight`));
      const gate = linear(x2, `l${l}_gate`, w('mlp.gate_proj', s.mlp, E), E, s.mlp);
      const up = linear(x2, `l${l}_up`, w('mlp.up_proj', s.mlp, E), E, s.mlp);
      const act = b.node('Mul', [b.node('Mul', [gate, b.node('Sigmoid', [gate])]), up]);
      h = b.node('Add', [h, linear(act, `l${l}_down`, w('mlp.down_proj', E, s.mlp), s.mlp, E)]);
    } else {
      const p = `transformer.h.${l}.`;
      const x = layerNorm(h, vector(`l${l}_ln1_g`, `${p}ln_1.weight`), vector(`l${l}_ln1_b`, `${p}ln_1.bias`));
      const qkv = linear(x, `l${l}_attn`, values(`${p}attn.c_attn.weight`), E, 3 * E, values(`${p}attn.c_attn.bias`));
      const [q, k, v] = b.nodeN('Split', [qkv, b.i64('c_split3', [E, E, E])], 3, [{ name: 'axis', i: 2 }]);
      const o = attention(l, toHeads(q!, H), toHeads(k!, H), toHeads(v!, H));
      h = b.node('Add', [h, linear(o, `l${l}_proj`, values(`${p}attn.c_proj.weight`), E, E, values(`${p}attn.c_proj.bias`))]);
      const x2 = layerNorm(h, vector(`l${l}_ln2_g`, `${p}ln_2.weight`), vector(`l${l}_ln2_b`, `${p}ln_2.bias`));
      const f = linear(x2, `l${l}_fc`, values(`${p}mlp.c_fc.weight`), E, s.mlp, values(`${p}mlp.c_fc.bias`));
      // gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const inner = b.node('Add', [f, b.node('Mul', [b.node('Pow', [f, b.f32('c_three', [3])]), b.f32('c_gelu_a', [0.044715])])]);
      const t = b.node('Tanh', [b.node('Mul', [inner, b.f32('c_gelu_b', [Math.sqrt(2 / Math.PI)])])]);
      const g = b.node('Mul', [b.node('Mul', [f, b.f32('c_half', [0.5])]), b.node('Add', [t, b.f32('c_onef', [1])])]);
      h = b.node('Add', [h, linear(g, `l${l}_mlp_proj`, values(`${p}mlp.c_proj.weight`), s.mlp, E, values(`${p}mlp.c_proj.bias`))]);
    }
  }
  // Keep the last num_logits_to_keep positions (0: all): start = (S − k) mod S.
  const start = b.node('Unsqueeze', [b.node('Mod', [b.node('Sub', [S, 'num_logits_to_keep']), S]), ax0]);
  const kept = b.node('Slice', [h, start, 'c_int64_max', ax1]);
  let normed: string, embed: Float32Array;
  if (s.family === 'llama') {
    normed = rms(kept, vector('final_norm', 'model.norm.weight'));
    embed = values('model.embed_tokens.weight');
  } else {
    normed = layerNorm(kept, vector('ln_f_g', 'transformer.ln_f.weight'), vector('ln_f_b', 'transformer.ln_f.bias'));
    embed = values('transformer.wte.weight');
  }
  const logits = linear(normed, 'lm_head', transposed(embed, s.vocab, E), E, s.vocab);
  b.node('Identity', [logits], [], ['logits']);

  const graph: GraphSpec = { name: `${s.name} ${format}`, nodes: b.nodes, inputs, outputs, initializers: b.inits };
  return { chunks: encodeModelChunks(graph), weightBytesPerToken: b.streamed };
}
