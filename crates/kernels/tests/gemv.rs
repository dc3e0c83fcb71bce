//! Small-m products and the block formats against float64 references written from the
//! format's definition (module docs of `kernels::format`), independent of the kernels.
mod common;
use common::Rng;
use kernels::dtype::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, F16Finite, BF16, F16};
use kernels::format::{dequantize, quantize_q4_0, quantize_q8_0, Format, QK};
use kernels::gemm::quant::{gemm_q, gemm_q8_panels};
use kernels::gemv::{f16_all_finite, gemv, gemv_q, quantize_rows};

const SIZES: [usize; 10] = [0, 1, 3, 5, 17, 31, 32, 33, 63, 65];

/// Byte offset of the scale of block `b` of row `r` in an `n × k` q8_0/q4_0 buffer: after
/// the codes, f32 scales in the matrix–vector tile order (tile `t` holds rows `t + s·q`,
/// `q = ⌈n/4⌉`, the four side by side per block; slots past `n` are padding).
fn scale_offset(format: Format, n: usize, k: usize, r: usize, b: usize) -> usize {
    let nb = (k + QK - 1) / QK;
    let bb = if format == Format::Q8_0 { 32 } else { 16 };
    let q = (n + 3) / 4;
    n * nb * bb + 4 * (((r % q) * nb + b) * 4 + r / q)
}

/// The scale of block `b` of row `r` ([`scale_offset`]).
fn scale(format: Format, buf: &[u8], n: usize, k: usize, r: usize, b: usize) -> f64 {
    let at = scale_offset(format, n, k, r, b);
    f32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as f64
}

/// The weight values a q8_0/q4_0 buffer stands for, read straight from the layout.
fn ref_weights(format: Format, buf: &[u8], n: usize, k: usize) -> Vec<f64> {
    let nb = (k + QK - 1) / QK;
    let mut w = vec![0.0; n * k];
    for r in 0..n {
        for c in 0..k {
            let blk = r * nb + c / 32;
            let e = c % 32;
            let q = if format == Format::Q8_0 {
                buf[blk * 32 + e] as i8 as f64
            } else {
                let byte = buf[blk * 16 + e % 16];
                let nib = if e < 16 { byte & 15 } else { byte >> 4 };
                nib as f64 - 8.0
            };
            w[r * k + c] = scale(format, buf, n, k, r, c / 32) * q;
        }
    }
    w
}

/// Float64 `x·wᵀ + bias` and, per output, `Σ_blocks max|x_block|/254 · Σ_block |w|` (the
/// activation-quantisation bound) and `Σ |x||w|` (for f32 rounding).
#[allow(clippy::type_complexity)]
fn reference(
    x: &[f32], ldx: usize, w: &[f64], m: usize, k: usize, n: usize, bias: Option<&[f32]>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut y, mut qb, mut mag) = (vec![0.0; m * n], vec![0.0; m * n], vec![0.0; m * n]);
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut e, mut a) = (0.0, 0.0, 0.0);
            for b0 in (0..k).step_by(32) {
                let b1 = (b0 + 32).min(k);
                let amax = (b0..b1).map(|p| (x[i * ldx + p] as f64).abs()).fold(0.0, f64::max);
                let wsum: f64 = (b0..b1).map(|p| w[j * k + p].abs()).sum();
                e += amax / 254.0 * wsum;
                for p in b0..b1 {
                    s += x[i * ldx + p] as f64 * w[j * k + p];
                    a += (x[i * ldx + p] as f64 * w[j * k + p]).abs();
                }
            }
            y[i * n + j] = s + bias.map_or(0.0, |b| b[j] as f64);
            qb[i * n + j] = e;
            mag[i * n + j] = a + bias.map_or(0.0, |b| (b[j] as f64).abs());
        }
    }
    (y, qb, mag)
}

