/**
 * The attention toolkit: the pieces of a transformer built on the kernels — multi-head
 * attention, a KV cache for decoding, attention maps, positional encodings (sinusoidal,
 * RoPE), normalisation, embeddings, axis permutation, (gated) feed-forward networks and
 * encoder/decoder layers (post- or pre-norm).
 * @packageDocumentation
 */
export {
  MultiHeadAttention, type MultiHeadAttentionConfig, type MultiHeadAttentionWeights,
  type MultiHeadAttentionForwardOptions, type MultiHeadAttentionOutput,
} from './multi-head-attention.js';
export {
  KVCache, decodeStep, type KVCacheConfig, type KVCacheAttendOptions, type KVCacheSequenceOptions, type DecodeStepOptions,
} from './kv-cache.js';
export { attentionMap, mapRows, type AttentionMapOptions } from './attention-map.js';
export { sinusoidalEncoding, addPositional, type SinusoidalOptions, type AddPositionalOptions } from './positional.js';
export { applyRope, ropeTables, type RopeOptions } from './rope.js';
export { erf, gelu } from './erf.js';
export { geluTanh, silu } from './activations.js';
export { add, applyActivation, type AddOptions, type Activation } from './elementwise.js';
export { layerNorm, rmsNorm, type LayerNormOptions, type RmsNormOptions } from './norm.js';
export {
  feedForward, gatedFeedForward, type FeedForwardWeights, type GatedFeedForwardWeights,
} from './feed-forward.js';
export { embedding, type EmbeddingOptions } from './embedding.js';
export { permute, transpose } from './permute.js';
export {
  encoderLayer, decoderLayer, type NormWeights, type EncoderLayerWeights, type EncoderLayerOptions,
  type DecoderLayerWeights, type DecoderLayerOptions,
} from './transformer-layer.js';
export type { Floats } from './common.js';
