//! Small-m products `Y[m, n] = X[m, k] · Wᵀ (+ bias)` with `W` in PyTorch `Linear`
//! layout `[n, k]`: each output is the dot product of an activation row with a weight row.
//!
//! This is the decode-time shape (m = 1 token, or a few): the product is bound by
//! reading `W`, so nothing is packed or copied; the kernels stream [`NR`] weight rows
//! at a time straight from where they lie and take every activation row against them
//! while those rows are in cache (from memory once, then from L1), each weight row with
//! its own accumulators. Formats ([`crate::format::Format`]):
//!
//! * float32, float16, bfloat16 ([`gemv`]): weights widened to f32 exactly as loaded
//!   ([`Elem::load4`]), products accumulated in f32. Float16 is widened without its
//!   final ×2^112, which the activations take instead (exact: powers of two), with a
//!   per-tile ±inf/NaN check unless the weights are [`F16Finite`]; float16 results are
//!   bit for bit those of the weights' float32 copies (relaxed-SIMD build: within rounding);
//! * q8_0 and q4_0 ([`gemv_q`]): integer dot products. Each activation row is quantised
//!   per block of 32 to int8 at run time (`d_x = max|x| / 127`, round to nearest; see
//!   [`quantize_rows`]) and kept sign-extended to int16; a block's dot product with the
//!   weight codes is exact in i32 (`i32x4.dot_i16x8_s`), and the row sum accumulates
//!   `(d_w · d_x) · dot` in f32.
//!
//! Error of the block formats against the exact product of the *quantised* weights:
//! per block, `|x_j − d_x·q_j| ≤ d_x / 2 = max|x_block| / 254`, so an output is off by
//! at most `Σ_blocks (max|x_block| / 254) · Σ_{j ∈ block} |w_j|`, plus f32 rounding of
//! the sum (the tests assert this bound).
//!
//! SIMD128 kernels are compiled with `target_feature = "simd128"`, scalar ones without;
//! both implement the same functions and pass the same tests (`tests/gemv.rs`).

use crate::dtype::{Elem, F16Finite, BF16, F16};
use crate::format::{Format, QK};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod float_simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod quant_simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod tile_simd128;
/// The SIMD128 kernels, one file per weight family, under the names the scalar ones use.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    pub use super::float_simd128::float_gemv;
    pub use super::quant_simd128::{q4_0_gemv, q4_0_prepare, q8_0_gemv, quantize_block, quantize_block_max};
    /// The q4_0 kernel takes permuted activation codes and their block sums.
    pub const Q4_0_SUMS: bool = true;
}
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod scalar;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use scalar as imp;

/// One activation block (≤ 32 values) to codes in `[−max, max]` held as int16, and its
/// scale: with `max` 127, what [`quantize_rows`] does per block (the integer GEMMs pack them
/// as they go; the relaxed-SIMD q8_0 tile takes 63).
pub(crate) use imp::quantize_block_max;

/// Weight rows per tile: four independent accumulators hide the add latency, and four
/// rows of up to ~1.5k f32 (24 KiB) stay in L1 while every activation row uses them.
pub const NR: usize = 4;

/// Activation rows quantised at once by [`gemv_q`]: bounds its scratch (≈ 17 floats per
/// 32 columns per row) while a typical decode batch still streams the weights once.
pub const Q_ROWS: usize = 16;

/// Checks the common shape preconditions of a `Y = X·Wᵀ (+ bias)` product (also the
/// integer GEMM's); returns false when there is nothing to do.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, bias: Option<&[f32]>, y: &[f32], ldy: usize,
) -> bool {
    if m == 0 || n == 0 {
        return false;
    }
    assert!(ldy >= n && y.len() >= (m - 1) * ldy + n, "gemv: y too short");
    assert!(k == 0 || (ldx >= k && x.len() >= (m - 1) * ldx + k), "gemv: x too short");
    if let Some(b) = bias {
        assert!(b.len() >= n, "gemv: bias too short");
    }
    true
}

/// `Y = X·Wᵀ (+ bias)` with `W [n, k]` (contiguous rows, any [`Elem`] float dtype),
/// `X [m, k]` at row stride `ldx`, `Y [m, n]` at row stride `ldy` (only written).
#[allow(clippy::too_many_arguments)]
pub fn gemv<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    if !check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    assert!(w.len() >= n * k, "gemv: w too short");
    if k == 0 {
        fill_bias(m, n, bias, y, ldy);
        return;
    }
    imp::float_gemv(m, k, n, x, ldx, w, bias, y, ldy);
}

/// [`gemv`] with float32 weights.
#[allow(clippy::too_many_arguments)]
pub fn f32_gemv(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[f32], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    gemv(m, k, n, x, ldx, w, bias, y, ldy)
}

/// [`gemv`] with float16 weights.
#[allow(clippy::too_many_arguments)]
pub fn f16_gemv(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[F16], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    gemv(m, k, n, x, ldx, w, bias, y, ldy)
}

/// [`gemv`] with float16 weights known to hold no ±inf or NaN ([`f16_all_finite`],
/// checked once when the weights are made): no tile checks them again.
#[allow(clippy::too_many_arguments)]
pub fn f16_finite_gemv(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[F16Finite], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    gemv(m, k, n, x, ldx, w, bias, y, ldy)
}

