//! Element-wise kernels (activations, adds, norms, RoPE) against float64 references
//! written here from the formulas, and the activations' accuracy over dense sweeps.
//! Run with `--nocapture` to see the measured errors the module notes state.
mod common;
use common::{assert_close, Rng};
use kernels::elementwise::activation::{bias_act_rows, erf, gated_rows, gelu, gelu_tanh, relu, silu, Activation};
use kernels::elementwise::add::{add_rows, add_rows_in_place};
use kernels::elementwise::norm::{add_norm_rows, norm_rows, norm_rows_in_place, Norm};
use kernels::elementwise::rope::{rope_rows, RopeShape, RopeStyle};

const SIZES: [usize; 8] = [0, 1, 3, 5, 17, 63, 65, 384];

/// erf in float64 by the all-positive-terms series
/// `erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3···(2n+1))` (no cancellation; |x| ≤ 6),
/// ±1 beyond 6 (`1 − erf(6) < 3e-17`).
fn erf64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a >= 6.0 {
        return x.signum();
    }
    let (mut term, mut sum) = (a, a);
    let mut n = 1.0;
    loop {
        term *= 2.0 * a * a / (2.0 * n + 1.0);
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
        n += 1.0;
    }
    let r = 2.0 / std::f64::consts::PI.sqrt() * (-a * a).exp() * sum;
    if x < 0.0 {
        -r
    } else {
        r
    }
}

fn gelu64(x: f64) -> f64 {
    0.5 * x * (1.0 + erf64(x / std::f64::consts::SQRT_2))
}
/// `x/2·(1 + tanh u)`; for `u < 0` as `x·e^(2u)/(1 + e^(2u))` (the same value; `1 + tanh u`
/// cancels in float64 too once `u < −18`).
fn gelu_tanh64(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    if u < 0.0 {
        let e = (2.0 * u).exp();
        x * e / (1.0 + e)
    } else {
        0.5 * x * (1.0 + u.tanh())
    }
}
fn silu64(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}
fn act64(a: Activation, x: f64) -> f64 {
    match a {
        Activation::Identity => x,
        Activation::Relu => x.max(0.0),
        Activation::Gelu => gelu64(x),
        Activation::GeluTanh => gelu_tanh64(x),
        Activation::Silu => silu64(x),
    }
}

/// Max absolute error, and max relative error where |want| ≥ `rel_floor`, over `n` points
/// of `[lo, hi]`; returns (abs, x at abs, rel, x at rel).
fn sweep(
    lo: f64, hi: f64, n: usize, f: impl Fn(f32) -> f32, want: impl Fn(f64) -> f64, rel_floor: f64,
) -> (f64, f32, f64, f32) {
    let mut w = (0.0, 0.0f32, 0.0, 0.0f32);
    for i in 0..n {
        let x = (lo + (hi - lo) * (i as f64 / (n - 1) as f64)) as f32;
        let (g, t) = (f(x) as f64, want(x as f64));
        let e = (g - t).abs();
        if e > w.0 {
            w.0 = e;
            w.1 = x;
        }
        if t.abs() >= rel_floor && e / t.abs() > w.2 {
            w.2 = e / t.abs();
            w.3 = x;
        }
    }
    w
}

const N: usize = 1 << 21;

#[test]
fn erf_error() {
    let (a, xa, r, xr) = sweep(-5.0, 5.0, N, erf, erf64, 1e-30);
    println!("erf on [-5, 5]: max abs {:.2e} at {}, max rel {:.2e} at {}", a, xa, r, xr);
    assert!(a <= 2.5e-7 && r <= 4e-7, "erf: abs {:e} at {}, rel {:e} at {}", a, xa, r, xr);
    // Tiny arguments: erf(z) ≈ 2z/√π, relative accuracy kept.
    let (_, _, r, xr) = sweep(1e-30, 1e-3, 1 << 16, erf, erf64, 0.0);
    assert!(r <= 4e-7, "erf tiny: rel {:e} at {}", r, xr);
}

