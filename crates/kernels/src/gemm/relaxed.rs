//! The integer GEMMs' relaxed-SIMD tiles, for weights stored as panels: the activations
//! quantised and packed for them, and the loop over their 4×8 tiles.
//!
//! `i16x8.relaxed_dot_i8x16_i7x16_s` multiplies signed 8-bit codes by 7-bit ones, four
//! depths of four rows a step, with no widening; its 7-bit operand must lie in [0, 127]
//! (elsewhere the engines differ). Two tiles use it:
//!
//! * [`Tile::Q4`] (q4_0 panels): the nibbles `q + 8 ∈ [0, 15]` are that operand as
//!   stored, the activations the signed one (int8 codes, [`crate::gemv::quantize_block_max`]
//!   at 127); `8·Σx` per activation row and block makes the sums exact. The integer
//!   sums equal the SIMD128 GEMM's, so the results do too (`kernel_q4_4x8_relaxedsimd.wat`).
//! * [`Tile::Q8`] (q8_0 panels): the weight codes are the signed operand, so the
//!   activations are quantised to 7 bits (`d = max|x|/63`, `q = nearest(x/d) ∈ [−63, 63]`,
//!   stored as `q + 64`), and the panels' code sums make `Σ w·q` exact. The activation rounding is
//!   twice the SIMD128 GEMM's: within `Σ_blocks max|x_block|/126 · Σ_block |w|` of the
//!   product of the quantised weights (`kernel_q8_4x8_relaxedsimd.wat`).
//!
//! Only the relaxed-SIMD build has the tiles ([`available`]); the SIMD128 and scalar
//! binaries carry none of this module's code.

use super::blocking::{MR, NR};
use crate::format::{Format, QK};

/// Which tile, with its activation packing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tile {
    /// q4_0 panels: int8 activation codes, each row's `8·Σq` beside its scale.
    Q4,
    /// q8_0 panels: 7-bit activation codes stored as `q + 64`.
    Q8,
}

impl Tile {
    /// Bytes of one packed block of a 4-row activation tile: 8 groups × 4 rows × 4
    /// codes, the 4 rows' f32 scales, and for q4 their i32 `8·Σq`.
    pub const fn a_block_bytes(self) -> usize {
        match self {
            Tile::Q4 => QK * MR + MR * 4 + MR * 4,
            Tile::Q8 => QK * MR + MR * 4,
        }
    }

    /// Bytes of one block of a weight sliver in the panels.
    const fn b_block_bytes(self) -> usize {
        match self {
            Tile::Q4 => QK * NR / 2,
            Tile::Q8 => QK * NR,
        }
    }
}

/// Whether the relaxed-SIMD tiles are linked: the relaxed-SIMD build compiles the crate with
/// the `relaxed` feature; elsewhere this is false and the code behind it is left out.
#[inline(always)]
pub const fn available() -> bool {
    cfg!(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed"))
}

/// `Y = X·Wᵀ (+ bias)` on `tile` for the panels' code plane `codes`, scales `wsc` and (q8)
/// code sums `sums` of `W [n, k]`; [`available`] must be true. Uses the crate's scratch
/// buffer; when it cannot grow, does nothing and reports it.
#[allow(clippy::too_many_arguments)]
#[inline(never)] // kept out of its callers, so their float loops keep the shape relaxed-fma fuses
pub fn gemm(
    tile: Tile, m: usize, k: usize, n: usize, x: &[f32], ldx: usize, codes: &[u8], wsc: &[f32], sums: &[i32],
    bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let nb = Format::Q8_0.blocks(k);
    let words = tile.a_block_bytes() / 4;
    crate::scratch::with_scratch((m + MR - 1) / MR * nb * words, |buf| {
        let xa = quantize_packed(tile, x, ldx, m, k, buf);
        tiles(tile, m, n, nb, xa, codes, wsc, sums, bias, y, ldy);
    });
}

/// Quantises `m` rows of `x` per block and packs them four rows at a time for `tile`
/// ([`Tile::a_block_bytes`] a block: per group of four depths the four rows' codes as one
/// word each, then the scales, then for q4 each row's `8·Σq`) into the front of `buf`. A
/// last tile short of rows repeats its last row (whose results are dropped).
pub(super) fn quantize_packed<'a>(
    tile: Tile, x: &[f32], ldx: usize, m: usize, k: usize, buf: &'a mut [f32],
) -> &'a [u32] {
    let max = if tile == Tile::Q8 { 63.0 } else { 127.0 };
    super::quant::quantize_tiles(x, ldx, m, k, max, tile.a_block_bytes() / 4, buf, |c, d, out| {
        pack_block(tile, c, d, out)
    })
}

/// One block of a 4-row activation tile for `tile` from its rows' codes and scales (the
/// layout of [`quantize_packed`]).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn pack_block(tile: Tile, c: &[[i16; QK]; MR], d: &[f32; MR], out: &mut [u32]) {
    let offset = if tile == Tile::Q8 { 64 } else { 0 };
    for r in 0..MR {
        out[QK + r] = d[r].to_bits();
        if tile == Tile::Q4 {
            out[QK + MR + r] = (8 * c[r].iter().map(|&q| q as i32).sum::<i32>()) as u32;
        }
        for g in 0..QK / 4 {
            let q = |e: usize| (c[r][4 * g + e] + offset) as u8 as u32;
            out[g * MR + r] = q(0) | q(1) << 8 | q(2) << 16 | q(3) << 24;
        }
    }
}

