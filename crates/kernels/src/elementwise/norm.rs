//! LayerNorm and RMSNorm over the last axis of contiguous `rows × cols` f32 data,
//! optionally after a fused residual add (`h ← h + r; y ← norm(h)`).
//!
//! * LayerNorm (Ba et al. 2016, PyTorch `nn.LayerNorm`): `y = (x − μ)/√(σ² + ε)·γ + β`
//!   with the biased (population) variance σ².
//! * RMSNorm (Zhang & Sennrich 2019, Hugging Face `LlamaRMSNorm`): `y = x/√(mean(x²) + ε)·γ`.
//!
//! Statistics: the corrected two-pass algorithm (Chan, Golub & LeVeque 1983). Pass 1
//! sums `x` (8 f32 partial sums, as two SIMD vectors); with `m` that mean, pass 2 sums
//! `d = x − m` and `d²`; then `μ = m + Σd/n` and `σ² = (Σd² − (Σd)²/n)/n`. There is no
//! `E[x²] − E[x]²` cancellation, and the `Σd` term removes the first pass's rounding
//! from the mean. RMSNorm needs only `Σx²` (no cancellation). Partial sums are combined
//! and the per-row scalars formed in f64. Pass 3 writes `(((x − m) − δ)·s)·γ + β` with
//! `δ = Σd/n` and `s = 1/√(σ² + ε)` (μ is never rounded to f32: with a large mean, that
//! rounding alone would shift every output by up to ulp(μ)/2σ). The scalar variant keeps the same eight partial sums in the same
//! order, so both variants give the same results (the relaxed-SIMD build fuses
//! `d·d + acc` and may differ in the last bits).
//!
//! Special values: for LayerNorm a NaN or ±inf in a row makes the whole row NaN; for
//! RMSNorm a NaN does, and ±inf gives `x·0` (NaN there, 0 elsewhere) — both as PyTorch.

use super::span;

/// The normalisation and its parameters (`cols` values each).
#[derive(Clone, Copy, Debug)]
pub enum Norm<'a> {
    Layer { gamma: &'a [f32], beta: &'a [f32] },
    Rms { gamma: &'a [f32] },
}

impl<'a> Norm<'a> {
    fn check(&self, cols: usize) {
        let ok = match self {
            Norm::Layer { gamma, beta } => gamma.len() >= cols && beta.len() >= cols,
            Norm::Rms { gamma } => gamma.len() >= cols,
        };
        assert!(ok, "norm: gamma or beta shorter than cols");
    }
}

/// `dst ← norm(src)` row by row (`rows × cols`, contiguous).
pub fn norm_rows(src: &[f32], dst: &mut [f32], rows: usize, cols: usize, norm: Norm, eps: f32) {
    let n = span(rows, cols, cols);
    assert!(src.len() >= n && dst.len() >= n, "norm_rows: src or dst too short");
    norm.check(cols);
    for r in 0..rows {
        // SAFETY: row r lies inside src and dst (asserted); dst is exclusive, so it does
        // not overlap src; `src` is only read (no residual).
        unsafe {
            norm_row(src.as_ptr().add(r * cols) as *mut f32, None, dst.as_mut_ptr().add(r * cols), cols, norm, eps)
        }
    }
}

/// `x ← norm(x)` row by row, in place.
pub fn norm_rows_in_place(x: &mut [f32], rows: usize, cols: usize, norm: Norm, eps: f32) {
    assert!(x.len() >= span(rows, cols, cols), "norm_rows_in_place: x too short");
    norm.check(cols);
    for r in 0..rows {
        let p = unsafe { x.as_mut_ptr().add(r * cols) };
        // SAFETY: row r lies inside x; pass 3 reads and writes the same elements.
        unsafe { norm_row(p, None, p, cols, norm, eps) }
    }
}

/// `h ← h + residual; dst ← norm(h)` row by row (`dst` None: into `h`).
pub fn add_norm_rows(
    h: &mut [f32], residual: &[f32], dst: Option<&mut [f32]>, rows: usize, cols: usize, norm: Norm, eps: f32,
) {
    let n = span(rows, cols, cols);
    assert!(h.len() >= n && residual.len() >= n, "add_norm_rows: h or residual too short");
    norm.check(cols);
    let out = match dst {
        Some(d) => {
            assert!(d.len() >= n, "add_norm_rows: dst too short");
            d.as_mut_ptr()
        }
        None => h.as_mut_ptr(),
    };
    for r in 0..rows {
        // SAFETY: row r lies inside h, residual and the output; the residual is shared
        // and the separate dst exclusive, so neither overlaps h.
        unsafe {
            norm_row(
                h.as_mut_ptr().add(r * cols),
                Some(residual.as_ptr().add(r * cols)),
                out.add(r * cols),
                cols,
                norm,
                eps,
            )
        }
    }
}