fn check(what: &str, got: &[f32], ldy: usize, want: &[f64], bound: &[f64], m: usize, n: usize) {
    for i in 0..m {
        for j in 0..n {
            let (g, w, b) = (got[i * ldy + j] as f64, want[i * n + j], bound[i * n + j]);
            assert!((g - w).abs() <= b, "{}: y[{}, {}] = {} but want {} (bound {:e})", what, i, j, g, w, b);
        }
    }
}

#[test]
fn float_formats_against_float64() {
    let mut rng = Rng::new(7);
    for &m in &[1usize, 2, 3, 5, 16, 17] {
        for &k in &SIZES {
            for &n in &SIZES {
                let (ldx, ldy) = (k + 3, n + 1);
                let x = rng.vec(m * ldx, 1.0);
                let wf = rng.vec(n * k, 1.0);
                let bias = rng.vec(n, 1.0);
                let b = if (m + n) % 2 == 0 { Some(&bias[..]) } else { None };
                let w16: Vec<F16> = wf.iter().map(|&v| F16(f32_to_f16(v))).collect();
                let wb: Vec<BF16> = wf.iter().map(|&v| BF16(f32_to_bf16(v))).collect();
                let ws: [(&str, Vec<f64>); 3] = [
                    ("f32", wf.iter().map(|&v| v as f64).collect()),
                    ("f16", w16.iter().map(|v| f16_to_f32(v.0) as f64).collect()),
                    ("bf16", wb.iter().map(|v| bf16_to_f32(v.0) as f64).collect()),
                ];
                for (name, wref) in &ws {
                    let mut y = vec![f32::NAN; m * ldy];
                    match *name {
                        "f32" => gemv(m, k, n, &x, ldx, &wf, b, &mut y, ldy),
                        "f16" => gemv(m, k, n, &x, ldx, &w16, b, &mut y, ldy),
                        _ => gemv(m, k, n, &x, ldx, &wb, b, &mut y, ldy),
                    }
                    let (want, _, mag) = reference(&x, ldx, wref, m, k, n, b);
                    // f32 summation of k products: |error| ≤ (k + 2)·2⁻²⁴·Σ|x·w| (plus bias).
                    let bound: Vec<f64> = mag.iter().map(|a| (k as f64 + 2.0) * 6e-8 * a + 1e-30).collect();
                    check(&format!("{} m={} k={} n={}", name, m, k, n), &y, ldy, &want, &bound, m, n);
                    for i in 0..m {
                        assert!(y[i * ldy + n..(i + 1) * ldy].iter().all(|v| v.is_nan()), "{}: wrote past n", name);
                    }
                }
            }
        }
    }
}

/// Float16 rows (checked or known finite) against their float32 copies, bit for bit, with
/// activations small enough for the 2^112 pre-scale and large enough to need the exact path.
#[test]
fn float16_rows_give_the_results_of_their_float32_copies() {
    let mut rng = Rng::new(11);
    for &scale in &[1.0f32, 1e-30, 7e4, 3e38] {
        for &(m, k, n) in &[(1usize, 3usize, 5usize), (2, 17, 9), (3, 64, 7), (1, 577, 13), (5, 33, 4)] {
            let x = rng.vec(m * k, scale);
            let w16: Vec<u16> = rng.vec(n * k, 2.0).iter().map(|&v| f32_to_f16(v)).collect();
            let wf: Vec<f32> = w16.iter().map(|&h| f16_to_f32(h)).collect();
            let wh: Vec<F16> = w16.iter().map(|&h| F16(h)).collect();
            let wfin: Vec<F16Finite> = w16.iter().map(|&h| F16Finite(h)).collect();
            let (mut y32, mut y16, mut yfin) = (vec![0.0; m * n], vec![0.0; m * n], vec![0.0; m * n]);
            gemv(m, k, n, &x, k, &wf, None, &mut y32, n);
            gemv(m, k, n, &x, k, &wh, None, &mut y16, n);
            gemv(m, k, n, &x, k, &wfin, None, &mut yfin, n);
            for i in 0..m * n {
                assert_eq!(y16[i].to_bits(), y32[i].to_bits(), "float16 x·{} m={} k={} n={} y[{}]", scale, m, k, n, i);
                assert_eq!(
                    yfin[i].to_bits(),
                    y32[i].to_bits(),
                    "finite float16 x·{} m={} k={} n={} y[{}]",
                    scale,
                    m,
                    k,
                    n,
                    i
                );
            }
        }
    }
}

