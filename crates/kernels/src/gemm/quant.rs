//! Integer GEMM for block-quantised weights: `Y = X·Wᵀ (+ bias)` with `W [n, k]` in
//! q8_0 or q4_0 and many rows of `X` (a prefill, an encoder's batch).
//!
//! The activations are quantised per block of 32 as the matrix–vector kernels do
//! ([`crate::gemv::quantize_rows`]: int8 codes held as int16, one f32 scale per row and
//! block), so the result has the same error bound as `gemv::gemv_q`: within
//! `Σ_blocks max|x_block|/254 · Σ_block |w|` of the product of the quantised weights.
//!
//! Loops: column blocks of [`NCQ`] weight rows are packed into slivers of NR = 8 rows
//! ([`pack_b_q`]): per block of 32 depths, 16 depth pairs × 8 rows × 2 int8 codes (each
//! row's pair adjacent, so one sign-extending load gives four rows' pairs as int16
//! lanes) and the 8 rows' block scales as f32. Every MR = 4 rows of `X` then meet
//! every sliver of the block in the microkernel, which sums each block's products in
//! int32 (`i32x4.dot_i16x8_s` on SIMD128: eight multiply-adds per instruction, twice the
//! float kernel's), then adds `isum · (d_x · d_w)` into float32 accumulators. The
//! integer sums are exact (|Σ| ≤ 32·127·127 < 2²⁴, so their conversion is exact too).
//! The activation rows are quantised and packed four at a time first, block by block
//! ([`pack_a_q`]), so the tile reads one stream of activations as it reads one sliver of
//! weights.

use super::blocking::{MR, NR};
use crate::format::{Format, QK};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use super::kernel_q_scalar::q_gemm_4x8_scalar as q_microkernel;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use super::kernel_q_simd128::q_gemm_4x8_simd128 as q_microkernel;

/// Weight rows per packed column block: 128 rows × k = 1536 codes is 192 KiB (+ scales),
/// resident in L2 while every 4-row sliver of X passes it.
pub const NCQ: usize = 128;

/// Bytes of one packed block of a sliver: 16 depth pairs × NR rows × 2 codes.
pub const SLIVER_BLOCK_BYTES: usize = QK * NR;

/// Bytes of one packed block of a 4-row activation tile: 16 depth pairs × MR rows × 2
/// int16 codes, then the MR rows' f32 scales.
pub const A_BLOCK_BYTES: usize = QK * MR * 2 + MR * 4;

/// Words (u32) of [`A_BLOCK_BYTES`].
const A_BLOCK_WORDS: usize = A_BLOCK_BYTES / 4;

/// Packs one block of a 4-row activation tile into `out` ([`A_BLOCK_WORDS`] words): per
/// depth pair `p`, the four rows' pairs `(x[2p], x[2p+1])` as one word each (the low half
/// the first, as memory orders them), then the four rows' scales.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn pack_a_q(codes: &[[i16; QK]; MR], scales: &[f32; MR], out: &mut [u32]) {
    for (r, x) in codes.iter().enumerate() {
        for p in 0..QK / 2 {
            out[p * MR + r] = x[2 * p] as u16 as u32 | (x[2 * p + 1] as u16 as u32) << 16;
        }
        out[QK / 2 * MR + r] = scales[r].to_bits();
    }
}

/// [`pack_a_q`] on SIMD128: a row's eight int16 codes are four pairs, one word each, so
/// the four rows' vectors of a group of four pairs, transposed 4 × 4 as words, are four
/// depth pairs of the packed block.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn pack_a_q(codes: &[[i16; QK]; MR], scales: &[f32; MR], out: &mut [u32]) {
    use core::arch::wasm32::*;
    assert!(out.len() >= A_BLOCK_WORDS, "pack_a_q: out too short");
    // SAFETY: each row holds QK = 32 i16 (four vectors), scales MR = 4 floats, out
    // A_BLOCK_WORDS = 68 words (asserted): 16 pairs × 4 rows, then 4 scales.
    unsafe {
        let o = out.as_mut_ptr();
        for g in 0..QK / 8 {
            let v = |r: usize| v128_load(codes[r].as_ptr().add(8 * g) as *const v128);
            let t = crate::gemv::tile_simd128::transpose4(v(0), v(1), v(2), v(3));
            for (i, w) in t.iter().enumerate() {
                v128_store(o.add((4 * g + i) * MR) as *mut v128, *w);
            }
        }
        v128_store(o.add(QK / 2 * MR) as *mut v128, v128_load(scales.as_ptr() as *const v128));
    }
}