/// One row of `n` values.
///
/// # Safety
/// `x` readable for `n` (and writable when `res` is given, which is first added into
/// it); `res` readable; `dst` writable for `n`, equal to `x` or not overlapping it.
unsafe fn norm_row(x: *mut f32, res: Option<*const f32>, dst: *mut f32, n: usize, norm: Norm, eps: f32) {
    if n == 0 {
        return;
    }
    let nf = n as f64;
    let eps = eps as f64;
    match norm {
        Norm::Layer { gamma, beta } => {
            let m = (pass1(x, res, n, false) / nf) as f32;
            let (d, d2) = pass2(x, n, m);
            let var = ((d2 - d * d / nf) / nf).max(0.0);
            let s = 1.0 / (var + eps).sqrt();
            // μ = m + δ: `(x − m) − δ` centres without rounding μ to f32 (x − m is
            // exact when x is within a factor 2 of m, and δ is small).
            pass3(x, dst, n, m, (d / nf) as f32, s as f32, gamma.as_ptr(), Some(beta.as_ptr()));
        }
        Norm::Rms { gamma } => {
            let ms = pass1(x, res, n, true) / nf;
            let s = 1.0 / (ms + eps).sqrt();
            pass3(x, dst, n, 0.0, 0.0, s as f32, gamma.as_ptr(), None);
        }
    }
}

/// Σ x (or Σ x² with `square`) in eight f32 partial sums (lane `j mod 8` of each block of
/// eight, then one block of four into lanes 0–3, then a scalar tail), combined in f64.
/// With `res`, first `x ← x + res` (stored).
///
/// # Safety
/// As [`norm_row`].
#[inline(always)]
#[allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // lanes written as the SIMD adds them
unsafe fn pass1(x: *mut f32, res: Option<*const f32>, n: usize, square: bool) -> f64 {
    let (n8, n4) = (n / 8 * 8, n / 4 * 4);
    let mut lanes = [0f32; 8];
    let mut j = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::lanes::{ld, st};
        use core::arch::wasm32::*;
        let (mut a0, mut a1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        let get = |p: *mut f32| -> v128 {
            match res {
                Some(r) => {
                    let v = f32x4_add(ld(p), ld(r.offset(p.offset_from(x))));
                    st(p, v);
                    v
                }
                None => ld(p),
            }
        };
        while j < n8 {
            let (v0, v1) = (get(x.add(j)), get(x.add(j + 4)));
            if square {
                a0 = f32x4_add(f32x4_mul(v0, v0), a0);
                a1 = f32x4_add(f32x4_mul(v1, v1), a1);
            } else {
                a0 = f32x4_add(v0, a0);
                a1 = f32x4_add(v1, a1);
            }
            j += 8;
        }
        if j < n4 {
            let v0 = get(x.add(j));
            a0 = f32x4_add(if square { f32x4_mul(v0, v0) } else { v0 }, a0);
            j += 4;
        }
        st(lanes.as_mut_ptr(), a0);
        st(lanes.as_mut_ptr().add(4), a1);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        // Fixed-width inner loops (8, then 4) so the partial sums stay in registers.
        if let Some(r) = res {
            while j < n4 {
                let w = if j < n8 { 8 } else { 4 };
                for k in 0..8 {
                    if k < w {
                        let v = *x.add(j + k) + *r.add(j + k);
                        *x.add(j + k) = v;
                        lanes[k] = if square { v * v + lanes[k] } else { v + lanes[k] };
                    }
                }
                j += w;
            }
        } else if square {
            while j < n8 {
                for (k, l) in lanes.iter_mut().enumerate() {
                    let v = *x.add(j + k);
                    *l = v * v + *l;
                }
                j += 8;
            }
        } else {
            while j < n8 {
                for (k, l) in lanes.iter_mut().enumerate() {
                    *l = *x.add(j + k) + *l;
                }
                j += 8;
            }
        }
        if j < n4 {
            for (k, l) in lanes.iter_mut().enumerate().take(4) {
                let v = *x.add(j + k);
                *l = if square { v * v + *l } else { v + *l };
            }
            j += 4;
        }
    }
    let mut tail = 0f32;
    while j < n {
        let mut v = *x.add(j);
        if let Some(r) = res {
            v += *r.add(j);
            *x.add(j) = v;
        }
        tail = if square { v * v + tail } else { v + tail };
        j += 1;
    }
    lanes.iter().map(|&l| l as f64).sum::<f64>() + tail as f64
}

