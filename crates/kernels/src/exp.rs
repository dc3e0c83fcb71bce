//! Polynomial `exp` and `exp2` with range reduction, scalar and SIMD128.
//!
//! Both variants perform the same f32 operations in the same order (no fused
//! multiply-add exists in base SIMD128), so they return bit-identical results.
//!
//! * [`exp`] / `exp_f32x4`: full range. `n = round(x·log2 e)`, Cody–Waite reduction
//!   `r = x − n·ln2_hi − n·ln2_lo` (|r| ≤ ln2/2), degree-6 minimax polynomial for
//!   `e^r`, then `2^n` applied as two exact power-of-two factors so that results
//!   underflow gradually and overflow to `+inf` without special cases.
//!   Accuracy: max relative error 9.6e-8 (< 1 ulp) over normal results, measured by
//!   a dense sweep of [-87.3, 88.7] (2^21 points natively, 2^22 in wasm) in the tests.
//!   `exp(x) = +inf` for `x > 88.7229`, subnormal below `-87.337`, exactly `0` below
//!   `-103.98`; `exp(-inf) = 0`, `exp(+inf) = +inf`, NaN propagates.
//! * [`exp_nonpos`] / `exp_nonpos_f32x4`: `e^x` for `x ≤ 0` (softmax after subtracting
//!   the row maximum). Same reduction and polynomial as [`exp`] but a single exponent
//!   scale and one clamp (fewer operations). Accuracy: max relative error 9.9e-8 over
//!   `[-87.3, 0]` (dense sweep in the tests). Exactly `0` below `-87.68` (and for
//!   `-inf`); NaN propagates. Valid for `x ≤ 88`.
//! * [`exp2_nonpos`] / `exp2_nonpos_f32x4`: for arguments `t ≤ 127` (the online
//!   softmax only ever needs `t ≤ 0`). `n = round(t)`, `f = t − n` is exact, degree-6
//!   minimax polynomial for `2^f`, one exponent-field scale. Accuracy: max relative
//!   error 9.8e-8 over `t ∈ [-126, 0]` (dense sweep in the tests). Returns exactly `0`
//!   for `t < -126.5` (and `-inf`); NaN propagates.

#![allow(clippy::excessive_precision)] // coefficients as printed by the fit

/// `ln 2` split so that `n·LN2_HI` is exact for |n| < 2^15 (LN2_HI has 9 significant bits).
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;
const LOG2E: f32 = core::f32::consts::LOG2_E;
/// Adding 1.5·2^23 rounds any |t| < 2^22 to an integer held in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Same, pre-biased by 127 so the low bits are directly an f32 exponent field.
const ROUND_MAGIC_BIASED: f32 = 12_583_039.0;

/// `e^r ≈ 1 + r·(1 + r·(E2 + r·(E3 + r·(E4 + r·(E5 + r·E6)))))` on |r| ≤ ln2/2 (Remez fit).
const E2: f32 = 0.499_999_935;
const E3: f32 = 0.166_665_207;
const E4: f32 = 0.041_668_387_4;
const E5: f32 = 0.008_368_709_82;
const E6: f32 = 0.001_381_461_32;

/// `2^f ≈ 1 + f·(P1 + f·(P2 + … + f·P6))` on |f| ≤ 1/2 (Remez fit).
const P1: f32 = 0.693_147_225;
const P2: f32 = 0.240_226_511;
const P3: f32 = 0.055_502_973_1;
const P4: f32 = 0.009_618_030_78;
const P5: f32 = 0.001_341_000_1;
const P6: f32 = 0.000_154_697_32;

/// Inputs are clamped here first: beyond these the result is already 0 or +inf.
const EXP_LO: f32 = -110.0;
/// For `exp_nonpos`: rounds to n = −127, whose single scale factor is +0.0.
const EXP_NONPOS_LO: f32 = -88.0;
const EXP_HI: f32 = 89.0;
const EXP2_LO: f32 = -127.0;

