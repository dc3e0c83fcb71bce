//! SGEMM against a float64 reference: awkward sizes, trans_b, α/β, identities.
mod common;
use common::{assert_close, ref_gemm, Rng};
use kernels::gemm::sgemm;

#[allow(clippy::too_many_arguments)]
fn case(rng: &mut Rng, m: usize, k: usize, n: usize, trans_b: bool, alpha: f32, beta: f32, pad: usize, c_nan: bool) {
    let lda = k + pad;
    let ldb = if trans_b { k } else { n } + pad;
    let ldc = n + pad;
    let a = rng.vec(m * lda, 1.0);
    let b = rng.vec(if trans_b { n } else { k } * ldb, 1.0);
    let c0 = if c_nan { vec![f32::NAN; m * ldc] } else { rng.vec(m * ldc, 1.0) };
    let mut c = c0.clone();
    sgemm(m, k, n, alpha, &a, lda, &b, ldb, trans_b, beta, &mut c, ldc);
    let mut want = ref_gemm(m, k, n, alpha as f64, &a, lda, &b, ldb, trans_b, beta as f64, &c0, ldc);
    if c_nan {
        // Only the padding columns keep their NaN.
        for i in 0..m {
            for j in 0..n {
                assert!(!c[i * ldc + j].is_nan(), "NaN leaked from C at ({}, {})", i, j);
            }
        }
    } else {
        want.iter_mut().zip(&c0).for_each(|(w, &c)| {
            if w.is_nan() {
                *w = c as f64
            }
        });
    }
    let what = format!("sgemm m={} k={} n={} trans_b={} α={} β={} pad={}", m, k, n, trans_b, alpha, beta, pad);
    assert_close(&what, &c, &want, 1e-5 * ((k + 1) as f64).sqrt() * 4.0, 1e-5);
}

#[test]
fn sizes_0_to_12_and_awkward() {
    let mut rng = Rng::new(1);
    let sizes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 17, 63, 64, 65];
    for &m in &sizes {
        for &n in &sizes {
            for &k in &[0usize, 1, 2, 5, 8, 13, 64, 65] {
                case(&mut rng, m, k, n, (m + n) % 2 == 1, 1.0, 0.0, 0, false);
            }
        }
    }
    for &(m, k, n) in &[(129, 129, 129), (63, 257, 65), (5, 300, 2049), (130, 40, 9)] {
        case(&mut rng, m, k, n, false, 1.0, 0.0, 1, false);
        case(&mut rng, m, k, n, true, 1.0, 0.0, 1, false);
    }
}

#[test]
fn alpha_beta_and_strides() {
    let mut rng = Rng::new(2);
    for &(alpha, beta) in &[(1.0, 0.0), (2.5, 0.0), (1.0, 1.0), (-0.5, 0.75), (0.0, 2.0)] {
        for &t in &[false, true] {
            case(&mut rng, 33, 70, 41, t, alpha, beta, 3, false);
            case(&mut rng, 7, 300, 19, t, alpha, beta, 0, false);
        }
    }
}

#[test]
fn beta_zero_never_reads_c() {
    let mut rng = Rng::new(3);
    case(&mut rng, 17, 65, 23, false, 1.0, 0.0, 2, true);
    case(&mut rng, 17, 65, 23, true, 1.5, 0.0, 0, true);
    case(&mut rng, 130, 300, 9, false, 1.0, 0.0, 0, true);
}

#[test]
fn k_zero_scales_c() {
    let mut c = vec![f32::NAN; 12];
    sgemm(3, 0, 4, 1.0, &[], 0, &[], 0, false, 0.0, &mut c, 4);
    assert!(c.iter().all(|&x| x == 0.0));
    let mut c = vec![2.0; 12];
    sgemm(3, 0, 4, 1.0, &[], 0, &[], 0, true, 0.5, &mut c, 4);
    assert!(c.iter().all(|&x| x == 1.0));
    // m = 0 or n = 0: nothing to do, nothing touched.
    let mut c = vec![7.0; 3];
    sgemm(0, 5, 3, 1.0, &[], 5, &[0.0; 15], 3, false, 0.0, &mut c, 3);
    sgemm(1, 5, 0, 1.0, &[0.0; 5], 5, &[], 0, false, 0.0, &mut c, 0);
    assert_eq!(c, vec![7.0; 3]);
}

#[test]
fn identities() {
    let mut rng = Rng::new(4);
    for &n in &[1usize, 7, 64, 65] {
        let mut eye = vec![0.0f32; n * n];
        (0..n).for_each(|i| eye[i * n + i] = 1.0);
        let a = rng.vec(n * n, 3.0);
        let mut c = vec![0.0; n * n];
        sgemm(n, n, n, 1.0, &a, n, &eye, n, false, 0.0, &mut c, n);
        assert_eq!(c, a, "A·I = A (n = {})", n);
        sgemm(n, n, n, 1.0, &eye, n, &a, n, false, 0.0, &mut c, n);
        assert_eq!(c, a, "I·B = B (n = {})", n);
        sgemm(n, n, n, 1.0, &eye, n, &a, n, true, 0.0, &mut c, n);
        let at: Vec<f32> = (0..n * n).map(|x| a[(x % n) * n + x / n]).collect();
        assert_eq!(c, at, "I·Bᵀ = Bᵀ (n = {})", n);
    }
}

/// binary16 bits → f64, written from the format's definition (independent of the kernels).
fn f16_value(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = ((h >> 10) & 0x1f) as i32;
    let m = (h & 0x3ff) as f64;
    sign * if e == 0 { m * 2f64.powi(-24) } else { (1.0 + m / 1024.0) * 2f64.powi(e - 15) }
}

