//! General matrix multiply `C ← α·A·op(B) + β·C`, f32, row-major with row strides.
//!
//! Goto/BLIS structure: five loops around a register-blocked microkernel.
//! loop 5 walks NC-wide column blocks of C, loop 4 KC-deep slices of the shared
//! dimension (packing the B block), loop 3 MC-tall row blocks (packing the A block),
//! loop 2 NR-wide slivers of packed B and loop 1 MR-tall slivers of packed A.
//! Block sizes and their reasons live in [`blocking`].

pub mod blocking;
pub mod pack;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod pack_simd128;
pub mod q4_panels;
pub mod quant;
pub mod relaxed;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub mod kernel_q_scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel_q_simd128;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub mod kernel_scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod kernel_simd128;

use crate::dtype::Elem;
use blocking::{KC, MC, MR, NC, NR};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use kernel_scalar::f32_gemm_4x8_scalar as microkernel;
/// The microkernel of this build: a run of `C[0..MR, 0..NR] ← α·(A·B) + β·C` tiles,
/// A column-major (`a[p·csa + r]`, the MR values of a column contiguous), B rows at
/// stride `rsb`, C rows at stride `rsc`; successive tiles advance a, b, c by fixed steps.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use kernel_simd128::f32_gemm_4x8_simd128 as microkernel;

/// `C ← α·A·op(B) + β·C` where `A` is `m×k` (row stride `lda`), `op(B)` is `k×n`
/// (`B` is `k×n` with row stride `ldb`, or `n×k` when `trans_b`), and `C` is `m×n`
/// (row stride `ldc`). With `β = 0`, `C` is only written, never read (so NaN in `C`
/// does not propagate).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize, k: usize, n: usize, alpha: f32, a: &[f32], lda: usize, b: &[f32], ldb: usize, trans_b: bool, beta: f32,
    c: &mut [f32], ldc: usize,
) {
    gemm(m, k, n, alpha, a, lda, b, ldb, trans_b, beta, c, ldc)
}

/// [`sgemm`] with B stored in any [`Elem`] dtype (f32, [`F16`](crate::dtype::F16),
/// [`BF16`](crate::dtype::BF16)): each B element is widened to f32 exactly once per
/// call, while its block is packed (loop 4), so the microkernel and the arithmetic are
/// those of [`sgemm`] on the widened values. The usual case is a 16-bit weight matrix
/// `W[out, in]` with `trans_b` (`Y = X·Wᵀ`, PyTorch's `Linear`).
#[allow(clippy::too_many_arguments)]
pub fn gemm<E: Elem>(
    m: usize, k: usize, n: usize, alpha: f32, a: &[f32], lda: usize, b: &[E], ldb: usize, trans_b: bool, beta: f32,
    c: &mut [f32], ldc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "gemm: C too short");
    if k == 0 {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    assert!(a.len() >= (m - 1) * lda + k, "gemm: A too short");
    if trans_b {
        assert!(b.len() >= (n - 1) * ldb + k, "gemm: B too short");
    } else {
        assert!(b.len() >= (k - 1) * ldb + n, "gemm: B too short");
    }

    let kc_max = KC.min(k);
    let mc_pad = round_up(MC.min(m), MR);
    let nc_pad = round_up(NC.min(n), NR);
    crate::scratch::with_scratch(mc_pad * kc_max + kc_max * nc_pad, |buf| {
        let (apack, bpack) = buf.split_at_mut(mc_pad * kc_max);
        // loop 5: column blocks of C and B.
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            // loop 4: slices of the shared dimension; later slices accumulate (β = 1).
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let boff = if trans_b { jc * ldb + pc } else { pc * ldb + jc };
                pack_b_block(kc, nc, &b[boff..], ldb, trans_b, bpack);
                let beta_eff = if pc == 0 { beta } else { 1.0 };
                // loop 3: row blocks of C and A.
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    pack::pack_a(mc, kc, &a[ic * lda + pc..], lda, apack);
                    macro_block(mc, nc, kc, alpha, apack, bpack, beta_eff, &mut c[ic * ldc + jc..], ldc);
                }
            }
        }
    });
}

