//! Conversion between storage dtypes (see `kernels::dtype`).

use wasm_bindgen::prelude::*;

use kernels::dtype::{self, DType};

use crate::memory;
use crate::status::{run, Status};

/// Converts `n` elements at `src` (dtype code `from`) into `dst` (dtype code `to`):
/// one side must be float32; narrowing rounds to nearest even. Codes as in
/// `DType::from_code` (0 float32, 1 float16, 2 bfloat16); int8 is not a plain cast.
#[wasm_bindgen]
pub fn wa_convert(src: usize, from: u32, dst: usize, to: u32, n: usize) -> i32 {
    run(|| {
        let from = DType::from_code(from).ok_or(Status::BadShape)?;
        let to = DType::from_code(to).ok_or(Status::BadShape)?;
        if from == DType::I8 || to == DType::I8 || (from != DType::F32 && to != DType::F32) {
            return Err(Status::BadShape);
        }
        let (sb, db) =
            (n.checked_mul(from.size()).ok_or(Status::BadShape)?, n.checked_mul(to.size()).ok_or(Status::BadShape)?);
        memory::check_elems(src, n, from.size())?;
        memory::check_elems(dst, n, to.size())?;
        memory::disjoint_bytes((dst, db), &[(src, sb)])?;
        if to == DType::F32 {
            let s: &[u8] = memory::elems(src, sb)?;
            let d: &mut [f32] = memory::elems_mut(dst, n)?;
            dtype::widen(from, s, d);
        } else {
            let s: &[f32] = memory::elems(src, n)?;
            let d: &mut [u8] = memory::elems_mut(dst, db)?;
            dtype::narrow(to, s, d);
        }
        Ok(())
    })
}

/// Symmetric int8 quantisation of `rows` contiguous rows of `cols` f32 at `src` into
/// codes at `dst` (same layout) and one f32 scale per row at `scales`
/// (see `kernels::dtype::quantize_i8`).
#[wasm_bindgen]
pub fn wa_quantize_rows(src: usize, dst: usize, scales: usize, rows: usize, cols: usize) -> i32 {
    run(|| {
        let n = rows.checked_mul(cols).ok_or(Status::BadShape)?;
        let s: &[f32] = memory::elems(src, n)?;
        let sc: &mut [f32] = memory::elems_mut(scales, rows)?;
        let d: &mut [i8] = memory::elems_mut(dst, n)?;
        memory::disjoint_bytes((dst, n), &[(src, n * 4), (scales, rows * 4)])?;
        memory::disjoint_bytes((scales, rows * 4), &[(src, n * 4)])?;
        if cols == 0 {
            sc.iter_mut().for_each(|x| *x = 0.0);
            return Ok(());
        }
        for ((x, q), scale) in s.chunks_exact(cols).zip(d.chunks_exact_mut(cols)).zip(sc.iter_mut()) {
            *scale = dtype::quantize_i8(x, q);
        }
        Ok(())
    })
}

/// 1 when the `n` f32 values at `src` are all finite, 0 when one is ±inf or NaN;
/// a negative status (−1 bad pointer, …) when the range is not this module's.
#[wasm_bindgen]
pub fn wa_all_finite(src: usize, n: usize) -> i32 {
    match memory::elems::<f32>(src, n) {
        Ok(x) => dtype::all_finite(x) as i32,
        Err(s) => -(s as i32),
    }
}
