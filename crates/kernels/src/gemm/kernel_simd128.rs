//! 4×8 f32 microkernel on SIMD128: 8 f32x4 accumulators (4 rows × 2 vectors).
//!
//! Per step `p` of the depth loop: two B vectors are loaded and each of the four A
//! values is broadcast from memory (`v128.load32_splat`), then multiplied into the
//! two accumulators of its row. Without FMA every step is 8 mul + 8 add; 8
//! accumulators + 2 B + 1 broadcast + 1 product = 12 live vectors, within V8's ~15
//! allocatable registers.
//!
//! Measured (Node 20, 1 thread, CPU time, against the mul+add peak of the same run):
//! one A vector load spread with four `i32x4.shuffle`s gave 69–72 % of peak at 512³
//! and 1024³; broadcasting from memory gives 82–87 %. V8 emits `vbroadcastss xmm,
//! [mem]` for the splat, which uses a load port, while the shuffles compete with the
//! multiplies and adds for the four FP pipes (20 FP ops per step instead of 16).
//! Unrolling two steps with constant offsets spilled an accumulator and was slower. The
//! depth loop is written in WebAssembly text (kernel_f32_4x8_simd128.wat): its addresses
//! step instead of being recomputed each step (1.00–1.13× at m = 16 and 64 on SmolLM shapes).

use super::blocking::{MR, NR};

// Checked at compile time; clippy 1.63 takes a constant assert for a runtime one.
#[allow(clippy::assertions_on_constants)]
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
    let z = f32x4_splat(0.0);
    // The depth loop is in WebAssembly text (`kernel_f32_4x8_simd128.wat`): per step, two B
    // vectors are loaded and each of the four A values is broadcast from memory
    // (`v128.load32_splat`, a load-port broadcast in V8 on x64, rather than one load spread
    // with four `i32x4.shuffle`s, which compete with mul/add for the FP pipes), then
    // multiplied into the two accumulators of its row. Not unrolled: with two steps in
    // flight V8 runs out of registers and spills an accumulator.
    let mut acc = [z; 8];
    if k > 0 {
        crate::wat_simd128::gemm_f32_4x8_depth(k, a, 4 * csa, b, 4 * rsb, acc.as_mut_ptr() as *mut f32);
    }
    let [c00, c01, c10, c11, c20, c21, c30, c31] = acc;
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