#[test]
fn gelu_error() {
    let (a, xa, _, _) = sweep(-10.0, 10.0, N, gelu, gelu64, f64::INFINITY);
    let (_, _, r, xr) = sweep(-2.0, 10.0, N, gelu, gelu64, 1e-30);
    println!("gelu on [-10, 10]: max abs {:.2e} at {}; rel on [-2, 10] {:.2e} at {}", a, xa, r, xr);
    assert!(a <= 3e-7 && r <= 8e-7, "gelu: abs {:e} at {}, rel {:e} at {}", a, xa, r, xr);
    let (_, _, rt, xt) = sweep(-5.6, -2.0, 1 << 18, gelu, gelu64, 1e-30);
    println!("gelu rel on [-5.6, -2]: {:.2e} at {}", rt, xt);
    assert!(rt <= 4e-6, "gelu tail: rel {:e} at {}", rt, xt);
    // And never more than 6e-8·|x| absolute.
    for i in 0..(1 << 16) {
        let x = -2.0 - 8.0 * (i as f32 / 65535.0);
        let e = (gelu(x) as f64 - gelu64(x as f64)).abs();
        assert!(e <= 6e-8 * (x as f64).abs(), "gelu({}) off by {:e}", x, e);
    }
}

#[test]
fn gelu_tanh_error() {
    let (a, xa, r, xr) = sweep(-10.0, 10.0, N, gelu_tanh, gelu_tanh64, 1e-30);
    let (_, _, r3, xr3) = sweep(-3.0, 10.0, N, gelu_tanh, gelu_tanh64, 1e-30);
    println!(
        "gelu_tanh on [-10, 10]: max abs {:.2e} at {}, max rel {:.2e} at {}; rel on [-3, 10] {:.2e} at {}",
        a, xa, r, xr, r3, xr3
    );
    // The relative error grows with |2u| in the negative tail (e^(−2u) of a rounded
    // argument), where the values are below 1e-20.
    assert!(a <= 6e-7 && r3 <= 1e-6 && r <= 2e-5, "gelu_tanh: abs {:e} at {}, rel {:e} at {}", a, xa, r, xr);
}

#[test]
fn silu_error() {
    let (a, xa, r, xr) = sweep(-80.0, 80.0, N, silu, silu64, 1e-35);
    println!("silu on [-80, 80]: max abs {:.2e} at {}, max rel {:.2e} at {}", a, xa, r, xr);
    assert!(r <= 4e-7, "silu: rel {:e} at {}", r, xr);
}

#[test]
fn special_values() {
    let inf = f32::INFINITY;
    for f in [gelu as fn(f32) -> f32, gelu_tanh, silu, relu] {
        assert!(f(f32::NAN).is_nan());
        assert_eq!(f(inf), inf);
        assert_eq!(f(-inf), 0.0);
        assert_eq!(f(0.0), 0.0);
        assert_eq!(f(1e30), 1e30);
        assert_eq!(f(-1e30), 0.0);
        assert_eq!(f(f32::MAX), f32::MAX);
        assert_eq!(f(f32::MIN), 0.0);
    }
    assert!(erf(f32::NAN).is_nan());
    assert_eq!((erf(inf), erf(-inf), erf(10.0), erf(-10.0)), (1.0, -1.0, 1.0, -1.0));
    // Tiny inputs: GELU(x) ≈ x/2, SiLU(x) ≈ x/2, tanh-GELU ≈ x/2 (subnormal too).
    for x in [1e-20f32, -1e-20, 1e-40, -1e-40] {
        for f in [gelu as fn(f32) -> f32, gelu_tanh, silu] {
            let want = x as f64 / 2.0;
            assert!(((f(x) as f64) - want).abs() <= 1e-6 * want.abs() + 1e-45, "f({}) = {}", x, f(x));
        }
    }
    assert_eq!(relu(-0.0), 0.0);
}

