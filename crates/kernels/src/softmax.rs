//! Row-wise, numerically stable softmax (placeholder scalar version).

use crate::Mask;

/// In place over `data` viewed as contiguous `[d0, d1, rows, cols]`:
/// `x ← softmax(x + mask)` along the last axis. Rows whose every entry is `-inf`
/// become all zeros (never NaN).
pub fn softmax_rows(data: &mut [f32], dims: [usize; 4], mask: Option<&Mask>) {
    let [d0, d1, rows, cols] = dims;
    assert!(data.len() >= d0 * d1 * rows * cols);
    for b in 0..d0 {
        for h in 0..d1 {
            for i in 0..rows {
                let base = ((b * d1 + h) * rows + i) * cols;
                let row = &mut data[base..base + cols];
                if let Some(m) = mask {
                    for (j, x) in row.iter_mut().enumerate() {
                        *x += m.at(b, h, i, j);
                    }
                }
                let mx = row.iter().fold(f32::NEG_INFINITY, |a, &x| a.max(x));
                if mx == f32::NEG_INFINITY {
                    row.iter_mut().for_each(|x| *x = 0.0);
                    continue;
                }
                let mut sum = 0.0;
                for x in row.iter_mut() {
                    *x = (*x - mx).exp();
                    sum += *x;
                }
                let inv = 1.0 / sum;
                row.iter_mut().for_each(|x| *x *= inv);
            }
        }
    }
}
