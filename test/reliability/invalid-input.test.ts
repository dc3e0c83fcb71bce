// Every invalid call must throw a clear error (class and message naming the
// problem) and leave the module working and memory unchanged.
import { describe, expect, it } from 'vitest';
import { Tensor, applyRope, attention, attentionWeights, matmul, memoryStats, softmax } from '../../ts/index.js';
import { AttentionPool } from '../../ts/pool/index.js';

interface Bad { name: string; call: (t: Fixtures) => unknown; error: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor; message: RegExp }
interface Fixtures { [name: string]: Tensor }

function fixtures(): Fixtures {
  const disposed = Tensor.zeros([2, 3]);
  disposed.dispose();
  return {
    a23: Tensor.zeros([2, 3]), a34: Tensor.zeros([3, 4]), a44: Tensor.zeros([4, 4]), v3: Tensor.zeros([3]),
    q: Tensor.zeros([4, 5, 8]), k: Tensor.zeros([2, 6, 8]), v: Tensor.zeros([2, 6, 8]), k3: Tensor.zeros([3, 6, 8]),
    k7: Tensor.zeros([2, 6, 7]), v5: Tensor.zeros([2, 5, 8]), q4d: Tensor.zeros([1, 4, 5, 8]), q5d: Tensor.zeros([1, 1, 4, 5, 8]),
    m56: Tensor.zeros([5, 6]), m55: Tensor.zeros([5, 5]), m456: Tensor.zeros([4, 5, 6]), out458: Tensor.zeros([4, 5, 8]),
    out457: Tensor.zeros([4, 5, 7]), x: Tensor.zeros([3, 4]), disposed,
  };
}

