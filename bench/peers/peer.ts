/** What every comparison library ("peer") implements. */

/** Sizes of one attention call; inputs are contiguous `[B, H, L, D]`. */
export interface AttentionShape {
  readonly batch: number;
  readonly headsQ: number;
  readonly headsKv: number;
  readonly lenQ: number;
  readonly lenK: number;
  readonly headDim: number;
  readonly causal: boolean;
}

/** One operation with its inputs (row-major float32). */
export type PeerOp =
  | { readonly kind: 'gemm'; readonly n: number; readonly a: Float32Array; readonly b: Float32Array }
  | { readonly kind: 'softmax'; readonly rows: number; readonly cols: number; readonly x: Float32Array }
  | { readonly kind: 'attention'; readonly shape: AttentionShape; readonly q: Float32Array;
    readonly k: Float32Array; readonly v: Float32Array };

/** A prepared computation: inputs already converted to the peer's tensors. */
export interface PeerRunner {
  /** Computes the result (resolving once the output is available to JavaScript). */
  run(): Promise<unknown> | unknown;
  /** The result of one run, in the library's layout (`[B, Hq, Lq, D]` for attention). */
  output(): Promise<Float32Array>;
  dispose(): void;
}

export interface Peer {
  /** Display name, e.g. `onnxruntime-web (graph)`. */
  readonly name: string;
  /** How the peer computes each op (for the report). */
  readonly method: string;
  /** A reason when this op is not supported by this peer (the case runs without it). */
  unsupported(op: PeerOp): string | null;
  prepare(op: PeerOp): Promise<PeerRunner>;
}
