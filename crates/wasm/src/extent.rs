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