#[test]
fn float16_finiteness_is_the_exponent_field() {
    assert!(f16_all_finite(&[]));
    assert!(f16_all_finite(&[F16(0x7bff), F16(0xfbff), F16(0x0001), F16(0x8000)]));
    for bad in [0x7c00u16, 0xfc00, 0x7e00, 0xffff, 0x7c01] {
        let mut w = vec![F16(0x3c00); 37];
        w[29] = F16(bad);
        assert!(!f16_all_finite(&w), "{:#06x}", bad);
    }
}

#[test]
fn block_formats_against_float64_of_the_same_quantised_weights() {
    let mut rng = Rng::new(11);
    for format in [Format::Q8_0, Format::Q4_0] {
        for &m in &[1usize, 2, 4, 16, 17, 33] {
            for &k in &SIZES {
                for &n in &SIZES {
                    if m > 17 && (k > 33 || n > 33) {
                        continue;
                    }
                    let (ldx, ldy) = (k + 1, n + 2);
                    let x = rng.vec(m * ldx, 2.0);
                    let wf = rng.vec(n * k, 0.5);
                    let bias = rng.vec(n, 1.0);
                    let b = if (m + k) % 2 == 0 { Some(&bias[..]) } else { None };
                    let mut buf = vec![0u8; format.matrix_bytes(n, k).unwrap()];
                    if format == Format::Q8_0 {
                        quantize_q8_0(&wf, k, n, k, &mut buf);
                    } else {
                        quantize_q4_0(&wf, k, n, k, &mut buf);
                    }
                    let wref = ref_weights(format, &buf, n, k);
                    let mut y = vec![f32::NAN; m * ldy];
                    gemv_q(format, m, k, n, &x, ldx, &buf, b, &mut y, ldy);
                    let (want, qb, mag) = reference(&x, ldx, &wref, m, k, n, b);
                    // Activation rounding (≤ d_x/2 per element, d_x computed in f32: ×(1 + 2⁻²⁰))
                    // plus f32 accumulation of the per-block partial sums.
                    let bound: Vec<f64> = qb
                        .iter()
                        .zip(&mag)
                        .map(|(e, a)| e * (1.0 + 1e-6) + (k as f64 / 32.0 + 4.0) * 1.2e-7 * (a + e) + 1e-30)
                        .collect();
                    check(&format!("{:?} m={} k={} n={}", format, m, k, n), &y, ldy, &want, &bound, m, n);
                    for i in 0..m {
                        assert!(y[i * ldy + n..(i + 1) * ldy].iter().all(|v| v.is_nan()), "wrote past n");
                    }
                }
            }
        }
    }
}

