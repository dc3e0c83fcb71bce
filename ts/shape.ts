/** Shape checks shared by Tensor and the ops; every message names the offending values. */

/** A readonly list of non-negative integer sizes, outermost first. */
export type Shape = readonly number[];

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Validates a shape and returns its element count. */
export function checkShape(shape: unknown, what = 'shape'): number {
  if (!Array.isArray(shape)) {
    throw new TypeError(`wasm-attention: ${what} must be an array of sizes, got ${describe(shape)}`);
  }
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i] as unknown;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `wasm-attention: ${what} ${formatShape(shape as number[])} has an invalid size at axis ${i}: ` +
        `${String(d)} (sizes are non-negative integers)`);
    }
    size *= d;
  }
  if (size * 4 > 2 ** 32) {
    throw new RangeError(
      `wasm-attention: ${what} ${formatShape(shape as number[])} holds ${size} floats ` +
      `(${size * 4} bytes), more than WASM's 4 GiB memory`);
  }
  return size;
}

export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  // A primitive or a function here, never an object.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return `${typeof x} ${String(x)}`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
