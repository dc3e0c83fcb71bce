//! Row lookups from a matrix in any storage format (an embedding table kept as a
//! packed weight, e.g. a tied lm_head in q8_0).

use wasm_bindgen::prelude::*;

use kernels::format::{self, Format};

use crate::memory;
use crate::status::{self, run, Status};

/// Writes rows `ids[0..n)` (u32 at `ids`) of the `[rows, cols]` matrix at `w` in format
/// `w_format` (0 f32, 1 float16, 2 bfloat16, 4 q8_0, 5 q4_0) as f32 into `dst`
/// (`n · cols` floats; must not overlap an input). Every id must be `< rows`.
#[wasm_bindgen]
pub fn wa_gather_rows(w: usize, w_format: u32, rows: usize, cols: usize, ids: usize, n: usize, dst: usize) -> i32 {
    run(|| {
        let format = Format::from_code(w_format).ok_or(Status::BadShape)?;
        if format == Format::I8Row {
            return Err(Status::BadShape);
        }
        let w_bytes = format.matrix_bytes(rows, cols).ok_or(Status::BadShape)?;
        let out = n.checked_mul(cols).ok_or(Status::BadShape)?;
        let out_bytes = out.checked_mul(4).ok_or(Status::BadShape)?;
        let id_bytes = n.checked_mul(4).ok_or(Status::BadShape)?;
        memory::disjoint_bytes((dst, out_bytes), &[(w, w_bytes), (ids, id_bytes)])?;
        let ws = memory::elems::<u8>(w, w_bytes)?;
        let is = memory::elems::<u32>(ids, n)?;
        if is.iter().any(|&i| i as usize >= rows) {
            return Err(Status::BadShape);
        }
        let d = memory::floats_mut(dst, out)?;
        status::kernel(|| format::gather_rows(format, ws, rows, cols, is, d))
    })
}
