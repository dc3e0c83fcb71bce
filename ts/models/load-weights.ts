/**
 * Preparing a model's matrices as `Weight`s at load, shared by `CausalLM` and
 * `EncoderModel`: straight from the file's bytes when the matrix is stored as the model
 * uses it, or from a tensor the loader had to rearrange (e.g. GPT-2's transposed Conv1D).
 * @internal
 */
import { reserveMemory } from '../index.js';
import type { SafetensorsFile } from '../io/safetensors.js';
import { Weight, WeightWriter, splitRows, weightBytes, type WeightFormat } from '../ops/linear.js';
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';
import { dtypeCode } from '../dtype.js';
import type { TensorDType } from '../dtype.js';
import type { LoadStep } from '../io/safetensors-stream.js';

export type { LoadStep };

/**
 * A model's loading: steps that each read a few of the file's tensors (a layer's, say), and the
 * model's parts once every step has run. From bytes in memory the steps run in their order
 * ({@link runNow}); from a stream, as their tensors arrive (`StreamedSafetensors.run`).
 */
export interface LoadPlan<P> {
  readonly steps: LoadStep[];
  parts(): P;
}

/** Runs every step of `plan` now (its file's bytes are all in memory) and gives the parts. */
export function runNow<P>(plan: LoadPlan<P>): P {
  for (const s of plan.steps) s.run();
  return plan.parts();
}

/** Everything a loader allocated, freed together if loading fails or the model is disposed. */
export type Owned = (Tensor<TensorDType> | Weight | WeightWriter)[];

/** A model's weight format: a `Weight` format, or `'auto'` for the file's dtype. */
export type LoadFormat = 'auto' | WeightFormat;

/**
 * Whether a model's products meet many rows at once (an encoder's: a whole batch's
 * tokens), so float32, int8 and int4 weights are laid out once for the GEMMs (`'float32-panels'`,
 * `'int8-panels'`, `'int4-panels'`), or one row at a time too (a decoder's steps), so they stay rows for the
 * matrix–vector kernels.
 */
export type RowUse = 'many' | 'any';

/** The format a `format` weight is stored in for `use` (float32, int8 and int4 as their GEMMs' panels for `'many'`). */
export function storedFormat(format: WeightFormat, use: RowUse): WeightFormat {
  if (use !== 'many') return format;
  const panels: Partial<Record<WeightFormat, WeightFormat>> =
    { float32: 'float32-panels', int8: 'int8-panels', int4: 'int4-panels' };
  return panels[format] ?? format;
}

