//! Storage dtypes: float32, float16 (IEEE binary16), bfloat16 and int8.
//!
//! Arithmetic and accumulation always happen in f32; a 16-bit or 8-bit dtype only
//! says how elements are *stored*. Kernels widen elements as they load them
//! ([`load_f16x4`], [`load_bf16x4`], [`Elem::load4`]) and narrow only when storing.
//!
//! Conversions are exact where the value is representable: widening is exact for
//! every input (subnormals, ±0, ±inf, NaN payloads kept); narrowing f32 → 16-bit
//! rounds to nearest, ties to even, overflows to ±inf, keeps the sign of zero and
//! maps NaN to a quiet NaN of the same sign (with the top payload bits).

/// The element type of a stored tensor or cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F16,
    BF16,
    /// Symmetric int8 with an f32 scale per row (see [`quantize_i8`]); caches only.
    I8,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::I8 => 1,
        }
    }

    /// The ABI code (`ts/dtype.ts` uses the same numbers): 0 f32, 1 f16, 2 bf16, 3 i8.
    pub fn from_code(code: u32) -> Option<DType> {
        match code {
            0 => Some(DType::F32),
            1 => Some(DType::F16),
            2 => Some(DType::BF16),
            3 => Some(DType::I8),
            _ => None,
        }
    }

    pub fn code(self) -> u32 {
        match self {
            DType::F32 => 0,
            DType::F16 => 1,
            DType::BF16 => 2,
            DType::I8 => 3,
        }
    }
}

/// binary16 bits → f32 (exact).
///
/// `(h & 0x7fff) << 13` puts the 5-bit exponent and 10-bit mantissa at the top of an
/// f32's exponent/mantissa fields; that f32 is `value · 2^-112` for every finite `h`
/// (subnormal halves become f32 subnormals, which WebAssembly never flushes), so one
/// multiplication by 2^112 rescales it exactly. Inf/NaN get the f32 all-ones exponent.
#[inline]
pub fn f16_to_f32(h: u16) -> f32 {
    let h = h as u32;
    let em = h & 0x7fff;
    let mut bits = (f32::from_bits(em << 13) * F16_RESCALE).to_bits();
    if em >= 0x7c00 {
        bits |= 0x7f80_0000;
    }
    f32::from_bits(bits | ((h & 0x8000) << 16))
}

/// 2^112: the exponent bias difference between f32 (127) and binary16 (15).
const F16_RESCALE: f32 = 5.192_297e33;

/// f32 → binary16 bits, round to nearest even.
#[inline]
pub fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let a = b & 0x7fff_ffff;
    if a > 0x7f80_0000 {
        // NaN: quiet, top payload bits kept.
        return sign | 0x7e00 | ((a >> 13) & 0x3ff) as u16;
    }
    if a >= 0x4780_0000 {
        // |x| ≥ 65536 (every such value rounds past 65504): ±inf.
        return sign | 0x7c00;
    }
    if a < 0x3880_0000 {
        // |x| < 2^-14: a binary16 subnormal or zero. Adding 0.5 (exponent 126) aligns
        // the mantissa so that the f32 adder's own round-to-nearest-even drops exactly
        // the bits below 2^-24; the low bits are then the subnormal's mantissa.
        let magic = f32::from_bits(126 << 23);
        let r = (f32::from_bits(a) + magic).to_bits() - (126 << 23);
        return sign | r as u16;
    }
    // Normal: rebias the exponent, add half an ulp (minus one unless the kept lsb is
    // odd, which makes ties go to even); a mantissa carry bumps the exponent, and past
    // 65504 it reaches the infinity pattern 0x7c00 as it should.
    let odd = (a >> 13) & 1;
    let r = a.wrapping_sub((127 - 15) << 23) + 0xfff + odd;
    sign | (r >> 13) as u16
}

/// bfloat16 bits → f32 (exact: bfloat16 is the top half of an f32).
#[inline]
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// f32 → bfloat16 bits, round to nearest even (overflow to ±inf; NaN stays a quiet NaN).
#[inline]
pub fn f32_to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if b & 0x7fff_ffff > 0x7f80_0000 {
        return ((b >> 16) | 0x0040) as u16;
    }
    let odd = (b >> 16) & 1;
    ((b + 0x7fff + odd) >> 16) as u16
}

