//! Portable 4×8 tile of the integer GEMM ([`super::quant`]): the SIMD128 kernel's
//! arithmetic in scalar code (exact int32 block sums, then `acc += isum · (d_x · d_w)`).

use super::blocking::{MR, NR};
use super::quant::{A_BLOCK_BYTES, SLIVER_BLOCK_BYTES};
use crate::format::QK;

/// `out[r·ldo + c] = Σ_blocks isum(r, c, blk) · (d_x[r][blk] · sw[blk·NR + c]) (+ bias[c])`.
///
/// # Safety
/// `a` must hold `nb` packed activation blocks ([`A_BLOCK_BYTES`] each,
/// [`super::quant::pack_a_q`]'s layout); `b` `nb` packed weight blocks
/// ([`SLIVER_BLOCK_BYTES`] each) and `sw` `nb·NR` scales; `out` MR rows of NR writable
/// floats, `ldo` floats apart; `bias` null or NR readable floats.
pub unsafe fn q_gemm_4x8_scalar(
    nb: usize, a: *const u8, b: *const i8, sw: *const f32, out: *mut f32, ldo: usize, bias: *const f32,
) {
    let mut acc = [0f32; MR * NR];
    for blk in 0..nb {
        let bp = b.add(blk * SLIVER_BLOCK_BYTES);
        let ap = a.add(blk * A_BLOCK_BYTES);
        for r in 0..MR {
            let code = |p: usize| (ap.add(((p / 2) * MR + r) * 4 + (p % 2) * 2) as *const i16).read_unaligned();
            let d = (ap.add(QK * MR * 2 + r * 4) as *const f32).read_unaligned();
            for c in 0..NR {
                let mut isum = 0i32;
                for p in 0..QK {
                    isum += code(p) as i32 * *bp.add((p / 2) * 2 * NR + 2 * c + p % 2) as i32;
                }
                acc[r * NR + c] += isum as f32 * (d * *sw.add(blk * NR + c));
            }
        }
    }
    for r in 0..MR {
        for c in 0..NR {
            let v = acc[r * NR + c];
            *out.add(r * ldo + c) = if bias.is_null() { v } else { v + *bias.add(c) };
        }
    }
}
