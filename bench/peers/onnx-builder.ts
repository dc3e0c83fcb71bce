/**
 * A small graph builder shared by the `models` group's ONNX peers (onnx-decoder.ts,
 * onnx-encoder.ts): named nodes and initializers, and the two constant-weight operations
 * whose form depends on the file's format:
 * - `linear`: fp32 `MatMul(x, W)`; q8 what onnxruntime's
 *   `quantize_dynamic(weight_type=QInt8, per_channel=True)` makes of it,
 *   `DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, 0) → Cast → Mul(x_scale·w_scale)`
 *   with symmetric int8 weights, one scale per output column (max|w|/127); one
 *   `DynamicQuantizeLinear` per input, shared by every product that reads it;
 * - `gather`: rows of an embedding table; q8 reads an int8 table (one scale) through
 *   `DequantizeLinear`.
 */
import type { Attribute, InitializerSpec, NodeSpec } from './onnx-model.js';

export type PeerFormat = 'fp32' | 'q8';

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly inits: InitializerSpec[] = [];
  /** Bytes of the constant weights a token reads (products, their scales, norms and biases). */
  streamed = 0;
  readonly #names = new Set<string>();
  readonly #quantized = new Map<string, [string, string, string]>();
  readonly #q8: boolean;
  #n = 0;

  constructor(format: PeerFormat) {
    this.#q8 = format === 'q8';
  }

  node(op: string, inputs: string[], attributes: Attribute[] = [], outputs?: string[]): string {
    const outs = outputs ?? [`${op.toLowerCase()}_${this.#n++}`];
    this.nodes.push({ op, inputs, outputs: outs, attributes });
    return outs[0]!;
  }

  nodeN(op: string, inputs: string[], count: number, attributes: Attribute[] = []): string[] {
    const outs = Array.from({ length: count }, (_, i) => `${op.toLowerCase()}_${this.#n}_${i}`);
    this.#n++;
    this.nodes.push({ op, inputs, outputs: outs, attributes });
    return outs;
  }

  init(spec: InitializerSpec): string {
    if (!this.#names.has(spec.name)) {
      this.#names.add(spec.name);
      this.inits.push(spec);
    }
    return spec.name;
  }

  i64(name: string, values: readonly (number | bigint)[], dims?: number[]): string {
    return this.init({ name, dims: dims ?? [values.length], int64: values });
  }

  f32(name: string, values: readonly number[], dims: number[] = []): string {
    return this.init({ name, dims, float: Float32Array.from(values) });
  }

  /** A float32 vector read by every token (a norm's γ/β), counted in {@link streamed}. */
  vector(name: string, v: Float32Array): string {
    this.init({ name, dims: [v.length], float: v });
    this.streamed += v.byteLength;
    return name;
  }

  /** `x·W (+ bias)` for a constant `W [K, N]` (row-major, K = input width). */
  linear(x: string, name: string, w: Float32Array, K: number, N: number, bias?: Float32Array): string {
    let y: string;
    if (!this.#q8) {
      this.init({ name, dims: [K, N], float: w });
      this.streamed += w.byteLength;
      y = this.node('MatMul', [x, name]);
    } else {
      const q = new Int8Array(K * N), scales = new Float32Array(N);
      for (let n = 0; n < N; n++) {
        let m = 0;
        for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + n]!));
        scales[n] = m > 0 ? m / 127 : 1;
      }
      for (let k = 0; k < K; k++) {
        for (let n = 0; n < N; n++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(w[k * N + n]! / scales[n]!)));
      }
      this.init({ name: `${name}_quantized`, dims: [K, N], int8: q });
      this.init({ name: `${name}_scale`, dims: [N], float: scales });
      this.init({ name: `${name}_zero_point`, dims: [N], int8: new Int8Array(N) });
      this.streamed += q.byteLength + scales.byteLength + N;
      let dq = this.#quantized.get(x);
      if (!dq) {
        dq = this.nodeN('DynamicQuantizeLinear', [x], 3) as [string, string, string];
        this.#quantized.set(x, dq);
      }
      const yi = this.node('MatMulInteger', [dq[0], `${name}_quantized`, dq[2], `${name}_zero_point`]);
      const yf = this.node('Cast', [yi], [{ name: 'to', i: 1 }]);
      const sc = this.node('Mul', [dq[1], `${name}_scale`]);
      y = this.node('Mul', [yf, sc]);
    }
    if (bias) {
      this.init({ name: `${name}_bias`, dims: [N], float: bias });
      this.streamed += bias.byteLength;
      y = this.node('Add', [y, `${name}_bias`]);
    }
    return y;
  }

  /** Rows of a `[rows, cols]` table gathered at `ids`. */
  gather(table: Float32Array, name: string, rows: number, cols: number, ids: string): string {
    if (!this.#q8) {
      this.init({ name, dims: [rows, cols], float: table });
      return this.node('Gather', [name, ids]);
    }
    let m = 0;
    for (let i = 0; i < table.length; i++) m = Math.max(m, Math.abs(table[i]!));
    const scale = m / 127, q = new Int8Array(table.length);
    for (let i = 0; i < table.length; i++) q[i] = Math.round(table[i]! / scale);
    this.init({ name: `${name}_quantized`, dims: [rows, cols], int8: q });
    this.f32(`${name}_scale`, [scale]);
    this.init({ name: `${name}_zero_point`, dims: [], int8: new Int8Array(1) });
    const g = this.node('Gather', [`${name}_quantized`, ids]);
    return this.node('DequantizeLinear', [g, `${name}_scale`, `${name}_zero_point`]);
  }
}

/** `[rows, cols]` row-major → `[cols, rows]` (a PyTorch `Linear` weight → the `[in, out]` a MatMul reads). */
export function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c]!;
  }
  return out;
}
