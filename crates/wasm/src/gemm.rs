//! The GEMM exports: `C ← α·A·op(B) + β·C` with B in any float dtype.

use wasm_bindgen::prelude::*;

use kernels::dtype::{DType, BF16, F16};

use crate::status::{self, run, Status};
use crate::{extent, memory};

/// `C ← α·A·op(B) + β·C` (see `kernels::gemm::sgemm`); pointers are byte offsets.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_sgemm(
    m: usize, k: usize, n: usize, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, trans_b: u32, beta: f32,
    c: usize, ldc: usize,
) -> i32 {
    wa_gemm(m, k, n, alpha, a, lda, b, ldb, trans_b, DType::F32.code(), beta, c, ldc)
}

/// [`wa_sgemm`] with B stored as `b_dtype` (0 f32, 1 float16, 2 bfloat16; see
/// `kernels::dtype`), widened to f32 while the GEMM packs it (`kernels::gemm::gemm`).
/// A and C are f32; `ldb` counts B elements.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_gemm(
    m: usize, k: usize, n: usize, alpha: f32, a: usize, lda: usize, b: usize, ldb: usize, trans_b: u32, b_dtype: u32,
    beta: f32, c: usize, ldc: usize,
) -> i32 {
    run(|| {
        let trans_b = trans_b != 0;
        // An unknown or int8 code is a malformed call (ts/ops/matmul.ts checks dtypes first).
        let dtype = DType::from_code(b_dtype).ok_or(Status::BadShape)?;
        let (b_rows, b_cols) = if trans_b { (n, k) } else { (k, n) };
        let a_len = extent::matrix(m, k, lda)?;
        let b_len = extent::matrix(b_rows, b_cols, ldb)?;
        let c_len = extent::matrix(m, n, ldc)?;
        let b_bytes = b_len.checked_mul(dtype.size()).ok_or(Status::BadShape)?;
        memory::disjoint_bytes((c, c_len * 4), &[(a, a_len * 4), (b, b_bytes)])?;
        let a = memory::floats(a, a_len)?;
        let c = memory::floats_mut(c, c_len)?;
        match dtype {
            DType::F32 => {
                let b = memory::floats(b, b_len)?;
                status::kernel(|| kernels::gemm::gemm(m, k, n, alpha, a, lda, b, ldb, trans_b, beta, c, ldc))
            }
            DType::F16 => {
                let b = memory::elems::<F16>(b, b_len)?;
                status::kernel(|| kernels::gemm::gemm(m, k, n, alpha, a, lda, b, ldb, trans_b, beta, c, ldc))
            }
            DType::BF16 => {
                let b = memory::elems::<BF16>(b, b_len)?;
                status::kernel(|| kernels::gemm::gemm(m, k, n, alpha, a, lda, b, ldb, trans_b, beta, c, ldc))
            }
            DType::I8 => Err(Status::BadShape),
        }
    })
}
