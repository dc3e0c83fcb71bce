//! Decoding attention: a few query rows per kv head against a long K/V, read in place.
//!
//! When the query rows of a kv head — `len_q · group` of them, the group's heads
//! included — fit [`DECODE_ROWS`], the tiled kernel wastes its 4×8 score tile (one
//! useful column of eight) and repacks all of K per call. This kernel instead:
//!   1. copies the group's query rows once into a small f32 buffer (pre-scaled);
//!   2. walks the keys in chunks of [`CHUNK`]; per chunk it scores *all* rows against
//!      each key row read in place (any strides, any storage dtype, widened to f32 in
//!      registers), a 4-keys × 2-rows register tile vectorised along D;
//!   3. applies the score options exactly as the tiled kernel (causal/window with
//!      [`Options::causal_offset`], softcap, ALiBi, mask), then takes the chunk's own
//!      maximum and merges it with the running one by the log-sum-exp rule
//!      (`m' = max(m, m_c)`, earlier sums and outputs scaled by `2^(m − m')`) — the
//!      flash-decoding merge, here sequential over the chunks;
//!   4. accumulates `P·V` reading each value row in place, in column blocks whose
//!      accumulators stay in registers across the chunk's keys.
//! Int8 storage carries an f32 scale per row: it multiplies the dot product (keys) or
//! is folded into the weight (values). The codes are never widened to floats: scores are
//! exact i32 dot products of the codes with the query rows rounded to int16
//! ([`quantize_rows`]), and `P·V` exact i32 sums of the codes times the chunk's weights
//! rounded to int16 ([`quantize_weights`]), both with `i32x4.dot_i16x8_s` (eight products
//! per instruction) — against widening each code to f32 (six instructions per four) this
//! made int8 decoding 1.6× faster at GQA 32/8 and 1.3–1.45× at MHA 12 (A/B, CPU time). A
//! query or weight row holding inf/NaN takes the float path, so NaN still propagates.
//!
//! **Order of memory reads (f32 calls larger than [`STREAM_BYTES`]).** On the
//! development machine (AMD EPYC, Zen 5, 1 MiB L2) a loop reading one forward stream
//! with this density of arithmetic drew 25–27 GB/s from memory, but the same loop over
//! two key rows *adjacent* in memory (a 2-key tile: addresses `A + p` and `A + 512 + p`)
//! only 8–9 GB/s, although it ran at 25 GB/s from L2; with the two rows 64 KiB apart it
//! drew 19 GB/s. The hardware prefetchers follow separate streams, not interleaved
//! neighbours. So when K and V come from memory, f32 score tiles take keys `n/KB` apart
//! within the chunk, and `P·V` (four or more rows) adds two value rows `n/2` apart into
//! output rows kept in L1, each value row read front to back, instead of column blocks
//! (which walk all 256 rows of the chunk 32 bytes at a time). Measured on the kernel
//! alone, interleaved A/B in one process, CPU time: GQA 32/8 D = 128 Lk = 4096 float32
//! 1.42× (3.99 → 2.82 ms), Lk = 1024 1.16×, MHA 12 D = 64 Lk = 4096 1.21×; calls that
//! fit in cache were 0.8–0.9× with the new orders, so they keep the adjacent tiles.
//! The 16-bit and int8 paths spend their time widening, not waiting for memory
//! (0.9–1.0× with the new orders), and keep the register-blocked tiles too.
//! Finite float16 is widened without its last step, the multiply by 2^112
//! ([`Elem::RAW_SCALE`]); the queries and the weights carry that factor instead
//! (bit-identical results; float16 decode 1.05–1.15× in the same A/B harness).
//!
//! Scratch: `rows·(D + CHUNK + Dv)` floats; nothing proportional to `len_k`.

// Findings of clippy 1.63 (`npm run lint`) left for the kernel's next change: index loops
// over register tiles, two `else { if }`, and the query loader's closure type.
#![allow(clippy::needless_range_loop, clippy::collapsible_else_if, clippy::type_complexity)]
use super::online::rescale_rows;
use super::scores::{allowed, is_fast, KeyRange, LOG2E};
use super::{Layout, Options, Shape};
use crate::dtype::{DType, Elem};
use crate::exp::exp2_nonpos;

/// Largest number of query rows per kv head (`len_q · heads_q / heads_kv`) the decode
/// path takes; more rows fill the tiled kernel's tiles well enough.
pub const DECODE_ROWS: usize = 16;

/// Keys per chunk. One chunk's value rows (CHUNK·Dv elements: 128 KiB at f32, Dv = 128)
/// stay in L2 while the column blocks of `P·V` pass over them, and its scores (rows ×
/// CHUNK) in L1. Measured with `KVCache.attend` at Lk = 4096 (GQA 32/8 D = 128 and MHA
/// 12 D = 64, every dtype): 128 and 256 differed by less than the run-to-run noise of the
/// loaded development machine (GQA float32: 5.7–9.7 ms at 256, 6.8–9.2 ms at 128, over
/// a few runs each); 256 is kept because it halves the chunk merges.
pub const CHUNK: usize = 256;

/// K + V bytes (f32) above which a call is taken to stream from memory rather than
/// from cache, and the f32 tiles switch to the access order that streams better (see
/// the module docs): twice this machine's 1 MiB L2.
pub const STREAM_BYTES: usize = 2 << 20;

