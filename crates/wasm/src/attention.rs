//! Exports of fused attention and of attention weights.
//!
//! The arguments travel in a descriptor of [`WORDS`] u32 words that JavaScript
//! writes into a block it allocated (f32 values as their bits); `ts/ops/attention-call.ts`
//! writes the same layout. Every pointer in it is checked like any other.

use wasm_bindgen::prelude::*;

use kernels::attention::{Elems, Layout, Options, RowScales, Shape};
use kernels::dtype::DType;
use kernels::Mask;

use crate::extent::{non_overlapping, span};
use crate::memory;
use crate::status::{self, run, Status};

/// Word offsets in the descriptor.
mod w {
    pub const Q: usize = 0;
    pub const K: usize = 1;
    pub const V: usize = 2;
    pub const OUT: usize = 3;
    pub const LSE: usize = 4;
    pub const SHAPE: usize = 5; // batch, heads_q, heads_kv, len_q, len_k, head_dim, value_dim
    pub const Q_STRIDES: usize = 12; // batch, head, row
    pub const K_STRIDES: usize = 15;
    pub const V_STRIDES: usize = 18;
    pub const OUT_STRIDES: usize = 21;
    pub const SCALE: usize = 24;
    pub const FLAGS: usize = 25; // bit 0 causal, bit 1 window, bit 2 causal offset, bit 3 cold K/V
    pub const WINDOW: usize = 26; // left, right
    pub const SOFTCAP: usize = 28;
    pub const ALIBI: usize = 29;
    pub const SINKS: usize = 30;
    pub const MASK: usize = 31;
    pub const MASK_STRIDES: usize = 32; // b, h, i, j
    pub const ROWS: usize = 36; // row_start, row_count (attention_probs)
    pub const CAUSAL_OFFSET: usize = 38; // i32: key position of query row 0
    pub const DTYPES: usize = 39; // dtype codes: q | k << 8 | v << 16 (0 f32, 1 f16, 2 bf16, 3 int8;
                                  // + 0x80: float16 holding no inf/NaN)
    pub const K_SCALES: usize = 40; // int8 keys: pointer to f32 row scales, then their batch, head, row strides
    pub const V_SCALES: usize = 44; // int8 values: the same
}

/// Descriptor length in u32 words.
pub const WORDS: usize = 48;

struct Call<'a> {
    shape: Shape,
    q: Elems<'a>,
    ql: Layout,
    k: Elems<'a>,
    kl: Layout,
    opts: Options<'a>,
    d: &'a [u32],
}

/// The dtype of one operand's code byte.
fn dtype_of(code: u32) -> Result<DType, Status> {
    DType::from_code(code & 0x7f).ok_or(Status::BadShape)
}

/// A checked view of `len` elements of `dtype` at `ptr` (int8 with its row scales,
/// described at descriptor word `scales`, for `heads × rows` rows); records the ranges.
#[allow(clippy::too_many_arguments)]
fn elems<'a>(
    d: &[u32], ptr: usize, dtype: DType, finite: bool, len: usize, scales: usize, dims: [usize; 3],
    ranges: &mut Vec<(usize, usize)>,
) -> Result<Elems<'a>, Status> {
    let bytes = len.checked_mul(dtype.size()).ok_or(Status::BadShape)?;
    ranges.push((ptr, bytes));
    Ok(match dtype {
        DType::F32 => Elems::F32(memory::elems(ptr, len)?),
        DType::F16 if finite => Elems::F16Finite(memory::elems(ptr, len)?),
        DType::F16 => Elems::F16(memory::elems(ptr, len)?),
        DType::BF16 => Elems::BF16(memory::elems(ptr, len)?),
        DType::I8 => {
            let sl = strides(d, scales + 1);
            let n = ext(&dims, sl, 1)?;
            let sp = d[scales] as usize;
            ranges.push((sp, n.checked_mul(4).ok_or(Status::BadShape)?));
            Elems::I8(memory::elems(ptr, len)?, RowScales { data: memory::floats(sp, n)?, layout: sl })
        }
    })
}

fn strides(d: &[u32], at: usize) -> Layout {
    Layout { batch: d[at] as usize, head: d[at + 1] as usize, row: d[at + 2] as usize }
}

fn ext(d: &[usize; 3], l: Layout, cols: usize) -> Result<usize, Status> {
    span(&[d[0], d[1], d[2], cols], &[l.batch, l.head, l.row, 1])
}

