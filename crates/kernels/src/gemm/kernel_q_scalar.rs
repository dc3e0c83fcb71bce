//! Portable 4×8 tile of the integer GEMM ([`super::quant`]): the SIMD128 kernel's
//! arithmetic in scalar code (exact int32 block sums, then `acc += isum · (d_x · d_w)`).

use super::blocking::{MR, NR};
use super::quant::SLIVER_BLOCK_BYTES;
use crate::format::QK;

/// `tile[r·NR + c] = Σ_blocks isum(r, c, blk) · (sa[r][blk] · sw[blk·NR + c])`.
///
/// # Safety
/// Each `a[r]` must hold `nb·32` int16 codes and `sa[r]` `nb` scales; `b` must hold `nb`
/// packed blocks ([`SLIVER_BLOCK_BYTES`] each) and `sw` `nb·NR` scales.
pub unsafe fn q_gemm_4x8_scalar(
    nb: usize, a: [*const i16; MR], sa: [*const f32; MR], b: *const i8, sw: *const f32, tile: &mut [f32; MR * NR],
) {
    let mut acc = [0f32; MR * NR];
    for blk in 0..nb {
        let bp = b.add(blk * SLIVER_BLOCK_BYTES);
        for r in 0..MR {
            let ar = a[r].add(blk * QK);
            let d = *sa[r].add(blk);
            for c in 0..NR {
                let mut isum = 0i32;
                for p in 0..QK {
                    isum += *ar.add(p) as i32 * *bp.add((p / 2) * 2 * NR + 2 * c + p % 2) as i32;
                }
                acc[r * NR + c] += isum as f32 * (d * *sw.add(blk * NR + c));
            }
        }
    }
    *tile = acc;
}
