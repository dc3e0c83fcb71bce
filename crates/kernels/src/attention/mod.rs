//! Scaled dot-product attention: types, the score function, and the fused kernels.
//!
//! [`attention_forward`] dispatches on the number of query rows per kv head:
//! * prefill goes to the FlashAttention-2 style tiled kernel ([`attention_tiled`],
//!   `flash.rs`): per (batch, query head) it walks tiles of query rows and blocks of
//!   keys, keeps a running maximum and sum per row (online softmax) and never
//!   materialises the `len_q × len_k` score matrix;
//! * decoding (at most [`DECODE_ROWS`] rows per kv head) goes to [`attention_decode`]
//!   (`decode.rs`), which reads K and V in place, chunk by chunk (flash-decoding).
//!
//! Both take the same [`Options`]. Operands may be stored as f32, f16, bf16 (and K/V
//! as int8 with row scales, see [`Stored`]): the decode kernel widens elements in
//! registers; the tiled kernel widens them once per call into its f32 scratch.
//! [`attention_probs`] (`probs.rs`) recomputes the exact weights for a range of rows
//! with the tiled kernel's score code (`scores.rs`). [`attention_varlen_elems`]
//! (`varlen.rs`) runs a packed batch of variable-length sequences, each attending to itself.

use crate::dtype::{Elem, F16Finite, BF16, F16};
use crate::Mask;

mod decode;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod decode_float_simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod decode_i8_simd128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod decode_scalar;
mod flash;
mod online;
mod probs;
mod scores;
mod varlen;

pub use decode::{attention_decode, RowScales, Stored, CHUNK, DECODE_ROWS};
pub use flash::attention_tiled;
pub use probs::attention_probs;
pub use varlen::{attention_varlen_elems, valid_offsets};

