//! The SIMD128 row-dot tile and its pieces, shared by `gemv` and the decode kernel's
//! scores: the tile itself ([`dot4_simd128`]), the widening of its float16 lanes, which
//! weight rows a gemv tile takes, the lane sums of four accumulators, the store of four
//! outputs.
//!
//! A tile is [`NR`] = 4 weight rows against one activation row: one f32x4 accumulator
//! per weight row (two for the float formats, to break the add chain), lanes summed at
//! the end by a 4×4 transpose-add that leaves the tile's four outputs in one vector,
//! bias added and stored at once. Rows past `n` in the last tile repeat the last row
//! (its outputs are computed and dropped), so every tile runs the same code.

use core::arch::wasm32::*;

use super::NR;
use crate::dtype::{DType, Elem};

/// The row-dot tile shared by `gemv` and the decode kernel's scores: `[x·w0, x·w1, x·w2,
/// x·w3]` over columns `0..k` of one f32 row `x` and four rows `w` of lanes `E`, read in
/// place from anywhere (weight rows of a matrix, key rows of a cache). Eight columns a
/// step, then four, lanes summed by [`hsum4`], then the last `k mod 4` columns one at a
/// time. `ACC2`: two accumulators per row (even and odd groups of four columns: eight add
/// chains, for `gemv`, whose single activation row leaves no other independent work);
/// otherwise one, the order of the decode kernel's multi-row tiles, whose scores then do
/// not depend on which tile computed them.
///
/// `RAW`: lanes from [`Elem::load4_raw`] (the values times `1 / E::RAW_SCALE`; finite
/// float16 skips its ×2^112, widened eight at a time by [`f16x8_finite_raw`]) and every
/// `x` taken times `xs`, which the caller sets to `RAW_SCALE` or has already put in `x`
/// (then 1). Otherwise exact lanes ([`Elem::load4`]) and `xs` = 1. Either way the
/// products are those of the values (powers of two, exact while `x·xs` is finite), so
/// every dtype gives bit for bit the result of its float32 copy (on the relaxed-SIMD
/// build, within rounding: `scripts/relaxed-fma.mjs` fuses each copy's pairs where it can
/// prove the reordering unobservable, which depends on wasm-opt's reuse of locals).
///
/// # Safety
/// `x[0..k]` and `w[r][0..k]` must be readable.
#[inline(always)]
pub(crate) unsafe fn dot4_simd128<E: Elem, const RAW: bool, const ACC2: bool>(
    k: usize, x: *const f32, xs: f32, w: [*const E; NR],
) -> v128 {
    let z = f32x4_splat(0.0);
    let f = f32x4_splat(xs);
    let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
    let (mut b0, mut b1, mut b2, mut b3) = (z, z, z, z);
    let mut p = 0;
    if ACC2 && k >= 8 {
        // The same steps as the loop below, from `dot4_*_simd128.wat` (bit for bit; the
        // text orders them so that nothing spills, docs/performance.md). `xs` is 1
        // without RAW.
        let mut acc = [z; 8];
        let (wf, wh) = (|r: usize| w[r] as *const f32, |r: usize| w[r] as *const u16);
        let out = acc.as_mut_ptr() as *mut f32;
        let done = match (E::DTYPE, RAW, E::RAW_SCALE != 1.0) {
            (DType::F32, false, _) => {
                crate::wat_simd128::dot4_f32(x, wf(0), wf(1), wf(2), wf(3), k / 8, out);
                true
            }
            (DType::BF16, false, _) => {
                crate::wat_simd128::dot4_bf16(x, wh(0), wh(1), wh(2), wh(3), k / 8, out);
                true
            }
            (DType::F16, true, true) => {
                crate::wat_simd128::dot4_f16_raw(x, xs, wh(0), wh(1), wh(2), wh(3), k / 8, out);
                true
            }
            _ => false,
        };
        if done {
            [a0, b0, a1, b1, a2, b2, a3, b3] = acc;
            p = k / 8 * 8;
        }
    }
    while p + 8 <= k {
        let x0 = f32x4_mul(v128_load(x.add(p) as *const v128), f);
        let x1 = f32x4_mul(v128_load(x.add(p + 4) as *const v128), f);
        let (l, h) = load8::<E, RAW>(w[0].add(p));
        a0 = f32x4_add(a0, f32x4_mul(l, x0));
        if ACC2 {
            b0 = f32x4_add(b0, f32x4_mul(h, x1));
        } else {
            a0 = f32x4_add(a0, f32x4_mul(h, x1));
        }
        let (l, h) = load8::<E, RAW>(w[1].add(p));
        a1 = f32x4_add(a1, f32x4_mul(l, x0));
        if ACC2 {
            b1 = f32x4_add(b1, f32x4_mul(h, x1));
        } else {
            a1 = f32x4_add(a1, f32x4_mul(h, x1));
        }
        let (l, h) = load8::<E, RAW>(w[2].add(p));
        a2 = f32x4_add(a2, f32x4_mul(l, x0));
        if ACC2 {
            b2 = f32x4_add(b2, f32x4_mul(h, x1));
        } else {
            a2 = f32x4_add(a2, f32x4_mul(h, x1));
        }
        let (l, h) = load8::<E, RAW>(w[3].add(p));
        a3 = f32x4_add(a3, f32x4_mul(l, x0));
        if ACC2 {
            b3 = f32x4_add(b3, f32x4_mul(h, x1));
        } else {
            a3 = f32x4_add(a3, f32x4_mul(h, x1));
        }
        p += 8;
    }
    if p + 4 <= k {
        let x0 = f32x4_mul(v128_load(x.add(p) as *const v128), f);
        a0 = f32x4_add(a0, f32x4_mul(load4::<E, RAW>(w[0].add(p)), x0));
        a1 = f32x4_add(a1, f32x4_mul(load4::<E, RAW>(w[1].add(p)), x0));
        a2 = f32x4_add(a2, f32x4_mul(load4::<E, RAW>(w[2].add(p)), x0));
        a3 = f32x4_add(a3, f32x4_mul(load4::<E, RAW>(w[3].add(p)), x0));
        p += 4;
    }
    let mut s = if ACC2 {
        hsum4(f32x4_add(a0, b0), f32x4_add(a1, b1), f32x4_add(a2, b2), f32x4_add(a3, b3))
    } else {
        hsum4(a0, a1, a2, a3)
    };
    if p < k {
        let mut t = [0.0f32; NR];
        for q in p..k {
            let xv = *x.add(q) * xs;
            for (r, tr) in t.iter_mut().enumerate() {
                let wv = *w[r].add(q);
                *tr += if RAW { wv.to_f32_raw() } else { wv.to_f32() } * xv;
            }
        }
        s = f32x4_add(s, v128_load(t.as_ptr() as *const v128));
    }
    s
}