/// The integer GEMM of many rows holds the same bound as the matrix–vector kernels (the
/// same activation quantisation), across its 4-row, 8-row-sliver and 128-row block edges.
#[test]
fn block_formats_gemm_against_float64_of_the_same_quantised_weights() {
    let mut rng = Rng::new(12);
    for format in [Format::Q8_0, Format::Q4_0] {
        for &(m, k, n) in &[(1, 32, 8), (3, 5, 7), (4, 64, 9), (24, 33, 17), (33, 100, 130), (70, 600, 257), (5, 0, 3)]
        {
            let (ldx, ldy) = (k + 1, n + 2);
            let x = rng.vec(m * ldx, 2.0);
            let wf = rng.vec(n * k, 0.5);
            let bias = rng.vec(n, 1.0);
            let b = if (m + k) % 2 == 0 { Some(&bias[..]) } else { None };
            let mut buf = vec![0u8; format.matrix_bytes(n, k).unwrap()];
            if format == Format::Q8_0 {
                quantize_q8_0(&wf, k, n, k, &mut buf);
            } else {
                quantize_q4_0(&wf, k, n, k, &mut buf);
            }
            let wref = ref_weights(format, &buf, n, k);
            let mut y = vec![f32::NAN; m * ldy];
            gemm_q(format, m, k, n, &x, ldx, &buf, b, &mut y, ldy);
            let (want, qb, mag) = reference(&x, ldx, &wref, m, k, n, b);
            let bound: Vec<f64> = qb
                .iter()
                .zip(&mag)
                .map(|(e, a)| e * (1.0 + 1e-6) + (k as f64 / 32.0 + 4.0) * 1.2e-7 * (a + e) + 1e-30)
                .collect();
            check(&format!("gemm_q {:?} m={} k={} n={}", format, m, k, n), &y, ldy, &want, &bound, m, n);
            for i in 0..m {
                assert!(y[i * ldy + n..(i + 1) * ldy].iter().all(|v| v.is_nan()), "wrote past n");
            }
            // The activation rounding is the matrix–vector kernels': the two agree to f32 rounding.
            let mut yv = vec![f32::NAN; m * ldy];
            gemv_q(format, m, k, n, &x, ldx, &buf, b, &mut yv, ldy);
            let agree: Vec<f64> =
                mag.iter().zip(&qb).map(|(a, e)| (k as f64 / 16.0 + 8.0) * 1.2e-7 * (a + e) + 1e-30).collect();
            let yv64: Vec<f64> = (0..m * n).map(|t| yv[(t / n.max(1)) * ldy + t % n.max(1)] as f64).collect();
            check(&format!("gemm_q vs gemv_q {:?} m={} k={} n={}", format, m, k, n), &y, ldy, &yv64, &agree, m, n);
        }
    }
}

/// q8_0 panels hold the q8_0 values (the same codes, the float16 scales widened, each
/// block's code sum): the
/// integer GEMM on them gives bit for bit what it gives on the q8_0 rows, and a lookup
/// reads the q8_0 values back. Written in two row chunks over garbage.
#[test]
fn q8_panels_equal_q8_0() {
    use kernels::format::{gather_rows, write_q8_panel_rows};
    let mut rng = Rng::new(13);
    for &(m, k, n) in &[(1, 32, 8), (3, 5, 7), (4, 64, 9), (24, 33, 17), (33, 100, 130), (9, 600, 257), (2, 0, 3)] {
        let x = rng.vec(m * k, 2.0);
        let wf = rng.vec(n * k, 0.5);
        let bias = rng.vec(n, 1.0);
        let mut q8 = vec![0u8; Format::Q8_0.matrix_bytes(n, k).unwrap()];
        quantize_q8_0(&wf, k, n, k, &mut q8);
        // Aligned for the f32 scale plane.
        let bytes = Format::Q8Panels.matrix_bytes(n, k).unwrap();
        let mut store = vec![0x5au32; (bytes + 3) / 4];
        // SAFETY: `store` holds at least `bytes` bytes.
        let panels = unsafe { std::slice::from_raw_parts_mut(store.as_mut_ptr() as *mut u8, bytes) };
        let half = n / 2;
        write_q8_panel_rows(&wf, k, 0, half, n, k, panels);
        write_q8_panel_rows(&wf[half * k..], k, half, n - half, n, k, panels);
        let mut a = vec![f32::NAN; m * n];
        let mut b = vec![f32::NAN; m * n];
        // The sum plane after the scales: each block's Σ codes, read off the q8_0 rows.
        let (nb, stored) = (Format::Q8Panels.blocks(k), (n + 7) / 8 * 8);
        let sums = &panels[stored * nb * (QK + 4)..];
        for j in 0..stored {
            for b in 0..nb {
                let want: i32 = if j < n {
                    q8[(j * nb + b) * QK..(j * nb + b + 1) * QK].iter().map(|&c| c as i8 as i32).sum()
                } else {
                    0
                };
                let at = 4 * ((j / 8 * nb + b) * 8 + j % 8);
                let got = i32::from_le_bytes([sums[at], sums[at + 1], sums[at + 2], sums[at + 3]]);
                assert_eq!(got, want, "q8 panels code sum row {} block {}", j, b);
            }
        }
        gemm_q8_panels(m, k, n, &x, k, panels, Some(&bias), &mut a, n);
        gemm_q(Format::Q8_0, m, k, n, &x, k, &q8, Some(&bias), &mut b, n);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "q8 panels m={} k={} n={}", m, k, n);
        let ids: Vec<u32> = (0..n as u32).rev().collect();
        let mut got = vec![0f32; n * k];
        let mut want = vec![0f32; n * k];
        gather_rows(Format::Q8Panels, panels, n, k, &ids, &mut got);
        gather_rows(Format::Q8_0, &q8, n, k, &ids, &mut want);
        assert_eq!(bits(&got), bits(&want), "q8 panels lookup n={} k={}", n, k);
    }
}

