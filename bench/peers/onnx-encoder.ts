/**
 * ONNX graphs of the `encoders` group's BERT models, built in code from the same random
 * weights as wasm-attention's safetensors file (encoder-weights.ts), in the form
 * transformers.js loads for `AutoModel` / feature extraction: inputs `input_ids`,
 * `attention_mask`, `token_type_ids` (`[batch, sequence]`, int64), output
 * `last_hidden_state` (`[batch, sequence, hidden]`).
 *
 * Standard ONNX ops only (opset 17), the op sequence a PyTorch export of `BertModel`
 * (eager attention) produces:
 * - embeddings: `Gather`s of the word, position (0 … S−1) and token-type tables, summed,
 *   then `LayerNormalization` (ε 1e-12);
 * - the attention mask as BERT's extended mask: `(1 − mask)[:, None, None, :] · float32 min`,
 *   added to every head's scores;
 * - per layer (post-norm): q, k, v as three `MatMul` + bias; `MatMul(Q, Kᵀ) → Div(√D) →
 *   Add(mask) → Softmax → MatMul(V)`; output projection, residual `Add`, `LayerNormalization`;
 *   the MLP with exact GELU `x·½·(1 + erf(x/√2))`, residual `Add`, `LayerNormalization`.
 *
 * `q8`: onnxruntime's `quantize_dynamic(QInt8, per_channel)` form (peers/onnx-builder.ts):
 * every projection on `DynamicQuantizeLinear`/`MatMulInteger`, the three embedding tables int8.
 */
import { GraphBuilder, type PeerFormat, transposed } from './onnx-builder.js';
import { encodeModelChunks, type GraphSpec, type ValueSpec } from './onnx-model.js';
import { tensorValues, type TensorInfo } from '../model-weights.js';
import { BERT_LN_EPS, encoderTensorList, type EncoderSpec } from '../encoder-weights.js';

export interface EncoderGraph {
  /** The ModelProto's bytes in chunks (write them one after another). */
  readonly chunks: Uint8Array[];
  /** Bytes of the constant weights every token reads (projections and their scales, norms, biases). */
  readonly weightBytes: number;
}

/** Builds the BERT graph of `s` in `format`. */
export function encoderGraph(s: EncoderSpec, format: PeerFormat): EncoderGraph {
  const b = new GraphBuilder(format);
  const tensors = new Map<string, TensorInfo>(encoderTensorList(s).map((t) => [t.name, t]));
  const values = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`no tensor ${name}`);
    return tensorValues(s, t);
  };
  const E = s.hidden, H = s.heads, D = E / H, F = s.mlp;

  const inputs: ValueSpec[] = ['input_ids', 'attention_mask', 'token_type_ids']
    .map((name) => ({ name, dims: ['batch_size', 'sequence_length'], type: 'int64' as const }));
  const outputs: ValueSpec[] = [{ name: 'last_hidden_state', dims: ['batch_size', 'sequence_length', E] }];

  const ax12 = b.i64('c_axes12', [1, 2]);
  const layerNorm = (x: string, name: string): string =>
    b.node('LayerNormalization', [x, b.vector(`${name}_g`, values(`${name}.weight`)), b.vector(`${name}_b`, values(`${name}.bias`))],
      [{ name: 'axis', i: -1 }, { name: 'epsilon', f: BERT_LN_EPS }]);
  /** A `Linear` (`[out, in]` weight, bias) applied to `x`. */
  const linear = (x: string, name: string, outDim: number, inDim: number): string =>
    b.linear(x, name.replace(/\./g, '_'), transposed(values(`${name}.weight`), outDim, inDim), inDim, outDim, values(`${name}.bias`));
  /** `[B, S, E]` → `[B, H, S, D]`. */
  const toHeads = (x: string): string =>
    b.node('Transpose', [b.node('Reshape', [x, b.i64('c_shape_heads', [0, 0, H, D])])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);

  // Embeddings: word + position (0 … S−1, broadcast over the batch) + token type.
  const S = b.node('Gather', [b.node('Shape', ['input_ids']), b.i64('c_idx1', [1], [])]);
  const positions = b.node('Range', [b.i64('c_zero', [0], []), S, b.i64('c_one', [1], [])]);
  const word = b.gather(values('embeddings.word_embeddings.weight'), 'word_embeddings', s.vocab, E, 'input_ids');
  const pos = b.gather(values('embeddings.position_embeddings.weight'), 'position_embeddings', s.positions, E, positions);
  const type = b.gather(values('embeddings.token_type_embeddings.weight'), 'token_type_embeddings', s.typeVocab, E, 'token_type_ids');
  let h = layerNorm(b.node('Add', [b.node('Add', [word, pos]), type]), 'embeddings.LayerNorm');

  // Extended mask [B, 1, 1, S]: 0 on real keys, float32 min on padded ones.
  const m = b.node('Cast', [b.node('Unsqueeze', ['attention_mask', ax12])], [{ name: 'to', i: 1 }]);
  const mask = b.node('Mul', [b.node('Sub', [b.f32('c_onef', [1]), m]), b.f32('c_min', [-3.4028234663852886e38])]);
  const sqrtD = b.f32('c_sqrt_d', [Math.sqrt(D)]);

  for (let l = 0; l < s.layers; l++) {
    const p = `encoder.layer.${l}.`;
    const q = toHeads(linear(h, `${p}attention.self.query`, E, E));
    const k = toHeads(linear(h, `${p}attention.self.key`, E, E));
    const v = toHeads(linear(h, `${p}attention.self.value`, E, E));
    const kt = b.node('Transpose', [k], [{ name: 'perm', ints: [0, 1, 3, 2] }]);
    const scores = b.node('Add', [b.node('Div', [b.node('MatMul', [q, kt]), sqrtD]), mask]);
    const probs = b.node('Softmax', [scores], [{ name: 'axis', i: -1 }]);
    const o = b.node('Transpose', [b.node('MatMul', [probs, v])], [{ name: 'perm', ints: [0, 2, 1, 3] }]);
    const merged = b.node('Reshape', [o, b.i64('c_shape_merge', [0, 0, E])]);
    const attn = linear(merged, `${p}attention.output.dense`, E, E);
    h = layerNorm(b.node('Add', [attn, h]), `${p}attention.output.LayerNorm`);
    const f = linear(h, `${p}intermediate.dense`, F, E);
    // Exact GELU: x·½·(1 + erf(x/√2)).
    const erf = b.node('Erf', [b.node('Div', [f, b.f32('c_sqrt2', [Math.SQRT2])])]);
    const g = b.node('Mul', [b.node('Mul', [f, b.f32('c_half', [0.5])]), b.node('Add', [erf, 'c_onef'])]);
    const down = linear(g, `${p}output.dense`, E, F);
    h = layerNorm(b.node('Add', [down, h]), `${p}output.LayerNorm`);
  }
  b.node('Identity', [h], [], ['last_hidden_state']);

  const graph: GraphSpec = { name: `${s.name} ${format}`, nodes: b.nodes, inputs, outputs, initializers: b.inits };
  return { chunks: encodeModelChunks(graph), weightBytes: b.streamed };
}