/// Four lanes of a row for [`dot4_simd128`].
#[inline(always)]
unsafe fn load4<E: Elem, const RAW: bool>(p: *const E) -> v128 {
    if RAW && E::RAW_SCALE != 1.0 {
        f16x8_finite_raw(v128_load64_zero(p as *const u64)).0
    } else if RAW {
        E::load4_raw(p)
    } else {
        E::load4(p)
    }
}

/// Eight lanes of a row for [`dot4_simd128`]: raw lanes of a type with a `RAW_SCALE`
/// (finite float16 is the only one) from one 16-byte load.
#[inline(always)]
unsafe fn load8<E: Elem, const RAW: bool>(p: *const E) -> (v128, v128) {
    if RAW && E::RAW_SCALE != 1.0 {
        f16x8_finite_raw(v128_load(p as *const v128))
    } else {
        (load4::<E, RAW>(p), load4::<E, RAW>(p.add(4)))
    }
}

/// Eight finite binary16 values → two f32x4 holding them times 2^-112 (exact), in five
/// 16-bit-lane operations: each f32 is built from two halves, its high one `sign |
/// exponent|mantissa >> 3` (arithmetic shift, the copies of the sign masked off) and its
/// low one the mantissa's last three bits `<< 13`, interleaved. The f32 bits are then
/// `sign << 31 | exponent|mantissa << 13`, binary16's value rebiased by 2^-112.
#[inline(always)]
pub(crate) fn f16x8_finite_raw(h: v128) -> (v128, v128) {
    let hi = v128_and(i16x8_shr(h, 3), u16x8_splat(0x8fff));
    let lo = i16x8_shl(h, 13);
    (i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(lo, hi), i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(lo, hi))
}

/// The 4 × 4 transpose of rows `a, b, c, d` (32-bit lanes): vector `x` holds lane `x` of
/// each, by eight interleaves.
#[inline(always)]
pub(crate) fn transpose4(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
    let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
    let t1 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
    let t2 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
    let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
    [
        i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
        i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
        i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
        i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
    ]
}

/// `[Σa, Σb, Σc, Σd]`: the lane sums of four vectors in one.
#[inline(always)]
pub(super) fn hsum4(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
    let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
    f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
}

/// Rows of tile `t` when the `n` rows are split into [`NR`] runs of `q = ⌈n/NR⌉`: rows
/// `t, t+q, t+2q, t+3q`, so the tile reads four streams far apart in memory. Side by
/// side, rows a few hundred bytes apart stream at a third of the rate of rows megabytes
/// apart on the machines measured (docs/performance.md). Rows past `n` repeat row
/// `n − 1` and are not stored.
#[inline(always)]
pub(super) fn spaced_rows(t: usize, q: usize, n: usize) -> [usize; NR] {
    let last = n - 1;
    [t.min(last), (t + q).min(last), (t + 2 * q).min(last), (t + 3 * q).min(last)]
}

/// Stores lane `r` of `v` (+ bias) at `y[t + r·q]` for the rows that exist.
#[inline(always)]
pub(super) unsafe fn store_spaced(v: v128, t: usize, q: usize, n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    let mut out = [0.0f32; NR];
    v128_store(out.as_mut_ptr() as *mut v128, v);
    for (r, o) in out.iter().enumerate() {
        let row = t + r * q;
        if row < n {
            y[row] = o + bias.map_or(0.0, |b| b[row]);
        }
    }
}