/** `t` prepared as a weight in `format` (`'auto'`: its own dtype); `t` is disposed. */
export function prepare(t: Tensor<TensorDType>, format: LoadFormat, owned: Owned, use: RowUse = 'any'): Weight {
  try {
    const w = Weight.from(t, { format: storedFormat(format === 'auto' ? t.dtype : format, use) });
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
export function weightOf(file: SafetensorsFile, names: readonly string[], format: LoadFormat, owned: Owned, op: string,
  use: RowUse = 'any'): Weight {
  const parts = names.map((n) => file.rowBytes(n));
  const cols = file.entry(names[0]!).shape[1]!;
  const w = Weight.fromBytes(parts, cols, storedFormat(format === 'auto' ? parts[0]!.dtype : format, use), op);
  owned.push(w);
  return w;
}

/**
 * The step making the weight stacked from the file's 2-D tensors `names` (as {@link weightOf})
 * and handing it to `done`. From a stream, each tensor's rows are written into the weight as
 * they arrive, so no tensor is held whole (the largest of a decoder, its embedding, is a tenth
 * to a fifth of the model).
 */
export function weightStep(file: SafetensorsFile, names: readonly string[], format: LoadFormat, owned: Owned, op: string,
  done: (w: Weight) => void, use: RowUse = 'any'): LoadStep {
  let writer: WeightWriter | null = null;
  const parts = new Map<string, { write(bytes: Uint8Array): void }>();
  /** The writer of `name`'s rows (and the weight's writer, made at the first). */
  const partOf = (name: string) => {
    let p = parts.get(name);
    if (p !== undefined) return p;
    const rows = names.map((n) => file.rowBytes(n));
    if (writer === null) {
      const total = rows.reduce((t, r) => t + r.rows, 0);
      writer = new WeightWriter(total, file.entry(names[0]!).shape[1]!, storedFormat(format === 'auto' ? rows[0]!.dtype : format, use), op);
      owned.push(writer);
    }
    const i = names.indexOf(name);
    p = writer.part(rows[i]!.dtype, rows.slice(0, i).reduce((t, r) => t + r.rows, 0), rows[i]!.rows);
    parts.set(name, p);
    return p;
  };
  return {
    reads: names,
    take: (name, bytes) => partOf(name).write(bytes),
    run: () => {
      if (writer === null) {
        done(weightOf(file, names, format, owned, op, use));
        return;
      }
      for (const n of names) partOf(n); // parts of no bytes (no rows, or rows of no columns)
      const w: Weight = writer.finish();
      owned.splice(owned.indexOf(writer), 1, w);
      done(w);
    },
  };
}

/** Staging of {@link tensorStep}'s 16-bit conversions: a call per MiB. */
const STAGE_BYTES = 2 ** 20;

/**
 * The step making the file's tensor `name` as a float32 `Tensor` (16-bit files widened exactly)
 * and handing it to `done`. From a stream its bytes are written (or widened) into the tensor as
 * they arrive, so a large table (an encoder's word embeddings: half of MiniLM-L6) is not held
 * whole.
 */
export function tensorStep(file: SafetensorsFile, name: string, owned: Owned, op: string, done: (t: Tensor) => void): LoadStep {
  const e = file.entry(name), from = e.tensorDtype;
  if (from === null) throw new TypeError(`wasm-attention: ${op}: tensor "${name}" has dtype ${e.dtype}; only F32, F16 and BF16 load`);
  const size = from === 'float32' ? 4 : 2, count = e.shape.reduce((a, b) => a * b, 1);
  let t: Tensor | null = null, filler: { write(bytes: Uint8Array): void } | null = null, written = 0;
  const start = (): Tensor => {
    const made = Tensor.empty(e.shape) as Tensor;
    owned.push(made);
    filler = splitRows(size, (src) => {
      const n = src.length / size;
      if (written + n > count) throw new RangeError(`wasm-attention: ${op}: tensor "${name}" got more than its ${count} values`);
      if (from === 'float32') {
        raw.heapU8().set(src, made.ptr + written * 4);
      } else {
        const stage = raw.alloc(Math.min(src.length, STAGE_BYTES));
        try {
          for (let i = 0; i < n; i += STAGE_BYTES / 2) {
            const k = Math.min(STAGE_BYTES / 2, n - i);
            raw.heapU8().set(src.subarray(i * 2, (i + k) * 2), stage);
            raw.check(raw.wasm().wa_convert(stage, dtypeCode(from), made.ptr + (written + i) * 4, 0, k), op);
          }
        } finally {
          raw.free(stage);
        }
      }
      written += n;
    });
    return made;
  };
  return {
    reads: [name],
    take: (_, bytes) => {
      t ??= start();
      filler!.write(bytes);
    },
    run: () => {
      if (t === null) {
        const whole = file.tensor(name, { dtype: 'float32' }) as Tensor;
        owned.push(whole);
        done(whole);
        return;
      }
      if (written !== count) throw new Error(`wasm-attention: ${op}: tensor "${name}" got ${written} of its ${count} values`);
      done(t);
    },
  };
}

/**
 * Grows WASM memory once, before a model's weights are written, by about what they will
 * occupy: each 2-D float tensor of `file` as a `format` weight stored for `use`, every other
 * tensor at its size in the file or as float32, whichever is larger. Growing tensor by tensor
 * made V8 collect garbage at each growth: it took most of a float32 load's time (figures in
 * docs/performance.md). Best effort: when memory cannot grow that far, the loader's own
 * allocations say what does not fit.
 */
export function reserveFor(file: SafetensorsFile, format: LoadFormat, use: RowUse): void {
  let bytes = 0;
  for (const name of file.names()) {
    const e = file.entry(name);
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.shape.length === 2 && e.tensorDtype !== null) {
      const f = format === 'auto' ? e.tensorDtype : format;
      bytes += weightBytes(storedFormat(f, use), e.shape[0]!, e.shape[1]!);
    } else {
      bytes += Math.max(e.end - e.begin, 4 * size);
    }
  }
  try {
    reserveMemory(bytes);
  } catch {
    // Left to the loader: it allocates less than this estimate when some tensors go unused.
  }
}
