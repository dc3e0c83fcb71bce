//! Accuracy and special values of the polynomial exp/exp2.
use kernels::exp::{exp, exp2_nonpos, exp2_nonpos_in_place, exp_in_place, exp_nonpos, exp_nonpos_in_place};

const MIN_NORMAL: f64 = 1.1754943508222875e-38;

fn sweep(lo: f32, hi: f32, n: usize, f: impl Fn(f32) -> f32, want: impl Fn(f64) -> f64) -> (f64, f32) {
    let mut worst = (0.0, 0.0);
    for i in 0..n {
        let x = lo + (hi - lo) * (i as f32 / (n - 1) as f32);
        let w = want(x as f64);
        if w < MIN_NORMAL {
            continue;
        }
        let e = ((f(x) as f64) - w).abs() / w;
        if e > worst.0 {
            worst = (e, x);
        }
    }
    worst
}

#[test]
fn exp_relative_error_below_1e7() {
    let (e, x) = sweep(-87.3, 88.7, 1 << 21, exp, f64::exp);
    assert!(e < 1.0e-7, "exp: max rel err {:e} at x = {}", e, x);
}

#[test]
fn exp_nonpos_relative_error_below_1e7() {
    let (e, x) = sweep(-87.3, 0.0, 1 << 21, exp_nonpos, f64::exp);
    assert!(e < 1.0e-7, "exp_nonpos: max rel err {:e} at x = {}", e, x);
}

#[test]
fn exp2_relative_error_below_1e7() {
    let (e, x) = sweep(-126.0, 0.0, 1 << 21, exp2_nonpos, |t| t.exp2());
    assert!(e < 1.0e-7, "exp2: max rel err {:e} at t = {}", e, x);
}

#[test]
fn exp_special_values() {
    assert_eq!(exp(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp(f32::INFINITY), f32::INFINITY);
    assert!(exp(f32::NAN).is_nan());
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(-104.0), 0.0);
    assert_eq!(exp(-1000.0), 0.0);
    assert_eq!(exp(88.73), f32::INFINITY);
    assert!(exp(88.72).is_finite());
    // Gradual underflow between −103.9 and −87.34: tiny but not garbage.
    let s = exp(-95.0) as f64;
    assert!((s - (-95.0f64).exp()).abs() < 2e-45, "exp(-95) = {:e}", s);
    assert_eq!(exp_nonpos(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp_nonpos(-87.7), 0.0);
    assert_eq!(exp_nonpos(0.0), 1.0);
    assert!(exp_nonpos(f32::NAN).is_nan());
    assert_eq!(exp2_nonpos(f32::NEG_INFINITY), 0.0);
    assert_eq!(exp2_nonpos(-127.0), 0.0);
    assert_eq!(exp2_nonpos(-200.0), 0.0);
    assert_eq!(exp2_nonpos(0.0), 1.0);
    assert!(exp2_nonpos(f32::NAN).is_nan());
}

#[test]
fn slice_versions_match_scalar() {
    let mut v: Vec<f32> = (0..1003).map(|i| -90.0 + i as f32 * 0.179).collect();
    v[5] = f32::NAN;
    v[6] = f32::NEG_INFINITY;
    let want: Vec<f32> = v.iter().map(|&x| exp(x)).collect();
    let mut got = v.clone();
    exp_in_place(&mut got);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "exp_in_place[{}]", i);
    }
    let mut u: Vec<f32> = (0..1003).map(|i| -90.0 + i as f32 * 0.09).collect();
    let want: Vec<f32> = u.iter().map(|&x| exp_nonpos(x)).collect();
    exp_nonpos_in_place(&mut u);
    assert_eq!(u, want);
    let mut t: Vec<f32> = (0..1003).map(|i| -130.0 + i as f32 * 0.13).collect();
    let want: Vec<f32> = t.iter().map(|&x| exp2_nonpos(x)).collect();
    exp2_nonpos_in_place(&mut t);
    assert_eq!(t, want);
}
