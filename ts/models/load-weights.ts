/**
 * Preparing a model's matrices as `Weight`s at load, shared by `CausalLM` and
 * `EncoderModel`: straight from the file's bytes when the matrix is stored as the model
 * uses it, or from a tensor the loader had to rearrange (e.g. GPT-2's transposed Conv1D).
 * @internal
 */
import type { SafetensorsFile } from '../io/safetensors.js';
import { Weight, type WeightFormat } from '../ops/linear.js';
import type { Tensor } from '../tensor.js';
import type { TensorDType } from '../dtype.js';

/** Everything a loader allocated, freed together if loading fails or the model is disposed. */
export type Owned = (Tensor<TensorDType> | Weight)[];

/** A model's weight format: a `Weight` format, or `'auto'` for the file's dtype. */
export type LoadFormat = 'auto' | WeightFormat;

/** `t` prepared as a weight in `format` (`'auto'`: its own dtype); `t` is disposed. */
export function prepare(t: Tensor<TensorDType>, format: LoadFormat, owned: Owned): Weight {
  try {
    const w = Weight.from(t, { format: format === 'auto' ? t.dtype : format });
    owned.push(w);
    return w;
  } finally {
    t.dispose();
  }
}

/**
 * The weight stacked from the file's 2-D tensors `names` (row blocks, the same width), in
 * `format` (`'auto'`: the first one's dtype): written once from the file's bytes.
 */
export function weightOf(file: SafetensorsFile, names: readonly string[], format: LoadFormat, owned: Owned, op: string): Weight {
  const parts = names.map((n) => file.rowBytes(n));
  const cols = file.entry(names[0]!).shape[1]!;
  const w = Weight.fromBytes(parts, cols, format === 'auto' ? parts[0]!.dtype : format, op);
  owned.push(w);
  return w;
}
