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
//!
//! q4_0 rows (a decoder's weights, kept for its matrix–vector steps) reach the relaxed tile
//! too: [`gemm_q4_rows_relaxed`] lays a column block of them out as panels per call.

use super::blocking::{MR, NR};
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
    let (codes, wsc, _) = crate::format::panel_planes(Format::Q4Panels, panels, n, k);
    let nb = Format::Q4Panels.blocks(k);
    if nb == 0 {
        crate::gemv::fill_bias(m, n, bias, y, ldy);
        return;
    }
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

/// `Y = X·Wᵀ (+ bias)` for `W [n, k]` in q4_0 rows ([`Format::Q4_0`]) on the relaxed tile:
/// each column block of [`NCQ`] rows is laid out as q4_0 panels in scratch
/// ([`pack_rows_block`]), then multiplied as [`gemm_q4_panels`] does; the same integer
/// sums and results as [`super::quant::gemm_q`]. [`relaxed::available`] must be true.
#[allow(clippy::too_many_arguments)]
#[inline(never)] // kept out of `gemm_q`, as `relaxed::gemm` is
pub fn gemm_q4_rows_relaxed(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    if !crate::gemv::check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    let f = Format::Q4_0;
    let nb = f.blocks(k);
    if nb == 0 {
        crate::gemv::fill_bias(m, n, bias, y, ldy);
        return;
    }
    let (wq, ws) = crate::format::planes(f, w, n, k);
    let tile = relaxed::Tile::Q4;
    let slivers = (NCQ.min(n) + NR - 1) / NR;
    let (codes_len, scales_len) = (slivers * nb * PANEL_BLOCK_BYTES / 4, slivers * nb * NR);
    let xa_len = (m + MR - 1) / MR * nb * tile.a_block_bytes() / 4;
    crate::scratch::with_scratch(codes_len + scales_len + xa_len, |buf| {
        let (codes, rest) = buf.split_at_mut(codes_len);
        let (wsc, rest) = rest.split_at_mut(scales_len);
        // SAFETY: codes holds codes_len floats = slivers·nb·128 bytes (alignment 4 ≥ 1).
        let codes =
            unsafe { core::slice::from_raw_parts_mut(codes.as_mut_ptr() as *mut u8, slivers * nb * PANEL_BLOCK_BYTES) };
        let xa = relaxed::quantize_packed(tile, x, ldx, m, k, rest);
        for jc in (0..n).step_by(NCQ) {
            let nc = NCQ.min(n - jc);
            for s in 0..(nc + NR - 1) / NR {
                for b in 0..nb {
                    let rows: [usize; NR] = core::array::from_fn(|c| (jc + s * NR + c).min(n - 1));
                    let block = |c: usize| &wq[(rows[c] * nb + b) * QK / 2..(rows[c] * nb + b + 1) * QK / 2];
                    let out = &mut codes[(s * nb + b) * PANEL_BLOCK_BYTES..(s * nb + b + 1) * PANEL_BLOCK_BYTES];
                    pack_rows_block(core::array::from_fn(block), out);
                    for c in 0..NR {
                        // Rows past n repeat the last one's codes; their scale 0 makes them 0.
                        let real = jc + s * NR + c < n;
                        wsc[(s * nb + b) * NR + c] =
                            if real { crate::format::scale_at(ws, n, nb, rows[c], b) } else { 0.0 };
                    }
                }
            }
            let bias = bias.map(|b| &b[jc..jc + nc]);
            relaxed::tiles(tile, m, nc, nb, xa, codes, wsc, &[], bias, &mut y[jc..], ldy);
        }
    });
}

/// One block of 8 q4_0 rows (16 bytes each, ggml's order: byte `e` holds element `e` low
/// and `e + 16` high) as a sliver block of the panels (128 bytes, `crate::format`).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn pack_rows_block(rows: [&[u8]; NR], out: &mut [u8]) {
    out[..PANEL_BLOCK_BYTES].iter_mut().for_each(|o| *o = 0);
    for (c, row) in rows.iter().enumerate() {
        for e in 0..QK {
            let v = if e < QK / 2 { row[e] & 15 } else { row[e - QK / 2] >> 4 };
            out[(e / 4) * 16 + (c % 4) * 4 + e % 4] |= v << if c < 4 { 0 } else { 4 };
        }
    }
}

/// [`pack_rows_block`] on SIMD128: a row's low and high nibbles are its elements 0–15 and
/// 16–31, four groups of four each; four rows' vectors transposed 4 × 4 as words are four
/// groups, and rows 4–7's go to the high nibbles.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn pack_rows_block(rows: [&[u8]; NR], out: &mut [u8]) {
    use core::arch::wasm32::*;
    assert!(rows.iter().all(|r| r.len() >= QK / 2) && out.len() >= PANEL_BLOCK_BYTES);
    let t4 = crate::gemv::tile_simd128::transpose4;
    // SAFETY: each row holds 16 bytes and out 128 (asserted).
    unsafe {
        let m = u8x16_splat(15);
        let v: [v128; NR] = core::array::from_fn(|c| v128_load(rows[c].as_ptr() as *const v128));
        let halves: [[v128; NR]; 2] =
            [core::array::from_fn(|c| v128_and(v[c], m)), core::array::from_fn(|c| v128_and(u16x8_shr(v[c], 4), m))];
        for (h, x) in halves.iter().enumerate() {
            let a = t4(x[0], x[1], x[2], x[3]);
            let b = t4(x[4], x[5], x[6], x[7]);
            for g in 0..4 {
                // Nibbles below 16: shifting 16-bit lanes by 4 keeps each in its byte.
                let p = v128_or(a[g], u16x8_shl(b[g], 4));
                v128_store(out.as_mut_ptr().add(16 * (4 * h + g)) as *mut v128, p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{quantize, write_q_panel_rows};

    /// Eight q4_0 rows laid out per block by `pack_rows_block` are the panels' blocks.
    #[test]
    fn rows_pack_into_the_panels_layout() {
        let (n, k) = (8, 70);
        let src: Vec<f32> = (0..n * k).map(|i| ((i * 53 % 97) as f32 - 48.0) / 13.0).collect();
        let mut rows = vec![0u8; Format::Q4_0.matrix_bytes(n, k).unwrap()];
        quantize(Format::Q4_0, &src, k, n, k, &mut rows);
        let mut panels = vec![0u8; Format::Q4Panels.matrix_bytes(n, k).unwrap()];
        write_q_panel_rows(Format::Q4Panels, &src, k, 0, n, n, k, &mut panels);
        let nb = Format::Q4_0.blocks(k);
        for b in 0..nb {
            let block: [&[u8]; NR] = core::array::from_fn(|c| &rows[(c * nb + b) * QK / 2..(c * nb + b + 1) * QK / 2]);
            let mut out = [0xa5u8; PANEL_BLOCK_BYTES];
            pack_rows_block(block, &mut out);
            assert_eq!(&out[..], &panels[b * PANEL_BLOCK_BYTES..(b + 1) * PANEL_BLOCK_BYTES], "block {}", b);
        }
    }
}