/// q4_0 panels hold the q4_0 values: the 4-bit GEMM on them gives bit for bit what the
/// integer GEMM gives on the q4_0 rows (here the panels are unpacked per call; the
/// relaxed-SIMD tile is compared the same way by test/linear.test.ts), and a lookup
/// reads the q4_0 values back. Written in two row chunks over garbage.
#[test]
fn q4_panels_equal_q4_0() {
    use kernels::format::{gather_rows, write_q_panel_rows};
    use kernels::gemm::q4_panels::gemm_q4_panels;
    let mut rng = Rng::new(17);
    for &(m, k, n) in &[(1, 32, 8), (3, 5, 7), (4, 64, 9), (24, 33, 17), (33, 100, 130), (9, 600, 257), (2, 0, 3)] {
        let x = rng.vec(m * k, 2.0);
        let wf = rng.vec(n * k, 0.5);
        let bias = rng.vec(n, 1.0);
        let mut q4 = vec![0u8; Format::Q4_0.matrix_bytes(n, k).unwrap()];
        quantize_q4_0(&wf, k, n, k, &mut q4);
        let f = Format::Q4Panels;
        let bytes = f.matrix_bytes(n, k).unwrap();
        let mut store = vec![0x5au32; (bytes + 3) / 4];
        // SAFETY: `store` holds at least `bytes` bytes.
        let panels = unsafe { std::slice::from_raw_parts_mut(store.as_mut_ptr() as *mut u8, bytes) };
        let half = n / 2;
        write_q_panel_rows(f, &wf, k, 0, half, n, k, panels);
        write_q_panel_rows(f, &wf[half * k..], k, half, n - half, n, k, panels);
        let mut a = vec![f32::NAN; m * n];
        let mut b = vec![f32::NAN; m * n];
        gemm_q4_panels(m, k, n, &x, k, panels, Some(&bias), &mut a, n);
        gemm_q(Format::Q4_0, m, k, n, &x, k, &q4, Some(&bias), &mut b, n);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "q4 panels m={} k={} n={}", m, k, n);
        let ids: Vec<u32> = (0..n as u32).rev().collect();
        let mut got = vec![0f32; n * k];
        let mut want = vec![0f32; n * k];
        gather_rows(f, panels, n, k, &ids, &mut got);
        gather_rows(Format::Q4_0, &q4, n, k, &ids, &mut want);
        assert_eq!(bits(&got), bits(&want), "q4 panels lookup n={} k={}", n, k);
    }
}