/// bfloat16 bits → f64 from the definition (8 exponent bits, 7 mantissa bits).
fn bf16_value(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let e = ((h >> 7) & 0xff) as i32;
    let m = (h & 0x7f) as f64;
    sign * if e == 0 { m * 2f64.powi(-133) } else { (1.0 + m / 128.0) * 2f64.powi(e - 127) }
}

/// Random 16-bit patterns of finite values of magnitude below ~4 (some subnormal, some ±0).
fn half_bits(rng: &mut Rng, n: usize, bf16: bool) -> Vec<u16> {
    (0..n)
        .map(|i| {
            let r = rng.next_u32();
            let (sign, mant) = (((r & 1) as u16) << 15, (r >> 8) as u16);
            if bf16 {
                // Exponents 100..=128 (values 2^-27 .. 4), 0 for a few subnormals.
                let e = if i % 29 == 0 { 0 } else { 100 + (r >> 1) % 29 } as u16;
                sign | (e << 7) | (mant & 0x7f)
            } else {
                // Exponents 0..=16 (subnormals up to 4).
                let e = ((r >> 1) % 17) as u16;
                sign | (e << 10) | (mant & 0x3ff)
            }
        })
        .collect()
}

#[test]
fn half_precision_b_is_widened_while_packing() {
    use kernels::dtype::{BF16, F16};
    use kernels::gemm::gemm;
    let mut rng = Rng::new(5);
    for &bf16 in &[false, true] {
        for &(m, k, n, trans_b) in &[
            (1, 7, 3, true),
            (5, 64, 17, true),
            (33, 130, 41, true),
            (9, 65, 70, false),
            (130, 600, 9, true),
            (4, 1, 2049, false),
        ] {
            let ldb = if trans_b { k } else { n };
            let bits = half_bits(&mut rng, if trans_b { n } else { k } * ldb, bf16);
            let widened: Vec<f32> =
                bits.iter().map(|&h| if bf16 { bf16_value(h) } else { f16_value(h) } as f32).collect();
            let a = rng.vec(m * k, 1.0);
            let c0 = rng.vec(m * n, 1.0);
            let mut c = c0.clone();
            if bf16 {
                let b: Vec<BF16> = bits.iter().map(|&h| BF16(h)).collect();
                gemm(m, k, n, 0.5, &a, k, &b, ldb, trans_b, 1.0, &mut c, n);
            } else {
                let b: Vec<F16> = bits.iter().map(|&h| F16(h)).collect();
                gemm(m, k, n, 0.5, &a, k, &b, ldb, trans_b, 1.0, &mut c, n);
            }
            // The f64 decode is exact in f32, so the reference sees the same B values.
            let want = ref_gemm(m, k, n, 0.5, &a, k, &widened, ldb, trans_b, 1.0, &c0, n);
            let what =
                format!("gemm {} B m={} k={} n={} trans_b={}", if bf16 { "bf16" } else { "f16" }, m, k, n, trans_b);
            assert_close(&what, &c, &want, 1e-5 * ((k + 1) as f64).sqrt() * 4.0, 1e-5);
        }
    }
}

/// A `[n, k]` weight written into float32 panels (in two row chunks, the last one
/// zeroing the padding over garbage) and multiplied by `gemm_panels`: against the
/// float64 reference, and bit for bit the same as `gemm` packing the rows per call.
#[test]
fn panels_weight_matches_reference_and_gemm() {
    use kernels::format::{gather_rows, write_panel_rows, Format};
    use kernels::gemm::{gemm, gemm_panels};
    let mut rng = Rng::new(7);
    for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (4, 8, 8), (16, 384, 1536), (17, 513, 13), (5, 1100, 2050), (2, 0, 3)] {
        let w = rng.vec(n * k, 1.0);
        let stored = Format::F32Panels.matrix_bytes(n, k).unwrap() / 4;
        let mut panels = vec![f32::NAN; stored];
        let half = n / 2;
        write_panel_rows(&w, k, 0, half, n, k, &mut panels);
        write_panel_rows(&w[half * k..], k, half, n - half, n, k, &mut panels);
        let a = rng.vec(m * k, 1.0);
        for &beta in &[0.0f32, 1.0] {
            let c0 = rng.vec(m * n, 1.0);
            let mut got = c0.clone();
            gemm_panels(m, k, n, &a, k, &panels, beta, &mut got, n);
            let mut packed = c0.clone();
            gemm(m, k, n, 1.0, &a, k, &w, k, true, beta, &mut packed, n);
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                packed.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "gemm_panels m={} k={} n={} β={}",
                m,
                k,
                n,
                beta
            );
            let want = ref_gemm(m, k, n, 1.0, &a, k, &w, k, true, beta as f64, &c0, n);
            assert_close(
                &format!("gemm_panels m={} k={} n={}", m, k, n),
                &got,
                &want,
                1e-5 * ((k + 1) as f64).sqrt() * 4.0,
                1e-5,
            );
        }
        // An embedding lookup reads the rows back exactly.
        let bytes: Vec<u8> = panels.iter().flat_map(|x| x.to_le_bytes()).collect();
        let ids: Vec<u32> = (0..n as u32).rev().collect();
        let mut rows = vec![0f32; n * k];
        gather_rows(Format::F32Panels, &bytes, n, k, &ids, &mut rows);
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(&rows[i * k..(i + 1) * k], &w[id as usize * k..(id as usize + 1) * k]);
        }
    }
}
