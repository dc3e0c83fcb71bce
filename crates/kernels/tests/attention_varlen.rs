//! Packed variable-length attention against a float64 reference written per sequence.
mod common;
use common::{assert_close, Rng};
use kernels::attention::{attention_varlen_elems, valid_offsets, Elems, Layout, Options, Shape};

/// Reference: for each sequence, dense softmax attention over its own rows (positions
/// from 0), causal and a `(left, right)` window optional. Returns `[T, Hq, Dv]` and `[Hq, T]`.
#[allow(clippy::too_many_arguments)]
fn reference(
    q: &[f32], k: &[f32], v: &[f32], offs: &[u32], hq: usize, hkv: usize, d: usize, dv: usize, scale: f64,
    causal: bool, window: Option<(usize, usize)>,
) -> (Vec<f64>, Vec<f64>) {
    let t = *offs.last().unwrap() as usize;
    let mut out = vec![0.0; t * hq * dv];
    let mut lse = vec![f64::NEG_INFINITY; hq * t];
    for w in offs.windows(2) {
        let (a, e) = (w[0] as usize, w[1] as usize);
        for h in 0..hq {
            let hk = h / (hq / hkv);
            for i in a..e {
                let mut s = Vec::new();
                for j in a..e {
                    let (pi, pj) = ((i - a) as i64, (j - a) as i64);
                    let blocked =
                        (causal && pj > pi) || window.map_or(false, |(l, r)| pj < pi - l as i64 || pj > pi + r as i64);
                    if blocked {
                        continue;
                    }
                    let dot: f64 =
                        (0..d).map(|c| q[(i * hq + h) * d + c] as f64 * k[(j * hkv + hk) * d + c] as f64).sum();
                    s.push((j, dot * scale));
                }
                if s.is_empty() {
                    continue;
                }
                let m = s.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = s.iter().map(|x| (x.1 - m).exp()).sum();
                lse[h * t + i] = m + z.ln();
                for &(j, sc) in &s {
                    let p = (sc - m).exp() / z;
                    for c in 0..dv {
                        out[(i * hq + h) * dv + c] += p * v[(j * hkv + hk) * dv + c] as f64;
                    }
                }
            }
        }
    }
    (out, lse)
}

#[allow(clippy::too_many_arguments)]
fn run(
    name: &str, offs: &[u32], hq: usize, hkv: usize, d: usize, dv: usize, causal: bool, window: Option<(usize, usize)>,
) {
    let t = *offs.last().unwrap() as usize;
    let mut rng = Rng::new(7 + t as u32 * 31 + hq as u32);
    let (q, k, v) = (rng.vec(t * hq * d, 1.5), rng.vec(t * hkv * d, 1.5), rng.vec(t * hkv * dv, 1.0));
    let shape = Shape { batch: 1, heads_q: hq, heads_kv: hkv, len_q: t, len_k: t, head_dim: d, value_dim: dv };
    // Packed [T, H, D]: a row steps over every head.
    let lay = |h: usize, w: usize| Layout { batch: 0, head: w, row: h * w };
    let scale = 1.0 / (d as f64).sqrt();
    let mut opts = Options::new(scale as f32);
    opts.causal = causal;
    opts.window = window;
    let mut out = vec![f32::NAN; t * hq * dv];
    let mut lse = vec![f32::NAN; hq * t];
    attention_varlen_elems(
        Elems::F32(&q),
        lay(hq, d),
        Elems::F32(&k),
        lay(hkv, d),
        Elems::F32(&v),
        lay(hkv, dv),
        &mut out,
        lay(hq, dv),
        Some(&mut lse),
        shape,
        offs,
        &opts,
    );
    let (want, want_lse) = reference(&q, &k, &v, offs, hq, hkv, d, dv, scale, causal, window);
    assert_close(&format!("{} out", name), &out, &want, 2e-6, 2e-5);
    let finite: Vec<f32> = lse.iter().map(|&x| if x == f32::NEG_INFINITY { -1e30 } else { x }).collect();
    let want_f: Vec<f64> = want_lse.iter().map(|&x| if x == f64::NEG_INFINITY { -1e30 } else { x }).collect();
    assert_close(&format!("{} lse", name), &finite, &want_f, 2e-6, 2e-5);
}

#[test]
fn sequences_attend_only_to_themselves() {
    // Empty and length-1 sequences, sequences shorter than a decode batch, across tiles.
    run("mixed", &[0, 0, 1, 4, 4, 21, 22, 97, 97], 4, 2, 16, 8, false, None);
    run("one", &[0, 1], 2, 2, 8, 8, false, None);
    run("long", &[0, 3, 150, 153], 3, 1, 17, 19, false, None);
    run("all empty but one", &[0, 0, 0, 70, 70], 2, 1, 32, 32, false, None);
}

#[test]
fn causal_and_window_count_positions_per_sequence() {
    run("causal", &[0, 5, 5, 80, 81], 2, 1, 16, 16, true, None);
    run("window", &[0, 9, 140, 141], 2, 2, 8, 8, false, Some((3, 3)));
    run("causal window", &[0, 70, 71, 100], 4, 4, 8, 8, true, Some((5, 0)));
}

#[test]
fn offsets_are_checked() {
    assert!(valid_offsets(&[0], 0));
    assert!(valid_offsets(&[0, 2, 2, 5], 5));
    assert!(!valid_offsets(&[], 0));
    assert!(!valid_offsets(&[1, 5], 5));
    assert!(!valid_offsets(&[0, 3, 2, 5], 5));
    assert!(!valid_offsets(&[0, 4], 5));
}