/// Widens `src` (elements of `from`, as little-endian bytes) into `dst`.
/// `from` must be F32, F16 or BF16; `src.len() == dst.len() · from.size()`.
pub fn widen(from: DType, src: &[u8], dst: &mut [f32]) {
    assert!(src.len() == dst.len() * from.size(), "dtype::widen: lengths differ");
    match from {
        DType::F32 => {
            for (d, c) in dst.iter_mut().zip(src.chunks_exact(4)) {
                *d = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        DType::F16 | DType::BF16 => {
            #[allow(unused_mut)]
            let mut i = 0;
            // SAFETY: i + 4 ≤ dst.len(), so src holds 8 readable bytes at 2·i; stores are in dst.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            unsafe {
                use core::arch::wasm32::v128_store;
                while i + 4 <= dst.len() {
                    let p = src.as_ptr().add(2 * i) as *const u16;
                    let v = if from == DType::F16 { load_f16x4(p) } else { load_bf16x4(p) };
                    v128_store(dst.as_mut_ptr().add(i) as *mut core::arch::wasm32::v128, v);
                    i += 4;
                }
            }
            for (d, c) in dst[i..].iter_mut().zip(src[2 * i..].chunks_exact(2)) {
                let h = u16::from_le_bytes([c[0], c[1]]);
                *d = if from == DType::F16 { f16_to_f32(h) } else { bf16_to_f32(h) };
            }
        }
        DType::I8 => panic!("dtype::widen: int8 needs a scale (see dequantize_i8)"),
    }
}

/// Narrows `src` into `dst` (elements of `to`, as little-endian bytes), round to nearest even.
pub fn narrow(to: DType, src: &[f32], dst: &mut [u8]) {
    assert!(dst.len() == src.len() * to.size(), "dtype::narrow: lengths differ");
    match to {
        DType::F32 => {
            for (&s, c) in src.iter().zip(dst.chunks_exact_mut(4)) {
                c.copy_from_slice(&s.to_le_bytes());
            }
        }
        DType::F16 => {
            for (&s, c) in src.iter().zip(dst.chunks_exact_mut(2)) {
                c.copy_from_slice(&f32_to_f16(s).to_le_bytes());
            }
        }
        DType::BF16 => {
            for (&s, c) in src.iter().zip(dst.chunks_exact_mut(2)) {
                c.copy_from_slice(&f32_to_bf16(s).to_le_bytes());
            }
        }
        DType::I8 => panic!("dtype::narrow: int8 needs a scale (see quantize_i8)"),
    }
}

/// Whether every value is finite (no ±inf, no NaN).
pub fn all_finite(x: &[f32]) -> bool {
    x.iter().all(|v| v.is_finite())
}

/// Symmetric int8 quantisation of one row: `scale = max|x| / 127`, `q = round(x / scale)`
/// (ties away from zero, clamped to ±127). Returns `scale` (0 for an all-zero row, whose
/// codes are 0). A row with a non-finite value gets scale NaN so that it poisons what
/// reads it, as the same value would in float32.
pub fn quantize_i8(src: &[f32], dst: &mut [i8]) -> f32 {
    assert!(src.len() == dst.len(), "dtype::quantize_i8: lengths differ");
    let mut amax = 0.0f32;
    let mut finite = true;
    for &x in src {
        finite &= x.is_finite();
        amax = amax.max(x.abs());
    }
    if !finite {
        dst.iter_mut().for_each(|q| *q = 0);
        return f32::NAN;
    }
    if amax == 0.0 {
        dst.iter_mut().for_each(|q| *q = 0);
        return 0.0;
    }
    let scale = amax / 127.0;
    let inv = 127.0 / amax;
    for (q, &x) in dst.iter_mut().zip(src) {
        *q = (x * inv).round().max(-127.0).min(127.0) as i8;
    }
    scale
}

/// `dst[i] = scale · src[i]`.
pub fn dequantize_i8(src: &[i8], scale: f32, dst: &mut [f32]) {
    assert!(src.len() == dst.len(), "dtype::dequantize_i8: lengths differ");
    for (d, &q) in dst.iter_mut().zip(src) {
        *d = q as f32 * scale;
    }
}

/// A stored element type a kernel can load four at a time as f32 lanes.
///
/// Implemented by `f32`, [`F16`], [`BF16`] and `i8` (int8 lanes come out as the integer
/// codes; the caller multiplies by the row's scale once per dot product or row).
pub trait Elem: Copy + 'static {
    const DTYPE: DType;
    /// One element as f32.
    fn to_f32(self) -> f32;
    /// Elements `p[0..4]` as an f32x4.
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe fn load4(p: *const Self) -> core::arch::wasm32::v128;
    /// Whether [`Elem::load16`] is cheaper than four [`Elem::load4`] (int8: one load
    /// and shared widening steps for 16 elements).
    const WIDE: bool = false;
    /// Elements `p[0..16]` as four f32x4.
    ///
    /// # Safety
    /// `p..p+16` must be readable.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load16(p: *const Self) -> [core::arch::wasm32::v128; 4] {
        [Self::load4(p), Self::load4(p.add(4)), Self::load4(p.add(8)), Self::load4(p.add(12))]
    }

    /// Whether the decode kernel reads this type in place with its own register tiles.
    /// `false` (float16 that may hold inf/NaN; int8, whose kernels are integer) makes it
    /// widen a chunk of rows into f32 scratch and run the f32 tiles: one instantiation of
    /// the tiles fewer in the binary, for paths that are rare (inf/NaN data) or fallbacks.
    const TILES: bool = true;
    /// Raw lanes are the values times `1 / RAW_SCALE` (a power of two): a type whose
    /// widening ends in a multiply by a constant ([`F16Finite`]) can leave it out and
    /// let the caller fold `RAW_SCALE` into its other operand (`(a·2^k)·(x·2^-k)` is
    /// `a·x`, exactly, while neither factor overflows). 1 for every other type.
    const RAW_SCALE: f32 = 1.0;
    /// One element as a raw lane (`to_f32() / RAW_SCALE`, exact).
    #[inline(always)]
    fn to_f32_raw(self) -> f32 {
        self.to_f32()
    }
    /// [`Elem::load4`] as raw lanes.
    ///
    /// # Safety
    /// As [`Elem::load4`].
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4_raw(p: *const Self) -> core::arch::wasm32::v128 {
        Self::load4(p)
    }
    /// [`Elem::load16`] as raw lanes.
    ///
    /// # Safety
    /// As [`Elem::load16`].
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load16_raw(p: *const Self) -> [core::arch::wasm32::v128; 4] {
        Self::load16(p)
    }
}