/// Reads and checks the inputs shared by both exports; returns the ranges they cover.
fn read<'a>(desc: usize, ranges: &mut Vec<(usize, usize)>) -> Result<Call<'a>, Status> {
    let d: &[u32] = unsafe {
        let f = memory::floats(desc, WORDS)?;
        std::slice::from_raw_parts(f.as_ptr() as *const u32, WORDS)
    };
    let u = |i: usize| d[i] as usize;
    let shape = Shape {
        batch: u(w::SHAPE),
        heads_q: u(w::SHAPE + 1),
        heads_kv: u(w::SHAPE + 2),
        len_q: u(w::SHAPE + 3),
        len_k: u(w::SHAPE + 4),
        head_dim: u(w::SHAPE + 5),
        value_dim: u(w::SHAPE + 6),
    };
    if shape.heads_kv == 0 || shape.heads_q % shape.heads_kv != 0 {
        return Err(Status::BadShape);
    }
    let (ql, kl) = (strides(d, w::Q_STRIDES), strides(d, w::K_STRIDES));
    let q_len = ext(&[shape.batch, shape.heads_q, shape.len_q], ql, shape.head_dim)?;
    let k_len = ext(&[shape.batch, shape.heads_kv, shape.len_k], kl, shape.head_dim)?;
    let (qt, kt) = (dtype_of(d[w::DTYPES])?, dtype_of(d[w::DTYPES] >> 8)?);
    if qt == DType::I8 {
        return Err(Status::BadShape);
    }
    let fin = |shift: u32| (d[w::DTYPES] >> shift) & 0x80 != 0;
    let q = elems(d, u(w::Q), qt, fin(0), q_len, 0, [0; 3], ranges)?;
    let k = elems(d, u(w::K), kt, fin(8), k_len, w::K_SCALES, [shape.batch, shape.heads_kv, shape.len_k], ranges)?;
    let mut opts = Options::new(f32::from_bits(d[w::SCALE]));
    let flags = d[w::FLAGS];
    opts.causal = flags & 1 != 0;
    if flags & 2 != 0 {
        opts.window = Some((u(w::WINDOW), u(w::WINDOW + 1)));
    }
    if flags & 4 != 0 {
        opts.causal_offset = Some(d[w::CAUSAL_OFFSET] as i32 as isize);
    }
    opts.cold_kv = flags & 8 != 0;
    opts.softcap = f32::from_bits(d[w::SOFTCAP]);
    if opts.softcap.is_nan() || opts.softcap < 0.0 || !opts.scale.is_finite() {
        return Err(Status::BadShape);
    }
    if d[w::ALIBI] != 0 {
        opts.alibi_slopes = Some(memory::floats(u(w::ALIBI), shape.heads_q)?);
        ranges.push((u(w::ALIBI), shape.heads_q * 4));
    }
    if d[w::SINKS] != 0 {
        opts.sinks = Some(memory::floats(u(w::SINKS), shape.heads_q)?);
        ranges.push((u(w::SINKS), shape.heads_q * 4));
    }
    if d[w::MASK] != 0 {
        let ms = [u(w::MASK_STRIDES), u(w::MASK_STRIDES + 1), u(w::MASK_STRIDES + 2), u(w::MASK_STRIDES + 3)];
        let len = span(&[shape.batch, shape.heads_q, shape.len_q, shape.len_k], &ms)?;
        opts.mask = Some(Mask { data: memory::floats(u(w::MASK), len)?, strides: ms });
        ranges.push((u(w::MASK), len.checked_mul(4).ok_or(Status::BadShape)?));
    }
    Ok(Call { shape, q, ql, k, kl, opts, d })
}

/// Fused attention (see `kernels::attention::attention_forward`); `desc` is the
/// descriptor's byte offset. Writes `out` and, when its pointer is non-zero, `lse`.
#[wasm_bindgen]
pub fn wa_attention(desc: usize) -> i32 {
    run(|| {
        let mut ranges = Vec::with_capacity(8);
        let c = read(desc, &mut ranges)?;
        let d = c.d;
        let s = c.shape;
        let vl = strides(d, w::V_STRIDES);
        let v_len = ext(&[s.batch, s.heads_kv, s.len_k], vl, s.value_dim)?;
        let vt = dtype_of(d[w::DTYPES] >> 16)?;
        let kt = dtype_of(d[w::DTYPES] >> 8)?;
        let (kf, vf) = ((d[w::DTYPES] >> 8) & 0x80 != 0, (d[w::DTYPES] >> 16) & 0x80 != 0);
        if vt != kt || kf != vf {
            return Err(Status::BadShape);
        }
        let v = elems(d, d[w::V] as usize, vt, vf, v_len, w::V_SCALES, [s.batch, s.heads_kv, s.len_k], &mut ranges)?;
        let ol = strides(d, w::OUT_STRIDES);
        non_overlapping(&[s.batch, s.heads_q, s.len_q, s.value_dim], &[ol.batch, ol.head, ol.row, 1])?;
        let out_len = ext(&[s.batch, s.heads_q, s.len_q], ol, s.value_dim)?;
        let out_ptr = d[w::OUT] as usize;
        memory::disjoint_bytes((out_ptr, out_len * 4), &ranges)?;
        let lse_len = s.batch * s.heads_q * s.len_q;
        let lse_ptr = d[w::LSE] as usize;
        let lse = if lse_ptr == 0 {
            None
        } else {
            memory::disjoint_bytes((lse_ptr, lse_len * 4), &ranges)?;
            memory::disjoint_bytes((lse_ptr, lse_len * 4), &[(out_ptr, out_len * 4)])?;
            Some(memory::floats_mut(lse_ptr, lse_len)?)
        };
        let out = memory::floats_mut(out_ptr, out_len)?;
        status::kernel(|| {
            kernels::attention::attention_forward_elems(c.q, c.ql, c.k, c.kl, v, vl, out, ol, lse, s, &c.opts)
        })
    })
}

