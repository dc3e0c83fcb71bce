//! SIMD128 decode tiles for int8 keys and values (one f32 scale per row, the
//! `Format::I8Row` storage): scores as exact i32 dot products of the codes with query rows
//! rounded to int16, `P·V` as exact i32 sums of the codes times weights rounded to int16,
//! both with `i32x4.dot_i16x8_s` (eight products per instruction). The driver applies
//! the row scales and takes the float tiles when a query or weight row holds inf/NaN.

// Tile code indexes several arrays by one row counter; clippy 1.63's needless_range_loop
// would rewrite each loop as a zip of iterators over fixed-size arrays.
#![allow(clippy::needless_range_loop)]

use core::arch::wasm32::*;

use super::decode::CHUNK;

/// Integer scores of int8 keys: `s[r·CHUNK + jj] = sq[r] · Σ_p q16[r][p]·code_{c0+jj}[p]`
/// (the key's own scale is applied by the caller). Keys of a tile are `n/KB` apart.
#[allow(clippy::too_many_arguments)]
pub fn i8_scores_simd128(
    q: &[i16], sq: &[f32], rows: usize, d: usize, k: &[i8], kstride: usize, c0: usize, n: usize, s: &mut [f32],
) {
    assert!(q.len() >= rows * d && sq.len() >= rows && s.len() >= rows * CHUNK && n <= CHUNK);
    assert!(n == 0 || k.len() >= (c0 + n - 1) * kstride + d);
    let d16 = d / 16 * 16;
    let krow = |j: usize| -> *const i8 { k[(c0 + j) * kstride..].as_ptr() };
    let put = |s: &mut [f32], r: usize, rb: usize, j: usize, dots: &[i32]| {
        let kr = &k[(c0 + j) * kstride..];
        for x in 0..rb {
            let tail: i32 = (d16..d).map(|p| q[(r + x) * d + p] as i32 * kr[p] as i32).sum();
            s[(r + x) * CHUNK + j] = (dots[x] + tail) as f32 * sq[r + x];
        }
    };
    let mut r = 0;
    while r < rows {
        let rb = if rows - r >= 4 {
            4
        } else if rows - r >= 2 {
            2
        } else {
            1
        };
        let qp = |x: usize| q[(r + x.min(rb - 1)) * d..].as_ptr();
        // SAFETY: keys < n (asserted extent), query rows r..r+rb of d int16 each.
        unsafe {
            if rb == 4 {
                let h = n / 2;
                for j in 0..h {
                    let t = i8_qk_tile_simd128::<2, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j), krow(j + h)], d16);
                    put(s, r, 4, j, &t[0]);
                    put(s, r, 4, j + h, &t[1]);
                }
                for j in 2 * h..n {
                    let t = i8_qk_tile_simd128::<1, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j)], d16);
                    put(s, r, 4, j, &t[0]);
                }
            } else {
                let h = n / 4;
                for j in 0..h {
                    let js = [j, j + h, j + 2 * h, j + 3 * h];
                    let ks = [krow(js[0]), krow(js[1]), krow(js[2]), krow(js[3])];
                    if rb == 2 {
                        let t = i8_qk_tile_simd128::<4, 2>([qp(0), qp(1)], ks, d16);
                        (0..4).for_each(|kk| put(s, r, 2, js[kk], &t[kk]));
                    } else {
                        let t = i8_qk_tile_simd128::<4, 1>([qp(0)], ks, d16);
                        (0..4).for_each(|kk| put(s, r, 1, js[kk], &t[kk]));
                    }
                }
                for j in 4 * h..n {
                    let t = i8_qk_tile_simd128::<1, 2>([qp(0), qp(1)], [krow(j)], d16);
                    put(s, r, rb, j, &t[0]);
                }
            }
        }
        r += rb;
    }
}

/// `acc[kk][rr] = Σ_p q[rr][p]·k[kk][p]` over `p < d16` in exact i32 arithmetic: int8
/// codes sign-extended to i16, multiplied by int16 queries pairwise (`i32x4.dot_i16x8_s`:
/// eight products into four lanes per instruction).
#[inline(always)]
unsafe fn i8_qk_tile_simd128<const KB: usize, const RB: usize>(
    q: [*const i16; RB], k: [*const i8; KB], d16: usize,
) -> [[i32; RB]; KB] {
    let mut acc = [[i32x4_splat(0); RB]; KB];
    let mut p = 0;
    while p < d16 {
        for kk in 0..KB {
            let kv = v128_load(k[kk].add(p) as *const v128);
            let (lo, hi) = (i16x8_extend_low_i8x16(kv), i16x8_extend_high_i8x16(kv));
            for rr in 0..RB {
                let q0 = v128_load(q[rr].add(p) as *const v128);
                let q1 = v128_load(q[rr].add(p + 8) as *const v128);
                acc[kk][rr] = i32x4_add(acc[kk][rr], i32x4_add(i32x4_dot_i16x8(q0, lo), i32x4_dot_i16x8(q1, hi)));
            }
        }
        p += 16;
    }
    let mut out = [[0i32; RB]; KB];
    for kk in 0..KB {
        for rr in 0..RB {
            let v = acc[kk][rr];
            let v = i32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
            let v = i32x4_add(v, i32x4_shuffle::<1, 0, 3, 2>(v, v));
            out[kk][rr] = i32x4_extract_lane::<0>(v);
        }
    }
    out
}

