//! Export of the row-wise softmax.

use wasm_bindgen::prelude::*;

use crate::extent::span;
use crate::memory;
use crate::status::{run, Status};

/// `out ← softmax(x + mask)` over the last axis of a contiguous `[d0, d1, rows, cols]`
/// tensor. `out == x` works in place; a partial overlap is rejected. `mask` (0 = none)
/// is read at `[b,h,i,j]·(s0,s1,s2,s3)` (stride 0 broadcasts).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_softmax(
    x: usize, out: usize, d0: usize, d1: usize, rows: usize, cols: usize, mask: usize, s0: usize, s1: usize, s2: usize,
    s3: usize,
) -> i32 {
    run(|| {
        let dims = [d0, d1, rows, cols];
        let len = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or(Status::BadShape)?;
        let mask_len = if mask == 0 { 0 } else { span(&dims, &[s0, s1, s2, s3])? };
        if mask != 0 {
            memory::disjoint((out, len), &[(mask, mask_len)])?;
        }
        if x != out {
            memory::disjoint((out, len), &[(x, len)])?;
            let src = memory::floats(x, len)?;
            if mask == 0 {
                let dst = memory::floats_mut(out, len)?;
                kernels::softmax::softmax_rows_into(src, dst, dims);
                return Ok(());
            }
            memory::floats_mut(out, len)?.copy_from_slice(src);
        }
        let data = memory::floats_mut(out, len)?;
        let m = if mask == 0 {
            None
        } else {
            Some(kernels::Mask { data: memory::floats(mask, mask_len)?, strides: [s0, s1, s2, s3] })
        };
        kernels::softmax::softmax_rows(data, dims, m.as_ref());
        Ok(())
    })
}