/// Quantises `m` rows of `x` per block (the codes and scales of
/// [`crate::gemv::quantize_rows`], block by block) and packs them four rows at a time
/// ([`pack_a_q`]) into the front of `buf`, one block of a tile at a time; returns the
/// packed tiles (`ceil(m/4)·nb` blocks) as words. A last tile short of rows repeats its
/// last row (whose results are dropped).
pub(super) fn quantize_packed<'a>(x: &[f32], ldx: usize, m: usize, k: usize, buf: &'a mut [f32]) -> &'a [u32] {
    quantize_tiles(x, ldx, m, k, 127.0, A_BLOCK_WORDS, buf, pack_a_q)
}

/// The loop of the integer GEMMs' activation packing: quantises `m` rows of `x` per block
/// of 32 to codes in `[−max, max]` ([`crate::gemv::quantize_block_max`]) and hands each
/// 4-row tile's block (codes and scales) to `pack`, which fills its `block_words` words in
/// the front of `buf`; returns those `ceil(m/4)·nb` blocks. A last tile short of rows
/// repeats its last row (whose results are dropped).
#[allow(clippy::too_many_arguments)]
pub(super) fn quantize_tiles<'a>(
    x: &[f32], ldx: usize, m: usize, k: usize, max: f32, block_words: usize, buf: &'a mut [f32],
    mut pack: impl FnMut(&[[i16; QK]; MR], &[f32; MR], &mut [u32]),
) -> &'a [u32] {
    let nb = Format::Q8_0.blocks(k);
    let tiles = (m + MR - 1) / MR;
    let words = tiles * nb * block_words;
    assert!(buf.len() >= words, "quantize_tiles: scratch too short");
    assert!(m == 0 || k == 0 || x.len() >= (m - 1) * ldx + k, "quantize_tiles: x too short");
    // SAFETY: buf holds at least `words` floats, reused as u32 (same size and alignment;
    // integers have no invalid bit patterns).
    let xa = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut u32, words) };
    let mut codes = [[0i16; QK]; MR];
    let mut scales = [0f32; MR];
    for t in 0..tiles {
        let rows: [usize; MR] = core::array::from_fn(|r| (t * MR + r).min(m - 1));
        for b in 0..nb {
            for (r, &i) in rows.iter().enumerate() {
                let xs = &x[i * ldx + b * QK..i * ldx + k.min((b + 1) * QK)];
                scales[r] = crate::gemv::quantize_block_max(xs, &mut codes[r], max);
            }
            pack(&codes, &scales, &mut xa[(t * nb + b) * block_words..(t * nb + b + 1) * block_words]);
        }
    }
    xa
}

/// Floats of scratch [`quantize_packed`] takes for `m` rows of `nb` blocks.
pub(super) fn quantize_packed_len(m: usize, nb: usize) -> usize {
    (m + MR - 1) / MR * nb * A_BLOCK_WORDS
}