/// Whether `attention_forward` sends this shape to the decode kernel.
pub fn takes(shape: &Shape) -> bool {
    shape.heads_kv > 0 && shape.len_q.saturating_mul(shape.heads_q / shape.heads_kv) <= DECODE_ROWS
}

/// Per-row f32 scales of int8 storage: the scale of row `j` of `(b, h)` is
/// `data[layout.offset(b, h, j)]`.
#[derive(Clone, Copy, Debug)]
pub struct RowScales<'a> {
    pub data: &'a [f32],
    pub layout: Layout,
}

/// Keys or values as stored: elements, their layout, and (int8 only) row scales.
#[derive(Clone, Copy, Debug)]
pub struct Stored<'a, T> {
    pub data: &'a [T],
    pub layout: Layout,
    pub scales: Option<RowScales<'a>>,
}

/// Decoding attention over keys/values of element type `T` (see the module docs);
/// same contract as [`attention_forward`](super::attention_forward). `q` rows are given
/// already widened by `load_q(b, h, i, dst)`.
#[allow(clippy::too_many_arguments)]
pub fn attention_decode<T: Elem>(
    load_q: &dyn Fn(usize, usize, usize, &mut [f32]), k: Stored<T>, v: Stored<T>,
    out: &mut [f32], ol: Layout, mut lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    let group = shape.heads_q / shape.heads_kv;
    let rows = shape.len_q * group;
    assert!(rows <= DECODE_ROWS, "attention_decode: too many query rows");
    let (d, dv, lk) = (shape.head_dim, shape.value_dim, shape.len_k);
    for (what, s) in [("k", &k.scales), ("v", &v.scales)] {
        if let Some(sc) = s {
            super::scores::check_tensor(what, sc.data.len(), sc.layout, shape.batch, shape.heads_kv, lk, 1);
        }
    }
    let fast = is_fast(opts);
    // Scores come out in log2 units directly when no modifier needs `scale·q·k` itself.
    let qscale = if fast { opts.scale * LOG2E } else { opts.scale };
    let streaming = T::DTYPE == DType::F32
        && shape.batch.saturating_mul(shape.heads_kv).saturating_mul(lk).saturating_mul(d + dv).saturating_mul(4) > STREAM_BYTES;
    // Int8 keys score as integer dot products (see `quantize_rows`).
    let int_keys = T::DTYPE == DType::I8;
    let sizes = [
        rows * d, rows * CHUNK, rows * dv,
        if int_keys { (rows * d + 1) / 2 + rows * CHUNK / 2 } else { 0 },
        if T::TILES { 0 } else { CHUNK * d.max(dv) },
    ];
    crate::scratch::with_scratch(sizes.iter().sum(), |buf| {
        let (qb, rest) = buf.split_at_mut(sizes[0]);
        let (s, rest) = rest.split_at_mut(sizes[1]);
        let (o, rest) = rest.split_at_mut(sizes[2]);
        let (q16, kw) = rest.split_at_mut(sizes[3]);
        // SAFETY: f32 storage reinterpreted as twice as many i16 (alignment 4 ≥ 2).
        let i16s = unsafe { core::slice::from_raw_parts_mut(q16.as_mut_ptr() as *mut i16, q16.len() * 2) };
        let (q16, w16) = i16s.split_at_mut(if int_keys { rows * d } else { 0 });
        let v_i8: &[i8] = if int_keys {
            // SAFETY: as for the keys below.
            unsafe { core::slice::from_raw_parts(v.data.as_ptr() as *const i8, v.data.len()) }
        } else {
            &[]
        };
        let mut sw = [0f32; DECODE_ROWS];
        let k_i8: &[i8] = if int_keys {
            // SAFETY: Elem's int8 implementation is i8 itself (DType::I8 is only its).
            unsafe { core::slice::from_raw_parts(k.data.as_ptr() as *const i8, k.data.len()) }
        } else {
            &[]
        };
        let mut sq = [0f32; DECODE_ROWS];
        let mut m = [0f32; DECODE_ROWS];
        let mut l = [0f32; DECODE_ROWS];
        let mut corr = [0f32; DECODE_ROWS];
        let mut hs = [0usize; DECODE_ROWS];
        let mut is = [0usize; DECODE_ROWS];
        let mut qmax = 0f32;
        for b in 0..shape.batch {
            for hk in 0..shape.heads_kv {
                // Row r is query row r % len_q of head hk·group + r / len_q.
                for r in 0..rows {
                    let (h, i) = (hk * group + r / shape.len_q, r % shape.len_q);
                    hs[r] = h;
                    is[r] = i;
                    let qr = &mut qb[r * d..(r + 1) * d];
                    load_q(b, h, i, qr);
                    qr.iter_mut().for_each(|x| *x *= qscale);
                    if T::TILES && T::RAW_SCALE != 1.0 {
                        qmax = qr.iter().fold(qmax, |a, x| a.max(x.abs()));
                    }
                    let (m0, l0) = match opts.sinks {
                        Some(sk) => (sk[h] * LOG2E, 1.0),
                        None => (f32::NEG_INFINITY, 0.0),
                    };
                    m[r] = m0;
                    l[r] = l0;
                }
                // Raw key/value lanes (Elem::RAW_SCALE): the queries take the factor, split
                // as 2^(112−e)·2^e when |q|·RAW_SCALE could overflow, the 2^e going on
                // the scores (powers of two: exact).
                let mut sfac = 1.0f32;
                if T::TILES && T::RAW_SCALE != 1.0 {
                    let mut f = T::RAW_SCALE;
                    while qmax * f > 1e37 && f > 1.0 {
                        f *= 1.0 / 65536.0;
                        sfac *= 65536.0;
                    }
                    qb.iter_mut().for_each(|x| *x *= f);
                }
                let int_dot = int_keys && quantize_rows(qb, rows, d, q16, &mut sq);
                qmax = 0.0;
                o.iter_mut().for_each(|x| *x = 0.0);
                let kr = KeyRange::new(&shape, opts, 0, shape.len_q);
                let kbase = k.layout.offset(b, hk, 0);
                let vbase = v.layout.offset(b, hk, 0);
                let mut c0 = kr.start;
                while c0 < kr.end {
                    let n = CHUNK.min(kr.end - c0);
                    // 1. Scores of every row against keys c0..c0+n.
                    if int_dot {
                        imp::scores_i8(q16, &sq, rows, d, &k_i8[kbase..], k.layout.row, c0, n, s);
                    } else {
                        if T::TILES {
                            imp::scores(qb, rows, d, &k.data[kbase..], k.layout.row, c0, n, s, streaming);
                        } else {
                            widen_rows(&k.data[kbase..], k.layout.row, c0, n, d, kw);
                            imp::scores::<f32>(qb, rows, d, kw, d, 0, n, s, false);
                        }
                    }
                    if let Some(sc) = k.scales {
                        apply_scales(s, rows, n, sc, sc.layout.offset(b, hk, c0));
                    }
                    if sfac != 1.0 {
                        (0..rows).for_each(|r| s[r * CHUNK..r * CHUNK + n].iter_mut().for_each(|x| *x *= sfac));
                    }
                    // 2. Score options, in the tiled kernel's order.
                    let masked = kr.needs_mask(c0, n);
                    for r in 0..rows {
                        let row = &mut s[r * CHUNK..r * CHUNK + n];
                        if !fast {
                            modify(opts, &shape, b, hs[r], is[r], c0, row);
                        }
                        if masked {
                            let (lo, hi) = allowed(&shape, opts, is[r]);
                            for (jj, x) in row.iter_mut().enumerate() {
                                let j = (c0 + jj) as isize;
                                if j < lo || j > hi {
                                    *x = f32::NEG_INFINITY;
                                }
                            }
                        }
                    }
                    // 3. Chunk maximum merged into the running one; weights 2^(t − m').
                    for r in 0..rows {
                        let row = &mut s[r * CHUNK..r * CHUNK + n];
                        let mc = crate::rowops::max(row);
                        let mx = crate::rowops::max_nan(mc, m[r]);
                        let m_use = if mx == f32::NEG_INFINITY { 0.0 } else { mx };
                        corr[r] = exp2_nonpos(m[r] - m_use);
                        let sum = crate::rowops::exp2_sub_sum(row, m_use);
                        l[r] = l[r] * corr[r] + sum;
                        m[r] = mx;
                    }
                    rescale_rows(o, dv, dv, rows, &corr);
                    if let Some(sc) = v.scales {
                        apply_scales(s, rows, n, sc, sc.layout.offset(b, hk, c0));
                    }
                    if T::TILES && T::RAW_SCALE != 1.0 {
                        // Weights ≤ 1 take the raw values' factor (≤ 2^112: no overflow).
                        (0..rows).for_each(|r| s[r * CHUNK..r * CHUNK + n].iter_mut().for_each(|x| *x *= T::RAW_SCALE));
                    }
                    // 4. O += P·V over the chunk.
                    let mut int_pv = int_keys;
                    if int_pv {
                        for r in 0..rows {
                            match quantize_weights(&s[r * CHUNK..r * CHUNK + n], &mut w16[r * CHUNK..r * CHUNK + n]) {
                                Some(x) => sw[r] = x,
                                None => int_pv = false,
                            }
                        }
                    }
                    if int_pv {
                        imp::weighted_sum_i8(w16, &sw, rows, n, &v_i8[vbase..], v.layout.row, c0, dv, o);
                    } else {
                        if T::TILES {
                            imp::weighted_sum(s, rows, n, &v.data[vbase..], v.layout.row, c0, dv, o, streaming);
                        } else {
                            widen_rows(&v.data[vbase..], v.layout.row, c0, n, dv, kw);
                            imp::weighted_sum::<f32>(s, rows, n, kw, dv, 0, dv, o, false);
                        }
                    }
                    c0 += n;
                }
                // Normalise and store.
                for r in 0..rows {
                    let (h, i) = (hs[r], is[r]);
                    let oo = ol.offset(b, h, i);
                    let orow = &mut out[oo..oo + dv];
                    let blocked = l[r] == 0.0;
                    if blocked {
                        orow.iter_mut().for_each(|x| *x = 0.0);
                    } else {
                        let inv = 1.0 / l[r];
                        for (x, &a) in orow.iter_mut().zip(&o[r * dv..(r + 1) * dv]) {
                            *x = a * inv;
                        }
                    }
                    if let Some(ls) = lse.as_deref_mut() {
                        ls[(b * shape.heads_q + h) * shape.len_q + i] =
                            if blocked { f32::NEG_INFINITY } else { (m[r] + l[r].log2()) * core::f32::consts::LN_2 };
                    }
                }
            }
        }
    });
}

