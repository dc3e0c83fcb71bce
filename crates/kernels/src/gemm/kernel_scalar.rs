//! 4×8 f32 microkernel in scalar code: the same contract as the SIMD128 kernel.
//!
//! The depth loop updates the tile as two 4×4 halves so each half's 16 accumulators
//! plus its operands fit the register file of a scalar wasm engine.

use super::blocking::{MR, NR};

// Checked at compile time; clippy 1.63 takes a constant assert for a runtime one.
#[allow(clippy::assertions_on_constants)]
const _: () = assert!(MR == 4 && NR == 8, "the scalar kernel is written for 4×8 tiles");

/// `tiles` consecutive 4×8 tiles (tile `t` at `a + t·a_step`, `b + t·b_step`,
/// `c + t·c_step`), each `C[0..4, 0..8] ← α·(A·B) + β·C` over depth `k`; operand layout as in the SIMD kernel:
/// `a[p·csa + r]`, `b[p·rsb + j]`, `c[r·rsc + j]`. With `β = 0` C is only written.
///
/// # Safety
/// The pointers must be valid for the reads/writes described above.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn f32_gemm_4x8_scalar(
    tiles: usize, k: usize, a: *const f32, a_step: usize, csa: usize, b: *const f32, b_step: usize, rsb: usize,
    c: *mut f32, c_step: usize, rsc: usize, alpha: f32, beta: f32,
) {
    for t in 0..tiles {
        tile(k, a.add(t * a_step), csa, b.add(t * b_step), rsb, c.add(t * c_step), rsc, alpha, beta);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile(
    k: usize, a: *const f32, csa: usize, b: *const f32, rsb: usize, c: *mut f32, rsc: usize, alpha: f32, beta: f32,
) {
    for half in 0..2 {
        let mut acc = [[0.0f32; 4]; MR];
        let mut ap = a;
        let mut bp = b.add(half * 4);
        for _ in 0..k {
            let bv = [*bp, *bp.add(1), *bp.add(2), *bp.add(3)];
            for (r, row) in acc.iter_mut().enumerate() {
                let x = *ap.add(r);
                for (o, &y) in row.iter_mut().zip(bv.iter()) {
                    *o += x * y;
                }
            }
            ap = ap.add(csa);
            bp = bp.add(rsb);
        }
        for (r, row) in acc.iter().enumerate() {
            let cp = c.add(r * rsc + half * 4);
            for (j, &v) in row.iter().enumerate() {
                let o = cp.add(j);
                *o = if beta == 0.0 {
                    alpha * v
                } else if beta == 1.0 {
                    alpha * v + *o
                } else {
                    alpha * v + beta * *o
                };
            }
        }
    }
}
