//! SIMD128 decode tiles for float lanes (float32, float16, bfloat16, and int8 codes widened
//! to f32 on the fallback path): `q·Kᵀ` scores of up to `DECODE_ROWS` query rows
//! against a chunk of key rows read in place, and the `P·V` accumulation of a chunk's
//! value rows into the output rows. Lanes come from [`Elem::load4_raw`] (raw float16:
//! the driver folds 2^112 into the queries and weights).
//!
//! `P·V` is not a row-dot product like the scores (and like `gemv`): each value row is
//! scaled by one weight per query row and added into output rows (an axpy per key), so
//! its tiles keep output columns in registers across keys instead of dot products.

// Tile code indexes several arrays by one row counter; clippy 1.63's needless_range_loop
// would rewrite each loop as a zip of iterators over fixed-size arrays.
#![allow(clippy::needless_range_loop)]

use core::arch::wasm32::*;

use crate::dtype::{DType, Elem};
use crate::gemv::tile_simd128::dot4_simd128;

/// `s[r·CHUNK + jj] = q_r · k_{c0+jj}` for rows `< rows`, keys `jj < n`.
/// `k` starts at key 0 of the head, rows `kstride` apart.
///
/// By register tiles of KB keys × RB rows ([`qk_tile_simd128`]: 2 × 4 for four rows, each key
/// widened once for the four; 3 × 3 for three (a grouped-query group of three, SmolLM's 9/3:
/// one pass over the keys instead of a two-row and a one-row pass, 1.07–1.11× for the 30
/// cold calls of a decode step at Lk = 1024); 4 × 2 for two: eight or nine accumulators); a single row
/// takes four keys at a time on the row-dot tile shared with `gemv` ([`dot4_simd128`], one
/// accumulator per key: the order of the other tiles, so a score does not depend on
/// which tile computed it).
/// Two orders of the same sums (bit-identical results): the keys of tile `t` are
/// `t·KB + x` (adjacent rows of K) or, `far` (streaming f32 calls), `t + x·g` with
/// `g = n/KB` (KB forward streams through K, each in its own pages; see the driver's
/// docs for what was measured); the last `n − g·KB` keys go one at a time (a single
/// row: in one four-key tile, the last key repeated).
#[allow(clippy::too_many_arguments)]
pub fn float_scores_simd128<T: Elem>(
    q: &[f32], rows: usize, d: usize, k: &[T], kstride: usize, c0: usize, n: usize, s: &mut [f32], chunk: usize,
    far: bool,
) {
    assert!(q.len() >= rows * d && s.len() >= rows * chunk && n <= chunk);
    assert!(n == 0 || k.len() >= (c0 + n - 1) * kstride + d);
    let d4 = d / 4 * 4;
    let krow = |j: usize| -> *const T { k[(c0 + j) * kstride..].as_ptr() };
    let tail_fn = |r: usize, j: usize| -> f32 {
        let kr = &k[(c0 + j) * kstride..];
        (d4..d).map(|p| q[r * d + p] * kr[p].to_f32_raw()).sum()
    };
    // Components past the last whole vector (D not a multiple of 4), scalar.
    let tail: Option<&dyn Fn(usize, usize) -> f32> = if d4 < d { Some(&tail_fn) } else { None };
    let mut r = 0;
    while r < rows {
        let rb = (rows - r).min(4);
        let qp = |x: usize| q[(r + x.min(rb - 1)) * d..].as_ptr();
        let kb = match rb {
            4 => 2,
            3 => 3,
            _ => 4,
        };
        let g = n / kb;
        let key = |t: usize, x: usize| if far { t + x * g } else { t * kb + x };
        // SAFETY: every key index < n (rows c0.. of k, asserted); query rows r..r+rb < rows.
        unsafe {
            if rb == 1 {
                // One query row against four keys: the row-dot tile of `gemv`, its whole
                // dot product (D's tail included) per lane. The last keys repeat key
                // n − 1 as missing rows do in `gemv`, their lanes not stored.
                let mut t = 0;
                while t * 4 < n {
                    let js = if t < g { [key(t, 0), key(t, 1), key(t, 2), key(t, 3)] } else { tail_keys(4 * t, n) };
                    let v = dot4_simd128::<T, true, false>(
                        d,
                        qp(0),
                        1.0,
                        [krow(js[0]), krow(js[1]), krow(js[2]), krow(js[3])],
                    );
                    let mut out = [0f32; 4];
                    v128_store(out.as_mut_ptr() as *mut v128, v);
                    for (x, &j) in js.iter().enumerate() {
                        if t < g || 4 * t + x < n {
                            s[r * chunk + j] = out[x];
                        }
                    }
                    t += 1;
                }
                r += 1;
                continue;
            }
            let g_rust = if rb == 3 && T::DTYPE == DType::F32 && d4 == d && g > 0 {
                // The same tiles from `qk_3x3_f32_simd128.wat` (bit for bit; in text so that
                // nothing spills, see wat_simd128.rs).
                let (k0, k1) = (key(0, 0), key(0, 1));
                crate::wat_simd128::qk3x3_f32(
                    qp(0),
                    d * 4,
                    krow(k0) as *const f32,
                    (k1 - k0) * kstride * 4,
                    (key(1, 0) - k0) * kstride * 4,
                    s.as_mut_ptr().add(r * chunk + k0),
                    (k1 - k0) * 4,
                    (key(1, 0) - k0) * 4,
                    chunk * 4,
                    g,
                    d / 4,
                );
                0
            } else {
                g
            };
            for t in 0..g_rust {
                if rb == 4 {
                    let js = [key(t, 0), key(t, 1)];
                    let tl = qk_tile_simd128::<T, 2, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(js[0]), krow(js[1])], d4);
                    store_qk_tile(s, chunk, r, js, &tl, tail);
                } else if rb == 3 {
                    let js = [key(t, 0), key(t, 1), key(t, 2)];
                    let ks = [krow(js[0]), krow(js[1]), krow(js[2])];
                    store_qk_tile(s, chunk, r, js, &qk_tile_simd128::<T, 3, 3>([qp(0), qp(1), qp(2)], ks, d4), tail);
                } else {
                    let js = [key(t, 0), key(t, 1), key(t, 2), key(t, 3)];
                    let ks = [krow(js[0]), krow(js[1]), krow(js[2]), krow(js[3])];
                    store_qk_tile(s, chunk, r, js, &qk_tile_simd128::<T, 4, 2>([qp(0), qp(1)], ks, d4), tail);
                }
            }
            for j in g * kb..n {
                if rb == 4 {
                    store_qk_tile(
                        s,
                        chunk,
                        r,
                        [j],
                        &qk_tile_simd128::<T, 1, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j)], d4),
                        tail,
                    );
                } else if rb == 3 {
                    store_qk_tile(
                        s,
                        chunk,
                        r,
                        [j],
                        &qk_tile_simd128::<T, 1, 3>([qp(0), qp(1), qp(2)], [krow(j)], d4),
                        tail,
                    );
                } else {
                    store_qk_tile(s, chunk, r, [j], &qk_tile_simd128::<T, 1, 2>([qp(0), qp(1)], [krow(j)], d4), tail);
                }
            }
        }
        r += rb;
    }
}

