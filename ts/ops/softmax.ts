/** Softmax on the WASM kernel, over the last axis or any other. */
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';
import { tensorArg } from './args.js';
import { type MaskInput, resolveMask } from './mask.js';
import { sameShape } from '../shape.js';
import { normaliseAxis, permute } from '../toolkit/permute.js';

/** Options of {@link softmax}. */
export interface SoftmaxOptions {
  /** Additive mask broadcastable to `x` (or `{ attend, shape }` booleans); rows fully masked give 0. */
  mask?: MaskInput;
  /** Where to write the result; may be `x` itself (in place). A new tensor when omitted. */
  out?: Tensor;
  /**
   * The axis to normalise over; negative counts from the end (PyTorch's `dim`, ONNX
   * Softmax's `axis` since opset 13). A mask needs the last axis. @defaultValue -1
   */
  axis?: number;
}

/**
 * `softmax(x + mask)` along `axis` (default the last), numerically stable (the maximum is
 * subtracted first). Slices whose every entry is `-Infinity` become zeros, never NaN.
 * PyTorch `torch.softmax(x, dim)`, ONNX `Softmax(axis)`.
 */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  const op = 'softmax';
  tensorArg(x, op, 'x');
  if (x.rank < 1) throw new RangeError(`wasm-attention: ${op}: x must have at least one axis, got ${formatShape(x.shape)}`);
  const axis = options.axis === undefined ? x.rank - 1 : normaliseAxis(options.axis, x.rank, op, 'axis');
  if (axis !== x.rank - 1) return softmaxInner(x, axis, options);
  let out: Tensor;
  if (options.out === undefined) {
    out = Tensor.empty(x.shape);
  } else {
    out = tensorArg(options.out, op, 'out');
    if (!sameShape(out.shape, x.shape)) {
      throw new RangeError(`wasm-attention: ${op}: out has shape ${formatShape(out.shape)}, expected ${formatShape(x.shape)}`);
    }
  }
  const cols = x.shape[x.rank - 1]!;
  // View x as [d0, d1, rows, cols]: the last three leading axes keep their identity
  // for mask broadcasting; anything further out folds into d0.
  const lead = x.shape.slice(0, -1);
  const dims4 = [1, 1, 1, cols];
  for (let i = 0; i < Math.min(3, lead.length); i++) dims4[2 - i] = lead[lead.length - 1 - i]!;
  for (let i = 3; i < lead.length; i++) dims4[0]! *= lead[lead.length - 1 - i]!;
  let maskPtr = 0;
  let strides = [0, 0, 0, 0];
  let owned: Tensor | null = null;
  try {
    if (options.mask !== undefined) {
      if (x.rank > 4) {
        throw new RangeError(`wasm-attention: ${op}: a mask needs x of at most 4 axes, got ${formatShape(x.shape)}`);
      }
      const m = resolveMask(options.mask, dims4, op);
      if (m.owned) owned = m.tensor;
      if (m.tensor === out) throw new Error(`wasm-attention: ${op}: out must not be the mask tensor`);
      maskPtr = m.tensor.ptr;
      strides = m.strides;
    }
    raw.check(raw.wasm().wa_softmax(x.ptr, out.ptr, dims4[0]!, dims4[1]!, dims4[2]!, dims4[3]!, maskPtr,
      strides[0]!, strides[1]!, strides[2]!, strides[3]!), op);
  } catch (e) {
    if (out !== options.out) out.dispose();
    throw e;
  } finally {
    owned?.dispose();
  }
  return out;
}

/**
 * Softmax over an inner axis: the axis is moved last (one copy), normalised row-wise by
 * the kernel in place, and moved back into `out` (a second copy).
 */
function softmaxInner(x: Tensor, axis: number, options: SoftmaxOptions): Tensor {
  const op = 'softmax';
  if (options.mask !== undefined) {
    throw new RangeError(`wasm-attention: ${op}: a mask needs the last axis, got axis ${String(options.axis)} of ${formatShape(x.shape)}`);
  }
  if (options.out !== undefined) {
    tensorArg(options.out, op, 'out');
    if (!sameShape(options.out.shape, x.shape)) {
      throw new RangeError(`wasm-attention: ${op}: out has shape ${formatShape(options.out.shape)}, expected ${formatShape(x.shape)}`);
    }
  }
  const r = x.rank;
  const toLast = Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis).concat(axis);
  const back = new Array<number>(r);
  toLast.forEach((d, i) => { back[d] = i; });
  const moved = permute(x, toLast);
  try {
    softmax(moved, { out: moved });
    const result = permute(moved, back);
    if (options.out === undefined) return result;
    options.out.data.set(result.data);
    result.dispose();
    return options.out;
  } finally {
    moved.dispose();
  }
}
