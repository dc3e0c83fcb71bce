//! Storage formats of matrices: one registry for plain dtypes and block-quantised formats.
//!
//! A [`Format`] says how a row of `cols` values is stored: as elements of one
//! [`DType`](crate::dtype::DType) (float32, float16, bfloat16), as int8 codes with one
//! f32 scale per row (the KV cache's rows), or as blocks of 32 codes with one scale
//! per block (q8_0, q4_0: ggml's codes and float16 scale values). Every format is a
//! [`Layout`]: elements per block, bytes of codes per block and where the scale lives. Codes 0..3 are the
//! [`DType`](crate::dtype::DType) codes (the KV cache and `ts/dtype.ts` use them);
//! 4 and 5 are the block formats; 6 is float32 repacked in the GEMM's panel order, 7
//! q8_0 repacked in the integer GEMM's sliver order and 8 q4_0 in the 4-bit GEMM's
//! (layouts one kernel reads, as ggml's repacked types are entries of its type registry).
//!
//! # float32 panels
//!
//! A `rows × cols` weight `W` (rows = outputs) in [`Format::F32Panels`] holds `Wᵀ`
//! exactly as the blocked GEMM packs its B operand ([`crate::gemm::pack`]), for the
//! whole matrix at once: `cols` is cut into KC-deep slices; within a slice, the rows
//! (padded with zeros to a multiple of NR) form slivers of NR rows stored depth-major.
//! Element `(j, p)` lies at [`panel_index`]. A product with it never packs B again.
//!
//! # Block-quantised matrices in memory
//!
//! A `rows × cols` matrix in q8_0 or q4_0 is one byte buffer of two planes, each
//! row-major, a row's `nb = ceil(cols / 32)` blocks in order:
//!
//! * the **code plane** first, `rows · nb · block_bytes` bytes: q8_0 holds 32 `i8`
//!   codes per block (element `j` at byte `j`); q4_0 holds 16 bytes per block, byte `j`
//!   carrying element `j` in its low nibble and element `j + 16` in its high nibble
//!   (ggml's order), each nibble the code `q + 8` of a value `scale · q`, `q ∈ [−8, 7]`;
//! * then the **scale plane**: each block's scale, a float16 value (ggml's rounding)
//!   stored as a little-endian f32, in the matrix–vector kernel's tile order
//!   ([`scale_index`]): the rows fall into `q = ceil(rows / 4)` tiles of four rows
//!   `t, t + q, t + 2q, t + 3q`, and a tile's plane holds, block by block, its four
//!   rows' scales side by side (`ceil(rows / 4) · 4 · nb` floats; slots of rows past
//!   `rows` hold 0). The kernel reads a block's four scales as one vector: no widening
//!   and no transpose per call (the pass that did both cost a fifth of a decode step).
//!
//! # q4_0 panels
//!
//! A `rows × cols` matrix in [`Format::Q4Panels`] holds q4_0's values (the same nibbles
//! `q + 8` and float16 scale values) for the 4-bit GEMM (`crate::gemm::q4_panels`): the
//! rows, padded with zeros to a multiple of NR = 8, form slivers of 8; a sliver's block
//! of 32 depths is 128 bytes, 16 per group of four depths `4g .. 4g+3`, byte `4c + e`
//! of the group carrying row `c`'s depth `4g + e` in its low nibble and row `c + 4`'s in
//! its high nibble ([`q4_panel_code`]). One 16-byte load and two masks give the kernel
//! two vectors of four rows × four depths, the operand of a 4-wide integer dot product.
//! The scales follow as f32, `(sliver · nb + block) · 8 + row % 8` (as in q8_0 panels,
//! which also keep each block's code sum `Σq` as an i32 in a third plane of that order).
//!
//! Codes and scales apart keep each plane's loads aligned and contiguous (a block's
//! 32 codes are two aligned `v128` loads in q8_0, one in q4_0). A last partial block
//! is padded with zero values (codes 0; nibble 8) so kernels never read past a row.

use crate::dtype::{f16_to_f32, f32_to_f16, DType};
use crate::gemm::blocking::{KC, NR};

/// Elements per quantisation block in q8_0 and q4_0 (ggml's `QK8_0`/`QK4_0`).
pub const QK: usize = 32;

