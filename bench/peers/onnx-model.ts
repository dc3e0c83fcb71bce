/**
 * A minimal ONNX ModelProto writer: just enough protobuf (varints, length-delimited
 * fields, fixed32 floats) to describe graphs in code — the attention graphs of the
 * onnxruntime-web peer and the decoder models of the `models` group (onnx-decoder.ts,
 * hundreds of MB of initializers) — with no model files and no protobuf dependency.
 *
 * Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto).
 */

/**
 * Appends protobuf fields to a list of byte chunks. Small fields collect in a number
 * list; large raw payloads (initializers of hundreds of MB) are kept as their own
 * chunks, never copied byte by byte.
 */
class Writer {
  readonly #chunks: Uint8Array[] = [];
  #pending: number[] = [];
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length + this.#pending.length;
  }

  #push(b: number): void {
    this.#pending.push(b);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#pending));
    this.#length += this.#pending.length;
    this.#pending = [];
  }

  /** The chunks written (the writer is spent afterwards). */
  chunks(): Uint8Array[] {
    this.#flush();
    return this.#chunks;
  }

  /** Unsigned varint: 7 bits per byte, low bits first, high bit = "more follows". */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#push(Number(v));
  }

  /** Field key: field number and wire type (0 varint, 2 length-delimited, 5 fixed32). */
  key(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): void {
    this.key(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.key(field, 5);
    for (const b of new Uint8Array(new Float32Array([value]).buffer)) this.#push(b);
  }

  raw(field: number, data: Uint8Array): void {
    this.key(field, 2);
    this.varint(data.length);
    if (data.length < 4096) {
      for (let i = 0; i < data.length; i++) this.#push(data[i]!);
    } else {
      this.#flush();
      this.#chunks.push(data);
      this.#length += data.length;
    }
  }

  string(field: number, s: string): void {
    this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const inner = new Writer();
    build(inner);
    const parts = inner.chunks();
    this.key(field, 2);
    this.varint(inner.length);
    this.#flush();
    for (const c of parts) {
      this.#chunks.push(c);
      this.#length += c.length;
    }
  }
}

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** A node attribute: a float, an int, or a list of ints. */
export type Attribute =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; ints: readonly number[] };

/** One graph node (`op_type` in `domain`, '' being the default ONNX domain). */
export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly domain?: string;
  readonly attributes?: readonly Attribute[];
}

/** A constant stored in the model (float32, int8, uint8, int32 or int64). */
export interface InitializerSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly float?: Float32Array;
  readonly int8?: Int8Array;
  readonly uint8?: Uint8Array;
  readonly int32?: Int32Array;
  readonly int64?: readonly (number | bigint)[];
}

/**
 * A graph input or output: a tensor of float32 (default) or int64 elements; a dimension
 * is a fixed size or a symbolic name (`dim_param`, e.g. `'sequence_length'`).
 */
export interface ValueSpec {
  readonly name: string;
  readonly dims: readonly (number | string)[];
  readonly type?: 'float32' | 'int64';
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: readonly InitializerSpec[];
  /** Operator sets: domain → version. @defaultValue `{ '': 17 }` */
  readonly opsets?: Readonly<Record<string, number>>;
}

/** Serialises a graph as the bytes of an ONNX ModelProto (IR version 8). */
export function encodeModel(graph: GraphSpec): Uint8Array {
  const chunks = encodeModelChunks(graph);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The same bytes as {@link encodeModel}, as consecutive chunks (large initializers are
 * their own chunks, not copied), e.g. to write a model of hundreds of MB to a file.
 */
export function encodeModelChunks(graph: GraphSpec): Uint8Array[] {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'wasm-attention-bench'); // producer_name
  w.message(7, (g) => encodeGraph(g, graph));
  for (const [domain, version] of Object.entries(graph.opsets ?? { '': 17 })) {
    w.message(8, (o) => { // opset_import
      if (domain !== '') o.string(1, domain);
      o.int(2, version);
    });
  }
  return w.chunks();
}

function encodeGraph(w: Writer, graph: GraphSpec): void {
  graph.nodes.forEach((node, index) => w.message(1, (n) => encodeNode(n, node, index)));
  w.string(2, graph.name);
  for (const init of graph.initializers ?? []) w.message(5, (t) => encodeTensor(t, init));
  for (const v of graph.inputs) w.message(11, (x) => encodeValueInfo(x, v));
  for (const v of graph.outputs) w.message(12, (x) => encodeValueInfo(x, v));
}

function encodeNode(w: Writer, node: NodeSpec, index: number): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, `${node.op}_${index}`);
  w.string(4, node.op);
  for (const a of node.attributes ?? []) w.message(5, (x) => encodeAttribute(x, a));
  if (node.domain) w.string(7, node.domain);
}

/** AttributeProto: name (1), f (2), i (3), ints (8), type (20: FLOAT 1, INT 2, INTS 7). */
function encodeAttribute(w: Writer, a: Attribute): void {
  w.string(1, a.name);
  if ('f' in a) {
    w.float(2, a.f);
    w.int(20, 1);
  } else if ('i' in a) {
    w.int(3, a.i);
    w.int(20, 2);
  } else {
    for (const v of a.ints) w.int(8, v);
    w.int(20, 7);
  }
}

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function encodeTensor(w: Writer, t: InitializerSpec): void {
  for (const d of t.dims) w.int(1, d);
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (t.float) {
    w.int(2, DataType.FLOAT);
    w.string(8, t.name);
    w.raw(9, bytes(t.float));
  } else if (t.int8) {
    w.int(2, DataType.INT8);
    w.string(8, t.name);
    w.raw(9, bytes(t.int8));
  } else if (t.uint8) {
    w.int(2, DataType.UINT8);
    w.string(8, t.name);
    w.raw(9, bytes(t.uint8));
  } else if (t.int32) {
    w.int(2, DataType.INT32);
    w.string(8, t.name);
    w.raw(9, new Uint8Array(t.int32.buffer, t.int32.byteOffset, t.int32.byteLength));
  } else {
    const values = BigInt64Array.from((t.int64 ?? []).map((v) => BigInt(v)));
    w.int(2, DataType.INT64);
    w.string(8, t.name);
    w.raw(9, new Uint8Array(values.buffer));
  }
}

/** ValueInfoProto → TypeProto.tensor_type → elem_type + TensorShapeProto (dim_value 1 or dim_param 2). */
function encodeValueInfo(w: Writer, v: ValueSpec): void {
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, v.type === 'int64' ? DataType.INT64 : DataType.FLOAT);
    tensor.message(2, (shape) => {
      for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.int(1, d)));
    });
  }));
}
