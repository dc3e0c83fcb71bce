//! Element-wise work of a transformer block, in place over f32 rows.
//!
//! * [`activation`]: ReLU, erf-GELU, tanh-GELU and SiLU, each optionally after a bias
//!   add (a linear layer's epilogue in one pass), and gated pairs `act(gate) ⊙ up`
//!   (SwiGLU, GeGLU) written into the gate buffer;
//! * [`add`]: `a + b` with `b` repeated every row (bias, residual);
//! * [`norm`]: LayerNorm and RMSNorm over the last axis, optionally after a fused
//!   residual add;
//! * [`rope`]: rotary position embedding (rotate-half and interleaved pairs, partial
//!   rotary) over strided rows of heads.
//!
//! Rows are addressed as `rows × cols` with a row stride `ld ≥ cols`, so a kernel can
//! work on a column block of a wider buffer. Every kernel has a SIMD128 variant
//! (`target_feature = "simd128"`) and a scalar one, tested by the same tests; where the
//! SIMD variant works on groups of four, its tail uses the scalar function, which
//! performs the same f32 operations in the same order.

pub mod activation;
pub mod add;
pub mod norm;
pub mod rope;

/// Floats spanned by `rows` rows of `cols` values `ld` apart (0 when empty).
#[inline]
pub(crate) fn span(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * ld + cols
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod lanes {
    use core::arch::wasm32::{v128, v128_load, v128_store};

    /// # Safety
    /// `p` readable for four f32 (unaligned access is allowed in wasm).
    #[inline(always)]
    pub unsafe fn ld(p: *const f32) -> v128 {
        v128_load(p as *const v128)
    }

    /// # Safety
    /// `p` writable for four f32.
    #[inline(always)]
    pub unsafe fn st(p: *mut f32, v: v128) {
        v128_store(p as *mut v128, v)
    }
}