/// Whether float16 data holds no ±inf or NaN (exponent bits not all ones), so it may be
/// read as [`F16Finite`].
pub fn f16_all_finite(w: &[F16]) -> bool {
    // Branch-free over the whole slice (vectorised): the largest exponent|mantissa.
    w.iter().fold(0u16, |a, h| a.max(h.0 & 0x7fff)) < 0x7c00
}

/// [`gemv`] with bfloat16 weights.
#[allow(clippy::too_many_arguments)]
pub fn bf16_gemv(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[BF16], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    gemv(m, k, n, x, ldx, w, bias, y, ldy)
}

/// Activation rows quantised for the integer kernels: per row, `nb` blocks of 32 int8
/// codes kept as int16 (sign-extended once here instead of once per weight row) and
/// one f32 scale per block.
pub struct QRows<'a> {
    pub nb: usize,
    /// `rows · nb · 32` codes.
    pub codes: &'a [i16],
    /// `rows · nb` scales.
    pub scales: &'a [f32],
    /// q4_0 only (else empty): `rows · nb` values `8·Σ codes` of each block, for the
    /// SIMD128 kernel's unsigned nibbles (see `q4_0_dot4_simd128.wat`).
    pub sums8: &'a [i32],
}

/// Quantises `rows` activation rows (row stride `ldx`, `k` columns) per block of 32:
/// `d = max|x| / 127`, `q = round(x / d)` (computed as `x · (127 / max|x|)`; the SIMD
/// build rounds ties to even, the scalar one away from zero), codes past `k` are 0.
/// A block holding ±inf or NaN gets scale NaN (the outputs it feeds become NaN).
pub fn quantize_rows(x: &[f32], ldx: usize, rows: usize, k: usize, codes: &mut [i16], scales: &mut [f32]) {
    let nb = Format::Q8_0.blocks(k);
    assert!(codes.len() >= rows * nb * QK && scales.len() >= rows * nb, "gemv::quantize_rows: scratch too short");
    assert!(rows == 0 || k == 0 || x.len() >= (rows - 1) * ldx + k, "gemv::quantize_rows: x too short");
    for r in 0..rows {
        for b in 0..nb {
            let xs = &x[r * ldx + b * QK..r * ldx + k.min((b + 1) * QK)];
            let q = &mut codes[(r * nb + b) * QK..(r * nb + b + 1) * QK];
            scales[r * nb + b] = imp::quantize_block(xs, q);
        }
    }
}

/// `Y = X·Wᵀ (+ bias)` with `W [n, k]` a q8_0 or q4_0 matrix buffer
/// (`format.matrix_bytes(n, k)` bytes, layout in [`crate::format`]); integer dot
/// products on activations quantised per block at run time (error bound in the module
/// docs). Any `m` works: rows are taken [`Q_ROWS`] at a time, each group streaming `W`.
/// Uses the crate's scratch buffer; when it cannot grow, does nothing and reports it
/// ([`crate::scratch::take_alloc_failure`]).
#[allow(clippy::too_many_arguments)]
pub fn gemv_q(
    format: Format, m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[u8], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    assert!(format.is_block(), "gemv_q: {:?} is not a block format", format);
    if !check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    let (wq, ws) = crate::format::planes(format, w, n, k);
    let nb = format.blocks(k);
    if nb == 0 {
        fill_bias(m, n, bias, y, ldy);
        return;
    }
    let rows = m.min(Q_ROWS);
    // Scratch as f32: scales, then the block sums (i32), then the int16 codes (two per float).
    let len = 2 * rows * nb + rows * nb * QK / 2;
    crate::scratch::with_scratch(len, |buf| {
        let (scales, rest) = buf.split_at_mut(rows * nb);
        let (sums, rest) = rest.split_at_mut(rows * nb);
        // SAFETY: `sums` holds rows·nb f32 slots, reused as i32 (same size and alignment, no
        // invalid bit patterns); `rest` holds rows·nb·16 floats = rows·nb·32 i16 (alignment
        // 4 ≥ 2), and i16 has no invalid bit patterns.
        let sums8 = unsafe { core::slice::from_raw_parts_mut(sums.as_mut_ptr() as *mut i32, rows * nb) };
        let codes = unsafe { core::slice::from_raw_parts_mut(rest.as_mut_ptr() as *mut i16, rows * nb * QK) };
        let mut i0 = 0;
        while i0 < m {
            let r = (m - i0).min(Q_ROWS);
            quantize_rows(&x[i0 * ldx..], ldx, r, k, codes, scales);
            let with_sums = format == Format::Q4_0 && imp::Q4_0_SUMS;
            if with_sums {
                imp::q4_0_prepare(&mut codes[..r * nb * QK], &mut sums8[..r * nb]);
            }
            let sums8: &[i32] = if with_sums { &sums8[..r * nb] } else { &[] };
            let q = QRows { nb, codes: &codes[..r * nb * QK], scales: &scales[..r * nb], sums8 };
            let yi = &mut y[i0 * ldy..];
            match format {
                Format::Q8_0 => imp::q8_0_gemv(r, n, &q, wq, ws, bias, yi, ldy),
                _ => imp::q4_0_gemv(r, n, &q, wq, ws, bias, yi, ldy),
            }
            i0 += r;
        }
    });
}

/// The product of an empty inner dimension: `Y = bias` (or 0).
pub(crate) fn fill_bias(m: usize, n: usize, bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    for i in 0..m {
        for j in 0..n {
            y[i * ldy + j] = bias.map_or(0.0, |b| b[j]);
        }
    }
}
