//! Row-wise, numerically stable softmax: `x ← e^(x − max) / Σ e^(x − max)`.
//!
//! Per row: optional additive mask, NaN-propagating maximum, one pass of
//! `exp(x − max)` storing values and accumulating their sum, one multiply by the
//! reciprocal (without a mask, that last pass also finds the next row's maximum). Rows whose maximum is `-inf` (every entry blocked) become zeros;
//! a NaN anywhere in a row makes the whole row NaN; `+inf` logits give NaN (∞ − ∞).

use crate::{rowops, Mask};

/// In place over `data` viewed as contiguous `[d0, d1, rows, cols]`:
/// `x ← softmax(x + mask)` along the last axis. Rows whose every entry is `-inf`
/// become all zeros (never NaN).
pub fn softmax_rows(data: &mut [f32], dims: [usize; 4], mask: Option<&Mask>) {
    let [d0, d1, rows, cols] = dims;
    let total = d0 * d1 * rows * cols;
    assert!(data.len() >= total, "softmax_rows: data too short");
    if total == 0 {
        return;
    }
    if let Some(m) = mask {
        let last =
            (d0 - 1) * m.strides[0] + (d1 - 1) * m.strides[1] + (rows - 1) * m.strides[2] + (cols - 1) * m.strides[3];
        assert!(m.data.len() > last, "softmax_rows: mask too short");
    }
    let m = match mask {
        Some(m) => m,
        None => return plain_rows_in_place(&mut data[..total], cols),
    };
    for b in 0..d0 {
        for h in 0..d1 {
            for i in 0..rows {
                let base = ((b * d1 + h) * rows + i) * cols;
                let row = &mut data[base..base + cols];
                add_mask_row(row, m, b, h, i);
                softmax_row(row);
            }
        }
    }
}

/// Softmax of each `cols`-long row of `data`, in place (no mask), with row r's final
/// scaling pass also computing row r + 1's maximum: one loop over two streams instead
/// of two loops (measured 1.10–1.13× for the whole softmax at 1024×1024).
fn plain_rows_in_place(data: &mut [f32], cols: usize) {
    let rows = data.len() / cols;
    let mut mx = rowops::max(&data[..cols]);
    for r in 0..rows {
        let (head, tail) = data.split_at_mut((r + 1) * cols);
        let row = &mut head[r * cols..];
        let next = if r + 1 < rows { Some(&tail[..cols]) } else { None };
        if mx == f32::NEG_INFINITY {
            fill_blocked(row);
            mx = next.map_or(0.0, rowops::max);
            continue;
        }
        let sum = rowops::exp_sub_sum(row, mx);
        mx = scale_then_next_max(row, 1.0 / sum, next);
    }
}

/// `dst ← softmax(src)` along the last axis of contiguous `[d0, d1, rows, cols]`
/// (no mask): the same values as copying `src` to `dst` and calling [`softmax_rows`],
/// without the copy pass (the maximum is read from `src`, the exponentials written
/// straight to `dst`).
pub fn softmax_rows_into(src: &[f32], dst: &mut [f32], dims: [usize; 4]) {
    let [d0, d1, rows, cols] = dims;
    let total = d0 * d1 * rows * cols;
    assert!(src.len() >= total && dst.len() >= total, "softmax_rows_into: data too short");
    if total == 0 {
        return;
    }
    // As in `plain_rows_in_place`: row r's scaling pass also finds row r + 1's maximum.
    let rows = total / cols;
    let mut mx = rowops::max(&src[..cols]);
    for r in 0..rows {
        let s = &src[r * cols..(r + 1) * cols];
        let d = &mut dst[r * cols..(r + 1) * cols];
        let next = if r + 1 < rows { Some(&src[(r + 1) * cols..(r + 2) * cols]) } else { None };
        if mx == f32::NEG_INFINITY {
            d.copy_from_slice(s);
            fill_blocked(d);
            mx = next.map_or(0.0, rowops::max);
            continue;
        }
        let sum = rowops::exp_sub_sum_into(s, d, mx);
        mx = scale_then_next_max(d, 1.0 / sum, next);
    }
}

/// `row ← row·s`; returns the maximum of `next` (0 when there is none).
fn scale_then_next_max(row: &mut [f32], s: f32, next: Option<&[f32]>) -> f32 {
    match next {
        Some(n) => rowops::scale_max(row, s, n),
        None => {
            rowops::scale(row, s);
            0.0
        }
    }
}

/// A row whose maximum is `-inf`: every entry blocked (zeros), unless a NaN hid from
/// the maximum (then all NaN).
fn fill_blocked(row: &mut [f32]) {
    let fill = if row.iter().any(|x| x.is_nan()) { f32::NAN } else { 0.0 };
    row.iter_mut().for_each(|x| *x = fill);
}

/// Softmax of one contiguous row, in place.
pub(crate) fn softmax_row(row: &mut [f32]) {
    let mx = rowops::max(row);
    if mx == f32::NEG_INFINITY {
        fill_blocked(row);
        return;
    }
    let sum = rowops::exp_sub_sum(row, mx);
    rowops::scale(row, 1.0 / sum);
}

fn add_mask_row(row: &mut [f32], m: &Mask, b: usize, h: usize, i: usize) {
    let off = b * m.strides[0] + h * m.strides[1] + i * m.strides[2];
    match m.strides[3] {
        0 => {
            let v = m.data[off];
            row.iter_mut().for_each(|x| *x += v);
        }
        1 => {
            let n = row.len();
            for (x, &v) in row.iter_mut().zip(&m.data[off..off + n]) {
                *x += v;
            }
        }
        s => {
            for (j, x) in row.iter_mut().enumerate() {
                *x += m.data[off + j * s];
            }
        }
    }
}