/// Rounds each query row to int16 for the integer dot products with int8 key codes:
/// `q16 = round(q / sq)`, `sq = max|q| / Q` per row, with `Q = min(32767, ⌊(2³¹ − 1) /
/// (127·D)⌋)` so that a row's sum of `q16·code` cannot overflow i32. The rounding is
/// at most `sq / 2` per element (relative 1.5e-5 of the row's largest element for
/// D ≤ 516), next to the int8 keys' own `scale / 2`, i.e. 1/254 of the key row's
/// largest element. The sums are exact; `dot · sq` (and the key's scale, applied by
/// the caller) gives the score.
/// Returns false (and the caller keeps the float path) when a query holds inf or NaN.
fn quantize_rows(q: &[f32], rows: usize, d: usize, q16: &mut [i16], sq: &mut [f32; DECODE_ROWS]) -> bool {
    if !q[..rows * d].iter().all(|x| x.is_finite()) {
        return false;
    }
    let qlim = (32767usize).min(i32::MAX as usize / (127 * d.max(1))).max(1) as f32;
    for r in 0..rows {
        let row = &q[r * d..(r + 1) * d];
        let mx = row.iter().fold(0f32, |a, x| a.max(x.abs()));
        let step = mx / qlim;
        sq[r] = step;
        let inv = if step > 0.0 { 1.0 / step } else { 0.0 };
        for (dst, &x) in q16[r * d..(r + 1) * d].iter_mut().zip(row) {
            // |x·inv| ≤ qlim (+ rounding) ≤ 32767: the cast cannot saturate wrongly.
            *dst = (x * inv).round() as i16;
        }
    }
    true
}

