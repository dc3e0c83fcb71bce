//! Row-wise softmax: reference values and properties.
mod common;
use common::{assert_close, ref_softmax, Rng};
use kernels::softmax::softmax_rows;
use kernels::Mask;

#[test]
fn matches_reference_with_special_rows() {
    let mut rng = Rng::new(10);
    for &cols in &[1usize, 2, 3, 4, 5, 8, 17, 64, 65, 1000] {
        let rows = 6;
        let mut x = rng.vec(rows * cols, 20.0);
        x[cols..2 * cols].iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
        x[2 * cols + cols / 2] = f32::NAN;
        x[3 * cols..4 * cols].iter_mut().enumerate().for_each(|(j, v)| *v = if j % 2 == 1 { 1e30 } else { -1e30 });
        x[4 * cols] = f32::NEG_INFINITY;
        let want = ref_softmax(&x, cols);
        softmax_rows(&mut x, [1, 2, rows / 2, cols], None);
        assert_close(&format!("softmax cols={}", cols), &x, &want, 1e-7, 2e-6);
    }
}

#[test]
fn properties() {
    let mut rng = Rng::new(11);
    let (rows, cols) = (9, 37);
    let x = rng.vec(rows * cols, 8.0);
    let mut a = x.clone();
    softmax_rows(&mut a, [1, 1, rows, cols], None);
    for (i, row) in a.chunks(cols).enumerate() {
        let s: f64 = row.iter().map(|&v| v as f64).sum();
        assert!((s - 1.0).abs() < 2e-6, "row {} sums to {}", i, s);
        assert!(row.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }
    // Invariance to adding a constant per row.
    let mut b: Vec<f32> = x.iter().map(|&v| v + 1000.0).collect();
    softmax_rows(&mut b, [1, 1, rows, cols], None);
    let want: Vec<f64> = a.iter().map(|&v| v as f64).collect();
    assert_close("shift invariance", &b, &want, 1e-6, 1e-3);
    // Huge finite logits stay finite.
    let mut h = vec![1e30f32, -1e30, 3e38, -3e38];
    softmax_rows(&mut h, [1, 1, 1, 4], None);
    assert_eq!(h, vec![0.0, 0.0, 1.0, 0.0]);
    // A NaN among blocked entries still makes the row NaN (not zeros).
    let ninf = f32::NEG_INFINITY;
    let mut r = vec![ninf, f32::NAN, ninf, ninf, ninf, ninf, ninf, ninf, ninf];
    softmax_rows(&mut r, [1, 1, 1, 9], None);
    assert!(r.iter().all(|x| x.is_nan()), "{:?}", r);
}

#[test]
fn mask_is_added_with_broadcast() {
    let mut rng = Rng::new(12);
    let (d0, d1, rows, cols) = (2, 3, 5, 19);
    let x = rng.vec(d0 * d1 * rows * cols, 4.0);
    let mut mask = rng.vec(rows * cols, 2.0);
    mask.iter_mut().step_by(4).for_each(|v| *v = f32::NEG_INFINITY);
    // Mask [rows, cols] broadcast over d0, d1; also a per-column mask broadcast over rows.
    for &(strides, len) in &[([0usize, 0, cols, 1], rows * cols), ([0, 0, 0, 1], cols), ([0, 0, 1, rows], rows * cols)]
    {
        let m = Mask { data: &mask[..len], strides };
        let mut added = x.clone();
        for b in 0..d0 {
            for h in 0..d1 {
                for i in 0..rows {
                    for j in 0..cols {
                        added[((b * d1 + h) * rows + i) * cols + j] += m.at(b, h, i, j);
                    }
                }
            }
        }
        let want = ref_softmax(&added, cols);
        let mut got = x.clone();
        softmax_rows(&mut got, [d0, d1, rows, cols], Some(&m));
        assert_close(&format!("masked softmax strides {:?}", strides), &got, &want, 1e-7, 2e-6);
    }
}

#[test]
fn empty_shapes() {
    let mut x: Vec<f32> = vec![];
    softmax_rows(&mut x, [0, 3, 4, 5], None);
    softmax_rows(&mut x, [2, 3, 4, 0], None);
}

#[test]
fn into_matches_in_place_and_reference() {
    let mut rng = Rng::new(13);
    for &cols in &[1usize, 3, 4, 7, 8, 9, 16, 17, 33, 1000] {
        let rows = 6;
        let mut x = rng.vec(rows * cols, 20.0);
        x[cols..2 * cols].iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
        x[2 * cols + cols / 2] = f32::NAN;
        x[4 * cols] = f32::NEG_INFINITY;
        let want = ref_softmax(&x, cols);
        let mut out = vec![7.0f32; rows * cols];
        kernels::softmax::softmax_rows_into(&x, &mut out, [2, 1, rows / 2, cols]);
        assert_close(&format!("softmax_rows_into cols={}", cols), &out, &want, 1e-7, 2e-6);
        let mut inplace = x.clone();
        softmax_rows(&mut inplace, [2, 1, rows / 2, cols], None);
        let same = out.iter().zip(&inplace).all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        assert!(same, "cols={}: out-of-place differs from in place", cols);
    }
}