/// See [`i8_pv_block_simd128`]; `w16` rows are CHUNK apart, `n` keys (an odd last key is added
/// on its own), `o` rows `dv` apart.
#[allow(clippy::too_many_arguments)]
pub fn i8_weighted_sum_simd128(
    w16: &[i16], sw: &[f32], rows: usize, n: usize, v: &[i8], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
) {
    assert!(w16.len() >= rows * CHUNK && sw.len() >= rows && o.len() >= rows * dv && n <= CHUNK);
    if n == 0 || dv == 0 {
        return;
    }
    assert!(v.len() >= (c0 + n - 1) * vstride + dv);
    let pairs = n / 2;
    let vb = v[c0 * vstride..].as_ptr();
    // SAFETY: w16 rows hold CHUNK int16 (CHUNK/2 u32 pairs, 4-byte aligned: scratch
    // f32 storage); value rows < n hold dv codes; columns c..c+8W ≤ dv.
    unsafe {
        let wp = w16.as_ptr() as *const u32;
        let mut r = 0;
        while r < rows {
            let rb = if rows - r >= 4 {
                4
            } else if rows - r >= 2 {
                2
            } else {
                1
            };
            let mut c = 0;
            let mut acc = [[i32x4_splat(0); 8]; 4];
            // Column blocks of 8·W: 8 accumulators (W = 4, 2, 1 for 1, 2, 4 rows).
            let wcols = match rb {
                4 => 8,
                2 => 16,
                _ => 32,
            };
            while c < dv {
                let width = if c + wcols <= dv {
                    wcols
                } else if c + 8 <= dv {
                    8
                } else {
                    0
                };
                if width == 0 {
                    break;
                }
                match (rb, width) {
                    (4, _) => i8_pv_block_simd128::<4, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
                    (2, 16) => i8_pv_block_simd128::<2, 2>(wp, r, pairs, vb, vstride, c, &mut acc),
                    (2, _) => i8_pv_block_simd128::<2, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
                    (_, 32) => i8_pv_block_simd128::<1, 4>(wp, r, pairs, vb, vstride, c, &mut acc),
                    (_, _) => i8_pv_block_simd128::<1, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
                }
                for rr in 0..rb {
                    let scale = f32x4_splat(sw[r + rr]);
                    for x in 0..width / 4 {
                        let op = o.as_mut_ptr().add((r + rr) * dv + c + 4 * x) as *mut v128;
                        v128_store(op, f32x4_add(v128_load(op), f32x4_mul(f32x4_convert_i32x4(acc[rr][x]), scale)));
                    }
                }
                c += width;
            }
            // Ragged columns and the odd last key, scalar (exact integer sums).
            for rr in r..r + rb {
                let w = &w16[rr * CHUNK..];
                for cc in 0..dv {
                    let mut t: i32 = 0;
                    if cc >= c {
                        for jj in 0..2 * pairs {
                            t += w[jj] as i32 * *vb.add(jj * vstride + cc) as i32;
                        }
                    }
                    if n % 2 == 1 {
                        t += w[n - 1] as i32 * *vb.add((n - 1) * vstride + cc) as i32;
                    }
                    if t != 0 {
                        o[rr * dv + cc] += t as f32 * sw[rr];
                    }
                }
            }
            r += rb;
        }
    }
}

/// Integer `P·V` of int8 value rows: for RB rows, `o[rr][c..c+8·W] += sw[rr] ·
/// Σ_jj w16[rr][jj]·code_jj[c..]`. Keys go in pairs: the codes of rows `jj` and
/// `jj+1` are interleaved byte by byte and sign-extended, so `i32x4.dot_i16x8_s`
/// against the splatted weight pair `(w_jj, w_jj+1)` adds both keys' products for
/// four columns at once. The i32 accumulators (2·W per row) live in registers
/// across the chunk.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn i8_pv_block_simd128<const RB: usize, const W: usize>(
    wp: *const u32, r: usize, pairs: usize, v: *const i8, vstride: usize, c: usize, acc_out: &mut [[v128; 8]; 4],
) {
    let mut acc = [[i32x4_splat(0); 8]; RB];
    for pj in 0..pairs {
        let (a, b) = (v.add(2 * pj * vstride + c), v.add((2 * pj + 1) * vstride + c));
        let mut ext = [i32x4_splat(0); 8];
        for x in 0..W {
            // 8 columns of both rows → 16 interleaved bytes → two i16x8 (4 columns × 2 keys each).
            let lo = v128_load64_zero(a.add(8 * x) as *const u64);
            let hi = v128_load64_zero(b.add(8 * x) as *const u64);
            let il = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(lo, hi);
            ext[2 * x] = i16x8_extend_low_i8x16(il);
            ext[2 * x + 1] = i16x8_extend_high_i8x16(il);
        }
        for rr in 0..RB {
            let wv = v128_load32_splat(wp.add((r + rr) * (CHUNK / 2) + pj));
            for x in 0..2 * W {
                acc[rr][x] = i32x4_add(acc[rr][x], i32x4_dot_i16x8(ext[x], wv));
            }
        }
    }
    for rr in 0..RB {
        for x in 0..2 * W {
            acc_out[rr][x] = acc[rr][x];
        }
    }
}

/// `dst[i] = round(src[i]·inv)` for values with `|src·inv| ≤ 32767` (nearest, ties
/// to even), four lanes at a time.
pub fn round_to_i16_simd128(src: &[f32], inv: f32, dst: &mut [i16]) {
    let n = src.len().min(dst.len());
    let f = f32x4_splat(inv);
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 ≤ n elements of both slices.
        unsafe {
            let a = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v128_load(src.as_ptr().add(i) as *const v128), f)));
            let b =
                i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v128_load(src.as_ptr().add(i + 4) as *const v128), f)));
            v128_store(dst.as_mut_ptr().add(i) as *mut v128, i16x8_narrow_i32x4(a, b));
        }
        i += 8;
    }
    for j in i..n {
        dst[j] = (src[j] * inv).round() as i16;
    }
}
