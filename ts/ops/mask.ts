/** Masks: broadcasting an additive mask tensor, and the boolean (attend = true) form. */
import { stableSource } from '../raw.js';
import { Tensor } from '../tensor.js';
import { checkShape, describe, formatShape, type Shape } from '../shape.js';
import { tensorArg } from './args.js';

/** A boolean mask as PyTorch's SDPA takes it: `true` (or non-zero) = may attend. */
export interface BooleanMask {
  /** Row-major values of `shape`: `true` (or non-zero) where a query may attend to a key. */
  readonly attend: ArrayLike<boolean | number>;
  /** The mask's shape, broadcastable to the scores `[B, Hq, Lq, Lk]`. */
  readonly shape: Shape;
}

/** What `mask` options accept: an additive float Tensor (`-Infinity` blocks) or a boolean mask. */
export type MaskInput = Tensor | BooleanMask;

/** Converts a boolean mask into an additive one (0 where allowed, -Infinity where blocked). */
export function additiveMask(mask: BooleanMask): Tensor {
  const size = checkShape(mask.shape, 'mask shape');
  // A view of WASM memory is copied: the allocation below may grow memory and detach it.
  const attend = stableSource(mask.attend, 'boolean mask: attend');
  if (attend == null || typeof attend.length !== 'number' || attend.length !== size) {
    throw new RangeError(
      `wasm-attention: boolean mask has ${attend == null ? describe(attend) : `${attend.length} entries`} but its shape ` +
      `${formatShape(mask.shape)} needs ${size}`);
  }
  const t = Tensor.empty(mask.shape);
  const d = t.data;
  for (let i = 0; i < size; i++) d[i] = attend[i] ? 0 : -Infinity;
  return t;
}

/**
 * Resolves a mask option into an additive tensor plus element strides that
 * broadcast it (right-aligned, size-1 axes repeat) to `target`. `owned` tells the
 * caller to dispose the tensor after the call.
 */
export function resolveMask(mask: unknown, target: Shape, op: string):
  { tensor: Tensor; strides: number[]; owned: boolean } {
  let tensor: Tensor;
  let owned = false;
  if (mask instanceof Tensor) {
    tensor = tensorArg(mask, op, 'mask');
  } else if (mask !== null && typeof mask === 'object' && 'attend' in mask && 'shape' in mask) {
    tensor = additiveMask(mask as BooleanMask);
    owned = true;
  } else {
    throw new TypeError(
      `wasm-attention: ${op}: mask must be a Tensor (additive) or { attend, shape } (boolean), got ${describe(mask)}`);
  }
  try {
    return { tensor, strides: broadcastStrides(tensor.shape, target, op), owned };
  } catch (e) {
    if (owned) tensor.dispose();
    throw e;
  }
}

/** Element strides that read a contiguous `shape` as if it were `target` (broadcasting). */
export function broadcastStrides(shape: Shape, target: Shape, op: string): number[] {
  if (shape.length > target.length) {
    throw new RangeError(
      `wasm-attention: ${op}: mask of shape ${formatShape(shape)} has more axes than ${formatShape(target)}`);
  }
  const strides = new Array<number>(target.length).fill(0);
  let stride = 1;
  for (let i = 1; i <= shape.length; i++) {
    const m = shape[shape.length - i]!, t = target[target.length - i]!;
    if (m !== t && m !== 1) {
      throw new RangeError(
        `wasm-attention: ${op}: mask of shape ${formatShape(shape)} does not broadcast to ${formatShape(target)}`);
    }
    strides[target.length - i] = m === 1 ? 0 : stride;
    stride *= m;
  }
  return strides;
}
