//! Scaled dot-product attention: types, the score function, and the fused kernels.
//!
//! [`attention_forward`] is a FlashAttention-2 style kernel (see `flash.rs`): per
//! (batch, query head) it walks tiles of query rows and blocks of keys, keeps a
//! running maximum and sum per row (online softmax) and never materialises the
//! `len_q × len_k` score matrix. [`attention_probs`] (`probs.rs`) recomputes the
//! exact weights for a range of rows with the same score code (`scores.rs`).

use crate::Mask;

mod flash;
mod online;
mod probs;
mod scores;

pub use flash::attention_forward;
pub use probs::attention_probs;

/// Query rows per tile (a multiple of the microkernel's 8 columns). 32–128 × 32–128
/// all measured within ~5% of each other for H=8, D=64, N=1024; 64×64 keeps the
/// per-tile buffers (queries, scores, output: 16 KiB each at D=64) near L1.
pub const BLOCK_Q: usize = 64;
/// Keys per block (a multiple of the microkernel's 4 rows).
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
}

impl<'a> Options<'a> {
    pub fn new(scale: f32) -> Self {
        Options {
            scale, causal: false, window: None, softcap: 0.0, alibi_slopes: None, sinks: None, mask: None,
            causal_offset: None,
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
