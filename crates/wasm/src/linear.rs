//! `Linear` products and weight packing: `Y = X·Wᵀ + bias` with `W [n, k]` in any
//! storage format (`kernels::format`), on the small-m kernels (`kernels::gemv`).

use wasm_bindgen::prelude::*;

use kernels::dtype::{self, DType, F16Finite, BF16, F16};
use kernels::format::{self, Format};
use kernels::linear;

use crate::status::{self, run, Status};
use crate::{extent, memory};

/// `Y[m, n] = X[m, k] · Wᵀ (+ bias)`: `x` f32 rows at stride `ldx`, `w` a `[n, k]`
/// matrix in format `w_format` (0 f32, 1 float16, 2 bfloat16 as contiguous rows;
/// 4 q8_0, 5 q4_0, 6 f32 panels, 7 q8_0 panels, 8 q4_0 panels as packed by [`wa_quantize`]; 3 is not a weight
/// format), `bias` n f32 or 0 for none, `y` f32 rows at stride `ldy` (only written;
/// must not overlap an input). Any `m`: `kernels::linear` picks the matrix–vector
/// kernels for a row or two and the GEMMs beyond (f32 panels: the GEMM for every `m`,
/// without packing W). `w_format` 1 may carry
/// [`F16_FINITE`]: the caller vouches that the float16 data holds no ±inf or NaN (as
/// [`wa_f16_all_finite`] checks once at load), so no tile checks it again.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_linear(
    m: usize, k: usize, n: usize, x: usize, ldx: usize, w: usize, w_format: u32, bias: usize, y: usize, ldy: usize,
) -> i32 {
    run(|| {
        let finite = w_format == 1 | F16_FINITE;
        let format = Format::from_code(if finite { 1 } else { w_format }).ok_or(Status::BadShape)?;
        if format == Format::I8Row {
            return Err(Status::BadShape);
        }
        let x_len = extent::matrix(m, k, ldx)?;
        let y_len = extent::matrix(m, n, ldy)?;
        let w_bytes = format.matrix_bytes(n, k).ok_or(Status::BadShape)?;
        let bias_len = if bias != 0 { n } else { 0 };
        let xb = x_len.checked_mul(4).ok_or(Status::BadShape)?;
        let yb = y_len.checked_mul(4).ok_or(Status::BadShape)?;
        memory::disjoint_bytes((y, yb), &[(x, xb), (w, w_bytes), (bias, bias_len * 4)])?;
        let xs = memory::floats(x, x_len)?;
        let bs = if bias != 0 { Some(memory::floats(bias, n)?) } else { None };
        let wcount = w_bytes / format.layout().block_bytes.max(1);
        if format == Format::F32Panels {
            let ws = memory::floats(w, wcount)?;
            let ys = memory::floats_mut(y, y_len)?;
            return status::kernel(|| linear::linear_panels(m, k, n, xs, ldx, ws, bs, ys, ldy));
        }
        if format == Format::Q8Panels || format == Format::Q4Panels {
            let ws = memory::elems::<u8>(w, w_bytes)?;
            if w % 4 != 0 {
                return Err(Status::BadPointer);
            }
            let ys = memory::floats_mut(y, y_len)?;
            if format == Format::Q4Panels {
                return status::kernel(|| linear::linear_q4_panels(m, k, n, xs, ldx, ws, bs, ys, ldy));
            }
            return status::kernel(|| linear::linear_q8_panels(m, k, n, xs, ldx, ws, bs, ys, ldy));
        }
        if format.is_block() {
            // Checked before the output view is made, so a bad w leaves y untouched.
            let ws = memory::elems::<u8>(w, w_bytes)?;
            let ys = memory::floats_mut(y, y_len)?;
            return status::kernel(|| linear::linear_block(format, m, k, n, xs, ldx, ws, bs, ys, ldy));
        }
        match format.dtype() {
            Some(DType::F32) => {
                let ws = memory::floats(w, wcount)?;
                let ys = memory::floats_mut(y, y_len)?;
                status::kernel(|| linear::linear_float(m, k, n, xs, ldx, ws, bs, ys, ldy))
            }
            Some(DType::F16) if finite => {
                let ws = memory::elems::<F16Finite>(w, wcount)?;
                let ys = memory::floats_mut(y, y_len)?;
                status::kernel(|| linear::linear_float(m, k, n, xs, ldx, ws, bs, ys, ldy))
            }
            Some(DType::F16) => {
                let ws = memory::elems::<F16>(w, wcount)?;
                let ys = memory::floats_mut(y, y_len)?;
                status::kernel(|| linear::linear_float(m, k, n, xs, ldx, ws, bs, ys, ldy))
            }
            Some(DType::BF16) => {
                let ws = memory::elems::<BF16>(w, wcount)?;
                let ys = memory::floats_mut(y, y_len)?;
                status::kernel(|| linear::linear_float(m, k, n, xs, ldx, ws, bs, ys, ldy))
            }
            _ => Err(Status::BadShape),
        }
    })
}