/// Keys `j0, j0+1, …` up to `n − 1`, the last repeated to fill four.
#[inline(always)]
fn tail_keys(j0: usize, n: usize) -> [usize; 4] {
    let last = n - 1;
    [j0.min(last), (j0 + 1).min(last), (j0 + 2).min(last), (j0 + 3).min(last)]
}

/// `acc[kk][rr] = Σ_p q[rr][p]·k[kk][p]` over the vectorisable part `p < d4` of
/// KB keys × RB rows: one accumulator per pair, each key vector widened once and
/// shared by the RB rows (8 independent add chains for 4×2).
#[inline(always)]
unsafe fn qk_tile_simd128<T: Elem, const KB: usize, const RB: usize>(
    q: [*const f32; RB], k: [*const T; KB], d4: usize,
) -> [[f32; RB]; KB] {
    let mut acc = [[f32x4_splat(0.0); RB]; KB];
    let mut p = 0;
    if T::WIDE {
        // Int8: 16 codes per load; query vectors are re-read per key (L1 hits).
        while p + 16 <= d4 {
            for kk in 0..KB {
                let kv = T::load16_raw(k[kk].add(p));
                for x in 0..4 {
                    for rr in 0..RB {
                        let qv = v128_load(q[rr].add(p + 4 * x) as *const v128);
                        acc[kk][rr] = f32x4_add(acc[kk][rr], f32x4_mul(qv, kv[x]));
                    }
                }
            }
            p += 16;
        }
    }
    while p < d4 {
        let mut qv = [f32x4_splat(0.0); RB];
        for rr in 0..RB {
            qv[rr] = v128_load(q[rr].add(p) as *const v128);
        }
        for kk in 0..KB {
            let kv = T::load4_raw(k[kk].add(p));
            for rr in 0..RB {
                acc[kk][rr] = f32x4_add(acc[kk][rr], f32x4_mul(qv[rr], kv));
            }
        }
        p += 4;
    }
    let mut out = [[0f32; RB]; KB];
    for kk in 0..KB {
        for rr in 0..RB {
            out[kk][rr] = hsum(acc[kk][rr]);
        }
    }
    out
}