/// Widens rows `c0..c0+n` (`stride` apart, `w` elements each) into contiguous f32 `dst`
/// (int8: the codes, unscaled).
fn widen_rows<T: Elem>(src: &[T], stride: usize, c0: usize, n: usize, w: usize, dst: &mut [f32]) {
    for jj in 0..n {
        let row = &src[(c0 + jj) * stride..(c0 + jj) * stride + w];
        imp::widen(row, &mut dst[jj * w..(jj + 1) * w]);
    }
}

/// `s[r·CHUNK + jj] *= scale of key row c0 + jj` (row scales from `at` on, `layout.row`
/// apart; contiguous scales take a loop the compiler vectorises).
fn apply_scales(s: &mut [f32], rows: usize, n: usize, sc: RowScales, at: usize) {
    let stride = sc.layout.row;
    for r in 0..rows {
        let row = &mut s[r * CHUNK..r * CHUNK + n];
        if stride == 1 {
            row.iter_mut().zip(&sc.data[at..at + n]).for_each(|(x, &f)| *x *= f);
        } else {
            row.iter_mut().enumerate().for_each(|(jj, x)| *x *= sc.data[at + jj * stride]);
        }
    }
}

/// Rounds one row of `n` softmax weights (already multiplied by the value rows' int8
/// scales: ≥ 0) to int16 for the integer `P·V`: `w16 = round(w / sw)`, `sw = max w /
/// 32767`; sums of `n ≤ CHUNK` products `w16·code` stay below 256·32767·127 < 2³¹.
/// Each weight moves by at most `sw / 2` (1/65534 of the chunk's largest). Returns `sw`,
/// or `None` (float path) when a weight is inf or NaN (a poisoned row must stay NaN).
fn quantize_weights(w: &[f32], w16: &mut [i16]) -> Option<f32> {
    // One pass for both: a NaN or inf anywhere makes `bad` NaN/inf (0·x is NaN for them).
    let (mut mx, mut bad) = (0f32, 0f32);
    for &x in w {
        mx = mx.max(x);
        bad += 0.0 * x;
    }
    if bad != 0.0 || bad.is_nan() {
        return None;
    }
    let sw = mx / 32767.0;
    imp::round_to_i16(w, if sw > 0.0 { 1.0 / sw } else { 0.0 }, w16);
    Some(sw)
}

