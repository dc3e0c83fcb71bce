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
//! ([`round_queries_i16`]), and `P·V` exact i32 sums of the codes times the chunk's weights
//! rounded to int16 ([`round_weights_i16`]), both with `i32x4.dot_i16x8_s` (eight products
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
//! A group of three rows (SmolLM's 9/3) streams too: its `P·V` adds four value rows
//! `n/4` apart, and streaming chunks hold [`STREAM_CHUNK`] keys (longer streams); with
//! the score tile in WebAssembly text, a decode step's 30 cold calls at Lk = 1024 took
//! 1.5× less time than before (docs/performance.md).
//! Finite float16 is widened without its last step, the multiply by 2^112
//! ([`Elem::RAW_SCALE`]); the queries and the weights carry that factor instead
//! (bit-identical results; float16 decode 1.05–1.15× in the same A/B harness).
//!
//! Scratch: `rows·(D + CHUNK + Dv)` floats (`STREAM_CHUNK` when streaming); nothing
//! proportional to `len_k`.
//!
//! Files: this driver (the chunk loop, the softmax merge, the score options, the int8
//! roundings); `decode_float_simd128.rs` (score and `P·V` tiles on float lanes),
//! `decode_i8_simd128.rs` (the integer tiles of int8 rows), `decode_scalar.rs` (the
//! scalar twins of both), reached through [`isa`] under one set of names.

// Findings of clippy 1.63 (`npm run lint`) left for the kernel's next change: index loops
// over register tiles, two `else { if }`, and the query loader's closure type.
#![allow(clippy::needless_range_loop, clippy::collapsible_else_if, clippy::type_complexity)]
use super::online::rescale_rows;
use super::scores::{allowed, is_fast, KeyRange, LOG2E};
use super::{Layout, Options, Shape};
use crate::dtype::{DType, Elem};
use crate::exp::exp2_nonpos;
use crate::format::{Format, Scale};

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

/// Keys per chunk of a streaming call (f32 K/V from memory, see [`STREAM_BYTES`]): its
/// tiles read K and V as a few forward streams per chunk, and longer streams keep the
/// hardware prefetchers ahead. At Lk = 1024 (SmolLM's 9/3 heads, D = 64, a decode
/// step's 30 cold calls) 512 keys took 1.08× less time than 256, and 1024 1.05× less
/// than 512.
pub const STREAM_CHUNK: usize = 1024;

