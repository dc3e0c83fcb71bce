//! How many floats a strided tensor spans, and whether an output's rows overlap.

use crate::status::Status;

/// Floats spanned by a tensor with `dims` and element `strides` (last axis may be
/// strided too): `Σ (dim−1)·stride + 1`, or 0 when any dim is 0.
pub fn span(dims: &[usize], strides: &[usize]) -> Result<usize, Status> {
    if dims.iter().any(|&d| d == 0) {
        return Ok(0);
    }
    let mut last = 0usize;
    for (&d, &s) in dims.iter().zip(strides) {
        last = (d - 1).checked_mul(s).and_then(|x| x.checked_add(last)).ok_or(Status::BadShape)?;
    }
    last.checked_add(1).ok_or(Status::BadShape)
}

/// Fails unless distinct indices of an output tensor address distinct floats:
/// sorted by stride, every stride must clear the extent of the axes inside it.
pub fn non_overlapping(dims: &[usize], strides: &[usize]) -> Result<(), Status> {
    let mut axes: Vec<(usize, usize)> =
        dims.iter().zip(strides).filter(|(&d, _)| d > 1).map(|(&d, &s)| (s, d)).collect();
    axes.sort_unstable();
    let mut extent = 1usize;
    for (s, d) in axes {
        if s < extent {
            return Err(Status::BadShape);
        }
        extent = (d - 1).checked_mul(s).and_then(|x| x.checked_add(1)).ok_or(Status::BadShape)?;
    }
    Ok(())
}

/// Number of floats a `rows×cols` matrix with row stride `ld` spans.
pub fn matrix(rows: usize, cols: usize, ld: usize) -> Result<usize, Status> {
    if rows == 0 || cols == 0 {
        return Ok(0);
    }
    if ld < cols {
        return Err(Status::BadShape);
    }
    span(&[rows, cols], &[ld, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_counts_the_last_element() {
        assert_eq!(span(&[2, 3, 4], &[12, 4, 1]), Ok(24));
        assert_eq!(span(&[2, 3, 4], &[0, 4, 1]), Ok(12)); // broadcast batch
        assert_eq!(span(&[2, 0, 4], &[12, 4, 1]), Ok(0));
        assert_eq!(span(&[usize::MAX, 2], &[usize::MAX, 1]), Err(Status::BadShape));
    }

    #[test]
    fn interleaved_heads_do_not_overlap_but_short_rows_do() {
        // [B=2, H=3, L=5, D=4] stored as [B, L, H, D].
        assert_eq!(non_overlapping(&[2, 3, 5, 4], &[60, 4, 12, 1]), Ok(()));
        assert_eq!(non_overlapping(&[1, 1, 5, 4], &[0, 0, 3, 1]), Err(Status::BadShape));
        assert_eq!(non_overlapping(&[1, 2, 1, 4], &[0, 2, 0, 1]), Err(Status::BadShape));
    }

    #[test]
    fn matrix_needs_row_stride_at_least_cols() {
        assert_eq!(matrix(3, 4, 4), Ok(12));
        assert_eq!(matrix(3, 4, 6), Ok(16));
        assert_eq!(matrix(3, 4, 3), Err(Status::BadShape));
        assert_eq!(matrix(0, 4, 0), Ok(0));
    }
}