/// The general score function on `row[jj] = scale·q·k` of keys `c0 + jj`: softcap,
/// ALiBi, mask, then `· log2 e` (the order of `modified_score`; blocking is separate).
fn modify(opts: &Options, shape: &Shape, b: usize, h: usize, i: usize, c0: usize, row: &mut [f32]) {
    if opts.softcap > 0.0 {
        let cap = opts.softcap;
        row.iter_mut().for_each(|x| *x = cap * (*x / cap).tanh());
    }
    if let Some(sl) = opts.alibi_slopes {
        let p = opts.position(shape, i);
        for (jj, x) in row.iter_mut().enumerate() {
            *x -= sl[h] * (p - (c0 + jj) as isize).unsigned_abs() as f32;
        }
    }
    if let Some(mk) = &opts.mask {
        let base = b * mk.strides[0] + h * mk.strides[1] + i * mk.strides[2];
        for (jj, x) in row.iter_mut().enumerate() {
            *x += mk.data[base + (c0 + jj) * mk.strides[3]];
        }
    }
    row.iter_mut().for_each(|x| *x *= LOG2E);
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::CHUNK;
    use crate::dtype::Elem;
    use core::arch::wasm32::*;

    #[inline(always)]
    fn hsum(v: v128) -> f32 {
        let v = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let v = f32x4_add(v, i32x4_shuffle::<1, 0, 3, 2>(v, v));
        f32x4_extract_lane::<0>(v)
    }

    /// `acc[kk][rr] = Σ_p q[rr][p]·k[kk][p]` over the vectorisable part `p < d4` of
    /// KB keys × RB rows: one accumulator per pair, each key vector widened once and
    /// shared by the RB rows (8 independent add chains for 4×2).
    #[inline(always)]
    unsafe fn tile<T: Elem, const KB: usize, const RB: usize>(
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


    /// `acc[kk][rr] = Σ_p q[rr][p]·k[kk][p]` over `p < d16` in exact i32 arithmetic: int8
    /// codes sign-extended to i16, multiplied by int16 queries pairwise (`i32x4.dot_i16x8_s`:
    /// eight products into four lanes per instruction).
    #[inline(always)]
    unsafe fn tile_i8<const KB: usize, const RB: usize>(q: [*const i16; RB], k: [*const i8; KB], d16: usize) -> [[i32; RB]; KB] {
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

    /// Integer scores of int8 keys: `s[r·CHUNK + jj] = sq[r] · Σ_p q16[r][p]·code_{c0+jj}[p]`
    /// (the key's own scale is applied by the caller). Keys of a tile are `n/KB` apart.
    #[allow(clippy::too_many_arguments)]
    pub fn scores_i8(q: &[i16], sq: &[f32], rows: usize, d: usize, k: &[i8], kstride: usize, c0: usize, n: usize, s: &mut [f32]) {
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
            let rb = if rows - r >= 4 { 4 } else if rows - r >= 2 { 2 } else { 1 };
            let qp = |x: usize| q[(r + x.min(rb - 1)) * d..].as_ptr();
            // SAFETY: keys < n (asserted extent), query rows r..r+rb of d int16 each.
            unsafe {
                if rb == 4 {
                    let h = n / 2;
                    for j in 0..h {
                        let t = tile_i8::<2, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j), krow(j + h)], d16);
                        put(s, r, 4, j, &t[0]);
                        put(s, r, 4, j + h, &t[1]);
                    }
                    for j in 2 * h..n {
                        let t = tile_i8::<1, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j)], d16);
                        put(s, r, 4, j, &t[0]);
                    }
                } else {
                    let h = n / 4;
                    for j in 0..h {
                        let js = [j, j + h, j + 2 * h, j + 3 * h];
                        let ks = [krow(js[0]), krow(js[1]), krow(js[2]), krow(js[3])];
                        if rb == 2 {
                            let t = tile_i8::<4, 2>([qp(0), qp(1)], ks, d16);
                            (0..4).for_each(|kk| put(s, r, 2, js[kk], &t[kk]));
                        } else {
                            let t = tile_i8::<4, 1>([qp(0)], ks, d16);
                            (0..4).for_each(|kk| put(s, r, 1, js[kk], &t[kk]));
                        }
                    }
                    for j in 4 * h..n {
                        let t = tile_i8::<1, 2>([qp(0), qp(1)], [krow(j)], d16);
                        put(s, r, rb, j, &t[0]);
                    }
                }
            }
            r += rb;
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
    unsafe fn pv_i8_block<const RB: usize, const W: usize>(
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
                let wv = v128_load32_splat(wp.add((r + rr) * (super::CHUNK / 2) + pj));
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

    /// See [`pv_i8_block`]; `w16` rows are CHUNK apart, `n` keys (an odd last key is added
    /// on its own), `o` rows `dv` apart.
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum_i8(w16: &[i16], sw: &[f32], rows: usize, n: usize, v: &[i8], vstride: usize, c0: usize, dv: usize, o: &mut [f32]) {
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
                let rb = if rows - r >= 4 { 4 } else if rows - r >= 2 { 2 } else { 1 };
                let mut c = 0;
                let mut acc = [[i32x4_splat(0); 8]; 4];
                // Column blocks of 8·W: 8 accumulators (W = 4, 2, 1 for 1, 2, 4 rows).
                let wcols = match rb { 4 => 8, 2 => 16, _ => 32 };
                while c < dv {
                    let width = if c + wcols <= dv { wcols } else if c + 8 <= dv { 8 } else { 0 };
                    if width == 0 {
                        break;
                    }
                    match (rb, width) {
                        (4, _) => pv_i8_block::<4, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
                        (2, 16) => pv_i8_block::<2, 2>(wp, r, pairs, vb, vstride, c, &mut acc),
                        (2, _) => pv_i8_block::<2, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
                        (_, 32) => pv_i8_block::<1, 4>(wp, r, pairs, vb, vstride, c, &mut acc),
                        (_, _) => pv_i8_block::<1, 1>(wp, r, pairs, vb, vstride, c, &mut acc),
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


    /// `dst[i] = round(src[i]·inv)` for values with `|src·inv| ≤ 32767` (nearest, ties
    /// to even), four lanes at a time.
    pub fn round_to_i16(src: &[f32], inv: f32, dst: &mut [i16]) {
        let n = src.len().min(dst.len());
        let f = f32x4_splat(inv);
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: i + 8 ≤ n elements of both slices.
            unsafe {
                let a = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v128_load(src.as_ptr().add(i) as *const v128), f)));
                let b = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v128_load(src.as_ptr().add(i + 4) as *const v128), f)));
                v128_store(dst.as_mut_ptr().add(i) as *mut v128, i16x8_narrow_i32x4(a, b));
            }
            i += 8;
        }
        for j in i..n {
            dst[j] = (src[j] * inv).round() as i16;
        }
    }


    /// `dst = src` widened to f32, four lanes at a time.
    pub fn widen<T: Elem>(src: &[T], dst: &mut [f32]) {
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

    /// `s[r·CHUNK + jj] = q_r · k_{c0+jj}` for rows `< rows`, keys `jj < n`.
    /// `k` starts at key 0 of the head, rows `kstride` apart.
    ///
    /// Two orders of the same sums (bit-identical results): streaming f32 calls take
    /// tiles of keys `n/KB` apart, the others tiles of adjacent keys ([`scores_spaced`]).
    /// See the module docs for what was measured.
    #[allow(clippy::too_many_arguments)]
    pub fn scores<T: Elem>(q: &[f32], rows: usize, d: usize, k: &[T], kstride: usize, c0: usize, n: usize, s: &mut [f32], streaming: bool) {
        scores_spaced(q, rows, d, k, kstride, c0, n, s, streaming)
    }

    /// `o[rr][c..c+4W] += Σ_jj w[rr][jj] · v_{c0+jj}[c..c+4W]` for RB rows from `r`:
    /// RB·W accumulators live in registers across all n keys.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn pv_block<T: Elem, const RB: usize, const W: usize>(
        w: *const f32, r: usize, n: usize, v: *const T, vstride: usize, c: usize, o: *mut f32, dv: usize,
    ) {
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
                let p = v128_load32_splat(w.add((r + rr) * CHUNK + jj) as *const u32);
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

    /// Rows `r..r+RB`, every whole group of four columns: blocks of 4·W, then of 4.
    /// Returns the first column not done.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn columns<T: Elem, const RB: usize, const W: usize>(
        w: *const f32, r: usize, n: usize, v: *const T, vstride: usize, o: *mut f32, dv: usize,
    ) -> usize {
        let mut c = 0;
        while c + 4 * W <= dv {
            pv_block::<T, RB, W>(w, r, n, v, vstride, c, o, dv);
            c += 4 * W;
        }
        while c + 4 <= dv {
            pv_block::<T, RB, 1>(w, r, n, v, vstride, c, o, dv);
            c += 4;
        }
        c
    }

    /// [`scores`] by register tiles of KB keys × RB rows (2 × 4 for four rows, each key
    /// widened once for the four; otherwise 4 × 2 or 4 × 1: eight accumulators either
    /// way). The keys of tile `t` are `t·KB + x` (adjacent rows of K) or, `far`, `t + x·g`
    /// with `g = n/KB` (KB forward streams through K, each in its own pages); the last
    /// `n − g·KB` keys go one at a time.
    #[allow(clippy::too_many_arguments)]
    fn scores_spaced<T: Elem>(q: &[f32], rows: usize, d: usize, k: &[T], kstride: usize, c0: usize, n: usize, s: &mut [f32], far: bool) {
        assert!(q.len() >= rows * d && s.len() >= rows * CHUNK && n <= CHUNK);
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
            let rb = if rows - r >= 4 { 4 } else if rows - r >= 2 { 2 } else { 1 };
            let qp = |x: usize| q[(r + x.min(rb - 1)) * d..].as_ptr();
            let kb = if rb == 4 { 2 } else { 4 };
            let g = n / kb;
            let key = |t: usize, x: usize| if far { t + x * g } else { t * kb + x };
            // SAFETY: every key index < n (rows c0.. of k, asserted); query rows r..r+rb < rows.
            unsafe {
                for t in 0..g {
                    match rb {
                        4 => {
                            let js = [key(t, 0), key(t, 1)];
                            let tl = tile::<T, 2, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(js[0]), krow(js[1])], d4);
                            put_at(s, r, js, &tl, tail);
                        }
                        _ => {
                            let js = [key(t, 0), key(t, 1), key(t, 2), key(t, 3)];
                            let ks = [krow(js[0]), krow(js[1]), krow(js[2]), krow(js[3])];
                            if rb == 2 {
                                put_at(s, r, js, &tile::<T, 4, 2>([qp(0), qp(1)], ks, d4), tail);
                            } else {
                                put_at(s, r, js, &tile::<T, 4, 1>([qp(0)], ks, d4), tail);
                            }
                        }
                    }
                }
                for j in g * kb..n {
                    match rb {
                        4 => put_at(s, r, [j], &tile::<T, 1, 4>([qp(0), qp(1), qp(2), qp(3)], [krow(j)], d4), tail),
                        2 => put_at(s, r, [j], &tile::<T, 1, 2>([qp(0), qp(1)], [krow(j)], d4), tail),
                        _ => put_at(s, r, [j], &tile::<T, 1, 1>([qp(0)], [krow(j)], d4), tail),
                    }
                }
            }
            r += rb;
        }
    }

    /// Stores a tile's dot products for rows r.. and the keys `js`.
    #[inline(always)]
    fn put_at<const KB: usize, const RB: usize>(
        s: &mut [f32], r: usize, js: [usize; KB], t: &[[f32; RB]; KB], tail: Option<&dyn Fn(usize, usize) -> f32>,
    ) {
        for kk in 0..KB {
            for rr in 0..RB {
                let mut x = t[kk][rr];
                if let Some(tail) = tail {
                    x += tail(r + rr, js[kk]);
                }
                s[(r + rr) * CHUNK + js[kk]] = x;
            }
        }
    }

    /// `o[rr][:] += w0_rr · v0 + w1_rr · v1` for RB rows over whole vectors of two value
    /// rows, each read front to back.
    #[inline(always)]
    unsafe fn axpy2_rows<T: Elem, const RB: usize>(w0: [v128; RB], w1: [v128; RB], v0: *const T, v1: *const T, o: [*mut f32; RB], dv4: usize) {
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

    /// As [`weighted_sum`], two value rows `n/2` apart at a time (two forward streams
    /// through V, in separate pages), output rows in L1.
    #[allow(clippy::too_many_arguments)]
    fn weighted_sum_far<T: Elem>(w: &[f32], rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32]) {
        assert!(w.len() >= rows * CHUNK && o.len() >= rows * dv && n <= CHUNK);
        if n == 0 || dv == 0 {
            return;
        }
        assert!(v.len() >= (c0 + n - 1) * vstride + dv);
        let dv4 = dv / 4 * 4;
        let op = o.as_mut_ptr();
        let h = n / 2;
        let vrow = |j: usize| v[(c0 + j) * vstride..].as_ptr();
        for jj in 0..h {
            let (j0, j1) = (jj, jj + h);
            let (v0, v1) = (vrow(j0), vrow(j1));
            let mut r = 0;
            while r < rows {
                let rb = if rows - r >= 4 { 4 } else if rows - r >= 2 { 2 } else { 1 };
                let ow = |x: usize, j: usize| f32x4_splat(w[(r + x.min(rb - 1)) * CHUNK + j]);
                // SAFETY: value rows j0, j1 < n hold dv elements; output rows r..r+rb hold dv floats.
                unsafe {
                    let orow = |x: usize| op.add((r + x.min(rb - 1)) * dv);
                    match rb {
                        4 => axpy2_rows::<T, 4>([ow(0, j0), ow(1, j0), ow(2, j0), ow(3, j0)], [ow(0, j1), ow(1, j1), ow(2, j1), ow(3, j1)], v0, v1, [orow(0), orow(1), orow(2), orow(3)], dv4),
                        2 => axpy2_rows::<T, 2>([ow(0, j0), ow(1, j0)], [ow(0, j1), ow(1, j1)], v0, v1, [orow(0), orow(1)], dv4),
                        _ => axpy2_rows::<T, 1>([ow(0, j0)], [ow(0, j1)], v0, v1, [orow(0)], dv4),
                    }
                    for x in 0..rb {
                        let (a, b) = (w[(r + x) * CHUNK + j0], w[(r + x) * CHUNK + j1]);
                        for cc in dv4..dv {
                            *orow(x).add(cc) += a * (*v0.add(cc)).to_f32_raw() + b * (*v1.add(cc)).to_f32_raw();
                        }
                    }
                }
                r += rb;
            }
        }
        if n % 2 == 1 {
            // The odd last key, alone.
            let j = n - 1;
            let vr = vrow(j);
            for r in 0..rows {
                let a = w[r * CHUNK + j];
                // SAFETY: value row j < n holds dv elements; output row r holds dv floats.
                unsafe {
                    let orow = op.add(r * dv);
                    axpy_rows::<T, 1>([f32x4_splat(a)], vr, [orow], dv4);
                    for cc in dv4..dv {
                        *orow.add(cc) += a * (*vr.add(cc)).to_f32_raw();
                    }
                }
            }
        }
    }

    /// `o[rr][:] += w_rr · v` for RB rows over whole vectors of one value row, read
    /// front to back; the output rows (in L1) are loaded and stored per vector.
    #[inline(always)]
    unsafe fn axpy_rows<T: Elem, const RB: usize>(w: [v128; RB], v: *const T, o: [*mut f32; RB], dv4: usize) {
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

    /// `o[r, :] += Σ_jj w[r·CHUNK + jj] · v_{c0+jj}` for rows `< rows`, keys `jj < n`.
    ///
    /// Streaming f32 calls with four or more rows go two value rows at a time through
    /// [`weighted_sum_far`], the others through [`weighted_sum_blocked`] (module docs).
    /// The two sum the same products in a different association (rounding differs).
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum<T: Elem>(w: &[f32], rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32], streaming: bool) {
        if streaming && rows >= 4 {
            weighted_sum_far(w, rows, n, v, vstride, c0, dv, o)
        } else {
            weighted_sum_blocked(w, rows, n, v, vstride, c0, dv, o)
        }
    }

    /// [`weighted_sum`] by column blocks whose accumulators stay in registers across keys.
    #[allow(clippy::too_many_arguments)]
    fn weighted_sum_blocked<T: Elem>(w: &[f32], rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32]) {
        assert!(w.len() >= rows * CHUNK && o.len() >= rows * dv && n <= CHUNK);
        if n == 0 || dv == 0 {
            return;
        }
        assert!(v.len() >= (c0 + n - 1) * vstride + dv);
        let v = v[c0 * vstride..].as_ptr();
        let (wp, op) = (w.as_ptr(), o.as_mut_ptr());
        // Column blocks of 4·W floats × RB rows: W = 8 / 4 / 2 for 1 / 2 / 4 rows, so
        // 8 accumulators each (more spill on x64's 16 vector registers).
        let mut r = 0;
        // SAFETY: rows r..r+RB < rows of w (CHUNK apart) and o (dv apart); columns
        // c..c+4W ≤ dv of value rows jj < n (asserted extent).
        unsafe {
            while r < rows {
                let left = rows - r;
                let rb = if left >= 4 { 4 } else if left >= 2 { 2 } else { 1 };
                let c = match rb {
                    4 => columns::<T, 4, 2>(wp, r, n, v, vstride, op, dv),
                    2 => columns::<T, 2, 4>(wp, r, n, v, vstride, op, dv),
                    _ => columns::<T, 1, 8>(wp, r, n, v, vstride, op, dv),
                };
                // Ragged last columns.
                for rr in r..r + rb {
                    for cc in c..dv {
                        let mut a = o[rr * dv + cc];
                        for jj in 0..n {
                            a += w[rr * CHUNK + jj] * (*v.add(jj * vstride + cc)).to_f32_raw();
                        }
                        o[rr * dv + cc] = a;
                    }
                }
                r += rb;
            }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::CHUNK;
    use crate::dtype::Elem;

    /// `dst = src` widened to f32.
    pub fn widen<T: Elem>(src: &[T], dst: &mut [f32]) {
        for (x, e) in dst.iter_mut().zip(src) {
            *x = e.to_f32();
        }
    }

    /// `dst[i] = round(src[i]·inv)` (nearest, ties to even, as the SIMD version).
    pub fn round_to_i16(src: &[f32], inv: f32, dst: &mut [i16]) {
        for (d, &x) in dst.iter_mut().zip(src) {
            let y = x * inv;
            let r = y.round();
            // Ties to even, as f32x4.nearest.
            let r = if (y - y.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - y.signum() } else { r };
            *d = r as i16;
        }
    }

    /// Integer `P·V` of int8 value rows (see the SIMD version): exact i32 sums per chunk.
    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum_i8(w16: &[i16], sw: &[f32], rows: usize, n: usize, v: &[i8], vstride: usize, c0: usize, dv: usize, o: &mut [f32]) {
        assert!(w16.len() >= rows * CHUNK && sw.len() >= rows && o.len() >= rows * dv && n <= CHUNK);
        for r in 0..rows {
            for cc in 0..dv {
                let t: i32 = (0..n).map(|jj| w16[r * CHUNK + jj] as i32 * v[(c0 + jj) * vstride + cc] as i32).sum();
                if t != 0 {
                    o[r * dv + cc] += t as f32 * sw[r];
                }
            }
        }
    }

    /// Integer scores of int8 keys (see the SIMD version): exact i32 sums.
    #[allow(clippy::too_many_arguments)]
    pub fn scores_i8(q: &[i16], sq: &[f32], rows: usize, d: usize, k: &[i8], kstride: usize, c0: usize, n: usize, s: &mut [f32]) {
        assert!(q.len() >= rows * d && sq.len() >= rows && s.len() >= rows * CHUNK && n <= CHUNK);
        for jj in 0..n {
            let kr = &k[(c0 + jj) * kstride..(c0 + jj) * kstride + d];
            for r in 0..rows {
                let dot: i32 = q[r * d..(r + 1) * d].iter().zip(kr).map(|(&a, &b)| a as i32 * b as i32).sum();
                s[r * CHUNK + jj] = dot as f32 * sq[r];
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn scores<T: Elem>(q: &[f32], rows: usize, d: usize, k: &[T], kstride: usize, c0: usize, n: usize, s: &mut [f32], _streaming: bool) {
        assert!(q.len() >= rows * d && s.len() >= rows * CHUNK && n <= CHUNK);
        for jj in 0..n {
            let kr = &k[(c0 + jj) * kstride..(c0 + jj) * kstride + d];
            for r in 0..rows {
                let qr = &q[r * d..(r + 1) * d];
                // Four partial sums, like the SIMD lanes.
                let mut acc = [0f32; 4];
                let d4 = d / 4 * 4;
                for p in (0..d4).step_by(4) {
                    for x in 0..4 {
                        acc[x] += qr[p + x] * kr[p + x].to_f32_raw();
                    }
                }
                let mut t = (acc[0] + acc[2]) + (acc[1] + acc[3]);
                for p in d4..d {
                    t += qr[p] * kr[p].to_f32_raw();
                }
                s[r * CHUNK + jj] = t;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn weighted_sum<T: Elem>(w: &[f32], rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32], _streaming: bool) {
        assert!(w.len() >= rows * CHUNK && o.len() >= rows * dv && n <= CHUNK);
        for jj in 0..n {
            let vr = &v[(c0 + jj) * vstride..(c0 + jj) * vstride + dv];
            for r in 0..rows {
                let p = w[r * CHUNK + jj];
                for (a, x) in o[r * dv..(r + 1) * dv].iter_mut().zip(vr) {
                    *a += p * x.to_f32_raw();
                }
            }
        }
    }
}
