//! 4×8 f32 microkernel on SIMD128: 8 f32x4 accumulators (4 rows × 2 vectors).
//!
//! Per step `p` of the depth loop: two B vectors and the four A values (one vector)
//! are loaded, each A lane is broadcast and multiplied into the two accumulators of
//! its row. Without FMA every step is 8 mul + 8 add; 8 accumulators + 2 B + A + one
//! broadcast = 12 live vectors, within V8's ~15 allocatable registers.

use super::blocking::{MR, NR};

const _: () = assert!(MR == 4 && NR == 8, "the SIMD128 kernel is written for 4×8 tiles");
use core::arch::wasm32::*;

/// `tiles` consecutive 4×8 tiles: tile `t` is the 4×8 kernel below applied to
/// `a + t·a_step`, `b + t·b_step`, `c + t·c_step`. One call covers a row or column
/// of tiles, so call and setup costs are paid once per row instead of per tile.
///
/// `C[0..4, 0..8] ← α·(A·B) + β·C` over depth `k` for each tile.
///
/// * `a`: element `(r, p)` at `a[p·csa + r]` (a packed sliver has `csa = 4`; any
///   column-major block with 4 readable rows works);
/// * `b`: element `(p, j)` at `b[p·rsb + j]`, `j < 8` (a packed panel has `rsb = 8`,
///   but any row-major matrix with 8 readable columns works);
/// * `c`: element `(r, j)` at `c[r·rsc + j]`. With `β = 0` C is only written.
///
/// # Safety
/// The pointers must be valid for the reads/writes described above.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn f32_gemm_4x8_simd128(
    tiles: usize, k: usize,
    a: *const f32, a_step: usize, csa: usize,
    b: *const f32, b_step: usize, rsb: usize,
    c: *mut f32, c_step: usize, rsc: usize,
    alpha: f32, beta: f32,
) {
    for t in 0..tiles {
        tile(k, a.add(t * a_step), csa, b.add(t * b_step), rsb, c.add(t * c_step), rsc, alpha, beta);
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile(
    k: usize, a: *const f32, csa: usize, b: *const f32, rsb: usize,
    c: *mut f32, rsc: usize, alpha: f32, beta: f32,
) {
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (z, z, z, z);
    let (mut c20, mut c21, mut c30, mut c31) = (z, z, z, z);
    let mut ap = a;
    let mut bp = b;
    macro_rules! step {
        () => {{
            // The four rows' A values are contiguous for every supported layout: one
            // load, then lane broadcasts (cheaper than four splat loads, whose address
            // additions wasm cannot fold into the load).
            let va = v128_load(ap as *const v128);
            let b0 = v128_load(bp as *const v128);
            let b1 = v128_load(bp.add(4) as *const v128);
            let x = i32x4_shuffle::<0, 0, 0, 0>(va, va);
            c00 = f32x4_add(c00, f32x4_mul(x, b0));
            c01 = f32x4_add(c01, f32x4_mul(x, b1));
            let x = i32x4_shuffle::<1, 1, 1, 1>(va, va);
            c10 = f32x4_add(c10, f32x4_mul(x, b0));
            c11 = f32x4_add(c11, f32x4_mul(x, b1));
            let x = i32x4_shuffle::<2, 2, 2, 2>(va, va);
            c20 = f32x4_add(c20, f32x4_mul(x, b0));
            c21 = f32x4_add(c21, f32x4_mul(x, b1));
            let x = i32x4_shuffle::<3, 3, 3, 3>(va, va);
            c30 = f32x4_add(c30, f32x4_mul(x, b0));
            c31 = f32x4_add(c31, f32x4_mul(x, b1));
            ap = ap.add(csa);
            bp = bp.add(rsb);
        }};
    }
    // Not unrolled: with two steps in flight LLVM hoists every load of both steps,
    // which exceeds V8's register file and spills.
    for _ in 0..k {
        step!();
    }
    let va = f32x4_splat(alpha);
    let rows = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
    if beta == 0.0 {
        for (r, &(lo, hi)) in rows.iter().enumerate() {
            let cp = c.add(r * rsc);
            v128_store(cp as *mut v128, f32x4_mul(va, lo));
            v128_store(cp.add(4) as *mut v128, f32x4_mul(va, hi));
        }
    } else if beta == 1.0 {
        for (r, &(lo, hi)) in rows.iter().enumerate() {
            let cp = c.add(r * rsc);
            let o0 = v128_load(cp as *const v128);
            let o1 = v128_load(cp.add(4) as *const v128);
            v128_store(cp as *mut v128, f32x4_add(f32x4_mul(va, lo), o0));
            v128_store(cp.add(4) as *mut v128, f32x4_add(f32x4_mul(va, hi), o1));
        }
    } else {
        let vb = f32x4_splat(beta);
        for (r, &(lo, hi)) in rows.iter().enumerate() {
            let cp = c.add(r * rsc);
            let o0 = v128_load(cp as *const v128);
            let o1 = v128_load(cp.add(4) as *const v128);
            v128_store(cp as *mut v128, f32x4_add(f32x4_mul(va, lo), f32x4_mul(vb, o0)));
            v128_store(cp.add(4) as *mut v128, f32x4_add(f32x4_mul(va, hi), f32x4_mul(vb, o1)));
        }
    }
}