/// GELU's SIMD kernel branches per four-lane vector on the lanes' regions (all near:
/// `z < 0.921875`, or `z < 1.25` for `x > 0`; or not). Vectors of every combination of
/// regions over their four lanes must give, lane for lane, the scalar `gelu` (bit for
/// bit) and the float64 value, through `bias_act_rows` (bias zero and not) and `gated_rows`.
#[test]
fn gelu_mixed_region_vectors() {
    // Per region, inputs cycled through: near negative, near positive (including the
    // floats around the boundaries x = 0.921875·√2 and, for x > 0, 1.25·√2), tail
    // negative and positive (from the first floats past them), beyond z = 4, and special
    // values.
    let b = 0.921_875f32 * std::f32::consts::SQRT_2;
    let b1 = 1.25f32 * std::f32::consts::SQRT_2;
    let down = |x: f32, k: u32| f32::from_bits(x.to_bits() - k);
    let up = |x: f32, k: u32| f32::from_bits(x.to_bits() + k);
    let regions: [Vec<f32>; 6] = [
        vec![-0.3, -1e-3, -1.0, -down(b, 1), -down(b, 3), -0.0, -1e-40],
        vec![0.5, 1e-20, 1.2, down(b, 1), up(b, 2), 0.0, down(b1, 1), down(b1, 3), 1.5],
        vec![-up(b, 2), -up(b, 4), -1.5, -2.7, -4.2, -5.5],
        vec![up(b1, 2), up(b1, 4), 1.8, 2.9, 4.1, 5.5],
        vec![-6.0, 7.5, -40.0, 1e30, -1e30, 9.0],
        vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN, 3.0],
    ];
    let mut x = Vec::new();
    let mut i = 0;
    for r0 in 0..6 {
        for r1 in 0..6 {
            for r2 in 0..6 {
                for r3 in 0..6 {
                    for r in [r0, r1, r2, r3] {
                        x.push(regions[r][i % regions[r].len()]);
                        i += 1;
                    }
                }
            }
        }
    }
    let cols = x.len();
    let check = |what: &str, got: &[f32], input: &[f32], scale: &dyn Fn(usize) -> f32| {
        for (c, (&g, &v)) in got.iter().zip(input).enumerate() {
            let s = gelu(v) * scale(c);
            assert!(
                g.to_bits() == s.to_bits() || (g.is_nan() && s.is_nan()),
                "{}: col {} gelu({}) = {}, scalar {}",
                what,
                c,
                v,
                g,
                s
            );
            let t = gelu64(v as f64) * scale(c) as f64;
            // (The scalar comparison above covers a gated product past f32::MAX.)
            if v.is_finite() && t.abs() <= f32::MAX as f64 {
                // Absolute on [-10, 10] as the sweeps (plus the product's rounding when
                // gated); relative where |GELU| ≥ 1e-7 (below, -0 past x = -5.66).
                let e = (g as f64 - t).abs();
                let abs_ok = v.abs() > 10.0 || e <= 3e-7 * scale(c).abs() as f64 + 6e-8 * t.abs();
                assert!(abs_ok && (t.abs() < 1e-7 || e <= 4e-6 * t.abs()), "{}: gelu({}) = {}, want {}", what, v, g, t);
            }
        }
    };
    // Without a bias, with a zero bias (the add path), and gated by an up row.
    let mut y = x.clone();
    bias_act_rows(&mut y, 1, cols, cols, None, Activation::Gelu);
    check("bias_act", &y, &x, &|_| 1.0);
    let zero = vec![0.0f32; cols];
    let mut y = x.clone();
    bias_act_rows(&mut y, 1, cols, cols, Some(&zero), Activation::Gelu);
    let biased: Vec<f32> = x.iter().map(|&v| v + 0.0).collect(); // -0 + 0 = +0
    check("bias_act + 0", &y, &biased, &|_| 1.0);
    let upv: Vec<f32> = (0..cols).map(|c| 0.5 + (c % 7) as f32 * 0.25).collect();
    let mut g = x.clone();
    gated_rows(&mut g, cols, &upv, cols, 1, cols, None, None, Activation::Gelu);
    check("gated", &g, &x, &|c| upv[c]);
}

fn ref_bias_act(x: &[f32], rows: usize, cols: usize, ld: usize, bias: Option<&[f32]>, a: Activation) -> Vec<f64> {
    let mut out: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for r in 0..rows {
        for c in 0..cols {
            // The kernel adds in f32, then applies the activation.
            let v = x[r * ld + c] + bias.map_or(0.0, |b| b[c]);
            out[r * ld + c] = act64(a, v as f64);
        }
    }
    out
}

const ACTS: [Activation; 5] =
    [Activation::Identity, Activation::Relu, Activation::Gelu, Activation::GeluTanh, Activation::Silu];

#[test]
fn bias_act_rows_match_reference() {
    let mut rng = Rng::new(7);
    for &cols in &SIZES {
        for &(rows, pad) in &[(1usize, 0usize), (3, 0), (4, 3)] {
            let ld = cols + pad;
            let n = if rows == 0 { 0 } else { (rows - 1) * ld + cols };
            let x0 = rng.vec(n, 6.0);
            let b = rng.vec(cols, 1.0);
            for &a in &ACTS {
                for bias in [None, Some(&b[..])] {
                    let mut x = x0.clone();
                    bias_act_rows(&mut x, rows, cols, ld, bias, a);
                    let want = ref_bias_act(&x0, rows, cols, ld, bias, a);
                    assert_close(&format!("{:?} rows {} cols {} ld {}", a, rows, cols, ld), &x, &want, 1e-6, 1e-6);
                }
            }
        }
    }
}