export const INVALID: Bad[] = [
  // Tensor construction
  { name: 'shape not an array', call: () => Tensor.empty(3 as never), error: TypeError, message: /shape must be an array/ },
  { name: 'negative dim', call: () => Tensor.empty([2, -1]), error: RangeError, message: /invalid size at axis 1: -1/ },
  { name: 'fractional dim', call: () => Tensor.zeros([1.5]), error: RangeError, message: /invalid size at axis 0: 1.5/ },
  { name: 'NaN dim', call: () => Tensor.zeros([NaN]), error: RangeError, message: /invalid size at axis 0: NaN/ },
  { name: 'string dim', call: () => Tensor.zeros(['3'] as never), error: RangeError, message: /invalid size at axis 0: 3/ },
  { name: 'over 4 GiB', call: () => Tensor.empty([1 << 16, 1 << 15]), error: RangeError, message: /more than WASM's 4 GiB/ },
  { name: 'length ≠ shape', call: () => Tensor.from([1, 2, 3], [2, 2]), error: RangeError, message: /data of length 3 does not match shape \[2, 2\]/ },
  { name: 'bigint dtype', call: () => Tensor.from(new BigInt64Array(2) as never), error: TypeError, message: /unsupported dtype: BigInt64Array/ },
  { name: 'string data', call: () => Tensor.from('abc' as never), error: TypeError, message: /expects a Float32Array/ },
  { name: 'non-number element', call: () => Tensor.from([1, {}] as never), error: TypeError, message: /data\[1\] is a Object/ },
  { name: 'disposed data', call: (t) => t.disposed!.data, error: Error, message: /used after dispose\(\)/ },
  { name: 'null options', call: () => Tensor.from([1, 2], [2], null as never), error: TypeError, message: /Tensor.from: options must be an object/ },
  { name: 'string options', call: () => Tensor.zeros([2], 'float16' as never), error: TypeError, message: /Tensor.empty: options must be an object/ },
  // A disposed tensor throws before anything is allocated (no leaked block).
  { name: 'disposed to(float16)', call: (t) => t.disposed!.to('float16'), error: Error, message: /used after dispose\(\)/ },
  { name: 'disposed to(float32)', call: (t) => t.disposed!.to('float32'), error: Error, message: /used after dispose\(\)/ },
  { name: 'disposed toArray', call: (t) => t.disposed!.toArray(), error: Error, message: /used after dispose\(\)/ },
  // RoPE positions are checked one by one before x is touched.
  { name: 'rope position NaN', call: (t) => applyRope(t.x!, { positions: [NaN, 'a', 0] as never }), error: RangeError, message: /applyRope: positions\[0\] = NaN is not a finite number/ },
  { name: 'rope position string', call: (t) => applyRope(t.x!, { positions: [0, 'a', 1] as never }), error: TypeError, message: /applyRope: positions\[1\] is string a, expected a number/ },
  { name: 'rope position Infinity', call: (t) => applyRope(t.x!, { positions: [0, 1, Infinity] }), error: RangeError, message: /positions\[2\] = Infinity/ },
  // matmul
  { name: 'matmul inner mismatch', call: (t) => matmul(t.a23!, t.a44!), error: RangeError, message: /inner sizes differ: a \[2, 3\] has k=3 but b \[4, 4\] has k=4/ },
  { name: 'matmul rank 1', call: (t) => matmul(t.v3!, t.a34!), error: RangeError, message: /need at least 2 axes/ },
  { name: 'matmul not a tensor', call: (t) => matmul(t.a23!, new Float32Array(12) as never), error: TypeError, message: /b must be a Tensor, got a Float32Array/ },
  { name: 'matmul disposed', call: (t) => matmul(t.disposed!, t.a34!), error: Error, message: /a \(shape \[2, 3\]\) was used after dispose/ },
  { name: 'matmul out shape', call: (t) => matmul(t.a23!, t.a34!, { out: t.a44! }), error: RangeError, message: /out has shape \[4, 4\], expected \[2, 4\]/ },
  { name: 'matmul out aliases a', call: (t) => matmul(t.a44!, t.a44!, { out: t.a44! }), error: Error, message: /out must not be the same tensor as a/ },
  { name: 'matmul beta without out', call: (t) => matmul(t.a23!, t.a34!, { beta: 1 }), error: RangeError, message: /needs an out tensor/ },
  { name: 'matmul alpha NaN', call: (t) => matmul(t.a23!, t.a34!, { alpha: NaN }), error: TypeError, message: /alpha must be a number/ },
  { name: 'matmul batch mismatch', call: (t) => matmul(t.q!, t.k!, { transposeB: true }), error: RangeError, message: /batch sizes do not broadcast: a \[4, 5, 8\] and b \[2, 6, 8\]/ },
  // softmax
  { name: 'softmax mask no broadcast', call: (t) => softmax(t.x!, { mask: t.a23! }), error: RangeError, message: /mask of shape \[2, 3\] does not broadcast to \[1, 1, 3, 4\]/ },
  { name: 'softmax out shape', call: (t) => softmax(t.x!, { out: t.a23! }), error: RangeError, message: /out has shape \[2, 3\], expected \[3, 4\]/ },
  { name: 'softmax bad mask type', call: (t) => softmax(t.x!, { mask: [0, 1] as never }), error: TypeError, message: /mask must be a Tensor/ },
  { name: 'softmax bool mask size', call: (t) => softmax(t.x!, { mask: { attend: [true], shape: [3, 4] } }), error: RangeError, message: /boolean mask has 1 entries but its shape \[3, 4\] needs 12/ },
  { name: 'softmax disposed', call: (t) => softmax(t.disposed!), error: Error, message: /x \(shape \[2, 3\]\) was used after dispose/ },
  // attention
  { name: 'attention Hq % Hkv', call: (t) => attention(t.q!, t.k3!, t.k3!), error: RangeError, message: /query heads \(4\) must be a multiple of key\/value heads \(3\)/ },
  { name: 'attention head dim', call: (t) => attention(t.q!, t.k7!, t.v!), error: RangeError, message: /head sizes differ \(8 vs 7\)/ },
  { name: 'attention k/v length', call: (t) => attention(t.q!, t.k!, t.v5!), error: RangeError, message: /k and v must agree/ },
  { name: 'attention rank mix', call: (t) => attention(t.q4d!, t.k!, t.v!), error: RangeError, message: /same number of axes/ },
  { name: 'attention rank 5', call: (t) => attention(t.q5d!, t.q5d!, t.q5d!), error: RangeError, message: /must have 2 to 4 axes/ },
  { name: 'attention rank 1', call: (t) => attention(t.v3!, t.v3!, t.v3!), error: RangeError, message: /must have 2 to 4 axes/ },
  { name: 'attention mask shape', call: (t) => attention(t.q!, t.k!, t.v!, { mask: t.m55! }), error: RangeError, message: /mask of shape \[5, 5\] does not broadcast to \[1, 4, 5, 6\]/ },
  { name: 'attention out shape', call: (t) => attention(t.q!, t.k!, t.v!, { out: t.out457! }), error: RangeError, message: /out has shape \[4, 5, 7\], expected \[4, 5, 8\]/ },
  { name: 'attention out aliases q', call: (t) => attention(t.q!, t.k!, t.v!, { out: t.q! }), error: Error, message: /out must not be the same tensor as q/ },
  { name: 'attention scale Infinity', call: (t) => attention(t.q!, t.k!, t.v!, { scale: Infinity }), error: RangeError, message: /scale must be finite/ },
  { name: 'attention scale string', call: (t) => attention(t.q!, t.k!, t.v!, { scale: '1' as never }), error: TypeError, message: /scale must be a number/ },
  { name: 'attention softcap < 0', call: (t) => attention(t.q!, t.k!, t.v!, { softcap: -1 }), error: RangeError, message: /softcap must be a finite number ≥ 0/ },
  { name: 'attention window', call: (t) => attention(t.q!, t.k!, t.v!, { window: [1, 2, 3] as never }), error: RangeError, message: /window must be/ },
  { name: 'attention window fraction', call: (t) => attention(t.q!, t.k!, t.v!, { window: 1.5 }), error: RangeError, message: /window must be/ },
  { name: 'attention alibi count', call: (t) => attention(t.q!, t.k!, t.v!, { alibiSlopes: [1] }), error: RangeError, message: /alibiSlopes needs one value per query head \(4\)/ },
  { name: 'attention sinks count', call: (t) => attention(t.q!, t.k!, t.v!, { sinks: new Float32Array(5) }), error: RangeError, message: /sinks needs one value per query head \(4\)/ },
  { name: 'attention disposed v', call: (t) => attention(t.q!, t.k!, t.disposed!), error: Error, message: /v \(shape \[2, 3\]\) was used after dispose/ },
  { name: 'weights rows out of range', call: (t) => attentionWeights(t.q!, t.k!, { rowStart: 3, rowCount: 3 }), error: RangeError, message: /rows \[3, 6\) are outside the 5 query rows/ },
  { name: 'weights lse shape', call: (t) => attentionWeights(t.q!, t.k!, { lse: t.m56! }), error: RangeError, message: /lse has shape \[5, 6\], expected \[4, 5\]/ },
];

describe('invalid input', () => {
  it(`${INVALID.length} invalid calls each throw a clear error and change nothing`, () => {
    const t = fixtures();
    const tensors = Object.values(t).filter((x) => !x.disposed);
    for (const x of tensors) x.data.set(Array.from({ length: x.size }, (_, i) => i % 7));
    const before = tensors.map((x) => x.toArray());
    const mem = memoryStats();
    for (const bad of INVALID) {
      let thrown: unknown = null;
      try { bad.call(t); } catch (e) { thrown = e; }
      expect(thrown, bad.name).toBeInstanceOf(bad.error);
      expect((thrown as Error).message, bad.name).toMatch(bad.message);
      expect((thrown as Error).message, bad.name).toMatch(/^wasm-attention: /);
    }
    const after = memoryStats();
    expect(after.liveBlocks).toBe(mem.liveBlocks);
    tensors.forEach((x, i) => expect(Array.from(x.data), `tensor ${i} unchanged`).toEqual(Array.from(before[i]!)));
    // Still usable.
    using r = attention(t.q!, t.k!, t.v!, { causal: true });
    expect(r.shape).toEqual([4, 5, 8]);
    tensors.forEach((x) => x.dispose());
  });

  it('AttentionPool.create refuses absurd worker counts before starting any', async () => {
    for (const workers of [257, 2 ** 31, 0, 1.5]) {
      await expect(AttentionPool.create({ workers })).rejects.toThrow(/AttentionPool workers must be an integer in \[1, 256\]/);
    }
    await expect(AttentionPool.create(null as never)).rejects.toThrow(TypeError);
  });
});