/// K + V bytes (f32) above which a call is taken to stream from memory rather than
/// from cache, and the f32 tiles switch to the access order that streams better (see
/// the module docs): twice this machine's 1 MiB L2. A caller that knows its K/V are
/// cold whatever their size says so ([`Options::cold_kv`]).
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
    load_q: &dyn Fn(usize, usize, usize, &mut [f32]), k: Stored<T>, v: Stored<T>, out: &mut [f32], ol: Layout,
    mut lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    let group = shape.heads_q / shape.heads_kv;
    let rows = shape.len_q * group;
    assert!(rows <= DECODE_ROWS, "attention_decode: too many query rows");
    let (d, dv, lk) = (shape.head_dim, shape.value_dim, shape.len_k);
    // The storage format (the registry of `crate::format`) decides the path: element
    // formats score on float lanes; a format with one f32 scale per row (int8 rows) comes
    // with its scales, applied to the dot products (keys) and folded into the weights
    // (values), and takes the integer tiles.
    let format = Format::of(T::DTYPE);
    let row_scaled = format.layout().scale == Scale::RowF32;
    for (what, s) in [("k", &k.scales), ("v", &v.scales)] {
        assert!(
            s.is_some() == row_scaled,
            "attention_decode: {} row scales {} with {:?}",
            what,
            if row_scaled { "missing" } else { "given" },
            format
        );
        if let Some(sc) = s {
            super::scores::check_tensor(what, sc.data.len(), sc.layout, shape.batch, shape.heads_kv, lk, 1);
        }
    }
    let fast = is_fast(opts);
    // Scores come out in log2 units directly when no modifier needs `scale·q·k` itself.
    let qscale = if fast { opts.scale * LOG2E } else { opts.scale };
    let streaming = T::DTYPE == DType::F32
        && (opts.cold_kv
            || shape.batch.saturating_mul(shape.heads_kv).saturating_mul(lk).saturating_mul(d + dv).saturating_mul(4)
                > STREAM_BYTES);
    // The scores' row stride; only f32 streams (int8 sums need chunks of CHUNK).
    let chunk = if streaming { STREAM_CHUNK } else { CHUNK };
    // Int8 rows score as integer dot products (see `round_queries_i16`).
    let int_keys = format == Format::I8Row;
    let sizes = [
        rows * d,
        rows * chunk,
        rows * dv,
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
            // SAFETY: Elem's int8 implementation is i8 itself (Format::I8Row is DType::I8,
            // whose only Elem is i8).
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
                let int_dot = int_keys && round_queries_i16(qb, rows, d, q16, &mut sq);
                qmax = 0.0;
                o.iter_mut().for_each(|x| *x = 0.0);
                let kr = KeyRange::new(&shape, opts, 0, shape.len_q);
                let kbase = k.layout.offset(b, hk, 0);
                let vbase = v.layout.offset(b, hk, 0);
                let mut c0 = kr.start;
                while c0 < kr.end {
                    let n = chunk.min(kr.end - c0);
                    // 1. Scores of every row against keys c0..c0+n.
                    if int_dot {
                        isa::i8_scores(q16, &sq, rows, d, &k_i8[kbase..], k.layout.row, c0, n, s);
                    } else {
                        if T::TILES {
                            isa::float_scores(qb, rows, d, &k.data[kbase..], k.layout.row, c0, n, s, chunk, streaming);
                        } else {
                            widen_rows_f32(&k.data[kbase..], k.layout.row, c0, n, d, kw);
                            isa::float_scores::<f32>(qb, rows, d, kw, d, 0, n, s, chunk, false);
                        }
                    }
                    if let Some(sc) = k.scales {
                        apply_row_scales(s, rows, n, sc, sc.layout.offset(b, hk, c0));
                    }
                    if sfac != 1.0 {
                        (0..rows).for_each(|r| s[r * chunk..r * chunk + n].iter_mut().for_each(|x| *x *= sfac));
                    }
                    // 2. Score options, in the tiled kernel's order.
                    let masked = kr.needs_mask(c0, n);
                    for r in 0..rows {
                        let row = &mut s[r * chunk..r * chunk + n];
                        if !fast {
                            modify_scores(opts, &shape, b, hs[r], is[r], c0, row);
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
                        let row = &mut s[r * chunk..r * chunk + n];
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
                        apply_row_scales(s, rows, n, sc, sc.layout.offset(b, hk, c0));
                    }
                    if T::TILES && T::RAW_SCALE != 1.0 {
                        // Weights ≤ 1 take the raw values' factor (≤ 2^112: no overflow).
                        (0..rows).for_each(|r| s[r * chunk..r * chunk + n].iter_mut().for_each(|x| *x *= T::RAW_SCALE));
                    }
                    // 4. O += P·V over the chunk.
                    let mut int_pv = int_keys;
                    if int_pv {
                        for r in 0..rows {
                            match round_weights_i16(&s[r * chunk..r * chunk + n], &mut w16[r * CHUNK..r * CHUNK + n]) {
                                Some(x) => sw[r] = x,
                                None => int_pv = false,
                            }
                        }
                    }
                    if int_pv {
                        isa::i8_weighted_sum(w16, &sw, rows, n, &v_i8[vbase..], v.layout.row, c0, dv, o);
                    } else {
                        if T::TILES {
                            isa::float_weighted_sum(
                                s,
                                chunk,
                                rows,
                                n,
                                &v.data[vbase..],
                                v.layout.row,
                                c0,
                                dv,
                                o,
                                streaming,
                            );
                        } else {
                            widen_rows_f32(&v.data[vbase..], v.layout.row, c0, n, dv, kw);
                            isa::float_weighted_sum::<f32>(s, chunk, rows, n, kw, dv, 0, dv, o, false);
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
fn round_queries_i16(q: &[f32], rows: usize, d: usize, q16: &mut [i16], sq: &mut [f32; DECODE_ROWS]) -> bool {
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
fn widen_rows_f32<T: Elem>(src: &[T], stride: usize, c0: usize, n: usize, w: usize, dst: &mut [f32]) {
    for jj in 0..n {
        let row = &src[(c0 + jj) * stride..(c0 + jj) * stride + w];
        isa::widen(row, &mut dst[jj * w..(jj + 1) * w]);
    }
}

/// `s[r·CHUNK + jj] *= scale of key row c0 + jj` (row scales from `at` on, `layout.row`
/// apart; contiguous scales take a loop the compiler vectorises).
fn apply_row_scales(s: &mut [f32], rows: usize, n: usize, sc: RowScales, at: usize) {
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
fn round_weights_i16(w: &[f32], w16: &mut [i16]) -> Option<f32> {
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
    isa::round_to_i16(w, if sw > 0.0 { 1.0 / sw } else { 0.0 }, w16);
    Some(sw)
}

/// The general score function on `row[jj] = scale·q·k` of keys `c0 + jj`: softcap,
/// ALiBi, mask, then `· log2 e` (the order of `modified_score`; blocking is separate).
fn modify_scores(opts: &Options, shape: &Shape, b: usize, h: usize, i: usize, c0: usize, row: &mut [f32]) {
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

/// The kernels of the build's instruction set under one set of names: float tiles
/// (`decode_float_simd128.rs`), int8 integer tiles (`decode_i8_simd128.rs`), or the
/// scalar twins of both (`decode_scalar.rs`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod isa {
    pub use super::super::decode_float_simd128::{
        float_scores_simd128 as float_scores, float_weighted_sum_simd128 as float_weighted_sum, widen_simd128 as widen,
    };
    pub use super::super::decode_i8_simd128::{
        i8_scores_simd128 as i8_scores, i8_weighted_sum_simd128 as i8_weighted_sum,
        round_to_i16_simd128 as round_to_i16,
    };
}
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod isa {
    pub use super::super::decode_scalar::{
        float_scores_scalar as float_scores, float_weighted_sum_scalar as float_weighted_sum,
        i8_scores_scalar as i8_scores, i8_weighted_sum_scalar as i8_weighted_sum, round_to_i16_scalar as round_to_i16,
        widen_scalar as widen,
    };
}
