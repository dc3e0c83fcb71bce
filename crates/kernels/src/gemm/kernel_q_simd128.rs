//! 4×8 tile of the integer GEMM ([`super::quant`]) on SIMD128.
//!
//! Per depth pair: the sliver's 16 packed codes (8 rows × 2) are two sign-extending
//! loads (`i16x8.load8x8_s`, four rows' pairs each); each of the 4 activation rows'
//! pair is one 32-bit splat; `i32x4.dot_i16x8_s` multiplies and adds a pair per lane.
//! 8 int32 accumulators + 2 codes + 1 splat stay in registers through a block's 16
//! pairs; the 8 float32 accumulators take the block's sums scaled by `d_x · d_w`
//! after each block (V8 may keep them in memory across the block: 16 loads and stores
//! per 16 pair steps).

use core::arch::wasm32::*;

use super::blocking::{MR, NR};
use super::quant::SLIVER_BLOCK_BYTES;
use crate::format::QK;

// Checked at compile time; clippy 1.63 takes a constant assert for a runtime one.
#[allow(clippy::assertions_on_constants)]
const _: () = assert!(MR == 4 && NR == 8, "the SIMD128 integer kernel is written for 4×8 tiles");

/// `tile[r·NR + c] = Σ_blocks isum(r, c, blk) · (sa[r][blk] · sw[blk·NR + c])`.
///
/// # Safety
/// Each `a[r]` must hold `nb·32` int16 codes and `sa[r]` `nb` scales; `b` must hold `nb`
/// packed blocks ([`SLIVER_BLOCK_BYTES`] each) and `sw` `nb·NR` scales.
#[inline(never)]
pub unsafe fn q_gemm_4x8_simd128(
    nb: usize, a: [*const i16; MR], sa: [*const f32; MR], b: *const i8, sw: *const f32, tile: &mut [f32; MR * NR],
) {
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    for blk in 0..nb {
        let bp = b.add(blk * SLIVER_BLOCK_BYTES);
        let mut isum = [[i32x4_splat(0); 2]; MR];
        for p2 in 0..QK / 2 {
            let b0 = i16x8_load_extend_i8x8(bp.add(p2 * 2 * NR));
            let b1 = i16x8_load_extend_i8x8(bp.add(p2 * 2 * NR + 8));
            for r in 0..MR {
                let av = v128_load32_splat(a[r].add(blk * QK + 2 * p2) as *const u32);
                isum[r][0] = i32x4_add(isum[r][0], i32x4_dot_i16x8(b0, av));
                isum[r][1] = i32x4_add(isum[r][1], i32x4_dot_i16x8(b1, av));
            }
        }
        let sw0 = v128_load(sw.add(blk * NR) as *const v128);
        let sw1 = v128_load(sw.add(blk * NR + 4) as *const v128);
        for r in 0..MR {
            let d = f32x4_splat(*sa[r].add(blk));
            acc[r][0] = f32x4_add(acc[r][0], f32x4_mul(f32x4_convert_i32x4(isum[r][0]), f32x4_mul(d, sw0)));
            acc[r][1] = f32x4_add(acc[r][1], f32x4_mul(f32x4_convert_i32x4(isum[r][1]), f32x4_mul(d, sw1)));
        }
    }
    for (r, row) in acc.iter().enumerate() {
        v128_store(tile.as_mut_ptr().add(r * NR) as *mut v128, row[0]);
        v128_store(tile.as_mut_ptr().add(r * NR + 4) as *mut v128, row[1]);
    }
}