/// Where a format keeps its scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// No scale: the stored elements are the values.
    None,
    /// One f32 per row, stored beside the codes by their owner (KV cache rows).
    RowF32,
    /// One f32 per block (a float16 value), in a plane after the codes, in the
    /// matrix–vector tile order (see the module docs and [`scale_index`]).
    BlockTiles,
    /// One f32 per block, in a plane after the codes (q4_0 panels).
    BlockF32,
    /// One f32 per block, in a plane after the codes, then each block's code sum `Σq` as
    /// an i32 in a plane after the scales (q8_0 panels: the relaxed-SIMD tile's offset
    /// correction, as ggml's q8_1 keeps its blocks' sums).
    BlockF32Sum,
}

/// A format's geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Elements per block (1 for element formats).
    pub block: usize,
    /// Bytes of codes per block (the element size for element formats).
    pub block_bytes: usize,
    pub scale: Scale,
}

/// A storage format of a matrix row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    F32,
    F16,
    BF16,
    /// Symmetric int8 codes with an f32 scale per row ([`crate::dtype::quantize_i8`]).
    I8Row,
    /// Blocks of 32: one scale `d` (a float16 value) and 32 int8 codes; value = `d · q`.
    Q8_0,
    /// Blocks of 32: one scale `d` (a float16 value) and 32 4-bit codes; value = `d · (nibble − 8)`.
    Q4_0,
    /// f32 values in the GEMM's B panel order (module docs), rows padded to NR.
    F32Panels,
    /// q8_0 codes in the integer GEMM's sliver order, f32 scales and i32 code sums (module docs).
    Q8Panels,
    /// q4_0 nibbles in the 4-bit GEMM's sliver order, f32 scales (module docs).
    Q4Panels,
}

impl Format {
    /// Every format, in code order.
    pub const ALL: [Format; 9] = [
        Format::F32,
        Format::F16,
        Format::BF16,
        Format::I8Row,
        Format::Q8_0,
        Format::Q4_0,
        Format::F32Panels,
        Format::Q8Panels,
        Format::Q4Panels,
    ];

    /// The ABI code: 0 f32, 1 f16, 2 bf16, 3 int8 rows, 4 q8_0, 5 q4_0, 6 f32 panels, 7 q8_0
    /// panels, 8 q4_0 panels.
    pub fn code(self) -> u32 {
        match self {
            Format::F32 => 0,
            Format::F16 => 1,
            Format::BF16 => 2,
            Format::I8Row => 3,
            Format::Q8_0 => 4,
            Format::Q4_0 => 5,
            Format::F32Panels => 6,
            Format::Q8Panels => 7,
            Format::Q4Panels => 8,
        }
    }

    pub fn from_code(code: u32) -> Option<Format> {
        Format::ALL.iter().copied().find(|f| f.code() == code)
    }

    /// The format of rows stored as plain `dtype` elements.
    pub fn of(dtype: DType) -> Format {
        match dtype {
            DType::F32 => Format::F32,
            DType::F16 => Format::F16,
            DType::BF16 => Format::BF16,
            DType::I8 => Format::I8Row,
        }
    }

    /// The element dtype of an element format (`None` for the block formats).
    pub fn dtype(self) -> Option<DType> {
        match self {
            Format::F32 => Some(DType::F32),
            Format::F16 => Some(DType::F16),
            Format::BF16 => Some(DType::BF16),
            Format::I8Row => Some(DType::I8),
            Format::Q8_0 | Format::Q4_0 | Format::F32Panels | Format::Q8Panels | Format::Q4Panels => None,
        }
    }

    pub fn layout(self) -> Layout {
        match self {
            Format::F32 | Format::F32Panels => Layout { block: 1, block_bytes: 4, scale: Scale::None },
            Format::F16 | Format::BF16 => Layout { block: 1, block_bytes: 2, scale: Scale::None },
            Format::I8Row => Layout { block: 1, block_bytes: 1, scale: Scale::RowF32 },
            Format::Q8_0 => Layout { block: QK, block_bytes: QK, scale: Scale::BlockTiles },
            Format::Q4_0 => Layout { block: QK, block_bytes: QK / 2, scale: Scale::BlockTiles },
            Format::Q8Panels => Layout { block: QK, block_bytes: QK, scale: Scale::BlockF32Sum },
            Format::Q4Panels => Layout { block: QK, block_bytes: QK / 2, scale: Scale::BlockF32 },
        }
    }