#[test]
fn exact_activations_give_exact_products() {
    // Activations already on the int8 grid of their block (max 127·d) quantise without
    // error, so the product equals the float64 one up to f32 rounding only.
    let (m, k, n) = (3, 96, 9);
    let mut rng = Rng::new(5);
    let x: Vec<f32> = (0..m * k)
        .map(|i| if i % 32 == 0 { 127.0 } else { ((rng.next_u32() % 255) as i32 - 127) as f32 } * 0.25)
        .collect();
    let wf = rng.vec(n * k, 1.0);
    let mut buf = vec![0u8; Format::Q8_0.matrix_bytes(n, k).unwrap()];
    quantize_q8_0(&wf, k, n, k, &mut buf);
    let wref = ref_weights(Format::Q8_0, &buf, n, k);
    let mut y = vec![0.0; m * n];
    gemv_q(Format::Q8_0, m, k, n, &x, k, &buf, None, &mut y, n);
    let (want, _, mag) = reference(&x, k, &wref, m, k, n, None);
    let bound: Vec<f64> = mag.iter().map(|a| 8.0 * 1.2e-7 * a).collect();
    check("on-grid activations", &y, n, &want, &bound, m, n);
}

#[test]
fn non_finite_activations_poison_their_outputs() {
    let (k, n) = (64, 5);
    let wf = Rng::new(3).vec(n * k, 1.0);
    let mut buf = vec![0u8; Format::Q8_0.matrix_bytes(n, k).unwrap()];
    quantize_q8_0(&wf, k, n, k, &mut buf);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = vec![0.5f32; 2 * k];
        x[40] = bad;
        let mut y = vec![0.0; 2 * n];
        gemv_q(Format::Q8_0, 2, k, n, &x, k, &buf, None, &mut y, n);
        assert!(y[..n].iter().all(|v| v.is_nan()), "{:?}", &y[..n]);
        assert!(y[n..].iter().all(|v| v.is_finite()));
    }
}