/// Flag of [`wa_linear`]'s `w_format` (with code 1): float16 weights known finite.
pub const F16_FINITE: u32 = 0x100;

/// 1 when the `n` float16 values at `src` are all finite, 0 when one is ±inf or NaN;
/// a negative status (−1 bad pointer, …) when the range is not this module's.
#[wasm_bindgen]
pub fn wa_f16_all_finite(src: usize, n: usize) -> i32 {
    match memory::elems::<F16>(src, n) {
        Ok(h) => kernels::gemv::f16_all_finite(h) as i32,
        Err(s) => -(s as i32),
    }
}

/// Packs `rows × cols` contiguous rows at `src` (format `src_format`: 0 f32, 1 float16
/// or 2 bfloat16) into the q8_0 (4), q4_0 (5), f32 panels (6), q8_0 panels (7) or q4_0 panels (8) matrix buffer `dst` of
/// `Format::matrix_bytes(rows, cols)` bytes (`kernels::format`: code plane, then scale
/// plane in the matrix–vector tile order; or the GEMM's panel order). 16-bit rows are
/// widened one at a time (exactly).
#[wasm_bindgen]
pub fn wa_quantize(src: usize, src_format: u32, dst: usize, dst_format: u32, rows: usize, cols: usize) -> i32 {
    wa_quantize_into(src, src_format, dst, dst_format, rows, cols, 0, rows)
}

/// [`wa_quantize`] of `count` rows at `src` into rows `row0 .. row0 + count` of the
/// `rows × cols` matrix buffer `dst` (each plane's part of those rows; the rest of `dst`
/// is not touched, except that the last row also zeroes the padding: the panels' padding
/// rows, q8_0/q4_0's scale slots past the last row): a large weight is packed a few rows
/// at a time from a small staging buffer.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_quantize_into(
    src: usize, src_format: u32, dst: usize, dst_format: u32, rows: usize, cols: usize, row0: usize, count: usize,
) -> i32 {
    run(|| {
        let from = Format::from_code(src_format).and_then(|f| f.dtype()).ok_or(Status::BadShape)?;
        let to = Format::from_code(dst_format).ok_or(Status::BadShape)?;
        let panels = to == Format::Q8Panels || to == Format::Q4Panels;
        if from == DType::I8 || !(to.is_block() || to == Format::F32Panels || panels) {
            return Err(Status::BadShape);
        }
        if row0.checked_add(count).map_or(true, |end| end > rows) {
            return Err(Status::BadShape);
        }
        let n = count.checked_mul(cols).ok_or(Status::BadShape)?;
        let src_bytes = n.checked_mul(from.size()).ok_or(Status::BadShape)?;
        let dst_bytes = to.matrix_bytes(rows, cols).ok_or(Status::BadShape)?;
        memory::check_elems(src, n, from.size())?;
        memory::disjoint_bytes((dst, dst_bytes), &[(src, src_bytes)])?;
        let mut row: Vec<f32> = Vec::new();
        if from != DType::F32 {
            row.try_reserve_exact(cols).map_err(|_| Status::OutOfMemory)?;
            row.resize(cols, 0.0);
        }
        let s: &[u8] = memory::elems(src, src_bytes)?;
        if to == Format::F32Panels {
            let panels = memory::floats_mut(dst, dst_bytes / 4)?;
            return widened_rows(from, s, src, cols, row0, count, &mut row, |x, r0, c| {
                status::kernel(|| format::write_panel_rows(x, cols, r0, c, rows, cols, panels))
            });
        }
        let d: &mut [u8] = memory::elems_mut(dst, dst_bytes)?;
        if panels {
            return widened_rows(from, s, src, cols, row0, count, &mut row, |x, r0, c| {
                status::kernel(|| format::write_q_panel_rows(to, x, cols, r0, c, rows, cols, d))
            });
        }
        widened_rows(from, s, src, cols, row0, count, &mut row, |x, r0, c| {
            status::kernel(|| format::write_block_rows(to, x, cols, r0, c, rows, cols, d))
        })
    })
}

/// Hands the `count` source rows from `row0` on to `write(x, first_row, rows)`: float32 rows
/// in one call, 16-bit rows (`s`) widened one at a time into `row`; with `count` 0, one empty
/// call, so the writer still checks its destination.
#[allow(clippy::too_many_arguments)]
fn widened_rows(
    from: DType, s: &[u8], src: usize, cols: usize, row0: usize, count: usize, row: &mut [f32],
    mut write: impl FnMut(&[f32], usize, usize) -> Result<(), Status>,
) -> Result<(), Status> {
    if from == DType::F32 {
        return write(memory::floats(src, count * cols)?, row0, count);
    }
    let rb = cols * from.size();
    for i in 0..count {
        dtype::widen(from, &s[i * rb..(i + 1) * rb], row);
        write(row, row0 + i, 1)?;
    }
    if count == 0 {
        write(row, row0, 0)?;
    }
    Ok(())
}