    /// Blocks per row of `cols` values.
    pub fn blocks(self, cols: usize) -> usize {
        let b = self.layout().block;
        cols / b + (cols % b != 0) as usize
    }

    /// Rows as stored: panels pad the rows to a multiple of NR (`None` on overflow).
    pub fn stored_rows(self, rows: usize) -> Option<usize> {
        match self {
            Format::F32Panels | Format::Q8Panels | Format::Q4Panels => rows.checked_add(NR - 1).map(|r| r / NR * NR),
            _ => Some(rows),
        }
    }

    /// Bytes of the code plane of a `rows × cols` matrix (`None` on overflow).
    pub fn code_bytes(self, rows: usize, cols: usize) -> Option<usize> {
        self.stored_rows(rows)?.checked_mul(self.blocks(cols))?.checked_mul(self.layout().block_bytes)
    }

    /// Bytes of a whole `rows × cols` matrix: codes plus, for the block formats, the
    /// scale plane after them (int8 rows keep their f32 scales elsewhere, so only
    /// the codes count). `None` on overflow.
    pub fn matrix_bytes(self, rows: usize, cols: usize) -> Option<usize> {
        let codes = self.code_bytes(rows, cols)?;
        match self.layout().scale {
            Scale::BlockTiles => codes.checked_add(
                rows.checked_add(SCALE_TILE - 1)?
                    .checked_div(SCALE_TILE)?
                    .checked_mul(SCALE_TILE * 4)?
                    .checked_mul(self.blocks(cols))?,
            ),
            Scale::BlockF32 => {
                codes.checked_add(self.stored_rows(rows)?.checked_mul(self.blocks(cols))?.checked_mul(4)?)
            }
            Scale::BlockF32Sum => {
                codes.checked_add(self.stored_rows(rows)?.checked_mul(self.blocks(cols))?.checked_mul(8)?)
            }
            _ => Some(codes),
        }
    }

    /// Whether this is a block-quantised format (q8_0, q4_0).
    pub fn is_block(self) -> bool {
        self.layout().scale == Scale::BlockTiles
    }
}

/// Rows of a tile of the q8_0/q4_0 scale plane: the matrix–vector kernels' tile
/// (`crate::gemv::NR`, rows `t + r·q`).
pub const SCALE_TILE: usize = 4;

/// Tiles of the scale plane of a `rows`-row matrix: `q = ⌈rows/4⌉`.
#[inline(always)]
pub fn scale_tiles(rows: usize) -> usize {
    (rows + SCALE_TILE - 1) / SCALE_TILE
}

/// Index (in f32) of the scale of block `b` of row `r` in the scale plane of a `rows`-row
/// matrix of `nb` blocks a row: row `r` is slot `r / q` of tile `r % q`, `q` =
/// [`scale_tiles`]`(rows)` (rows up to `4·q` map to the tiles' padding slots).
#[inline(always)]
pub fn scale_index(rows: usize, nb: usize, r: usize, b: usize) -> usize {
    let q = scale_tiles(rows);
    ((r % q) * nb + b) * SCALE_TILE + r / q
}

/// The scale of block `b` of row `r` from a scale plane (bytes), as [`scale_index`] lays it out.
#[inline(always)]
pub fn scale_at(scales: &[u8], rows: usize, nb: usize, r: usize, b: usize) -> f32 {
    let at = 4 * scale_index(rows, nb, r, b);
    f32::from_le_bytes([scales[at], scales[at + 1], scales[at + 2], scales[at + 3]])
}

/// Splits a block-format matrix buffer into its code plane and scale plane.
/// Panics unless `buf` is exactly `format.matrix_bytes(rows, cols)` long.
pub fn planes(format: Format, buf: &[u8], rows: usize, cols: usize) -> (&[u8], &[u8]) {
    assert!(format.is_block(), "format::planes: {:?} is not a block format", format);
    let codes = format.code_bytes(rows, cols).expect("format::planes: size overflows");
    assert!(Some(buf.len()) == format.matrix_bytes(rows, cols), "format::planes: buffer length");
    buf.split_at(codes)
}