/// `e^x`, scalar. See the module documentation for accuracy and special values.
#[inline]
pub fn exp(x: f32) -> f32 {
    // Comparisons are false for NaN, so NaN passes through unclamped (the same
    // operations as the SIMD pmax/pmin clamp).
    // manual_clamp is newer than clippy 1.63, which would call it unknown.
    #[allow(unknown_lints, clippy::manual_clamp)]
    let x = if x < EXP_LO {
        EXP_LO
    } else if x > EXP_HI {
        EXP_HI
    } else {
        x
    };
    let v = x * LOG2E + ROUND_MAGIC;
    let n_f = v - ROUND_MAGIC;
    let n = (v.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let r = (x - n_f * LN2_HI) - n_f * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (E2 + r * (E3 + r * (E4 + r * (E5 + r * E6)))));
    // 2^n = 2^(n>>1) · 2^(n − n>>1); both halves are normal numbers for |n| ≤ 160.
    let h = n >> 1;
    let s1 = f32::from_bits((h.wrapping_add(127) as u32) << 23);
    let s2 = f32::from_bits((n.wrapping_sub(h).wrapping_add(127) as u32) << 23);
    (p * s1) * s2
}

/// `e^x` for `x ≤ 88`, scalar (meant for `x ≤ 0`). Exactly 0 below `-87.68`.
#[inline]
pub fn exp_nonpos(x: f32) -> f32 {
    let x = if x < EXP_NONPOS_LO { EXP_NONPOS_LO } else { x };
    let v = x * LOG2E + ROUND_MAGIC_BIASED;
    let n_f = v - ROUND_MAGIC_BIASED;
    let r = (x - n_f * LN2_HI) - n_f * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (E2 + r * (E3 + r * (E4 + r * (E5 + r * E6)))));
    p * f32::from_bits(v.to_bits() << 23)
}

/// `2^t` for `t ≤ 127`, scalar. Exactly 0 for `t < -126.5`.
#[inline]
pub fn exp2_nonpos(t: f32) -> f32 {
    let t = if t < EXP2_LO { EXP2_LO } else { t };
    let v = t + ROUND_MAGIC_BIASED;
    let n_f = v - ROUND_MAGIC_BIASED;
    let f = t - n_f;
    let p = 1.0 + f * (P1 + f * (P2 + f * (P3 + f * (P4 + f * (P5 + f * P6)))));
    // The low 9 bits of v's representation are n + 127 ∈ [0, 254]; shifting them
    // into the exponent field builds 2^n (n = −127 gives +0.0).
    p * f32::from_bits(v.to_bits() << 23)
}

/// `x ← f(x)` over a slice: `fv` on groups of four, `fs` on the tail (the SIMD and
/// scalar functions give identical results).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn map_in_place(
    data: &mut [f32], fv: impl Fn(core::arch::wasm32::v128) -> core::arch::wasm32::v128, fs: impl Fn(f32) -> f32,
) {
    use core::arch::wasm32::{v128, v128_load, v128_store};
    let mut chunks = data.chunks_exact_mut(4);
    for ch in &mut chunks {
        // SAFETY: `ch` holds exactly 4 f32; unaligned v128 access is allowed in wasm.
        unsafe {
            let p = ch.as_mut_ptr() as *mut v128;
            v128_store(p, fv(v128_load(p)));
        }
    }
    for x in chunks.into_remainder() {
        *x = fs(*x);
    }
}

/// In place `x ← e^x` over a slice (SIMD where available; identical results either way).
pub fn exp_in_place(data: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    map_in_place(data, simd::exp_f32x4, exp);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    data.iter_mut().for_each(|x| *x = exp(*x));
}

/// In place `t ← 2^t` over a slice, for `t ≤ 127` (see [`exp2_nonpos`]).
pub fn exp2_nonpos_in_place(data: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    map_in_place(data, simd::exp2_nonpos_f32x4, exp2_nonpos);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    data.iter_mut().for_each(|x| *x = exp2_nonpos(*x));
}