/// Stores a qk_tile_simd128's dot products for rows r.. and the keys `js`.
#[inline(always)]
fn store_qk_tile<const KB: usize, const RB: usize>(
    s: &mut [f32], chunk: usize, r: usize, js: [usize; KB], t: &[[f32; RB]; KB],
    tail: Option<&dyn Fn(usize, usize) -> f32>,
) {
    for kk in 0..KB {
        for rr in 0..RB {
            let mut x = t[kk][rr];
            if let Some(tail) = tail {
                x += tail(r + rr, js[kk]);
            }
            s[(r + rr) * chunk + js[kk]] = x;
        }
    }
}

/// The sum of the four lanes, `(v0 + v2) + (v1 + v3)`.
#[inline(always)]
fn hsum(v: v128) -> f32 {
    let v = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
    let v = f32x4_add(v, i32x4_shuffle::<1, 0, 3, 2>(v, v));
    f32x4_extract_lane::<0>(v)
}

/// `o[r, :] += Σ_jj w[r·chunk + jj] · v_{c0+jj}` for rows `< rows`, keys `jj < n`.
///
/// Streaming calls (f32 only: the other element types never stream, and their copies
/// of the streaming tiles are not built) with three or more rows go through
/// [`pv_far_simd128`], the others through [`pv_blocked_simd128`] (module docs).
/// The two sum the same products in a different association (rounding differs).
#[allow(clippy::too_many_arguments)]
pub fn float_weighted_sum_simd128<T: Elem>(
    w: &[f32], chunk: usize, rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
    streaming: bool,
) {
    if streaming && rows >= 3 && T::DTYPE == DType::F32 {
        pv_far_simd128(w, chunk, rows, n, v, vstride, c0, dv, o)
    } else {
        pv_blocked_simd128(w, chunk, rows, n, v, vstride, c0, dv, o)
    }
}

/// [`float_weighted_sum_simd128`] by column blocks whose accumulators stay in registers across keys.
#[allow(clippy::too_many_arguments)]
fn pv_blocked_simd128<T: Elem>(
    w: &[f32], chunk: usize, rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
) {
    assert!(w.len() >= rows * chunk && o.len() >= rows * dv && n <= chunk);
    if n == 0 || dv == 0 {
        return;
    }
    assert!(v.len() >= (c0 + n - 1) * vstride + dv);
    let v = v[c0 * vstride..].as_ptr();
    let (wp, op) = (w.as_ptr(), o.as_mut_ptr());
    // Column blocks of 4·W floats × RB rows: W = 8 / 4 / 3 / 2 for 1 / 2 / 3 / 4 rows, so
    // 8 or 9 accumulators each (more spill on x64's 16 vector registers).
    let mut r = 0;
    // SAFETY: rows r..r+RB < rows of w (CHUNK apart) and o (dv apart); pv_columns_simd128
    // c..c+4W ≤ dv of value rows jj < n (asserted extent).
    unsafe {
        while r < rows {
            let rb = (rows - r).min(4);
            let c = match rb {
                4 => pv_columns_simd128::<T, 4, 2>(wp, chunk, r, n, v, vstride, op, dv),
                3 => pv_columns_simd128::<T, 3, 3>(wp, chunk, r, n, v, vstride, op, dv),
                2 => pv_columns_simd128::<T, 2, 4>(wp, chunk, r, n, v, vstride, op, dv),
                _ => pv_columns_simd128::<T, 1, 8>(wp, chunk, r, n, v, vstride, op, dv),
            };
            // Ragged last pv_columns_simd128.
            for rr in r..r + rb {
                for cc in c..dv {
                    let mut a = o[rr * dv + cc];
                    for jj in 0..n {
                        a += w[rr * chunk + jj] * (*v.add(jj * vstride + cc)).to_f32_raw();
                    }
                    o[rr * dv + cc] = a;
                }
            }
            r += rb;
        }
    }
}