/// The planes of a q8_0 or q4_0 panel matrix (`rows × cols`, at a 4-byte aligned address):
/// the codes, the f32 scales and (q8_0 panels; empty for q4_0) the i32 code sums, each
/// `stored_rows · blocks` long. Panics unless `buf` is exactly the matrix's size and aligned.
pub fn panel_planes(format: Format, buf: &[u8], rows: usize, cols: usize) -> (&[u8], &[f32], &[i32]) {
    assert!(format == Format::Q8Panels || format == Format::Q4Panels, "format::panel_planes: {:?}", format);
    assert!(Some(buf.len()) == format.matrix_bytes(rows, cols), "format::panel_planes: buffer length");
    let count = format.stored_rows(rows).expect("format::panel_planes: size") * format.blocks(cols);
    let (codes, rest) = buf.split_at(count * format.layout().block_bytes);
    assert!(rest.as_ptr() as usize % 4 == 0, "format::panel_planes: scales misaligned");
    let sums = if format == Format::Q8Panels { count } else { 0 };
    // SAFETY: after the codes the buffer holds count f32 scales and then `sums` i32 (its
    // length was checked against matrix_bytes) at a 4-byte aligned address (asserted);
    // every bit pattern is an f32 or an i32.
    unsafe {
        let scales = core::slice::from_raw_parts(rest.as_ptr() as *const f32, count);
        let sums = core::slice::from_raw_parts(rest.as_ptr().add(4 * count) as *const i32, sums);
        (codes, scales, sums)
    }
}

/// The block quantisers: the SIMD128 twins where they are compiled, else the definitions below.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::quantize_simd128 as block_quantiser;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod block_quantiser {
    pub(super) use super::{dequantize_block, q4_0_block, q8_0_block};
}

/// Quantises one block (≤ 32 values; missing ones count as 0) to q8_0, as ggml does:
/// `d = max|x| / 127`, `q = round(x / d)` (ties away from zero; computed as `x · (1/d)`
/// in f32), and the stored scale is `d` rounded to float16. A block holding ±inf or
/// NaN gets a NaN scale and zero codes, so whatever reads it becomes NaN.
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
pub(crate) fn q8_0_block(x: &[f32], q: &mut [u8]) -> u16 {
    let mut amax = 0.0f32;
    let mut finite = true;
    for &v in x {
        finite &= v.is_finite();
        amax = amax.max(v.abs());
    }
    q.iter_mut().for_each(|c| *c = 0);
    if !finite {
        return f32_to_f16(f32::NAN);
    }
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    for (c, &v) in q.iter_mut().zip(x) {
        *c = ((v * id).round() as i32).max(-127).min(127) as i8 as u8;
    }
    f32_to_f16(d)
}

