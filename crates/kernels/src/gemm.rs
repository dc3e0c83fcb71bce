//! General matrix multiply `C ← α·op(A)·op(B) + β·C`, f32, row-major with row strides.

/// `C ← α·A·op(B) + β·C` where `A` is `m×k` (row stride `lda`), `op(B)` is `k×n`
/// (`B` is `k×n` with row stride `ldb`, or `n×k` when `trans_b`), and `C` is `m×n`
/// (row stride `ldc`). With `β = 0`, `C` is only written, never read (so NaN in `C`
/// does not propagate).
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize, k: usize, n: usize, alpha: f32,
    a: &[f32], lda: usize,
    b: &[f32], ldb: usize, trans_b: bool,
    beta: f32, c: &mut [f32], ldc: usize,
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f32;
            for p in 0..k {
                let bv = if trans_b { b[j * ldb + p] } else { b[p * ldb + j] };
                acc += a[i * lda + p] * bv;
            }
            let cij = &mut c[i * ldc + j];
            *cij = if beta == 0.0 { alpha * acc } else { alpha * acc + beta * *cij };
        }
    }
}