/// A binary16 element (its bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct F16(pub u16);

/// A binary16 element of data known to hold no infinity or NaN (a KV cache checks
/// each row as it stores it): the same values as [`F16`], widened with three integer
/// operations and one multiply per four instead of eight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct F16Finite(pub u16);

/// A bfloat16 element (its bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct BF16(pub u16);

impl Elem for f32 {
    const DTYPE: DType = DType::F32;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4(p: *const f32) -> core::arch::wasm32::v128 {
        core::arch::wasm32::v128_load(p as *const core::arch::wasm32::v128)
    }
}

impl Elem for F16 {
    const DTYPE: DType = DType::F16;
    const TILES: bool = false;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_to_f32(self.0)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4(p: *const F16) -> core::arch::wasm32::v128 {
        simd::load_f16x4(p as *const u16)
    }
}

impl Elem for F16Finite {
    const DTYPE: DType = DType::F16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_to_f32(self.0)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4(p: *const F16Finite) -> core::arch::wasm32::v128 {
        simd::load_f16x4_finite(p as *const u16)
    }
    const RAW_SCALE: f32 = F16_RESCALE;
    #[inline(always)]
    fn to_f32_raw(self) -> f32 {
        f16_to_f32(self.0) * (1.0 / F16_RESCALE)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4_raw(p: *const F16Finite) -> core::arch::wasm32::v128 {
        simd::load_f16x4_finite_raw(p as *const u16)
    }
}

impl Elem for BF16 {
    const DTYPE: DType = DType::BF16;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16_to_f32(self.0)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4(p: *const BF16) -> core::arch::wasm32::v128 {
        simd::load_bf16x4(p as *const u16)
    }
}

impl Elem for i8 {
    const DTYPE: DType = DType::I8;
    const TILES: bool = false;
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load4(p: *const i8) -> core::arch::wasm32::v128 {
        simd::load_i8x4(p)
    }
    const WIDE: bool = true;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[inline(always)]
    unsafe fn load16(p: *const i8) -> [core::arch::wasm32::v128; 4] {
        simd::load_i8x16(p)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::{f16x4_to_f32x4, load_bf16x4, load_f16x4, load_f16x4_finite, load_i8x16, load_i8x4};

/// SIMD128 widening loads (no f16 instructions in base SIMD128: integer ops plus one
/// multiply, the same algorithm as [`f16_to_f32`]).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    /// Four binary16 values, zero-extended to u32 lanes, → f32x4 (exact).
    #[inline(always)]
    pub fn f16x4_to_f32x4(h: v128) -> v128 {
        let em = v128_and(h, u32x4_splat(0x7fff));
        let f = f32x4_mul(i32x4_shl(em, 13), f32x4_splat(super::F16_RESCALE));
        let infnan = v128_and(u32x4_ge(em, u32x4_splat(0x7c00)), u32x4_splat(0x7f80_0000));
        let sign = i32x4_shl(v128_and(h, u32x4_splat(0x8000)), 16);
        v128_or(v128_or(f, infnan), sign)
    }

    /// `p[0..4]` binary16 → f32x4.
    ///
    /// # Safety
    /// `p..p+4` must be readable (8 bytes, any alignment).
    #[inline(always)]
    pub unsafe fn load_f16x4(p: *const u16) -> v128 {
        f16x4_to_f32x4(u32x4_load_extend_u16x4(p))
    }

    /// `p[0..4]` bfloat16 → f32x4 (a shift).
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    #[inline(always)]
    pub unsafe fn load_bf16x4(p: *const u16) -> v128 {
        i32x4_shl(u32x4_load_extend_u16x4(p), 16)
    }

    /// `p[0..4]` int8 → f32x4 of the codes.
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    #[inline(always)]
    pub unsafe fn load_i8x4(p: *const i8) -> v128 {
        let w = i16x8_extend_low_i8x16(v128_load32_zero(p as *const u32));
        i32_to_f32_small(i32x4_extend_low_i16x8(w))
    }

    /// Exact i32 → f32 for |x| < 2^22 by the magic-number trick: the integer added to
    /// the bits of 1.5·2^23 lands in its mantissa, and subtracting 1.5·2^23 leaves x.
    /// (Written this way because LLVM 14 fuses sign extension with `f32x4.convert` into
    /// an i8 → f32 conversion that it then scalarises lane by lane.)
    #[inline(always)]
    fn i32_to_f32_small(x: v128) -> v128 {
        const MAGIC: f32 = 12_582_912.0; // 1.5·2^23
        f32x4_sub(i32x4_add(x, f32x4_splat(MAGIC)), f32x4_splat(MAGIC))
    }

    /// `p[0..16]` int8 → four f32x4 of the codes (one load, shared widening steps).
    ///
    /// # Safety
    /// `p..p+16` must be readable.
    #[inline(always)]
    pub unsafe fn load_i8x16(p: *const i8) -> [v128; 4] {
        let b = v128_load(p as *const v128);
        let (lo, hi) = (i16x8_extend_low_i8x16(b), i16x8_extend_high_i8x16(b));
        [
            i32_to_f32_small(i32x4_extend_low_i16x8(lo)),
            i32_to_f32_small(i32x4_extend_high_i16x8(lo)),
            i32_to_f32_small(i32x4_extend_low_i16x8(hi)),
            i32_to_f32_small(i32x4_extend_high_i16x8(hi)),
        ]
    }

    /// `p[0..4]` finite binary16 → f32x4 (exact for every finite value, subnormals too).
    /// Sign-extending the halves and shifting left by 13 leaves the sign at bit 31
    /// (and copies at 30..28, masked off) above `exponent|mantissa << 13`; that f32 is
    /// `value · 2^-112`, so one multiply by 2^112 rescales it, sign included.
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    #[inline(always)]
    pub unsafe fn load_f16x4_finite(p: *const u16) -> v128 {
        f32x4_mul(load_f16x4_finite_raw(p), f32x4_splat(super::F16_RESCALE))
    }

    /// [`load_f16x4_finite`] before its rescale: the values times 2^-112 (exact).
    ///
    /// # Safety
    /// `p..p+4` must be readable.
    #[inline(always)]
    pub unsafe fn load_f16x4_finite_raw(p: *const u16) -> v128 {
        let x = i32x4_shl(i32x4_load_extend_i16x4(p as *const i16), 13);
        v128_and(x, u32x4_splat(0x8fff_e000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference binary16 → f64 straight from the definition.
    fn f16_ref(h: u16) -> f64 {
        let s = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let e = ((h >> 10) & 0x1f) as i32;
        let m = (h & 0x3ff) as f64;
        match e {
            0 => s * m * 2f64.powi(-24),
            31 if m == 0.0 => s * f64::INFINITY,
            31 => f64::NAN,
            _ => s * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
        }
    }

    #[test]
    fn f16_widening_is_exact_for_every_pattern() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            let r = f16_ref(h);
            if r.is_nan() {
                assert!(x.is_nan(), "{:#06x}", h);
                // The payload and sign survive.
                assert_eq!(x.to_bits() >> 31, (h >> 15) as u32);
                assert_eq!((x.to_bits() >> 13) & 0x3ff, (h & 0x3ff) as u32);
            } else {
                assert_eq!(x as f64, r, "{:#06x}", h);
                assert_eq!(x.is_sign_negative(), h & 0x8000 != 0, "{:#06x}", h);
            }
        }
    }

    /// Round-to-nearest-even against an exhaustive search over all finite halves
    /// (f64 arithmetic, independent of the bit tricks), on a sweep of f32 inputs.
    #[test]
    fn f16_narrowing_rounds_to_nearest_even() {
        let finite: Vec<(u16, f64)> = (0..0x7c00u16).map(|h| (h, f16_ref(h))).collect();
        let reference = |x: f32| -> u16 {
            let a = (x as f64).abs();
            let sign = if x.is_sign_negative() { 0x8000 } else { 0 };
            // Halfway between 65504 and the next (virtual) step 65536 rounds to inf.
            if a >= 65520.0 {
                return sign | 0x7c00;
            }
            let i = finite.partition_point(|&(_, v)| v < a);
            let best = if i == finite.len() {
                finite[i - 1].0
            } else if i == 0 {
                finite[0].0
            } else {
                let (lo, hi) = (finite[i - 1], finite[i]);
                let (dl, dh) = (a - lo.1, hi.1 - a);
                if dl < dh || (dl == dh && lo.0 & 1 == 0) {
                    lo.0
                } else {
                    hi.0
                }
            };
            sign | best
        };
        let mut bits: u32 = 0;
        // Every 4099th f32 pattern plus all values near binary16 boundaries.
        let mut xs: Vec<f32> = Vec::new();
        while bits < 0x7f80_0000 {
            xs.push(f32::from_bits(bits));
            bits += 4099;
        }
        for h in 0..0x7c00u16 {
            let v = f16_ref(h) as f32;
            for d in [-2i32, -1, 0, 1, 2] {
                xs.push(f32::from_bits((v.to_bits() as i32 + d).max(0) as u32));
            }
            // Exact midpoints to the next half.
            let mid = ((f16_ref(h) + f16_ref(h + 1)) / 2.0) as f32;
            xs.push(mid);
        }
        xs.extend([65504.0, 65519.996, 65520.0, 65536.0, 1e30, f32::MAX, f32::INFINITY]);
        for &x in &xs {
            for x in [x, -x] {
                assert_eq!(f32_to_f16(x), reference(x), "x = {:e} ({:#010x})", x, x.to_bits());
            }
        }
        assert_eq!(f32_to_f16(-0.0), 0x8000);
        let n = f32_to_f16(f32::NAN);
        assert!(n & 0x7c00 == 0x7c00 && n & 0x3ff != 0);
        assert_eq!(f32_to_f16(f32::from_bits(0xff80_0001)) & 0x8000, 0x8000);
        // Round trip of every half.
        for h in 0..=u16::MAX {
            if f16_ref(h).is_nan() {
                continue;
            }
            assert_eq!(f32_to_f16(f16_to_f32(h)), h);
        }
    }

    #[test]
    fn bf16_round_to_nearest_even() {
        for h in 0..=u16::MAX {
            let x = bf16_to_f32(h);
            if x.is_nan() {
                assert!(bf16_to_f32(f32_to_bf16(x)).is_nan());
            } else {
                assert_eq!(f32_to_bf16(x), h);
            }
        }
        // Ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 → even (1.0).
        assert_eq!(f32_to_bf16(1.0 + 2f32.powi(-8)), 0x3f80);
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 → 1 + 2^-6.
        assert_eq!(f32_to_bf16(1.0 + 3.0 * 2f32.powi(-8)), 0x3f82);
        assert_eq!(f32_to_bf16(f32::from_bits(0x3f80_8001)), 0x3f81);
        assert_eq!(f32_to_bf16(f32::MAX), 0x7f80);
        assert_eq!(f32_to_bf16(-f32::MAX), 0xff80);
        assert_eq!(f32_to_bf16(f32::from_bits(0x0000_0001)), 0x0000); // tiny subnormal → +0
        assert_eq!(f32_to_bf16(-0.0), 0x8000);
        let n = f32_to_bf16(f32::from_bits(0x7f80_0001));
        assert!(bf16_to_f32(n).is_nan());
        // General values: nearest of the two neighbours (f64 reference).
        let mut bits = 0u32;
        while bits < 0x7f7f_0000 {
            let x = f32::from_bits(bits);
            let h = f32_to_bf16(x);
            let lo = bf16_to_f32((bits >> 16) as u16) as f64;
            let hi = bf16_to_f32(((bits >> 16) + 1) as u16) as f64;
            let (dl, dh) = (x as f64 - lo, hi - x as f64);
            let want = if dl < dh || (dl == dh && (bits >> 16) & 1 == 0) { bits >> 16 } else { (bits >> 16) + 1 };
            assert_eq!(h as u32, want, "{:#010x}", bits);
            bits += 7919;
        }
    }

    #[test]
    fn widen_and_narrow_buffers() {
        let xs = [0.0f32, -1.5, 3.140625, 65504.0, -1e-7, 1e6];
        for dt in [DType::F32, DType::F16, DType::BF16] {
            let mut bytes = vec![0u8; xs.len() * dt.size()];
            narrow(dt, &xs, &mut bytes);
            let mut back = vec![0f32; xs.len()];
            widen(dt, &bytes, &mut back);
            for (&x, &y) in xs.iter().zip(&back) {
                let want = match dt {
                    DType::F32 => x,
                    DType::F16 => f16_to_f32(f32_to_f16(x)),
                    _ => bf16_to_f32(f32_to_bf16(x)),
                };
                assert_eq!(y.to_bits(), want.to_bits());
            }
        }
    }

    #[test]
    fn int8_rows_quantise_within_half_a_step() {
        let xs: Vec<f32> = (0..64).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
        let mut q = vec![0i8; xs.len()];
        let s = quantize_i8(&xs, &mut q);
        let amax = xs.iter().fold(0f32, |a, &x| a.max(x.abs()));
        assert_eq!(s, amax / 127.0);
        let mut back = vec![0f32; xs.len()];
        dequantize_i8(&q, s, &mut back);
        for (&x, &y) in xs.iter().zip(&back) {
            assert!((x - y).abs() <= s * 0.5 * (1.0 + 1e-5), "{} vs {}", x, y);
        }
        assert!(q.iter().any(|&c| c == 127 || c == -127));
        assert_eq!(quantize_i8(&[0.0; 4], &mut [1i8; 4]), 0.0);
        assert!(quantize_i8(&[1.0, f32::NAN], &mut [0i8; 2]).is_nan());
    }
}