/// Quantises one block to q4_0, as ggml does: `m` is the value of largest magnitude
/// (with its sign), `d = m / −8`, nibble = `min(15, trunc(x / d + 8.5))` (round half up
/// of `x/d`, then offset by 8); the extreme value maps to code −8 exactly. Non-finite
/// blocks as in q8_0 (NaN scale, codes 0 = nibble 8).
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
pub(crate) fn q4_0_block(x: &[f32], q: &mut [u8]) -> u16 {
    let mut amax = 0.0f32;
    let mut max = 0.0f32;
    let mut finite = true;
    for &v in x {
        finite &= v.is_finite();
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    q.iter_mut().for_each(|c| *c = 0x88);
    if !finite {
        return f32_to_f16(f32::NAN);
    }
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let code = |j: usize| -> u8 {
        let v = x.get(j).copied().unwrap_or(0.0);
        ((v * id + 8.5) as i32).max(0).min(15) as u8
    };
    for (j, c) in q.iter_mut().enumerate() {
        *c = code(j) | (code(j + QK / 2) << 4);
    }
    f32_to_f16(d)
}

/// Index of element `(j, p)` (row `j < rows`, column `p < cols`) of a [`Format::F32Panels`]
/// matrix: its KC slice, the row's sliver in it, then depth-major within the sliver.
pub fn panel_index(j: usize, p: usize, rows: usize, cols: usize) -> usize {
    let stored = rows / NR * NR + if rows % NR != 0 { NR } else { 0 };
    let pc = p / KC * KC;
    let kc = KC.min(cols - pc);
    pc * stored + (j / NR) * kc * NR + (p - pc) * NR + j % NR
}

/// Writes `count` rows of `cols` f32 values (row stride `ld`) as rows `row0 ..` of the
/// `rows × cols` [`Format::F32Panels`] matrix `dst`; writing its last row also zeroes
/// the padding rows, so a matrix written in row order is complete.
pub fn write_panel_rows(src: &[f32], ld: usize, row0: usize, count: usize, rows: usize, cols: usize, dst: &mut [f32]) {
    let stored = Format::F32Panels.stored_rows(rows).expect("format::write_panel_rows: size overflows");
    assert!(row0 + count <= rows && dst.len() == stored * cols, "format::write_panel_rows: dst length");
    assert!(count == 0 || cols == 0 || src.len() >= (count - 1) * ld + cols, "format::write_panel_rows: src too short");
    for i in 0..count {
        let row = &src[i * ld..i * ld + cols];
        for (p, &x) in row.iter().enumerate() {
            dst[panel_index(row0 + i, p, rows, cols)] = x;
        }
    }
    if row0 + count == rows {
        for j in rows..stored {
            for p in 0..cols {
                dst[panel_index(j, p, rows, cols)] = 0.0;
            }
        }
    }
}

/// Byte and bit shift of the nibble of element `(j, p)` (row `j`, depth `p`) in the code
/// plane of a [`Format::Q4Panels`] matrix of `nb` blocks a row (module docs).
#[inline(always)]
pub fn q4_panel_code(j: usize, p: usize, nb: usize) -> (usize, u32) {
    let (s, c) = (j / NR, j % NR);
    let (b, e) = (p / QK, p % QK);
    ((s * nb + b) * QK * NR / 2 + (e / 4) * 16 + (c % 4) * 4 + e % 4, if c < 4 { 0 } else { 4 })
}

/// Quantises `count` rows of `cols` f32 values (row stride `ld`) to q8_0 (`format`
/// [`Format::Q8Panels`]) or q4_0 ([`Format::Q4Panels`]) and writes them as rows `row0 ..`
/// of the `rows × cols` panel matrix `dst`; writing its last row also zeroes the padding
/// rows (values and scales 0).
#[allow(clippy::too_many_arguments)]
pub fn write_q_panel_rows(
    format: Format, src: &[f32], ld: usize, row0: usize, count: usize, rows: usize, cols: usize, dst: &mut [u8],
) {
    assert!(format == Format::Q8Panels || format == Format::Q4Panels, "format::write_q_panel_rows: {:?}", format);
    let stored = format.stored_rows(rows).expect("format::write_q_panel_rows: size overflows");
    assert!(
        row0.checked_add(count).map_or(false, |e| e <= rows) && Some(dst.len()) == format.matrix_bytes(rows, cols),
        "format::write_q_panel_rows: dst length"
    );
    assert!(
        count == 0 || cols == 0 || src.len() >= (count - 1) * ld + cols,
        "format::write_q_panel_rows: src too short"
    );
    let nb = format.blocks(cols);
    let (codes, scales) = dst.split_at_mut(stored * nb * format.layout().block_bytes);
    let (scales, sums) = scales.split_at_mut(stored * nb * 4);
    // One row's block: q8_0's 32 codes, or q4_0's 16 bytes in ggml's order (byte e holds
    // element e low and e + 16 high).
    let mut put = |j: usize, b: usize, q: &[u8; QK], d: f32| {
        let (s, c) = (j / NR, j % NR);
        if format == Format::Q8Panels {
            let out = &mut codes[(s * nb + b) * QK * NR..(s * nb + b + 1) * QK * NR];
            for (p, &v) in q.iter().enumerate() {
                out[(p / 2) * 2 * NR + 2 * c + p % 2] = v;
            }
            let sum: i32 = q.iter().map(|&v| v as i8 as i32).sum();
            let at = 4 * ((s * nb + b) * NR + c);
            sums[at..at + 4].copy_from_slice(&sum.to_le_bytes());
        } else {
            for e in 0..QK {
                let v = if e < QK / 2 { q[e] & 15 } else { q[e - QK / 2] >> 4 };
                let (at, shift) = q4_panel_code(j, b * QK + e, nb);
                codes[at] = codes[at] & !(15 << shift) | v << shift;
            }
        }
        let at = 4 * ((s * nb + b) * NR + c);
        scales[at..at + 4].copy_from_slice(&d.to_le_bytes());
    };
    let mut q = [0u8; QK];
    for i in 0..count {
        let row = &src[i * ld..i * ld + cols];
        for b in 0..nb {
            let xb = &row[b * QK..cols.min((b + 1) * QK)];
            let d = match format {
                Format::Q8Panels => block_quantiser::q8_0_block(xb, &mut q),
                _ => block_quantiser::q4_0_block(xb, &mut q[..QK / 2]),
            };
            put(row0 + i, b, &q, f16_to_f32(d));
        }
    }
    if row0 + count == rows {
        // Padding rows: the value 0 (code 0; nibble 8) with scale 0.
        let zero = [if format == Format::Q8Panels { 0 } else { 0x88 }; QK];
        for j in rows..stored {
            for b in 0..nb {
                put(j, b, &zero, 0.0);
            }
        }
    }
}

/// [`write_q_panel_rows`] to [`Format::Q8Panels`].
pub fn write_q8_panel_rows(
    src: &[f32], ld: usize, row0: usize, count: usize, rows: usize, cols: usize, dst: &mut [u8],
) {
    write_q_panel_rows(Format::Q8Panels, src, ld, row0, count, rows, cols, dst)
}

/// Quantises `count` rows of `cols` f32 values (row stride `ld`) to q8_0 or q4_0 and
/// writes them as rows `row0 ..` of the `rows × cols` matrix buffer `dst` (each plane's
/// part of those rows; the rest is not touched); writing the last row also zeroes the
/// scale slots of the rows past `rows`.
#[allow(clippy::too_many_arguments)]
pub fn write_block_rows(
    format: Format, src: &[f32], ld: usize, row0: usize, count: usize, rows: usize, cols: usize, dst: &mut [u8],
) {
    assert!(format.is_block(), "format::write_block_rows: {:?} is not a block format", format);
    assert!(
        row0.checked_add(count).map_or(false, |e| e <= rows) && Some(dst.len()) == format.matrix_bytes(rows, cols),
        "format::write_block_rows: dst length"
    );
    assert!(
        count == 0 || cols == 0 || (ld >= cols && src.len() >= (count - 1) * ld + cols),
        "format::write_block_rows: src too short"
    );
    let nb = format.blocks(cols);
    let bb = format.layout().block_bytes;
    let (codes, scales) = dst.split_at_mut(rows * nb * bb);
    let mut put = |r: usize, b: usize, d: f32| {
        let at = 4 * scale_index(rows, nb, r, b);
        scales[at..at + 4].copy_from_slice(&d.to_le_bytes());
    };
    for i in 0..count {
        let r = row0 + i;
        let x = if cols == 0 { &[][..] } else { &src[i * ld..i * ld + cols] };
        for b in 0..nb {
            let xb = &x[b * QK..cols.min((b + 1) * QK)];
            let q = &mut codes[(r * nb + b) * bb..(r * nb + b + 1) * bb];
            let d = match format {
                Format::Q8_0 => block_quantiser::q8_0_block(xb, q),
                _ => block_quantiser::q4_0_block(xb, q),
            };
            put(r, b, f16_to_f32(d));
        }
    }
    if row0 + count == rows {
        // The slots of the tile rows past `rows` ([`scale_index`] maps rows up to the
        // tiles' 4·q exactly as it maps the real ones).
        for r in rows..scale_tiles(rows) * SCALE_TILE {
            for b in 0..nb {
                put(r, b, 0.0);
            }
        }
    }
}

/// Quantises `rows` rows of `cols` f32 values (row stride `ld`) into a q8_0 or q4_0
/// matrix buffer `dst` of `format.matrix_bytes(rows, cols)` bytes (layout in the
/// module docs).
pub fn quantize(format: Format, src: &[f32], ld: usize, rows: usize, cols: usize, dst: &mut [u8]) {
    write_block_rows(format, src, ld, 0, rows, rows, cols, dst);
}

/// [`quantize`] to q8_0.
pub fn quantize_q8_0(src: &[f32], ld: usize, rows: usize, cols: usize, dst: &mut [u8]) {
    quantize(Format::Q8_0, src, ld, rows, cols, dst)
}

/// [`quantize`] to q4_0.
pub fn quantize_q4_0(src: &[f32], ld: usize, rows: usize, cols: usize, dst: &mut [u8]) {
    quantize(Format::Q4_0, src, ld, rows, cols, dst)
}

/// The values of a q8_0 or q4_0 matrix buffer: `dst[r · cols + c] = d · q` (exact in
/// f32: a float16 scale value times a code of at most 8 bits needs at most 19 bits).
pub fn dequantize(format: Format, src: &[u8], rows: usize, cols: usize, dst: &mut [f32]) {
    let (codes, scales) = planes(format, src, rows, cols);
    assert!(dst.len() == rows * cols, "format::dequantize: dst length");
    let nb = format.blocks(cols);
    let bb = format.layout().block_bytes;
    for r in 0..rows {
        for b in 0..nb {
            let blk = r * nb + b;
            let d = scale_at(scales, rows, nb, r, b);
            let out = &mut dst[r * cols + b * QK..r * cols + cols.min((b + 1) * QK)];
            block_quantiser::dequantize_block(format, d, &codes[blk * bb..(blk + 1) * bb], out);
        }
    }
}

/// `out[j] = d · q_j` for one block's codes (`out.len()` ≤ 32 values of it).
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
pub(crate) fn dequantize_block(format: Format, d: f32, codes: &[u8], out: &mut [f32]) {
    for (j, o) in out.iter_mut().enumerate() {
        let q = match format {
            Format::Q8_0 => codes[j] as i8 as i32,
            _ => {
                let byte = codes[j % (QK / 2)];
                (if j < QK / 2 { byte & 15 } else { byte >> 4 }) as i32 - 8
            }
        };
        *o = d * q as f32;
    }
}

/// Rows `ids` of a `[rows, cols]` matrix buffer in `format` as f32 (an embedding
/// lookup from a weight in any storage format): element formats widen exactly, block
/// formats dequantise (`d · q`, exact in f32). `dst` holds `ids.len() · cols` values;
/// every id must be `< rows` (checked by the caller; asserted here).
pub fn gather_rows(format: Format, buf: &[u8], rows: usize, cols: usize, ids: &[u32], dst: &mut [f32]) {
    assert!(format != Format::I8Row, "format::gather_rows: int8 rows carry their scales elsewhere");
    assert!(Some(buf.len()) == format.matrix_bytes(rows, cols), "format::gather_rows: buffer length");
    assert!(dst.len() == ids.len() * cols, "format::gather_rows: dst length");
    for (i, &id) in ids.iter().enumerate() {
        let r = id as usize;
        assert!(r < rows, "format::gather_rows: id out of range");
        let out = &mut dst[i * cols..(i + 1) * cols];
        if format == Format::Q8Panels {
            let stored = rows / NR * NR + if rows % NR != 0 { NR } else { 0 };
            let nb = format.blocks(cols);
            let (codes, scales) = buf.split_at(stored * nb * QK);
            let (s, c) = (r / NR, r % NR);
            for (p, o) in out.iter_mut().enumerate() {
                let b = p / QK;
                let e = p % QK;
                let q = codes[(s * nb + b) * QK * NR + (e / 2) * 2 * NR + 2 * c + e % 2] as i8;
                let at = 4 * ((s * nb + b) * NR + c);
                let d = f32::from_le_bytes([scales[at], scales[at + 1], scales[at + 2], scales[at + 3]]);
                *o = d * q as f32;
            }
            continue;
        }
        if format == Format::Q4Panels {
            let stored = rows / NR * NR + if rows % NR != 0 { NR } else { 0 };
            let nb = format.blocks(cols);
            let (codes, scales) = buf.split_at(stored * nb * QK / 2);
            for (p, o) in out.iter_mut().enumerate() {
                let (at, shift) = q4_panel_code(r, p, nb);
                let q = (codes[at] >> shift & 15) as i32 - 8;
                let s = 4 * ((r / NR * nb + p / QK) * NR + r % NR);
                *o = f32::from_le_bytes([scales[s], scales[s + 1], scales[s + 2], scales[s + 3]]) * q as f32;
            }
            continue;
        }
        if format == Format::F32Panels {
            for (p, o) in out.iter_mut().enumerate() {
                let at = 4 * panel_index(r, p, rows, cols);
                *o = f32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
            }
            continue;
        }
        if let Some(d) = format.dtype() {
            let rb = cols * d.size();
            crate::dtype::widen(d, &buf[r * rb..(r + 1) * rb], out);
            continue;
        }
        let nb = format.blocks(cols);
        let bb = format.layout().block_bytes;
        let (codes, scales) = planes(format, buf, rows, cols);
        for b in 0..nb {
            let blk = r * nb + b;
            let d = scale_at(scales, rows, nb, r, b);
            let o = &mut out[b * QK..cols.min((b + 1) * QK)];
            block_quantiser::dequantize_block(format, d, &codes[blk * bb..(blk + 1) * bb], o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_codes_and_sizes() {
        for f in Format::ALL {
            assert_eq!(Format::from_code(f.code()), Some(f));
            if let Some(d) = f.dtype() {
                assert_eq!(d.code(), f.code());
                assert_eq!(Format::of(d), f);
                assert_eq!(f.layout().block_bytes, d.size());
            }
        }
        assert_eq!(Format::from_code(9), None);
        // q4_0 panels: 8 padded rows × 2 blocks × (16 bytes of nibbles + an f32 scale).
        assert_eq!(Format::Q4Panels.matrix_bytes(3, 33), Some(8 * 2 * 20));
        // q8_0 panels: 8 padded rows × 2 blocks × (32 codes + an f32 scale + an i32 sum).
        assert_eq!(Format::Q8Panels.matrix_bytes(3, 33), Some(8 * 2 * 40));
        // Panels pad their rows to NR = 8.
        assert_eq!(Format::F32Panels.matrix_bytes(3, 5), Some(8 * 5 * 4));
        assert_eq!(Format::F32Panels.matrix_bytes(16, 5), Some(16 * 5 * 4));
        assert_eq!(Format::F32Panels.matrix_bytes(usize::MAX, 5), None);
        assert_eq!(Format::Q8_0.matrix_bytes(3, 64), Some(3 * 2 * 32 + 4 * 2 * 4));
        assert_eq!(Format::Q4_0.matrix_bytes(3, 33), Some(3 * 2 * 16 + 4 * 2 * 4));
        assert_eq!(Format::Q4_0.matrix_bytes(9, 32), Some(9 * 16 + 12 * 4));
        assert_eq!(Format::F16.matrix_bytes(3, 5), Some(30));
        assert_eq!(Format::Q8_0.matrix_bytes(usize::MAX, 64), None);
    }

    #[test]
    fn gather_rows_matches_dequantize() {
        let (rows, cols) = (5, 70);
        let src: Vec<f32> = (0..rows * cols).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
        for f in [Format::Q8_0, Format::Q4_0] {
            let mut buf = vec![0u8; f.matrix_bytes(rows, cols).unwrap()];
            quantize(f, &src, cols, rows, cols, &mut buf);
            let mut all = vec![0.0f32; rows * cols];
            dequantize(f, &buf, rows, cols, &mut all);
            let ids = [3u32, 0, 3, 4];
            let mut got = vec![0.0f32; ids.len() * cols];
            gather_rows(f, &buf, rows, cols, &ids, &mut got);
            for (i, &id) in ids.iter().enumerate() {
                assert_eq!(&got[i * cols..(i + 1) * cols], &all[id as usize * cols..(id as usize + 1) * cols]);
            }
        }
        let bytes: Vec<u8> = src.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut got = vec![0.0f32; cols];
        gather_rows(Format::F32, &bytes, rows, cols, &[2], &mut got);
        assert_eq!(&got[..], &src[2 * cols..3 * cols]);
    }
}
