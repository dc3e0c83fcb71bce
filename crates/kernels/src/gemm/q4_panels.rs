//! The 4-bit GEMM: `Y = X·Wᵀ (+ bias)` for a weight in [`Format::Q4Panels`] (q4_0's
//! nibbles and scales in the sliver order of `crate::format`'s module docs).
//!
//! Where the engine runs relaxed SIMD (the relaxed-SIMD build), the tile multiplies the
//! nibbles as they are stored: `i16x8.relaxed_dot_i8x16_i7x16_s` takes one operand as
//! signed 8-bit codes (the activations, `[−127, 127]`) and the other as 7-bit values
//! (the nibbles `q + 8 ∈ [0, 15]`, where every engine gives the exact products), so a
//! group of four depths of four rows is one instruction, with no widening. Each 16-bit
//! lane sums two products, `|·| ≤ 2·127·15`, so a block's eight groups add up in 16 bits
//! without overflow (`8 · 3810 < 2¹⁵`); the block's sums are then widened, and
//! `Σ (nibble − 8)·x = Σ nibble·x − 8·Σx` is made exact by subtracting each activation
//! row's `8·Σx`, packed beside its scale. The integer sums are the ones
//! [`super::quant::gemm_q`] computes, and the float steps after them are the same, so the
//! result equals the q4_0 GEMM's bit for bit.
//!
//! Elsewhere the panels are unpacked per call, a column block at a time, into the
//! integer GEMM's slivers (int8 codes, [`super::quant`]) and multiplied there.

use super::blocking::NR;
use super::quant::{self, NCQ, SLIVER_BLOCK_BYTES};
use super::relaxed;
use crate::format::{Format, QK};

/// Bytes of one block of a sliver in the panels: 32 depths × 8 rows × 4 bits.
pub(super) const PANEL_BLOCK_BYTES: usize = QK * NR / 2;

/// `Y = X·Wᵀ (+ bias)` for `W [n, k]` in [`Format::Q4Panels`]
/// (`Format::Q4Panels.matrix_bytes(n, k)` bytes at a 4-byte aligned address). Uses the
/// crate's scratch buffer; when it cannot grow, does nothing and reports it
/// ([`crate::scratch::take_alloc_failure`]).
#[allow(clippy::too_many_arguments)]
pub fn gemm_q4_panels(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, panels: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    if !crate::gemv::check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    let f = Format::Q4Panels;
    assert!(Some(panels.len()) == f.matrix_bytes(n, k), "gemm_q4_panels: panels length");
    let nb = f.blocks(k);
    if nb == 0 {
        crate::gemv::fill_bias(m, n, bias, y, ldy);
        return;
    }
    let stored = f.stored_rows(n).expect("gemm_q4_panels: size");
    let (codes, scales) = panels.split_at(stored * nb * QK / 2);
    assert!(scales.as_ptr() as usize % 4 == 0, "gemm_q4_panels: scales misaligned");
    // SAFETY: the scale plane holds stored·nb f32 at a 4-byte aligned address (asserted),
    // and every bit pattern is an f32.
    let wsc = unsafe { core::slice::from_raw_parts(scales.as_ptr() as *const f32, stored * nb) };
    if relaxed::available() {
        relaxed::gemm(relaxed::Tile::Q4, m, k, n, x, ldx, codes, wsc, &[], bias, y, ldy);
        return;
    }
    let slivers = (NCQ.min(n) + NR - 1) / NR;
    let wq_len = slivers * nb * SLIVER_BLOCK_BYTES / 4;
    crate::scratch::with_scratch(wq_len + quant::quantize_packed_len(m, nb), |buf| {
        let (wq, rest) = buf.split_at_mut(wq_len);
        // SAFETY: wq holds slivers·nb·64 floats = slivers·nb·256 i8 (alignment 4 ≥ 1);
        // integers have no invalid bit patterns.
        let wq =
            unsafe { core::slice::from_raw_parts_mut(wq.as_mut_ptr() as *mut i8, slivers * nb * SLIVER_BLOCK_BYTES) };
        let xa = quant::quantize_packed(x, ldx, m, k, rest);
        for jc in (0..n).step_by(NCQ) {
            let nc = NCQ.min(n - jc);
            let s0 = jc / NR;
            for s in 0..(nc + NR - 1) / NR {
                for b in 0..nb {
                    let at = ((s0 + s) * nb + b) * PANEL_BLOCK_BYTES;
                    let out = &mut wq[(s * nb + b) * SLIVER_BLOCK_BYTES..(s * nb + b + 1) * SLIVER_BLOCK_BYTES];
                    unpack_block(&codes[at..at + PANEL_BLOCK_BYTES], out);
                }
            }
            quant::tiles(m, nb, jc, nc, xa, wq, &wsc[s0 * nb * NR..], bias, y, ldy);
        }
    });
}

/// One sliver block of the panels (128 bytes) as the integer GEMM's sliver block (256
/// int8 codes `q`, [`SLIVER_BLOCK_BYTES`]: per depth pair, 8 rows × 2).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn unpack_block(panel: &[u8], out: &mut [i8]) {
    for (g, group) in panel.chunks_exact(16).enumerate() {
        for (i, &byte) in group.iter().enumerate() {
            let (c, e) = (i / 4, i % 4);
            let p = 4 * g + e;
            out[(p / 2) * 2 * NR + 2 * c + p % 2] = (byte & 15) as i8 - 8;
            out[(p / 2) * 2 * NR + 2 * (c + 4) + p % 2] = (byte >> 4) as i8 - 8;
        }
    }
}

/// [`unpack_block`] on SIMD128: a group's 16 bytes masked and shifted are rows 0–3 and
/// 4–7 (four depths each); two shuffles interleave them into the group's two depth pairs.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn unpack_block(panel: &[u8], out: &mut [i8]) {
    use core::arch::wasm32::*;
    assert!(panel.len() >= PANEL_BLOCK_BYTES && out.len() >= SLIVER_BLOCK_BYTES);
    // SAFETY: 8 groups of 16 bytes are read from panel and 8 × 32 written to out (asserted).
    unsafe {
        let (m, eight) = (u8x16_splat(15), i8x16_splat(8));
        for g in 0..QK / 4 {
            let v = v128_load(panel.as_ptr().add(16 * g) as *const v128);
            let lo = i8x16_sub(v128_and(v, m), eight);
            let hi = i8x16_sub(v128_and(u16x8_shr(v, 4), m), eight);
            let p0 = i8x16_shuffle::<0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29>(lo, hi);
            let p1 = i8x16_shuffle::<2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31>(lo, hi);
            v128_store(out.as_mut_ptr().add(32 * g) as *mut v128, p0);
            v128_store(out.as_mut_ptr().add(32 * g + 16) as *mut v128, p1);
        }
    }
}