#[test]
fn gated_rows_match_reference() {
    let mut rng = Rng::new(11);
    for &cols in &SIZES {
        let (rows, ldg, ldu) = (3, cols + 2, cols + 5);
        let g0 = rng.vec(2 * ldg + cols, 4.0);
        let u = rng.vec(2 * ldu + cols, 2.0);
        let (bg, bu) = (rng.vec(cols, 1.0), rng.vec(cols, 1.0));
        for &a in &ACTS {
            for with_bias in [false, true] {
                let mut g = g0.clone();
                let (b1, b2) = if with_bias { (Some(&bg[..]), Some(&bu[..])) } else { (None, None) };
                gated_rows(&mut g, ldg, &u, ldu, rows, cols, b1, b2, a);
                let mut want: Vec<f64> = g0.iter().map(|&v| v as f64).collect();
                for r in 0..rows {
                    for c in 0..cols {
                        let gv = g0[r * ldg + c] + b1.map_or(0.0, |b| b[c]);
                        let uv = u[r * ldu + c] + b2.map_or(0.0, |b| b[c]);
                        want[r * ldg + c] = act64(a, gv as f64) * uv as f64;
                    }
                }
                assert_close(&format!("gated {:?} cols {}", a, cols), &g, &want, 2e-6, 1e-6);
            }
        }
    }
}

#[test]
fn add_rows_broadcast_and_in_place() {
    let mut rng = Rng::new(3);
    for &cols in &SIZES {
        let (rows, lda, ldo) = (4, cols + 1, cols + 3);
        let a = rng.vec(3 * lda + cols, 3.0);
        let b = rng.vec(cols, 3.0);
        let mut out = vec![9.0f32; 3 * ldo + cols];
        add_rows(&a, lda, &b, &mut out, ldo, rows, cols);
        let mut want = vec![9.0f64; out.len()];
        for r in 0..rows {
            for c in 0..cols {
                want[r * ldo + c] = (a[r * lda + c] + b[c]) as f64;
            }
        }
        assert_close("add_rows", &out, &want, 0.0, 0.0);
        let mut x = a.clone();
        add_rows_in_place(&mut x, lda, &b, rows, cols);
        for r in 0..rows {
            for c in 0..lda.min(x.len() - r * lda) {
                let w = if c < cols { a[r * lda + c] + b[c] } else { a[r * lda + c] };
                assert_eq!(x[r * lda + c], w);
            }
        }
    }
    // NaN and inf follow IEEE addition.
    let mut x = [f32::NAN, f32::INFINITY, f32::INFINITY, 1.0];
    add_rows_in_place(&mut x, 4, &[1.0, 1.0, f32::NEG_INFINITY, f32::NAN], 1, 4);
    assert!(x[0].is_nan() && x[1] == f32::INFINITY && x[2].is_nan() && x[3].is_nan());
}

fn ref_norm(x: &[f32], cols: usize, gamma: &[f32], beta: Option<&[f32]>, eps: f64) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (r, row) in x.chunks(cols).enumerate() {
        let n = cols as f64;
        let mean = if beta.is_some() { row.iter().map(|&v| v as f64).sum::<f64>() / n } else { 0.0 };
        let ms = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let s = 1.0 / (ms + eps).sqrt();
        for c in 0..cols {
            y[r * cols + c] = (row[c] as f64 - mean) * s * gamma[c] as f64 + beta.map_or(0.0, |b| b[c] as f64);
        }
    }
    y
}