/// Rows `r..r+RB`, every whole group of four pv_columns_simd128: blocks of 4·W, then of 4.
/// Returns the first column not done.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pv_columns_simd128<T: Elem, const RB: usize, const W: usize>(
    w: *const f32, chunk: usize, r: usize, n: usize, v: *const T, vstride: usize, o: *mut f32, dv: usize,
) -> usize {
    let mut c = 0;
    while c + 4 * W <= dv {
        pv_block_simd128::<T, RB, W>(w, chunk, r, n, v, vstride, c, o, dv);
        c += 4 * W;
    }
    while c + 4 <= dv {
        pv_block_simd128::<T, RB, 1>(w, chunk, r, n, v, vstride, c, o, dv);
        c += 4;
    }
    c
}

/// `o[rr][c..c+4W] += Σ_jj w[rr][jj] · v_{c0+jj}[c..c+4W]` for RB rows from `r`:
/// RB·W accumulators live in registers across all n keys.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn pv_block_simd128<T: Elem, const RB: usize, const W: usize>(
    w: *const f32, chunk: usize, r: usize, n: usize, v: *const T, vstride: usize, c: usize, o: *mut f32, dv: usize,
) {
    if RB == 3 && W == 3 && T::DTYPE == DType::F32 {
        // The same block from `pv_3x12_f32_simd128.wat` (bit for bit; in text so that
        // nothing spills, see wat_simd128.rs).
        let f = |p: *const T| p as *const f32;
        crate::wat_simd128::pv3x12_f32(
            w.add(r * chunk),
            chunk * 4,
            f(v.add(c)),
            vstride * 4,
            n,
            o.add(r * dv + c),
            dv * 4,
        );
        return;
    }
    let mut acc = [[f32x4_splat(0.0); W]; RB];
    for rr in 0..RB {
        for x in 0..W {
            acc[rr][x] = v128_load(o.add((r + rr) * dv + c + 4 * x) as *const v128);
        }
    }
    for jj in 0..n {
        let vp = v.add(jj * vstride + c);
        let mut vv = [f32x4_splat(0.0); W];
        if T::WIDE && W % 4 == 0 {
            for g in 0..W / 4 {
                let w4 = T::load16_raw(vp.add(16 * g));
                for x in 0..4 {
                    vv[4 * g + x] = w4[x];
                }
            }
        } else {
            for x in 0..W {
                vv[x] = T::load4_raw(vp.add(4 * x));
            }
        }
        for rr in 0..RB {
            let p = v128_load32_splat(w.add((r + rr) * chunk + jj) as *const u32);
            for x in 0..W {
                acc[rr][x] = f32x4_add(acc[rr][x], f32x4_mul(p, vv[x]));
            }
        }
    }
    for rr in 0..RB {
        for x in 0..W {
            v128_store(o.add((r + rr) * dv + c + 4 * x) as *mut v128, acc[rr][x]);
        }
    }
}