/// Fused attention of a packed variable-length batch (see
/// `kernels::attention::attention_varlen_elems`): the descriptor as for [`wa_attention`]
/// with batch 1 and `len_q = len_k = T` (the batch strides are unused), and `seqs + 1`
/// u32 row offsets at `offsets`, rising from 0 to T. No mask; `lse`, when its pointer
/// is non-zero, is `[heads_q, T]`.
#[wasm_bindgen]
pub fn wa_attention_varlen(desc: usize, offsets: usize, seqs: usize) -> i32 {
    run(|| {
        let mut ranges = Vec::with_capacity(8);
        let c = read(desc, &mut ranges)?;
        let d = c.d;
        let s = c.shape;
        if s.batch != 1 || s.len_q != s.len_k || c.opts.mask.is_some() {
            return Err(Status::BadShape);
        }
        let count = seqs.checked_add(1).ok_or(Status::BadShape)?;
        let offs: &[u32] = memory::elems(offsets, count)?;
        if !kernels::attention::valid_offsets(offs, s.len_q) {
            return Err(Status::BadShape);
        }
        ranges.push((offsets, count * 4));
        let vl = strides(d, w::V_STRIDES);
        let v_len = ext(&[s.batch, s.heads_kv, s.len_k], vl, s.value_dim)?;
        let vt = dtype_of(d[w::DTYPES] >> 16)?;
        let kt = dtype_of(d[w::DTYPES] >> 8)?;
        let (kf, vf) = ((d[w::DTYPES] >> 8) & 0x80 != 0, (d[w::DTYPES] >> 16) & 0x80 != 0);
        if vt != kt || kf != vf {
            return Err(Status::BadShape);
        }
        let v = elems(d, d[w::V] as usize, vt, vf, v_len, w::V_SCALES, [s.batch, s.heads_kv, s.len_k], &mut ranges)?;
        let ol = strides(d, w::OUT_STRIDES);
        non_overlapping(&[s.batch, s.heads_q, s.len_q, s.value_dim], &[ol.batch, ol.head, ol.row, 1])?;
        let out_len = ext(&[s.batch, s.heads_q, s.len_q], ol, s.value_dim)?;
        let out_ptr = d[w::OUT] as usize;
        memory::disjoint_bytes((out_ptr, out_len * 4), &ranges)?;
        let lse_len = s.heads_q * s.len_q;
        let lse_ptr = d[w::LSE] as usize;
        let lse = if lse_ptr == 0 {
            None
        } else {
            memory::disjoint_bytes((lse_ptr, lse_len * 4), &ranges)?;
            memory::disjoint_bytes((lse_ptr, lse_len * 4), &[(out_ptr, out_len * 4)])?;
            Some(memory::floats_mut(lse_ptr, lse_len)?)
        };
        let out = memory::floats_mut(out_ptr, out_len)?;
        status::kernel(|| {
            kernels::attention::attention_varlen_elems(c.q, c.ql, c.k, c.kl, v, vl, out, ol, lse, s, offs, &c.opts)
        })
    })
}

/// Attention weights of query rows `[row_start, row_start + row_count)` into a
/// contiguous `[batch, heads_q, row_count, len_k]` block at the descriptor's OUT;
/// normalised with the LSE input when given (see `kernels::attention::attention_probs`).
#[wasm_bindgen]
pub fn wa_attention_probs(desc: usize) -> i32 {
    run(|| {
        let mut ranges = Vec::with_capacity(8);
        let c = read(desc, &mut ranges)?;
        let d = c.d;
        let s = c.shape;
        let (row_start, row_count) = (d[w::ROWS] as usize, d[w::ROWS + 1] as usize);
        if row_start.checked_add(row_count).map_or(true, |e| e > s.len_q) {
            return Err(Status::BadShape);
        }
        let lse_len = s.batch * s.heads_q * s.len_q;
        let lse = if d[w::LSE] == 0 {
            None
        } else {
            ranges.push((d[w::LSE] as usize, lse_len * 4));
            Some(memory::floats(d[w::LSE] as usize, lse_len)?)
        };
        let out_len = [s.batch, s.heads_q, row_count, s.len_k]
            .iter()
            .try_fold(1usize, |a, &x| a.checked_mul(x))
            .ok_or(Status::BadShape)?;
        let out_ptr = d[w::OUT] as usize;
        memory::disjoint_bytes((out_ptr, out_len.checked_mul(4).ok_or(Status::BadShape)?), &ranges)?;
        let out = memory::floats_mut(out_ptr, out_len)?;
        // The weights kernel reads float32 q and k (the tiled score code).
        let (q, k) = match (c.q, c.k) {
            (Elems::F32(q), Elems::F32(k)) => (q, k),
            _ => return Err(Status::BadShape),
        };
        status::kernel(|| {
            kernels::attention::attention_probs(q, c.ql, k, c.kl, lse, s, &c.opts, row_start, row_count, out)
        })
    })
}
