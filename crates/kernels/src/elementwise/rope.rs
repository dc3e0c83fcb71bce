//! Rotary position embedding (RoPE, Su et al. 2021) in place over strided rows of heads.
//!
//! Row `r` holds `heads` head vectors of `head_dim` values side by side (`[.., L, H·D]`
//! projections, or one head per row of `[.., H, L, D]`); rows are `ld` apart. The first
//! `rot` values of every head are rotated pairwise, pair `i < rot/2` by the angle whose
//! cosine and sine are `cos[t·half + i]`, `sin[t·half + i]` with table row
//! `t = r mod table_rows` (the caller lays out one table row per position):
//! `a′ = a·cos − b·sin`, `b′ = b·cos + a·sin`. Pairs:
//! * [`RopeStyle::Half`] (rotate-half; GPT-NeoX, LLaMA in Hugging Face): `(x[i], x[i + half])`;
//! * [`RopeStyle::Interleaved`] (GPT-J, the paper): `(x[2i], x[2i + 1])`.
//!
//! Values past `rot` (partial rotary) are left as they are. SIMD: four pairs per step
//! (the interleaved style duplicates each cosine/sine into its pair's two lanes and
//! swaps the pair's partners with a shuffle); the scalar tail does the same arithmetic.

use super::span;

/// Which values of a head form the rotated pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    Half,
    Interleaved,
}

impl RopeStyle {
    /// The ABI code: 0 half, 1 interleaved.
    pub fn from_code(code: u32) -> Option<RopeStyle> {
        match code {
            0 => Some(RopeStyle::Half),
            1 => Some(RopeStyle::Interleaved),
            _ => None,
        }
    }
}

/// Sizes of a RoPE call.
#[derive(Clone, Copy, Debug)]
pub struct RopeShape {
    pub rows: usize,
    /// Row stride (≥ heads·head_dim when rows > 1).
    pub ld: usize,
    pub heads: usize,
    pub head_dim: usize,
    /// Rotated values per head, even, ≤ head_dim.
    pub rot: usize,
    /// Rows of the cos/sin tables; row `r` reads table row `r mod table_rows`.
    pub table_rows: usize,
}

/// Rotates `x` in place (see the module notes); `cos`, `sin` are `[table_rows, rot/2]`.
pub fn rope_rows(x: &mut [f32], s: &RopeShape, cos: &[f32], sin: &[f32], style: RopeStyle) {
    let width = s.heads * s.head_dim;
    let half = s.rot / 2;
    assert!(s.rot % 2 == 0 && s.rot <= s.head_dim, "rope_rows: rot must be even and ≤ head_dim");
    assert!(s.rows <= 1 || s.ld >= width, "rope_rows: ld < heads·head_dim");
    assert!(x.len() >= span(s.rows, width, s.ld), "rope_rows: x too short");
    if s.rows == 0 || half == 0 || s.heads == 0 {
        return;
    }
    assert!(
        s.table_rows > 0 && cos.len() >= s.table_rows * half && sin.len() >= s.table_rows * half,
        "rope_rows: cos/sin tables too short"
    );
    let p = x.as_mut_ptr();
    for r in 0..s.rows {
        let t = (r % s.table_rows) * half;
        let (c, sn) = (cos[t..t + half].as_ptr(), sin[t..t + half].as_ptr());
        for h in 0..s.heads {
            // SAFETY: head h of row r spans [r·ld + h·D, r·ld + (h+1)·D) ⊆ x (asserted);
            // its pairs lie in the first rot ≤ D values; c and sn hold `half` values.
            unsafe {
                let head = p.add(r * s.ld + h * s.head_dim);
                match style {
                    RopeStyle::Half => rotate_half(head, half, c, sn),
                    RopeStyle::Interleaved => rotate_interleaved(head, half, c, sn),
                }
            }
        }
    }
}

/// # Safety
/// `x` writable for `2·half`; `c`, `s` readable for `half`.
#[inline(always)]
unsafe fn rotate_half(x: *mut f32, half: usize, c: *const f32, s: *const f32) {
    let y = x.add(half);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::lanes::{ld, st};
        use core::arch::wasm32::*;
        let n4 = half / 4 * 4;
        while i < n4 {
            let (a, b, cv, sv) = (ld(x.add(i)), ld(y.add(i)), ld(c.add(i)), ld(s.add(i)));
            st(x.add(i), f32x4_sub(f32x4_mul(a, cv), f32x4_mul(b, sv)));
            st(y.add(i), f32x4_add(f32x4_mul(b, cv), f32x4_mul(a, sv)));
            i += 4;
        }
    }
    while i < half {
        let (a, b, cv, sv) = (*x.add(i), *y.add(i), *c.add(i), *s.add(i));
        *x.add(i) = a * cv - b * sv;
        *y.add(i) = b * cv + a * sv;
        i += 1;
    }
}

/// # Safety
/// As [`rotate_half`].
#[inline(always)]
unsafe fn rotate_interleaved(x: *mut f32, half: usize, c: *const f32, s: *const f32) {
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::lanes::{ld, st};
        use core::arch::wasm32::*;
        // Flips the sign of lanes 0 and 2 (each pair's first value gets −sin).
        let neg_even = i32x4(i32::MIN, 0, i32::MIN, 0);
        let n4 = half / 4 * 4;
        while i < n4 {
            let (cv, sv) = (ld(c.add(i)), ld(s.add(i)));
            let (x0, x1) = (ld(x.add(2 * i)), ld(x.add(2 * i + 4)));
            let c0 = i32x4_shuffle::<0, 0, 1, 1>(cv, cv);
            let c1 = i32x4_shuffle::<2, 2, 3, 3>(cv, cv);
            let s0 = v128_xor(i32x4_shuffle::<0, 0, 1, 1>(sv, sv), neg_even);
            let s1 = v128_xor(i32x4_shuffle::<2, 2, 3, 3>(sv, sv), neg_even);
            // Partners swapped: (b0, a0, b1, a1).
            let w0 = i32x4_shuffle::<1, 0, 3, 2>(x0, x0);
            let w1 = i32x4_shuffle::<1, 0, 3, 2>(x1, x1);
            // a′ = a·c + b·(−s) = a·c − b·s exactly; b′ = b·c + a·s.
            st(x.add(2 * i), f32x4_add(f32x4_mul(x0, c0), f32x4_mul(w0, s0)));
            st(x.add(2 * i + 4), f32x4_add(f32x4_mul(x1, c1), f32x4_mul(w1, s1)));
            i += 4;
        }
    }
    while i < half {
        let (a, b, cv, sv) = (*x.add(2 * i), *x.add(2 * i + 1), *c.add(i), *s.add(i));
        *x.add(2 * i) = a * cv - b * sv;
        *x.add(2 * i + 1) = b * cv + a * sv;
        i += 1;
    }
}
