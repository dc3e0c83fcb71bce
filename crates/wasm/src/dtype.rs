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
        let (sb, db) = (n.checked_mul(from.size()).ok_or(Status::BadShape)?, n.checked_mul(to.size()).ok_or(Status::BadShape)?);
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