/// An operand's elements in one of the storage dtypes (int8 with per-row scales).
#[derive(Clone, Copy, Debug)]
pub enum Elems<'a> {
    F32(&'a [f32]),
    F16(&'a [F16]),
    /// Float16 known to hold no inf/NaN (faster widening, same values).
    F16Finite(&'a [F16Finite]),
    BF16(&'a [BF16]),
    I8(&'a [i8], RowScales<'a>),
}

impl<'a> Elems<'a> {
    pub fn len(&self) -> usize {
        match self {
            Elems::F32(x) => x.len(),
            Elems::F16(x) => x.len(),
            Elems::F16Finite(x) => x.len(),
            Elems::BF16(x) => x.len(),
            Elems::I8(x, _) => x.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Widens the `dst.len()` elements at `at` (of row `j` of `(b, h)` for int8 scales).
    fn widen(&self, at: usize, b: usize, h: usize, j: usize, dst: &mut [f32]) {
        fn cvt<T: Elem>(src: &[T], dst: &mut [f32]) {
            for (d, &x) in dst.iter_mut().zip(src) {
                *d = x.to_f32();
            }
        }
        let n = dst.len();
        match self {
            Elems::F32(x) => dst.copy_from_slice(&x[at..at + n]),
            Elems::F16(x) => cvt(&x[at..at + n], dst),
            Elems::F16Finite(x) => cvt(&x[at..at + n], dst),
            Elems::BF16(x) => cvt(&x[at..at + n], dst),
            Elems::I8(x, sc) => {
                let s = sc.data[sc.layout.offset(b, h, j)];
                for (d, &c) in dst.iter_mut().zip(&x[at..at + n]) {
                    *d = c as f32 * s;
                }
            }
        }
    }
}

/// `out[b,h,i,:] = Σ_j softmax_j(s_ij) · v[b,h/g,j,:]`; `lse[b,h,i] = log Σ_j exp(s_ij)`
/// (contiguous `[batch, heads_q, len_q]`). Fully blocked rows give 0 and `lse = -inf`.
/// f32 operands; see [`attention_forward_elems`] for other storage dtypes.
#[allow(clippy::too_many_arguments)]
pub fn attention_forward(
    q: &[f32], ql: Layout, k: &[f32], kl: Layout, v: &[f32], vl: Layout, out: &mut [f32], ol: Layout,
    lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    attention_forward_elems(Elems::F32(q), ql, Elems::F32(k), kl, Elems::F32(v), vl, out, ol, lse, shape, opts)
}

/// [`attention_forward`] on operands of any storage dtype (`k` and `v` of the same one;
/// `q` not int8). Short queries run the decode kernel, longer ones the tiled kernel.
#[allow(clippy::too_many_arguments)]
pub fn attention_forward_elems(
    q: Elems, ql: Layout, k: Elems, kl: Layout, v: Elems, vl: Layout, out: &mut [f32], ol: Layout,
    lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    scores::check_common_lens(q.len(), ql, k.len(), kl, &shape, opts);
    scores::check_tensor("v", v.len(), vl, shape.batch, shape.heads_kv, shape.len_k, shape.value_dim);
    scores::check_tensor("out", out.len(), ol, shape.batch, shape.heads_q, shape.len_q, shape.value_dim);
    if let Some(l) = lse.as_deref() {
        assert!(l.len() >= shape.batch * shape.heads_q * shape.len_q, "attention: lse too short");
    }
    assert!(!matches!(q, Elems::I8(..)), "attention: int8 queries are not supported");
    if shape.batch == 0 || shape.heads_q == 0 || shape.len_q == 0 {
        return;
    }
    if decode::takes(&shape) {
        let load_q = |b: usize, h: usize, i: usize, dst: &mut [f32]| q.widen(ql.offset(b, h, i), b, h, i, dst);
        match (k, v) {
            (Elems::F32(k), Elems::F32(v)) => attention_decode(
                &load_q,
                Stored { data: k, layout: kl, scales: None },
                Stored { data: v, layout: vl, scales: None },
                out,
                ol,
                lse,
                shape,
                opts,
            ),
            (Elems::F16(k), Elems::F16(v)) => attention_decode(
                &load_q,
                Stored { data: k, layout: kl, scales: None },
                Stored { data: v, layout: vl, scales: None },
                out,
                ol,
                lse,
                shape,
                opts,
            ),
            (Elems::F16Finite(k), Elems::F16Finite(v)) => attention_decode(
                &load_q,
                Stored { data: k, layout: kl, scales: None },
                Stored { data: v, layout: vl, scales: None },
                out,
                ol,
                lse,
                shape,
                opts,
            ),
            (Elems::BF16(k), Elems::BF16(v)) => attention_decode(
                &load_q,
                Stored { data: k, layout: kl, scales: None },
                Stored { data: v, layout: vl, scales: None },
                out,
                ol,
                lse,
                shape,
                opts,
            ),
            (Elems::I8(k, ksc), Elems::I8(v, vsc)) => attention_decode(
                &load_q,
                Stored { data: k, layout: kl, scales: Some(ksc) },
                Stored { data: v, layout: vl, scales: Some(vsc) },
                out,
                ol,
                lse,
                shape,
                opts,
            ),
            _ => panic!("attention: k and v must have the same dtype"),
        }
        return;
    }
    if let (Elems::F32(q), Elems::F32(k), Elems::F32(v)) = (q, k, v) {
        attention_tiled(q, ql, k, kl, v, vl, out, ol, lse, shape, opts);
        return;
    }
    // Other dtypes, long queries: widen each operand once into contiguous f32 (O(N·D),
    // small next to the O(N²·D) work), then the tiled kernel.
    let widen = |e: &Elems, l: Layout, heads: usize, rows: usize, cols: usize| -> Option<(Vec<f32>, Layout)> {
        let mut buf = crate::scratch::try_vec(shape.batch * heads * rows * cols)?;
        let cl = Layout::contiguous(heads, rows, cols);
        for b in 0..shape.batch {
            for h in 0..heads {
                for j in 0..rows {
                    let o = cl.offset(b, h, j);
                    e.widen(l.offset(b, h, j), b, h, j, &mut buf[o..o + cols]);
                }
            }
        }
        Some((buf, cl))
    };
    let (hq, hk) = (shape.heads_q, shape.heads_kv);
    let qw = widen(&q, ql, hq, shape.len_q, shape.head_dim);
    let kw = qw.as_ref().and_then(|_| widen(&k, kl, hk, shape.len_k, shape.head_dim));
    let vw = kw.as_ref().and_then(|_| widen(&v, vl, hk, shape.len_k, shape.value_dim));
    if let (Some((q, ql)), Some((k, kl)), Some((v, vl))) = (qw, kw, vw) {
        attention_tiled(&q, ql, &k, kl, &v, vl, out, ol, lse, shape, opts);
    }
}

/// Query rows per tile (a multiple of the microkernel's 8 columns). 32–128 × 32–128
/// all measured within ~5% of each other for H=8, D=64, N=1024; 64×64 keeps the
/// per-tile buffers (queries, scores, output: 16 KiB each at D=64) near L1.
/// Measured again at D=128 too (CPU time, variants interleaved in one process, H=8,
/// N=1024 and 2048): BLOCK_Q=32 ran at 0.93–1.03×, BLOCK_Q=128 at 0.93–1.07× and
/// BLOCK_K=128 at 0.95–1.03× the speed of 64×64, with no consistent winner at either
/// head size.
pub const BLOCK_Q: usize = 64;
/// Keys per block (a multiple of the microkernel's 4 rows). See [`BLOCK_Q`].
pub const BLOCK_K: usize = 64;
/// Row stride of the transposed score block (keys × queries). Padded past BLOCK_Q as a
/// precaution so rows 16 apart are not exactly 4 KiB apart (store/load address
/// aliasing); no difference was measurable either way on the development machine.
pub(crate) const S_STRIDE: usize = BLOCK_Q + 4;

/// Element strides of a 4-D tensor `[batch, head, row, col]` whose last axis is contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub batch: usize,
    pub head: usize,
    pub row: usize,
}

impl Layout {
    /// Layout of a contiguous `[_, heads, rows, cols]` tensor.
    pub fn contiguous(heads: usize, rows: usize, cols: usize) -> Layout {
        Layout { batch: heads * rows * cols, head: rows * cols, row: cols }
    }
    #[inline]
    pub fn offset(&self, b: usize, h: usize, i: usize) -> usize {
        b * self.batch + h * self.head + i * self.row
    }
}

/// Sizes of one attention call. `heads_q` is a multiple of `heads_kv` (GQA/MQA):
/// query head `h` reads key/value head `h / (heads_q / heads_kv)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub batch: usize,
    pub heads_q: usize,
    pub heads_kv: usize,
    pub len_q: usize,
    pub len_k: usize,
    pub head_dim: usize,
    pub value_dim: usize,
}

/// How scores are formed. Query row `i` sits at key position `p = i + offset`, where
/// `offset` is [`Options::causal_offset`] or, by default, `len_k − len_q` (bottom-right
/// aligned: the last query row is the newest key). The score of key `j` is
/// `s = softcap(scale·q·k) − slope·|p − j| + mask[b,h,i,j]`, and `j` is blocked
/// (score `-inf`) when `causal` and `j > p`, or outside `window` `[p − left, p + right]`.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub scale: f32,
    pub causal: bool,
    /// `(left, right)`: keys more than `left` before or `right` after `p` are blocked.
    pub window: Option<(usize, usize)>,
    /// `> 0`: `s ← softcap·tanh(s / softcap)` (applied before ALiBi and mask).
    pub softcap: f32,
    /// One ALiBi slope per query head.
    pub alibi_slopes: Option<&'a [f32]>,
    /// One sink logit per query head: joins the softmax denominator, contributes no value.
    pub sinks: Option<&'a [f32]>,
    pub mask: Option<Mask<'a>>,
    /// Key position of query row 0 (for causal, window and ALiBi). `None` is
    /// `len_k − len_q` (bottom-right, FlashAttention's convention); `Some(0)` is
    /// top-left (PyTorch's `is_causal`); with past keys in front of the queries' own,
    /// it is the past length (chunked prefill, ONNX Attention with past key/value).
    pub causal_offset: Option<isize>,
    /// The keys and values come from memory, not from cache (a model's step: the other
    /// layers' weights and caches have evicted this layer's): the decode kernel reads
    /// float32 K/V in its streaming order whatever their size (`decode::STREAM_BYTES`).
    pub cold_kv: bool,
}

impl<'a> Options<'a> {
    pub fn new(scale: f32) -> Self {
        Options {
            scale,
            causal: false,
            window: None,
            softcap: 0.0,
            alibi_slopes: None,
            sinks: None,
            mask: None,
            causal_offset: None,
            cold_kv: false,
        }
    }

    /// The key position of query row `i` (see [`Options`]).
    #[inline]
    pub fn position(&self, shape: &Shape, i: usize) -> isize {
        let offset = match self.causal_offset {
            Some(o) => o,
            None => shape.len_k as isize - shape.len_q as isize,
        };
        i as isize + offset
    }
}

/// The score of (query `i`, key `j`) in head `h` of batch `b`, given `dot = q·k`.
#[inline]
pub fn modified_score(opts: &Options, shape: &Shape, b: usize, h: usize, i: usize, j: usize, dot: f32) -> f32 {
    let p = opts.position(shape, i);
    let jj = j as isize;
    if opts.causal && jj > p {
        return f32::NEG_INFINITY;
    }
    if let Some((left, right)) = opts.window {
        if jj < p.saturating_sub(sat(left)) || jj > p.saturating_add(sat(right)) {
            return f32::NEG_INFINITY;
        }
    }
    let mut s = dot * opts.scale;
    if opts.softcap > 0.0 {
        s = opts.softcap * (s / opts.softcap).tanh();
    }
    if let Some(sl) = opts.alibi_slopes {
        s -= sl[h] * (p - jj).unsigned_abs() as f32;
    }
    if let Some(m) = &opts.mask {
        s += m.at(b, h, i, j);
    }
    s
}

/// `usize → isize`, saturating (window sizes may be given as `usize::MAX`).
#[inline]
pub(crate) fn sat(x: usize) -> isize {
    if x > isize::MAX as usize {
        isize::MAX
    } else {
        x as isize
    }
}
