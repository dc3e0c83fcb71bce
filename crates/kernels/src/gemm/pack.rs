//! Packing of GEMM operands into the panel layouts the microkernel streams.
//!
//! A is cut into slivers of MR rows stored depth-major (`[p][r]`), B into slivers
//! of NR columns stored depth-major (`[p][j]`). Ragged last slivers are padded with
//! zeros so the microkernel always runs on a full MR×NR tile.

use super::blocking::{MR, NR};
use crate::dtype::Elem;

/// Packs the `mc × kc` block of A whose element `(i, p)` is `a[i·lda + p]`.
/// `out` receives `ceil(mc/MR)` slivers of `kc·MR` values.
#[inline(never)]
pub fn pack_a(mc: usize, kc: usize, a: &[f32], lda: usize, out: &mut [f32]) {
    let slivers = (mc + MR - 1) / MR;
    assert!(out.len() >= slivers * kc * MR);
    for s in 0..slivers {
        let dst = &mut out[s * kc * MR..(s + 1) * kc * MR];
        for r in 0..MR {
            let i = s * MR + r;
            if i < mc {
                let row = &a[i * lda..i * lda + kc];
                for (p, &x) in row.iter().enumerate() {
                    dst[p * MR + r] = x;
                }
            } else {
                for p in 0..kc {
                    dst[p * MR + r] = 0.0;
                }
            }
        }
    }
}

/// Packs the `kc × nc` block of op(B): element `(p, j)` is `b[p·ldb + j]`, or
/// `b[j·ldb + p]` when `trans` (B stored `n × k`, e.g. the keys in Q·Kᵀ).
/// `out` receives `ceil(nc/NR)` slivers of `kc·NR` values. 16-bit elements are widened
/// to f32 here (exactly), so the microkernel only ever sees f32.
#[inline(never)]
pub fn pack_b<E: Elem>(kc: usize, nc: usize, b: &[E], ldb: usize, trans: bool, out: &mut [f32]) {
    let slivers = (nc + NR - 1) / NR;
    assert!(out.len() >= slivers * kc * NR);
    for s in 0..slivers {
        let j0 = s * NR;
        let w = NR.min(nc - j0);
        let dst = &mut out[s * kc * NR..(s + 1) * kc * NR];
        if trans {
            // Full slivers: 4×4 transposes in registers for all but the last kc % 4 depths.
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            let p0 = if w == NR && kc > 0 {
                assert!(b.len() >= (j0 + NR - 1) * ldb + kc);
                // SAFETY: rows j0..j0+NR hold kc elements at stride ldb (asserted); dst holds kc·NR.
                unsafe {
                    super::pack_simd128::pack_b_trans_sliver_simd128(kc, b[j0 * ldb..].as_ptr(), ldb, dst.as_mut_ptr())
                }
            } else {
                0
            };
            #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
            let p0 = 0;
            for j in 0..NR {
                if j < w {
                    let col = &b[(j0 + j) * ldb + p0..(j0 + j) * ldb + kc];
                    for (p, &x) in col.iter().enumerate() {
                        dst[(p0 + p) * NR + j] = x.to_f32();
                    }
                } else {
                    for p in 0..kc {
                        dst[p * NR + j] = 0.0;
                    }
                }
            }
        } else {
            for p in 0..kc {
                let d = &mut dst[p * NR..(p + 1) * NR];
                for (o, &x) in d[..w].iter_mut().zip(&b[p * ldb + j0..p * ldb + j0 + w]) {
                    *o = x.to_f32();
                }
                for x in &mut d[w..] {
                    *x = 0.0;
                }
            }
        }
    }
}
