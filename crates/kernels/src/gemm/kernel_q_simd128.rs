//! 4×8 tile of the integer GEMM ([`super::quant`]) on SIMD128.
//!
//! Per depth pair: the sliver's 16 packed codes (8 rows × 2) are two sign-extending
//! loads (`i16x8.load8x8_s`, four rows' pairs each); each of the 4 activation rows'
//! pair is one 32-bit splat; `i32x4.dot_i16x8_s` multiplies and adds a pair per lane.
//! 8 int32 accumulators + 2 codes + 1 splat stay in registers through a block's 16
//! pairs; the float32 tile takes the block's sums scaled by `d_x · d_w` after each block.
//! The loop is in WebAssembly text (`kernel_q_4x8_simd128.wat`, which says why).

use super::blocking::{MR, NR};

// Checked at compile time; clippy 1.63 takes a constant assert for a runtime one.
#[allow(clippy::assertions_on_constants)]
const _: () = assert!(MR == 4 && NR == 8, "the SIMD128 integer kernel is written for 4×8 tiles");

/// `out[r·ldo + c] = Σ_blocks isum(r, c, blk) · (d_x[r][blk] · sw[blk·NR + c]) (+ bias[c])`.
///
/// # Safety
/// `a` must hold `nb` packed activation blocks ([`super::quant::A_BLOCK_BYTES`] each,
/// [`super::quant::pack_a_q`]'s layout); `b` `nb` packed weight blocks
/// ([`super::quant::SLIVER_BLOCK_BYTES`] each) and `sw` `nb·NR` scales; `out` MR rows of
/// NR writable floats, `ldo` floats apart; `bias` null or NR readable floats.
#[inline(always)]
pub unsafe fn q_gemm_4x8_simd128(
    nb: usize, a: *const u8, b: *const i8, sw: *const f32, out: *mut f32, ldo: usize, bias: *const f32,
) {
    crate::wat_simd128::gemm_q_4x8(nb, a, b, sw, out, ldo * 4, bias);
}
