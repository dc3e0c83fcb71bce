/**
 * Everything the entry points export except `init()`, which each entry defines
 * with its own source of binaries (see index.ts and separate.ts).
 * @internal
 */
import './disposable.js';

export {
  initSync, initInfo, relaxedSimdSupported, simdSupported, type Build, type InitOptions, type InitInfo,
} from './init.js';
export { Tensor, type TensorData, type TensorOptions } from './tensor.js';
export { dtypeSize, STORAGE_FORMATS, storageBytes, type StorageFormat, type TensorDType, type HalfDType, type CacheDType, type DataOf } from './dtype.js';
export type { Shape } from './shape.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';
export {
  linear, Weight, GEMV_MAX_ROWS, type LinearOptions, type WeightFormat, type WeightOptions, type WeightSource,
} from './ops/linear.js';
export { memoryStats, reserveMemory, type MemoryStats } from './memory.js';
export { softmax, type SoftmaxOptions } from './ops/softmax.js';
export {
  attention, attentionWeights, type AnyTensor, type AttentionOptions, type AttentionWithLse, type AttentionWeightsOptions,
} from './ops/attention.js';
export { additiveMask, type BooleanMask, type MaskInput } from './ops/mask.js';
export * from './toolkit/index.js';
export {
  readSafetensors, SafetensorsFile, SAFETENSORS_FLOAT_DTYPES, type SafetensorsEntry, type SafetensorsTensorOptions,
} from './io/safetensors.js';