/// `C ← A·Wᵀ + β·C` for a weight `W [n, k]` stored in [`Format::F32Panels`]
/// (`crate::format`): the loops of [`gemm`] with every B block read from where it lies,
/// already in the order `pack_b` would write it, so no call packs B. `panels` holds
/// `Format::F32Panels.matrix_bytes(n, k) / 4` values.
///
/// [`Format::F32Panels`]: crate::format::Format::F32Panels
#[allow(clippy::too_many_arguments)]
pub fn gemm_panels(
    m: usize, k: usize, n: usize, a: &[f32], lda: usize, panels: &[f32], beta: f32, c: &mut [f32], ldc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "gemm_panels: C too short");
    if k == 0 {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    assert!(a.len() >= (m - 1) * lda + k, "gemm_panels: A too short");
    let stored = round_up(n, NR);
    assert!(panels.len() >= stored * k, "gemm_panels: panels too short");
    let kc_max = KC.min(k);
    let mc_pad = round_up(MC.min(m), MR);
    crate::scratch::with_scratch(mc_pad * kc_max, |apack| {
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                // The slice pc holds `stored` rows as kc-deep slivers; block jc starts at sliver jc/NR.
                let bpack = &panels[pc * stored + (jc / NR) * kc * NR..];
                let beta_eff = if pc == 0 { beta } else { 1.0 };
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    pack::pack_a(mc, kc, &a[ic * lda + pc..], lda, apack);
                    macro_block(mc, nc, kc, 1.0, apack, bpack, beta_eff, &mut c[ic * ldc + jc..], ldc);
                }
            }
        }
    });
}

fn pack_b_block<E: Elem>(kc: usize, nc: usize, b: &[E], ldb: usize, trans: bool, out: &mut [f32]) {
    pack::pack_b(kc, nc, b, ldb, trans, out);
}

/// Loops 2 and 1 over one packed `mc × kc` A block and `kc × nc` B block. Not inlined
/// into `sgemm`: V8 tiers up hot functions individually, so even the first large call
/// runs optimised code after a few blocks.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn macro_block(
    mc: usize, nc: usize, kc: usize, alpha: f32, apack: &[f32], bpack: &[f32], beta: f32, c: &mut [f32], ldc: usize,
) {
    debug_assert!(c.len() >= (mc - 1) * ldc + nc);
    debug_assert!(apack.len() >= round_up(mc, MR) * kc && bpack.len() >= round_up(nc, NR) * kc);
    // loop 2: NR-wide slivers of B.
    for jr in (0..nc).step_by(NR) {
        let nr = NR.min(nc - jr);
        let bp = bpack[(jr / NR) * kc * NR..].as_ptr();
        // loop 1: MR-tall slivers of A; all full tiles of this column in one call.
        let full = if nr == NR { mc / MR } else { 0 };
        if full > 0 {
            // SAFETY: A slivers ir/MR < full hold kc·MR values each (kc·MR apart), the B
            // sliver kc·NR; tile t covers C rows t·MR..t·MR+MR−1 < mc and columns
            // jr..jr+NR−1 < nc, inside c (asserted above).
            unsafe {
                microkernel(
                    full,
                    kc,
                    apack.as_ptr(),
                    kc * MR,
                    MR,
                    bp,
                    0,
                    NR,
                    c[jr..].as_mut_ptr(),
                    MR * ldc,
                    ldc,
                    alpha,
                    beta,
                )
            };
        }
        for ir in (full * MR..mc).step_by(MR) {
            let mr = MR.min(mc - ir);
            let ap = apack[(ir / MR) * kc * MR..].as_ptr();
            edge_tile(kc, ap, bp, mr, nr, alpha, beta, &mut c[ir * ldc + jr..], ldc);
        }
    }
}

/// A ragged tile: the microkernel writes a full MR×NR tile to a local buffer and only
/// the `mr × nr` part is combined into C (β = 0 still never reads C).
#[allow(clippy::too_many_arguments)]
fn edge_tile(
    kc: usize, ap: *const f32, bp: *const f32, mr: usize, nr: usize, alpha: f32, beta: f32, c: &mut [f32], ldc: usize,
) {
    let mut tile = [0.0f32; MR * NR];
    // SAFETY: ap/bp point at full packed slivers (zero padded); tile is MR×NR.
    unsafe { microkernel(1, kc, ap, 0, MR, bp, 0, NR, tile.as_mut_ptr(), 0, NR, 1.0, 0.0) };
    for r in 0..mr {
        let row = &mut c[r * ldc..r * ldc + nr];
        for (o, &t) in row.iter_mut().zip(&tile[r * NR..r * NR + nr]) {
            *o = if beta == 0.0 {
                alpha * t
            } else if beta == 1.0 {
                alpha * t + *o
            } else {
                alpha * t + beta * *o
            };
        }
    }
}

/// `C ← β·C` (the whole product is empty when k = 0); β = 0 writes zeros.
fn scale_c(m: usize, n: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        if beta == 0.0 {
            row.iter_mut().for_each(|x| *x = 0.0);
        } else {
            row.iter_mut().for_each(|x| *x *= beta);
        }
    }
}

#[inline]
pub(crate) fn round_up(x: usize, to: usize) -> usize {
    (x + to - 1) / to * to
}