/// A weight block holding ±inf or NaN gets a NaN scale; an ±inf scale may come from a
/// buffer written by hand. Either poisons its row's outputs only, wherever its row falls
/// in the scale plane's four-row tiles.
#[test]
fn non_finite_weight_scales_poison_their_rows() {
    let (k, n) = (7 * 32, 9);
    for format in [Format::Q8_0, Format::Q4_0] {
        for (row, block, bad) in [(2usize, 1usize, f32::NAN), (5, 6, f32::INFINITY), (8, 4, f32::NEG_INFINITY)] {
            let mut wf = Rng::new(11).vec(n * k, 1.0);
            wf[row * k + block * 32 + 3] = bad;
            let mut buf = vec![0u8; format.matrix_bytes(n, k).unwrap()];
            if format == Format::Q8_0 {
                quantize_q8_0(&wf, k, n, k, &mut buf);
            } else {
                quantize_q4_0(&wf, k, n, k, &mut buf);
            }
            let x: Vec<f32> = (0..k).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
            let mut y = vec![0.0; n];
            gemv_q(format, 1, k, n, &x, k, &buf, None, &mut y, n);
            for (j, v) in y.iter().enumerate() {
                assert_eq!(v.is_nan(), j == row, "{:?}: row {} = {} (bad row {})", format, j, v, row);
            }
            // An infinite scale written into the plane directly: ±inf or NaN out.
            let at = scale_offset(format, n, k, row, block);
            buf[at..at + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
            gemv_q(format, 1, k, n, &x, k, &buf, None, &mut y, n);
            for (j, v) in y.iter().enumerate() {
                assert_eq!(!v.is_finite(), j == row, "{:?}: inf scale, row {} = {}", format, j, v);
            }
        }
    }
}

/// The quantisers against the format's definition in float64.
#[test]
fn quantisers_match_the_format_definition() {
    let mut rng = Rng::new(9);
    for &(rows, cols) in &[(1usize, 1usize), (3, 31), (2, 32), (5, 33), (4, 100), (7, 64)] {
        let mut src = rng.vec(rows * cols, 3.0);
        // Exact extremes, ties and zero blocks.
        src[0] = -3.0;
        if cols > 40 {
            src[33..cols.min(64)].iter_mut().for_each(|v| *v = 0.0);
        }
        for format in [Format::Q8_0, Format::Q4_0] {
            // Filled with 0xff first: the scale slots of the rows past `rows` must come out 0.
            let mut buf = vec![0xffu8; format.matrix_bytes(rows, cols).unwrap()];
            if format == Format::Q8_0 {
                quantize_q8_0(&src, cols, rows, cols, &mut buf);
            } else {
                quantize_q4_0(&src, cols, rows, cols, &mut buf);
            }
            let nb = (cols + 31) / 32;
            let q = (rows + 3) / 4;
            let bb = if format == Format::Q8_0 { 32 } else { 16 };
            assert_eq!(buf.len(), rows * nb * bb + q * 4 * nb * 4, "{:?} buffer length", format);
            for t in 0..q {
                for slot in (0..4).filter(|s| t + s * q >= rows) {
                    for b in 0..nb {
                        let at = rows * nb * bb + 4 * ((t * nb + b) * 4 + slot);
                        assert_eq!(&buf[at..at + 4], &[0; 4], "{:?} padding slot t={} s={} b={}", format, t, slot, b);
                    }
                }
            }
            let vals = ref_weights(format, &buf, rows, cols);
            let mut deq = vec![0f32; rows * cols];
            dequantize(format, &buf, rows, cols, &mut deq);
            for r in 0..rows {
                for b in 0..nb {
                    let xs: Vec<f64> = (b * 32..cols.min(b * 32 + 32)).map(|c| src[r * cols + c] as f64).collect();
                    let (mut amax, mut big) = (0.0f64, 0.0f64);
                    for &v in &xs {
                        if v.abs() > amax {
                            amax = v.abs();
                            big = v;
                        }
                    }
                    // The scale: d = max|x|/127 (q8_0) or (signed extreme)/−8 (q4_0), stored as float16.
                    let d = if format == Format::Q8_0 { amax / 127.0 } else { big / -8.0 };
                    let ds = scale(format, &buf, rows, cols, r, b);
                    assert_eq!(ds, f16_to_f32(f32_to_f16(d as f32)) as f64, "{:?} scale r={} b={}", format, r, b);
                    for (e, &v) in xs.iter().enumerate() {
                        let c = b * 32 + e;
                        // Codes: round(x/d) in the format's range (a tie may go either way in f32).
                        let t = if d == 0.0 { 0.0 } else { v / d };
                        let q = vals[r * cols + c] / if ds == 0.0 { 1.0 } else { ds };
                        let (lo, hi) = if format == Format::Q8_0 { (-127.0, 127.0) } else { (-8.0, 7.0) };
                        let near = t.round().max(lo).min(hi);
                        let tie = (t - t.trunc()).abs() > 0.5 - 1e-5 && (t - t.trunc()).abs() < 0.5 + 1e-5;
                        assert!(
                            q == near || (tie && (q - t).abs() <= 0.5 + 1e-5),
                            "{:?} code r={} c={}: {} vs {} (x/d = {})",
                            format,
                            r,
                            c,
                            q,
                            near,
                            t
                        );
                        assert!(q >= lo && q <= hi);
                        assert_eq!(deq[r * cols + c] as f64, vals[r * cols + c], "dequantize r={} c={}", r, c);
                    }
                }
            }
        }
    }
}

#[test]
fn activation_quantiser_rounds_to_nearest_within_half_a_step() {
    let mut rng = Rng::new(13);
    let (rows, k) = (3, 70);
    let x = rng.vec(rows * k, 4.0);
    let nb = 3;
    let mut codes = vec![0i16; rows * nb * 32];
    let mut scales = vec![0f32; rows * nb];
    quantize_rows(&x, k, rows, k, &mut codes, &mut scales);
    for r in 0..rows {
        for b in 0..nb {
            let d = scales[r * nb + b] as f64;
            for e in 0..32 {
                let c = b * 32 + e;
                let q = codes[(r * nb + b) * 32 + e] as f64;
                if c >= k {
                    assert_eq!(q, 0.0);
                    continue;
                }
                let v = x[r * k + c] as f64;
                assert!(q.abs() <= 127.0);
                assert!((v - d * q).abs() <= d * 0.5 * (1.0 + 1e-5), "r={} c={}", r, c);
            }
        }
    }
}