/// As [`float_weighted_sum_simd128`], two value rows `n/2` apart at a time (two forward streams
/// through V, in separate pages), output rows in L1; three rows take four streams
/// ([`pv_far4_rows3_simd128`]).
#[allow(clippy::too_many_arguments)]
fn pv_far_simd128<T: Elem>(
    w: &[f32], chunk: usize, rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
) {
    assert!(w.len() >= rows * chunk && o.len() >= rows * dv && n <= chunk);
    if n == 0 || dv == 0 {
        return;
    }
    assert!(v.len() >= (c0 + n - 1) * vstride + dv);
    let dv4 = dv / 4 * 4;
    let op = o.as_mut_ptr();
    let vrow = |j: usize| v[(c0 + j) * vstride..].as_ptr();
    if rows == 3 {
        return pv_far4_rows3_simd128(w, chunk, n, v, vstride, c0, dv, o);
    }
    let h = n / 2;
    for jj in 0..h {
        let (j0, j1) = (jj, jj + h);
        let (v0, v1) = (vrow(j0), vrow(j1));
        let mut r = 0;
        while r < rows {
            let rb = if rows - r >= 4 {
                4
            } else if rows - r == 3 {
                3
            } else if rows - r >= 2 {
                2
            } else {
                1
            };
            let ow = |x: usize, j: usize| f32x4_splat(w[(r + x.min(rb - 1)) * chunk + j]);
            // SAFETY: value rows j0, j1 < n hold dv elements; output rows r..r+rb hold dv floats.
            unsafe {
                let orow = |x: usize| op.add((r + x.min(rb - 1)) * dv);
                match rb {
                    4 => pv_axpy2_simd128::<T, 4>(
                        [ow(0, j0), ow(1, j0), ow(2, j0), ow(3, j0)],
                        [ow(0, j1), ow(1, j1), ow(2, j1), ow(3, j1)],
                        v0,
                        v1,
                        [orow(0), orow(1), orow(2), orow(3)],
                        dv4,
                    ),
                    3 => pv_axpy2_simd128::<T, 3>(
                        [ow(0, j0), ow(1, j0), ow(2, j0)],
                        [ow(0, j1), ow(1, j1), ow(2, j1)],
                        v0,
                        v1,
                        [orow(0), orow(1), orow(2)],
                        dv4,
                    ),
                    2 => pv_axpy2_simd128::<T, 2>(
                        [ow(0, j0), ow(1, j0)],
                        [ow(0, j1), ow(1, j1)],
                        v0,
                        v1,
                        [orow(0), orow(1)],
                        dv4,
                    ),
                    _ => pv_axpy2_simd128::<T, 1>([ow(0, j0)], [ow(0, j1)], v0, v1, [orow(0)], dv4),
                }
                for x in 0..rb {
                    let (a, b) = (w[(r + x) * chunk + j0], w[(r + x) * chunk + j1]);
                    for cc in dv4..dv {
                        *orow(x).add(cc) += a * (*v0.add(cc)).to_f32_raw() + b * (*v1.add(cc)).to_f32_raw();
                    }
                }
            }
            r += rb;
        }
    }
    // The odd last key, alone.
    pv_keys_alone(w, chunk, rows, 2 * h..n, v, vstride, c0, dv, o);
}

/// [`pv_far_simd128`] for three rows: four value rows `n/4` apart at a time (four forward
/// streams through V), each read front to back and added into the three output rows (in
/// L1) as `(w0·x0 + w1·x1) + (w2·x2 + w3·x3)`; the last `n mod 4` keys one at a time.
/// At a decode step's 30 cold calls (9/3 heads, D = 64) this took 1.04–1.07× less time
/// than two streams, which took 1.06× less than the two-row and one-row passes.
#[allow(clippy::too_many_arguments)]
fn pv_far4_rows3_simd128<T: Elem>(
    w: &[f32], chunk: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
) {
    let dv4 = dv / 4 * 4;
    let op = o.as_mut_ptr();
    let vrow = |j: usize| v[(c0 + j) * vstride..].as_ptr();
    let q = n / 4;
    for jj in 0..q {
        let js = [jj, jj + q, jj + 2 * q, jj + 3 * q];
        let ws: [[v128; 4]; 3] = core::array::from_fn(|r| core::array::from_fn(|x| f32x4_splat(w[r * chunk + js[x]])));
        let vs = [vrow(js[0]), vrow(js[1]), vrow(js[2]), vrow(js[3])];
        // SAFETY: value rows js < n hold dv elements; output rows 0..3 hold dv floats.
        unsafe {
            let mut c = 0;
            while c < dv4 {
                let x0 = T::load4_raw(vs[0].add(c));
                let x1 = T::load4_raw(vs[1].add(c));
                let x2 = T::load4_raw(vs[2].add(c));
                let x3 = T::load4_raw(vs[3].add(c));
                for rr in 0..3 {
                    let opp = op.add(rr * dv + c) as *mut v128;
                    let a = f32x4_add(
                        f32x4_add(f32x4_mul(ws[rr][0], x0), f32x4_mul(ws[rr][1], x1)),
                        f32x4_add(f32x4_mul(ws[rr][2], x2), f32x4_mul(ws[rr][3], x3)),
                    );
                    v128_store(opp, f32x4_add(v128_load(opp), a));
                }
                c += 4;
            }
            for rr in 0..3 {
                for cc in dv4..dv {
                    let mut a = *op.add(rr * dv + cc);
                    for x in 0..4 {
                        a += w[rr * chunk + js[x]] * (*vs[x].add(cc)).to_f32_raw();
                    }
                    *op.add(rr * dv + cc) = a;
                }
            }
        }
    }
    pv_keys_alone(w, chunk, 3, 4 * q..n, v, vstride, c0, dv, o);
}