/// In place `x ← e^x` for `x ≤ 0` (see [`exp_nonpos`]).
pub fn exp_nonpos_in_place(data: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    map_in_place(data, simd::exp_nonpos_f32x4, exp_nonpos);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    data.iter_mut().for_each(|x| *x = exp_nonpos(*x));
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::{exp2_nonpos_f32x4, exp2_nonpos_f32x4x4, exp_f32x4, exp_nonpos_f32x4, exp_nonpos_f32x4xn};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use core::arch::wasm32::*;

    #[repr(align(16))]
    struct Lanes([f32; 4]);
    static CLAMP_EXP_LO: Lanes = Lanes([EXP_LO; 4]);
    static CLAMP_EXP_HI: Lanes = Lanes([EXP_HI; 4]);
    static CLAMP_EXP2_LO: Lanes = Lanes([EXP2_LO; 4]);
    static CLAMP_EXP_NONPOS_LO: Lanes = Lanes([EXP_NONPOS_LO; 4]);

    /// A clamp bound the optimiser cannot see. With a visible constant LLVM proves
    /// `pmax(x, c)` equal to `f32x4.max(x, c)` and emits the latter, which V8 expands
    /// into ~8 instructions (NaN and ±0 fix-ups) instead of one `maxps`.
    #[inline(always)]
    fn opaque(c: &'static Lanes) -> v128 {
        // SAFETY: `Lanes` is 16 bytes, 16-byte aligned, and immutable.
        unsafe { core::ptr::read_volatile(c as *const Lanes as *const v128) }
    }

    /// Four-lane [`exp`](super::exp); same operations, same results.
    #[inline(always)]
    pub fn exp_f32x4(x: v128) -> v128 {
        // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x: a NaN x fails
        // both comparisons and passes through, exactly like the scalar clamp. (They are
        // single instructions, unlike the NaN-canonicalising f32x4.max/min.)
        let x = f32x4_pmin(f32x4_pmax(x, opaque(&CLAMP_EXP_LO)), opaque(&CLAMP_EXP_HI));
        let v = f32x4_add(f32x4_mul(x, f32x4_splat(LOG2E)), f32x4_splat(ROUND_MAGIC));
        let n_f = f32x4_sub(v, f32x4_splat(ROUND_MAGIC));
        let n = i32x4_sub(v, i32x4_splat(ROUND_MAGIC.to_bits() as i32));
        let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n_f, f32x4_splat(LN2_HI))), f32x4_mul(n_f, f32x4_splat(LN2_LO)));
        let mut p = f32x4_add(f32x4_splat(E5), f32x4_mul(r, f32x4_splat(E6)));
        p = f32x4_add(f32x4_splat(E4), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(E3), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(E2), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(1.0), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(1.0), f32x4_mul(r, p));
        let h = i32x4_shr(n, 1);
        let bias = i32x4_splat(127);
        let s1 = i32x4_shl(i32x4_add(h, bias), 23);
        let s2 = i32x4_shl(i32x4_add(i32x4_sub(n, h), bias), 23);
        f32x4_mul(f32x4_mul(p, s1), s2)
    }

    /// Four-lane [`exp_nonpos`](super::exp_nonpos); same operations, same results.
    #[inline(always)]
    pub fn exp_nonpos_f32x4(x: v128) -> v128 {
        let x = f32x4_pmax(x, opaque(&CLAMP_EXP_NONPOS_LO));
        let v = f32x4_add(f32x4_mul(x, f32x4_splat(LOG2E)), f32x4_splat(ROUND_MAGIC_BIASED));
        let n_f = f32x4_sub(v, f32x4_splat(ROUND_MAGIC_BIASED));
        let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n_f, f32x4_splat(LN2_HI))), f32x4_mul(n_f, f32x4_splat(LN2_LO)));
        let mut p = f32x4_add(f32x4_splat(E5), f32x4_mul(r, f32x4_splat(E6)));
        p = f32x4_add(f32x4_splat(E4), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(E3), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(E2), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(1.0), f32x4_mul(r, p));
        p = f32x4_add(f32x4_splat(1.0), f32x4_mul(r, p));
        f32x4_mul(p, i32x4_shl(v, 23))
    }

    /// [`exp_nonpos_f32x4`] on `N` vectors at once, each step issued for all `N` before
    /// the next. One vector's reduction and Horner polynomial is a chain of ~20 dependent
    /// operations (~60 cycles); issued one vector after another, the out-of-order window
    /// does not reach far enough ahead to fill the FP pipes. Side by side, the `N` chains
    /// are adjacent in program order. Same operations per lane, same results.
    #[inline(always)]
    pub fn exp_nonpos_f32x4xn<const N: usize>(x: [v128; N]) -> [v128; N] {
        let lo = opaque(&CLAMP_EXP_NONPOS_LO);
        let magic = f32x4_splat(ROUND_MAGIC_BIASED);
        let mut xc = x;
        for i in 0..N {
            xc[i] = f32x4_pmax(x[i], lo);
        }
        let mut v = xc;
        for i in 0..N {
            v[i] = f32x4_add(f32x4_mul(xc[i], f32x4_splat(LOG2E)), magic);
        }
        let mut r = xc;
        for i in 0..N {
            let n_f = f32x4_sub(v[i], magic);
            r[i] =
                f32x4_sub(f32x4_sub(xc[i], f32x4_mul(n_f, f32x4_splat(LN2_HI))), f32x4_mul(n_f, f32x4_splat(LN2_LO)));
        }
        let mut p = r;
        for i in 0..N {
            p[i] = f32x4_add(f32x4_splat(E5), f32x4_mul(r[i], f32x4_splat(E6)));
        }
        macro_rules! horner {
            ($c:expr) => {
                for i in 0..N {
                    p[i] = f32x4_add(f32x4_splat($c), f32x4_mul(r[i], p[i]));
                }
            };
        }
        horner!(E4);
        horner!(E3);
        horner!(E2);
        horner!(1.0);
        horner!(1.0);
        for i in 0..N {
            p[i] = f32x4_mul(p[i], i32x4_shl(v[i], 23));
        }
        p
    }

    /// Four-lane [`exp2_nonpos`](super::exp2_nonpos); same operations, same results.
    #[inline(always)]
    pub fn exp2_nonpos_f32x4(t: v128) -> v128 {
        let t = f32x4_pmax(t, opaque(&CLAMP_EXP2_LO));
        let v = f32x4_add(t, f32x4_splat(ROUND_MAGIC_BIASED));
        let n_f = f32x4_sub(v, f32x4_splat(ROUND_MAGIC_BIASED));
        let f = f32x4_sub(t, n_f);
        let mut p = f32x4_add(f32x4_splat(P5), f32x4_mul(f, f32x4_splat(P6)));
        p = f32x4_add(f32x4_splat(P4), f32x4_mul(f, p));
        p = f32x4_add(f32x4_splat(P3), f32x4_mul(f, p));
        p = f32x4_add(f32x4_splat(P2), f32x4_mul(f, p));
        p = f32x4_add(f32x4_splat(P1), f32x4_mul(f, p));
        p = f32x4_add(f32x4_splat(1.0), f32x4_mul(f, p));
        f32x4_mul(p, i32x4_shl(v, 23))
    }

    /// [`exp2_nonpos_f32x4`] on four vectors at once, each step issued for all four:
    /// the polynomial is a long dependency chain, and interleaving four independent
    /// chains keeps the FP pipes busy. Same operations per lane, same results.
    #[inline(always)]
    pub fn exp2_nonpos_f32x4x4(t: [v128; 4]) -> [v128; 4] {
        let lo = opaque(&CLAMP_EXP2_LO);
        let magic = f32x4_splat(ROUND_MAGIC_BIASED);
        let t = [f32x4_pmax(t[0], lo), f32x4_pmax(t[1], lo), f32x4_pmax(t[2], lo), f32x4_pmax(t[3], lo)];
        let v = [f32x4_add(t[0], magic), f32x4_add(t[1], magic), f32x4_add(t[2], magic), f32x4_add(t[3], magic)];
        let f = [
            f32x4_sub(t[0], f32x4_sub(v[0], magic)),
            f32x4_sub(t[1], f32x4_sub(v[1], magic)),
            f32x4_sub(t[2], f32x4_sub(v[2], magic)),
            f32x4_sub(t[3], f32x4_sub(v[3], magic)),
        ];
        let c6 = f32x4_splat(P6);
        let mut p = [f32x4_mul(f[0], c6), f32x4_mul(f[1], c6), f32x4_mul(f[2], c6), f32x4_mul(f[3], c6)];
        macro_rules! horner {
            ($c:expr) => {{
                let c = f32x4_splat($c);
                p = [f32x4_add(c, p[0]), f32x4_add(c, p[1]), f32x4_add(c, p[2]), f32x4_add(c, p[3])];
            }};
        }
        macro_rules! times_f {
            () => {{
                p = [f32x4_mul(f[0], p[0]), f32x4_mul(f[1], p[1]), f32x4_mul(f[2], p[2]), f32x4_mul(f[3], p[3])];
            }};
        }
        horner!(P5);
        times_f!();
        horner!(P4);
        times_f!();
        horner!(P3);
        times_f!();
        horner!(P2);
        times_f!();
        horner!(P1);
        times_f!();
        horner!(1.0);
        [
            f32x4_mul(p[0], i32x4_shl(v[0], 23)),
            f32x4_mul(p[1], i32x4_shl(v[1], 23)),
            f32x4_mul(p[2], i32x4_shl(v[2], 23)),
            f32x4_mul(p[3], i32x4_shl(v[3], 23)),
        ]
    }
}
