/**
 * The attention toolkit: the pieces of a transformer built on the kernels — multi-head
 * attention, a KV cache for decoding, attention maps, positional encodings (sinusoidal,
 * RoPE), normalisation, feed-forward networks and encoder/decoder layers.
 * @packageDocumentation
 */
export {
  MultiHeadAttention, type MultiHeadAttentionConfig, type MultiHeadAttentionWeights,
  type MultiHeadAttentionForwardOptions, type MultiHeadAttentionOutput,
} from './multi-head-attention.js';
export { KVCache, decodeStep, type KVCacheConfig, type KVCacheAttendOptions, type DecodeStepOptions } from './kv-cache.js';
export { attentionMap, mapRows, type AttentionMapOptions } from './attention-map.js';
export { sinusoidalEncoding, addPositional, type SinusoidalOptions, type AddPositionalOptions } from './positional.js';
export { applyRope, type RopeOptions } from './rope.js';
export { erf, gelu } from './erf.js';
export { add, applyActivation, type AddOptions, type Activation } from './elementwise.js';
export { layerNorm, rmsNorm, type LayerNormOptions, type RmsNormOptions } from './norm.js';
export { feedForward, type FeedForwardWeights } from './feed-forward.js';
export {
  encoderLayer, decoderLayer, type NormWeights, type EncoderLayerWeights, type EncoderLayerOptions,
  type DecoderLayerWeights, type DecoderLayerOptions,
} from './transformer-layer.js';
export type { Floats } from './common.js';