/// Packs weight rows `j0 .. j0 + nc` of the q8_0/q4_0 matrix `w` (`[n, k]`, `nb` blocks a
/// row) into `codes` (`ceil(nc/NR)` slivers × nb × [`SLIVER_BLOCK_BYTES`]) and `scales`
/// (slivers × nb × NR f32). Missing rows of the last sliver get codes 0 and scale 0.
#[allow(clippy::too_many_arguments)]
pub fn pack_b_q(
    format: Format, w: &[u8], n: usize, k: usize, j0: usize, nc: usize, codes: &mut [i8], scales: &mut [f32],
) {
    let nb = format.blocks(k);
    let (wq, ws) = crate::format::planes(format, w, n, k);
    let bb = format.layout().block_bytes;
    let slivers = (nc + NR - 1) / NR;
    assert!(codes.len() >= slivers * nb * SLIVER_BLOCK_BYTES && scales.len() >= slivers * nb * NR);
    for s in 0..slivers {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if s * NR + NR <= nc {
            for b in 0..nb {
                let rows: [*const u8; NR] = core::array::from_fn(|c| wq[((j0 + s * NR + c) * nb + b) * bb..].as_ptr());
                let out = codes[(s * nb + b) * SLIVER_BLOCK_BYTES..(s * nb + b + 1) * SLIVER_BLOCK_BYTES].as_mut_ptr();
                // SAFETY: rows j0+s·NR+c < n hold block b's bb bytes (planes() checked the
                // buffer); out is one packed block.
                unsafe { super::pack_simd128::pack_q_block_simd128(rows, format == Format::Q4_0, out) };
                for c in 0..NR {
                    scales[(s * nb + b) * NR + c] = crate::format::scale_at(ws, n, nb, j0 + s * NR + c, b);
                }
            }
            continue;
        }
        for c in 0..NR {
            let j = j0 + s * NR + c;
            for b in 0..nb {
                let out = &mut codes[(s * nb + b) * SLIVER_BLOCK_BYTES..(s * nb + b + 1) * SLIVER_BLOCK_BYTES];
                let sc = &mut scales[(s * nb + b) * NR + c];
                if s * NR + c >= nc {
                    for p in 0..QK {
                        out[(p / 2) * 2 * NR + 2 * c + p % 2] = 0;
                    }
                    *sc = 0.0;
                    continue;
                }
                let blk = j * nb + b;
                *sc = crate::format::scale_at(ws, n, nb, j, b);
                let q = &wq[blk * bb..(blk + 1) * bb];
                for p in 0..QK {
                    let v = match format {
                        Format::Q8_0 => q[p] as i8,
                        _ => {
                            let byte = q[p % (QK / 2)];
                            (if p < QK / 2 { byte & 15 } else { byte >> 4 }) as i8 - 8
                        }
                    };
                    out[(p / 2) * 2 * NR + 2 * c + p % 2] = v;
                }
            }
        }
    }
}

/// `Y = X·Wᵀ (+ bias)` for a q8_0/q4_0 weight `W [n, k]` (`format.matrix_bytes(n, k)`
/// bytes): the integer GEMM of the module docs. Uses the crate's scratch buffer; when it
/// cannot grow, does nothing and reports it ([`crate::scratch::take_alloc_failure`]).
#[allow(clippy::too_many_arguments)]
pub fn gemm_q(
    format: Format, m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[u8], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    assert!(format == Format::Q8_0 || format == Format::Q4_0, "gemm_q: {:?} is not q8_0 or q4_0", format);
    if !crate::gemv::check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    if format == Format::Q4_0 && super::relaxed::available() {
        super::q4_panels::gemm_q4_rows_relaxed(m, k, n, x, ldx, w, bias, y, ldy);
        return;
    }
    let nb = format.blocks(k);
    if nb == 0 {
        crate::gemv::fill_bias(m, n, bias, y, ldy);
        return;
    }
    let slivers = (NCQ.min(n) + NR - 1) / NR;
    // Scratch as f32: weight scales, then the packed weight codes (int8, four per float),
    // then the activations ([`quantize_packed`]).
    let ws_len = slivers * nb * NR;
    let wq_len = slivers * nb * SLIVER_BLOCK_BYTES / 4;
    crate::scratch::with_scratch(ws_len + wq_len + quantize_packed_len(m, nb), |buf| {
        let (wsc, rest) = buf.split_at_mut(ws_len);
        let (wq, rest) = rest.split_at_mut(wq_len);
        // SAFETY: wq holds slivers·nb·64 floats = slivers·nb·256 i8 (alignment 4 ≥ 1);
        // integers have no invalid bit patterns.
        let wq =
            unsafe { core::slice::from_raw_parts_mut(wq.as_mut_ptr() as *mut i8, slivers * nb * SLIVER_BLOCK_BYTES) };
        let xa = quantize_packed(x, ldx, m, k, rest);
        for jc in (0..n).step_by(NCQ) {
            let nc = NCQ.min(n - jc);
            pack_b_q(format, w, n, k, jc, nc, wq, wsc);
            tiles(m, nb, jc, nc, xa, wq, wsc, bias, y, ldy);
        }
    });
}