#[test]
fn norms_match_reference() {
    let mut rng = Rng::new(5);
    for &cols in &SIZES[1..] {
        for &(offset, scale) in &[(0.0f32, 1.0f32), (1000.0, 1.0), (0.0, 1e-3), (-50.0, 30.0)] {
            let rows = 3;
            let x: Vec<f32> = rng.vec(rows * cols, scale).iter().map(|v| v + offset).collect();
            let gamma = rng.vec(cols, 2.0);
            let beta = rng.vec(cols, 1.0);
            for rms in [false, true] {
                let norm = if rms { Norm::Rms { gamma: &gamma } } else { Norm::Layer { gamma: &gamma, beta: &beta } };
                let want = ref_norm(&x, cols, &gamma, if rms { None } else { Some(&beta) }, 1e-5);
                // Relative to the output scale (|γ|·|x−μ|/σ ≤ ~2·√cols).
                let what =
                    format!("{} cols {} offset {} scale {}", if rms { "rms" } else { "layer" }, cols, offset, scale);
                let mut y = vec![0.0; x.len()];
                norm_rows(&x, &mut y, rows, cols, norm, 1e-5);
                assert_close(&what, &y, &want, 2e-6, 2e-6);
                let mut z = x.clone();
                norm_rows_in_place(&mut z, rows, cols, norm, 1e-5);
                assert_eq!(y, z, "{}: in place differs", what);
                // Fused residual: h = x − r + r.
                let res = rng.vec(x.len(), 1.0);
                let mut h: Vec<f32> = x.iter().zip(&res).map(|(a, b)| a - b).collect();
                let h_sum: Vec<f32> = h.iter().zip(&res).map(|(a, b)| a + b).collect();
                let want_h = ref_norm(&h_sum, cols, &gamma, if rms { None } else { Some(&beta) }, 1e-5);
                let mut out = vec![0.0; x.len()];
                add_norm_rows(&mut h, &res, Some(&mut out), rows, cols, norm, 1e-5);
                assert_eq!(h, h_sum, "{}: residual sum", what);
                assert_close(&format!("{} fused", what), &out, &want_h, 2e-6, 2e-6);
                let mut h2: Vec<f32> = x.iter().zip(&res).map(|(a, b)| a - b).collect();
                add_norm_rows(&mut h2, &res, None, rows, cols, norm, 1e-5);
                assert_eq!(h2, out, "{}: fused in place", what);
            }
        }
    }
}

#[test]
fn norm_special_values() {
    let g = [1.0f32; 5];
    let b = [0.0f32; 5];
    let mut x = [1.0, 2.0, f32::NAN, 4.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    norm_rows_in_place(&mut x, 2, 5, Norm::Layer { gamma: &g, beta: &b }, 1e-5);
    assert!(x[..5].iter().all(|v| v.is_nan()), "a NaN poisons its row");
    assert!(x[5..].iter().all(|&v| v == 0.0), "a constant row gives β");
    let mut x = [1.0, f32::INFINITY, 3.0, 4.0, 5.0];
    norm_rows_in_place(&mut x, 1, 5, Norm::Layer { gamma: &g, beta: &b }, 1e-5);
    assert!(x.iter().all(|v| v.is_nan()));
    let mut x = [0.0f32; 5];
    norm_rows_in_place(&mut x, 1, 5, Norm::Rms { gamma: &g }, 1e-6);
    assert_eq!(x, [0.0; 5]);
}

fn ref_rope(x: &[f32], s: &RopeShape, cos: &[f32], sin: &[f32], style: RopeStyle) -> Vec<f64> {
    let mut y: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let half = s.rot / 2;
    for r in 0..s.rows {
        let t = r % s.table_rows;
        for h in 0..s.heads {
            let base = r * s.ld + h * s.head_dim;
            for i in 0..half {
                let (ia, ib) = match style {
                    RopeStyle::Half => (base + i, base + i + half),
                    RopeStyle::Interleaved => (base + 2 * i, base + 2 * i + 1),
                };
                let (a, b) = (x[ia] as f64, x[ib] as f64);
                let (c, sn) = (cos[t * half + i] as f64, sin[t * half + i] as f64);
                y[ia] = a * c - b * sn;
                y[ib] = b * c + a * sn;
            }
        }
    }
    y
}

#[test]
fn rope_matches_reference() {
    let mut rng = Rng::new(9);
    for &d in &[2usize, 6, 8, 10, 16, 34, 64, 66] {
        for &rot in &[d, d / 2 / 2 * 2, 2] {
            for style in [RopeStyle::Half, RopeStyle::Interleaved] {
                let (heads, rows, table_rows) = (3, 5, 2);
                let ld = heads * d + 3;
                let x0 = rng.vec((rows - 1) * ld + heads * d, 2.0);
                let half = rot / 2;
                let ang: Vec<f32> = rng.vec(table_rows * half, 3.0);
                let cos: Vec<f32> = ang.iter().map(|a| a.cos()).collect();
                let sin: Vec<f32> = ang.iter().map(|a| a.sin()).collect();
                let s = RopeShape { rows, ld, heads, head_dim: d, rot, table_rows };
                let mut x = x0.clone();
                rope_rows(&mut x, &s, &cos, &sin, style);
                let want = ref_rope(&x0, &s, &cos, &sin, style);
                assert_close(&format!("rope {:?} d {} rot {}", style, d, rot), &x, &want, 1e-6, 1e-6);
            }
        }
    }
}