/// (Σ d, Σ d²) for `d = x − m`, partial sums laid out as in [`pass1`].
///
/// # Safety
/// `x` readable for `n`.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
unsafe fn pass2(x: *const f32, n: usize, m: f32) -> (f64, f64) {
    let (n8, n4) = (n / 8 * 8, n / 4 * 4);
    let (mut s, mut q) = ([0f32; 8], [0f32; 8]);
    let mut j = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::lanes::{ld, st};
        use core::arch::wasm32::*;
        let vm = f32x4_splat(m);
        let z = f32x4_splat(0.0);
        let (mut s0, mut s1, mut q0, mut q1) = (z, z, z, z);
        while j < n8 {
            let d0 = f32x4_sub(ld(x.add(j)), vm);
            let d1 = f32x4_sub(ld(x.add(j + 4)), vm);
            s0 = f32x4_add(d0, s0);
            s1 = f32x4_add(d1, s1);
            q0 = f32x4_add(f32x4_mul(d0, d0), q0);
            q1 = f32x4_add(f32x4_mul(d1, d1), q1);
            j += 8;
        }
        if j < n4 {
            let d0 = f32x4_sub(ld(x.add(j)), vm);
            s0 = f32x4_add(d0, s0);
            q0 = f32x4_add(f32x4_mul(d0, d0), q0);
            j += 4;
        }
        st(s.as_mut_ptr(), s0);
        st(s.as_mut_ptr().add(4), s1);
        st(q.as_mut_ptr(), q0);
        st(q.as_mut_ptr().add(4), q1);
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        while j < n8 {
            for k in 0..8 {
                let d = *x.add(j + k) - m;
                s[k] += d;
                q[k] += d * d;
            }
            j += 8;
        }
        if j < n4 {
            for k in 0..4 {
                let d = *x.add(j + k) - m;
                s[k] += d;
                q[k] += d * d;
            }
            j += 4;
        }
    }
    let (mut ts, mut tq) = (0f32, 0f32);
    while j < n {
        let d = *x.add(j) - m;
        ts += d;
        tq += d * d;
        j += 1;
    }
    let sum = |a: &[f32; 8], t: f32| a.iter().map(|&l| l as f64).sum::<f64>() + t as f64;
    (sum(&s, ts), sum(&q, tq))
}

/// `dst[j] ← (((x[j] − m) − δ)·s)·γ[j] (+ β[j])`.
///
/// # Safety
/// `x` readable, `dst` writable (equal or disjoint) for `n`; `g`, `b` readable for `n`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pass3(
    x: *const f32, dst: *mut f32, n: usize, m: f32, delta: f32, s: f32, g: *const f32, b: Option<*const f32>,
) {
    let mut j = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use super::lanes::{ld, st};
        use core::arch::wasm32::*;
        let (vm, vd, vs) = (f32x4_splat(m), f32x4_splat(delta), f32x4_splat(s));
        let n4 = n / 4 * 4;
        match b {
            Some(b) => {
                while j < n4 {
                    let y = f32x4_mul(f32x4_mul(f32x4_sub(f32x4_sub(ld(x.add(j)), vm), vd), vs), ld(g.add(j)));
                    st(dst.add(j), f32x4_add(y, ld(b.add(j))));
                    j += 4;
                }
            }
            None => {
                while j < n4 {
                    st(dst.add(j), f32x4_mul(f32x4_mul(f32x4_sub(f32x4_sub(ld(x.add(j)), vm), vd), vs), ld(g.add(j))));
                    j += 4;
                }
            }
        }
    }
    while j < n {
        let y = (((*x.add(j) - m) - delta) * s) * *g.add(j);
        *dst.add(j) = match b {
            Some(b) => y + *b.add(j),
            None => y,
        };
        j += 1;
    }
}
