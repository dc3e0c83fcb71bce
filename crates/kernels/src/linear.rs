//! `Y = X·Wᵀ (+ bias)` for a `Linear` weight `W [n, k]` in any storage format, the kernel
//! chosen by the number of rows `m`: up to [`GEMV_MAX_ROWS`] rows stream each weight row
//! once ([`crate::gemv`]); more rows run on the blocked GEMMs ([`crate::gemm`]: float
//! weights packed per call, float32 panels read in place, q8_0/q4_0 on the integer GEMM,
//! q8_0 panels read in place by it).

use crate::dtype::Elem;
use crate::format::Format;

/// Largest `m` on the matrix–vector kernels: from 3 rows the GEMMs (their weight packed
/// by SIMD transposes) are as fast, from 4 faster (figures in docs/performance.md).
pub const GEMV_MAX_ROWS: usize = 2;

/// `y` rows set to the bias (β = 1 for a GEMM that adds the product), or nothing.
fn bias_rows(m: usize, n: usize, bias: Option<&[f32]>, y: &mut [f32], ldy: usize) -> f32 {
    match bias {
        Some(b) => {
            for i in 0..m {
                y[i * ldy..i * ldy + n].copy_from_slice(&b[..n]);
            }
            1.0
        }
        None => 0.0,
    }
}

/// Float rows (f32, float16, bfloat16).
#[allow(clippy::too_many_arguments)]
pub fn linear_float<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    if m <= GEMV_MAX_ROWS || n == 0 {
        crate::gemv::gemv(m, k, n, x, ldx, w, bias, y, ldy);
        return;
    }
    let beta = bias_rows(m, n, bias, y, ldy);
    crate::gemm::gemm(m, k, n, 1.0, x, ldx, w, k, true, beta, y, ldy);
}

/// q8_0 / q4_0 matrix buffers.
#[allow(clippy::too_many_arguments)]
pub fn linear_block(
    format: Format, m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[u8], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    if m <= GEMV_MAX_ROWS {
        crate::gemv::gemv_q(format, m, k, n, x, ldx, w, bias, y, ldy);
    } else {
        crate::gemm::quant::gemm_q(format, m, k, n, x, ldx, w, bias, y, ldy);
    }
}

/// Float32 panels ([`Format::F32Panels`]): the GEMM for every `m`.
#[allow(clippy::too_many_arguments)]
pub fn linear_panels(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, panels: &[f32], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let beta = bias_rows(m, n, bias, y, ldy);
    crate::gemm::gemm_panels(m, k, n, x, ldx, panels, beta, y, ldy);
}

/// q8_0 panels ([`Format::Q8Panels`]): the integer GEMM for every `m`.
#[allow(clippy::too_many_arguments)]
pub fn linear_q8_panels(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, panels: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    crate::gemm::quant::gemm_q8_panels(m, k, n, x, ldx, panels, bias, y, ldy);
}

/// q4_0 panels ([`Format::Q4Panels`]): the 4-bit GEMM for every `m`.
#[allow(clippy::too_many_arguments)]
pub fn linear_q4_panels(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, panels: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    crate::gemm::q4_panels::gemm_q4_panels(m, k, n, x, ldx, panels, bias, y, ldy);
}