/// Every 4-row tile of `X` (packed by [`pack_a_q`] in `xa`) against the slivers of weight
/// rows `jc .. jc + nc` (codes `wq` and scales `wsc` of those slivers):
/// `Y[:, jc..jc+nc] = tiles (+ bias)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn tiles(
    m: usize, nb: usize, jc: usize, nc: usize, xa: &[u32], wq: &[i8], wsc: &[f32], bias: Option<&[f32]>, y: &mut [f32],
    ldy: usize,
) {
    let slivers = (nc + NR - 1) / NR;
    assert!(wq.len() >= slivers * nb * SLIVER_BLOCK_BYTES && wsc.len() >= slivers * nb * NR);
    let bias = bias.map(|b| &b[jc..jc + nc]);
    tile_loop(m, nc, nb * A_BLOCK_WORDS, xa, bias, &mut y[jc..], ldy, |a, s, out, ldo, bias| {
        let (bp, sp) = (wq[s * nb * SLIVER_BLOCK_BYTES..].as_ptr(), wsc[s * nb * NR..].as_ptr());
        // SAFETY: sliver s holds nb packed blocks and nb·NR scales (asserted above); a, out
        // and bias as tile_loop gives them.
        unsafe { q_microkernel(nb, a, bp, sp, out, ldo, bias) };
    });
}

/// The integer GEMMs' loop over 4×8 tiles: every 4-row tile of the packed activations `xa`
/// (`tile_words` words each) against every sliver `s` of NR columns of `Y[:, 0..n]`, by
/// `kernel(a, s, out, ldo, bias)`, which sets the MR rows of NR floats at `out` (`ldo`
/// floats apart) from the tile at `a`, adding the NR floats at `bias` unless it is null.
/// Whole tiles are written in place, bias included; edge tiles go through a local tile.
#[allow(clippy::too_many_arguments)]
pub(super) fn tile_loop(
    m: usize, n: usize, tile_words: usize, xa: &[u32], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
    mut kernel: impl FnMut(*const u8, usize, *mut f32, usize, *const f32),
) {
    assert!(xa.len() >= (m + MR - 1) / MR * tile_words);
    for i0 in (0..m).step_by(MR) {
        let mr = MR.min(m - i0);
        let a = xa[i0 / MR * tile_words..].as_ptr() as *const u8;
        for s in 0..(n + NR - 1) / NR {
            let c0 = s * NR;
            let nr = NR.min(n - c0);
            if mr == MR && nr == NR {
                let bias = bias.map_or(core::ptr::null(), |b| b[c0..c0 + NR].as_ptr());
                // out spans MR rows of NR floats ldy apart (the slice is bounds-checked).
                let out = y[i0 * ldy + c0..(i0 + MR - 1) * ldy + c0 + NR].as_mut_ptr();
                kernel(a, s, out, ldy, bias);
                continue;
            }
            let mut tile = [0f32; MR * NR];
            kernel(a, s, tile.as_mut_ptr(), NR, core::ptr::null());
            for r in 0..mr {
                let out = &mut y[(i0 + r) * ldy + c0..(i0 + r) * ldy + c0 + nr];
                for (c, o) in out.iter_mut().enumerate() {
                    *o = match bias {
                        Some(b) => tile[r * NR + c] + b[c0 + c],
                        None => tile[r * NR + c],
                    };
                }
            }
        }
    }
}

/// [`gemm_q`] for a weight already in [`Format::Q8Panels`] (`Format::Q8Panels.matrix_bytes(n, k)`
/// bytes at a 4-byte aligned address): the slivers are read where they lie, so only the
/// activations are quantised per call.
#[allow(clippy::too_many_arguments)]
pub fn gemm_q8_panels(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, panels: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    if !crate::gemv::check(m, k, n, x, ldx, bias, y, ldy) {
        return;
    }
    let (codes, wsc, sums) = crate::format::panel_planes(Format::Q8Panels, panels, n, k);
    let nb = Format::Q8Panels.blocks(k);
    if nb == 0 {
        crate::gemv::fill_bias(m, n, bias, y, ldy);
        return;
    }
    if super::relaxed::available() {
        super::relaxed::gemm(super::relaxed::Tile::Q8, m, k, n, x, ldx, codes, wsc, sums, bias, y, ldy);
        return;
    }
    // SAFETY: i8 and u8 share size and alignment.
    let wq = unsafe { core::slice::from_raw_parts(codes.as_ptr() as *const i8, codes.len()) };
    crate::scratch::with_scratch(quantize_packed_len(m, nb), |buf| {
        let xa = quantize_packed(x, ldx, m, k, buf);
        for jc in (0..n).step_by(NCQ) {
            let nc = NCQ.min(n - jc);
            let s0 = jc / NR;
            tiles(m, nb, jc, nc, xa, &wq[s0 * nb * SLIVER_BLOCK_BYTES..], &wsc[s0 * nb * NR..], bias, y, ldy);
        }
    });
}