/// [`pack_block`] on SIMD128: a row's codes narrowed to bytes are two vectors of four
/// groups (words); the four rows' vectors transposed 4 × 4 as words are four groups of the
/// packed block.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn pack_block(tile: Tile, c: &[[i16; QK]; MR], d: &[f32; MR], out: &mut [u32]) {
    use core::arch::wasm32::*;
    assert!(out.len() >= tile.a_block_bytes() / 4, "relaxed::pack_block: out too short");
    let offset = i8x16_splat(if tile == Tile::Q8 { 64 } else { 0 });
    // SAFETY: each row holds QK = 32 i16 (four vectors), d MR = 4 floats; out holds the
    // block's 8 groups × 4 words, 4 scales and (q4) 4 sums (asserted).
    unsafe {
        let o = out.as_mut_ptr();
        let half = |r: usize, h: usize| {
            let p = c[r].as_ptr().add(16 * h);
            i8x16_add(i8x16_narrow_i16x8(v128_load(p as *const v128), v128_load(p.add(8) as *const v128)), offset)
        };
        for h in 0..2 {
            let t = crate::gemv::tile_simd128::transpose4(half(0, h), half(1, h), half(2, h), half(3, h));
            for (g, w) in t.iter().enumerate() {
                v128_store(o.add((4 * h + g) * MR) as *mut v128, *w);
            }
        }
        v128_store(o.add(QK) as *mut v128, v128_load(d.as_ptr() as *const v128));
        if tile == Tile::Q4 {
            let ones = i16x8_splat(1);
            let sums: [i32; MR] = core::array::from_fn(|r| {
                let p = c[r].as_ptr();
                let v = |i: usize| v128_load(p.add(8 * i) as *const v128);
                // Four codes a lane: |Σ| ≤ 4·127, well inside int16.
                let s = i32x4_dot_i16x8(i16x8_add(i16x8_add(v(0), v(1)), i16x8_add(v(2), v(3))), ones);
                8 * (i32x4_extract_lane::<0>(s)
                    + i32x4_extract_lane::<1>(s)
                    + i32x4_extract_lane::<2>(s)
                    + i32x4_extract_lane::<3>(s))
            });
            v128_store(o.add(QK + MR) as *mut v128, v128_load(sums.as_ptr() as *const v128));
        }
    }
}

/// Every 4-row tile of `xa` against every sliver of the panels on `tile`: `Y = tiles (+ bias)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn tiles(
    tile: Tile, m: usize, n: usize, nb: usize, xa: &[u32], codes: &[u8], wsc: &[f32], sums: &[i32],
    bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let slivers = (n + NR - 1) / NR;
    let bb = tile.b_block_bytes();
    assert!(codes.len() >= slivers * nb * bb && wsc.len() >= slivers * nb * NR);
    assert!(tile == Tile::Q4 || sums.len() >= slivers * nb * NR);
    let tile_words = nb * tile.a_block_bytes() / 4;
    super::quant::tile_loop(m, n, tile_words, xa, bias, y, ldy, |a, s, out, ldo, bias| {
        let bp = codes[s * nb * bb..].as_ptr();
        let sp = wsc[s * nb * NR..].as_ptr();
        let qp = if tile == Tile::Q8 { sums[s * nb * NR..].as_ptr() } else { core::ptr::null() };
        // SAFETY: sliver s holds nb blocks of codes, nb·NR scales and (q8) nb·NR sums
        // (asserted above); a, out and bias as tile_loop gives them.
        unsafe { run(tile, nb, a, bp, sp, qp, out, ldo, bias) };
    });
}

/// One tile call (`gemm_q4_4x8` / `gemm_q8_4x8`, WebAssembly text).
///
/// # Safety
/// `a` holds `nb` packed activation blocks, `b` `nb` sliver blocks, `sw` (and for q8 `sq`)
/// `nb·NR` values; `out` MR rows of NR writable floats `ldo` floats apart; `bias` null or
/// NR floats. Only called when [`available`] is true.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed"))]
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn run(
    tile: Tile, nb: usize, a: *const u8, b: *const u8, sw: *const f32, sq: *const i32, out: *mut f32, ldo: usize,
    bias: *const f32,
) {
    match tile {
        Tile::Q4 => crate::wat_simd128::gemm_q4_4x8(nb, a, b, sw, out, ldo * 4, bias),
        Tile::Q8 => crate::wat_simd128::gemm_q8_4x8(nb, a, b as *const i8, sw, sq, out, ldo * 4, bias),
    }
}

/// Never called: [`available`] is false outside the relaxed-SIMD build.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128", feature = "relaxed")))]
#[allow(clippy::too_many_arguments)]
unsafe fn run(
    _: Tile, _: usize, _: *const u8, _: *const u8, _: *const f32, _: *const i32, _: *mut f32, _: usize, _: *const f32,
) {
    unreachable!("relaxed: no relaxed tile in this build")
}