/// The streaming tiles' last keys (those no stream took), one at a time: each value row
/// read front to back and added into the `rows` output rows times its weights.
#[allow(clippy::too_many_arguments)]
fn pv_keys_alone<T: Elem>(
    w: &[f32], chunk: usize, rows: usize, keys: core::ops::Range<usize>, v: &[T], vstride: usize, c0: usize, dv: usize,
    o: &mut [f32],
) {
    let dv4 = dv / 4 * 4;
    let op = o.as_mut_ptr();
    for j in keys {
        let vr = v[(c0 + j) * vstride..].as_ptr();
        for r in 0..rows {
            let a = w[r * chunk + j];
            // SAFETY: value row j < n holds dv elements (the callers' extent check); output
            // row r holds dv floats.
            unsafe {
                let orow = op.add(r * dv);
                pv_axpy_simd128::<T, 1>([f32x4_splat(a)], vr, [orow], dv4);
                for cc in dv4..dv {
                    *orow.add(cc) += a * (*vr.add(cc)).to_f32_raw();
                }
            }
        }
    }
}

/// `o[rr][:] += w0_rr · v0 + w1_rr · v1` for RB rows over whole vectors of two value
/// rows, each read front to back.
#[inline(always)]
unsafe fn pv_axpy2_simd128<T: Elem, const RB: usize>(
    w0: [v128; RB], w1: [v128; RB], v0: *const T, v1: *const T, o: [*mut f32; RB], dv4: usize,
) {
    let mut c = 0;
    while c < dv4 {
        let x0 = T::load4_raw(v0.add(c));
        let x1 = T::load4_raw(v1.add(c));
        for rr in 0..RB {
            let op = o[rr].add(c) as *mut v128;
            let a = f32x4_add(f32x4_mul(w0[rr], x0), f32x4_mul(w1[rr], x1));
            v128_store(op, f32x4_add(v128_load(op), a));
        }
        c += 4;
    }
}

/// `o[rr][:] += w_rr · v` for RB rows over whole vectors of one value row, read
/// front to back; the output rows (in L1) are loaded and stored per vector.
#[inline(always)]
unsafe fn pv_axpy_simd128<T: Elem, const RB: usize>(w: [v128; RB], v: *const T, o: [*mut f32; RB], dv4: usize) {
    let mut c = 0;
    if T::WIDE {
        while c + 16 <= dv4 {
            let x = T::load16_raw(v.add(c));
            for u in 0..4 {
                for rr in 0..RB {
                    let op = o[rr].add(c + 4 * u) as *mut v128;
                    v128_store(op, f32x4_add(v128_load(op), f32x4_mul(w[rr], x[u])));
                }
            }
            c += 16;
        }
    }
    while c + 8 <= dv4 {
        let x0 = T::load4_raw(v.add(c));
        let x1 = T::load4_raw(v.add(c + 4));
        for rr in 0..RB {
            let op = o[rr].add(c) as *mut v128;
            v128_store(op, f32x4_add(v128_load(op), f32x4_mul(w[rr], x0)));
            let op = o[rr].add(c + 4) as *mut v128;
            v128_store(op, f32x4_add(v128_load(op), f32x4_mul(w[rr], x1)));
        }
        c += 8;
    }
    while c < dv4 {
        let x0 = T::load4_raw(v.add(c));
        for rr in 0..RB {
            let op = o[rr].add(c) as *mut v128;
            v128_store(op, f32x4_add(v128_load(op), f32x4_mul(w[rr], x0)));
        }
        c += 4;
    }
}

/// `dst = src` widened to f32, four lanes at a time.
pub fn widen_simd128<T: Elem>(src: &[T], dst: &mut [f32]) {
    let n = src.len().min(dst.len());
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 ≤ n elements of both.
        unsafe { v128_store(dst.as_mut_ptr().add(i) as *mut v128, T::load4(src.as_ptr().add(i))) };
        i += 4;
    }
    for j in i..n {
        dst[j] = src[j].to_f32();
    }
}
