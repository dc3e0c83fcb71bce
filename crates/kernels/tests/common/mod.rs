//! Test support: a deterministic PRNG, float64 reference implementations written
//! independently of the kernels (plain loops), and a comparison that reports the
//! worst element and its index.
#![allow(dead_code)]

/// xorshift32: deterministic, dependency-free.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u32(&mut self) -> u32 {
        let mut s = self.0;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.0 = s;
        s
    }
    /// Uniform in [-1, 1).
    pub fn f(&mut self) -> f32 {
        (self.next_u32() as f64 / 2147483648.0 - 1.0) as f32
    }
    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.f() * scale).collect()
    }
}

/// Asserts `|got − want| ≤ atol + rtol·|want|` elementwise; non-finite values must match
/// exactly (NaN matches NaN). Panics naming the worst element.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{}: length", what);
    let mut worst = 0.0f64;
    let mut at = usize::MAX;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = g as f64;
        if w.is_nan() || g.is_nan() || w.is_infinite() || g.is_infinite() {
            let same = (w.is_nan() && g.is_nan()) || g == w;
            assert!(same, "{}: element {} is {} but should be {}", what, i, g, w);
            continue;
        }
        let ratio = (g - w).abs() / (atol + rtol * w.abs());
        if ratio > worst {
            worst = ratio;
            at = i;
        }
    }
    assert!(
        worst <= 1.0,
        "{}: worst error {:.3}× tolerance at element {} (got {}, want {})",
        what,
        worst,
        at,
        got[at],
        want[at]
    );
}

/// `C ← α·A·op(B) + β·C` in float64; with β = 0, C is not read.
#[allow(clippy::too_many_arguments)]
pub fn ref_gemm(
    m: usize, k: usize, n: usize, alpha: f64, a: &[f32], lda: usize, b: &[f32], ldb: usize, trans_b: bool, beta: f64,
    c: &[f32], ldc: usize,
) -> Vec<f64> {
    let mut out: Vec<f64> = c.iter().map(|&x| x as f64).collect();
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                let bv = if trans_b { b[j * ldb + p] } else { b[p * ldb + j] };
                s += a[i * lda + p] as f64 * bv as f64;
            }
            out[i * ldc + j] = if beta == 0.0 { alpha * s } else { alpha * s + beta * c[i * ldc + j] as f64 };
        }
    }
    out
}

/// Softmax of each row of `x` (rows of length `cols`), float64, NaN rows NaN, all −inf rows 0.
pub fn ref_softmax(x: &[f32], cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    if cols == 0 {
        return out;
    }
    for (row, o) in x.chunks(cols).zip(out.chunks_mut(cols)) {
        if row.iter().any(|v| v.is_nan()) {
            o.iter_mut().for_each(|v| *v = f64::NAN);
            continue;
        }
        let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
        if m == f64::NEG_INFINITY {
            continue;
        }
        let s: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        for (ov, &v) in o.iter_mut().zip(row) {
            *ov = (v as f64 - m).exp() / s;
        }
    }
    out
}

/// Attention problem description for the reference (mirrors the kernel's options).
#[derive(Clone, Debug)]
pub struct RefOpts {
    pub scale: f64,
    pub causal: bool,
    pub window: Option<(usize, usize)>,
    pub softcap: f64,
    pub alibi: Option<Vec<f32>>,
    pub sinks: Option<Vec<f32>>,
    /// Mask values and strides `[b, h, i, j]`.
    pub mask: Option<(Vec<f32>, [usize; 4])>,
    /// Key position of query row 0; `None` is `lk − lq` (bottom-right).
    pub offset: Option<i64>,
}

impl RefOpts {
    pub fn new(scale: f64) -> RefOpts {
        RefOpts { scale, causal: false, window: None, softcap: 0.0, alibi: None, sinks: None, mask: None, offset: None }
    }
}

/// Strides `[batch, head, row]` of a tensor.
pub type Strides = [usize; 3];

pub struct RefOut {
    /// `[b, hq, i, dv]` contiguous.
    pub out: Vec<f64>,
    /// `[b, hq, i]`.
    pub lse: Vec<f64>,
    /// `[b, hq, i, j]`.
    pub probs: Vec<f64>,
}

/// Float64 attention by definition: explicit scores, softmax, weighted sum.
#[allow(clippy::too_many_arguments)]
pub fn ref_attention(
    dims: [usize; 7], q: &[f32], qs: Strides, k: &[f32], ks: Strides, v: &[f32], vs: Strides, o: &RefOpts,
) -> RefOut {
    let [bn, hq, hkv, lq, lk, d, dv] = dims;
    let g = hq / hkv;
    let mut out = vec![0.0; bn * hq * lq * dv];
    let mut lse = vec![0.0; bn * hq * lq];
    let mut probs = vec![0.0; bn * hq * lq * lk];
    for b in 0..bn {
        for h in 0..hq {
            let hk = h / g;
            for i in 0..lq {
                let p = i as i64 + o.offset.unwrap_or(lk as i64 - lq as i64);
                let mut sc = vec![f64::NEG_INFINITY; lk];
                let mut m = o.sinks.as_ref().map_or(f64::NEG_INFINITY, |s| s[h] as f64);
                for (j, scj) in sc.iter_mut().enumerate() {
                    let jj = j as i64;
                    let mut blocked = o.causal && jj > p;
                    if let Some((l, r)) = o.window {
                        blocked |= jj < p - l as i64 || jj > p + r as i64;
                    }
                    if blocked {
                        continue;
                    }
                    let qo = b * qs[0] + h * qs[1] + i * qs[2];
                    let ko = b * ks[0] + hk * ks[1] + j * ks[2];
                    let dot: f64 = (0..d).map(|t| q[qo + t] as f64 * k[ko + t] as f64).sum();
                    let mut x = dot * o.scale;
                    if o.softcap > 0.0 {
                        x = o.softcap * (x / o.softcap).tanh();
                    }
                    if let Some(sl) = &o.alibi {
                        x -= sl[h] as f64 * (p - jj).abs() as f64;
                    }
                    if let Some((md, st)) = &o.mask {
                        x += md[b * st[0] + h * st[1] + i * st[2] + j * st[3]] as f64;
                    }
                    *scj = x;
                    m = m.max(x);
                }
                let row = (b * hq + h) * lq + i;
                if m == f64::NEG_INFINITY {
                    lse[row] = f64::NEG_INFINITY;
                    continue;
                }
                let mut l: f64 = sc.iter().map(|&x| (x - m).exp()).sum();
                if let Some(s) = &o.sinks {
                    l += (s[h] as f64 - m).exp();
                }
                lse[row] = m + l.ln();
                for (j, &x) in sc.iter().enumerate() {
                    let w = (x - m).exp() / l;
                    probs[row * lk + j] = w;
                    let vo = b * vs[0] + hk * vs[1] + j * vs[2];
                    for t in 0..dv {
                        out[row * dv + t] += w * v[vo + t] as f64;
                    }
                }
            }
        }
    }
    RefOut { out, lse, probs }
}
