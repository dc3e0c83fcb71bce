//! Scaled dot-product attention (placeholder scalar version, materialises one score row).

use crate::Mask;

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

/// How scores are formed. For query row `i`, `p = i + len_k − len_q` is its
/// bottom-right aligned position; the score of key `j` is
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
}

impl<'a> Options<'a> {
    pub fn new(scale: f32) -> Self {
        Options { scale, causal: false, window: None, softcap: 0.0, alibi_slopes: None, sinks: None, mask: None }
    }
}

/// The score of (query `i`, key `j`) in head `h` of batch `b`, given `dot = q·k`.
#[inline]
pub fn modified_score(opts: &Options, shape: &Shape, b: usize, h: usize, i: usize, j: usize, dot: f32) -> f32 {
    let p = i as isize + shape.len_k as isize - shape.len_q as isize;
    let jj = j as isize;
    if opts.causal && jj > p {
        return f32::NEG_INFINITY;
    }
    if let Some((left, right)) = opts.window {
        if jj < p - left as isize || jj > p + right as isize {
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

/// `out[b,h,i,:] = Σ_j softmax_j(s_ij) · v[b,h/g,j,:]`; `lse[b,h,i] = log Σ_j exp(s_ij)`
/// (contiguous `[batch, heads_q, len_q]`). Fully blocked rows give 0 and `lse = -inf`.
#[allow(clippy::too_many_arguments)]
pub fn attention_forward(
    q: &[f32], ql: Layout, k: &[f32], kl: Layout, v: &[f32], vl: Layout,
    out: &mut [f32], ol: Layout, mut lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    assert!(shape.heads_kv > 0 && shape.heads_q % shape.heads_kv == 0);
    let group = shape.heads_q / shape.heads_kv;
    let mut s = vec![0f32; shape.len_k];
    for b in 0..shape.batch {
        for h in 0..shape.heads_q {
            let hk = h / group;
            for i in 0..shape.len_q {
                let qo = ql.offset(b, h, i);
                let qi = &q[qo..qo + shape.head_dim];
                let mut mx = f32::NEG_INFINITY;
                for (j, sj) in s.iter_mut().enumerate() {
                    let ko = kl.offset(b, hk, j);
                    let dot: f32 = qi.iter().zip(&k[ko..ko + shape.head_dim]).map(|(a, b)| a * b).sum();
                    *sj = modified_score(opts, &shape, b, h, i, j, dot);
                    mx = mx.max(*sj);
                }
                if let Some(sk) = opts.sinks {
                    mx = mx.max(sk[h]);
                }
                let oo = ol.offset(b, h, i);
                let orow = &mut out[oo..oo + shape.value_dim];
                orow.iter_mut().for_each(|x| *x = 0.0);
                let mut sum = 0.0f32;
                if mx != f32::NEG_INFINITY {
                    for (j, &sj) in s.iter().enumerate() {
                        let p = (sj - mx).exp();
                        sum += p;
                        let vo = vl.offset(b, hk, j);
                        for (o, &vv) in orow.iter_mut().zip(&v[vo..vo + shape.value_dim]) {
                            *o += p * vv;
                        }
                    }
                    if let Some(sk) = opts.sinks {
                        sum += (sk[h] - mx).exp();
                    }
                    let inv = 1.0 / sum;
                    orow.iter_mut().for_each(|x| *x *= inv);
                }
                if let Some(l) = lse.as_deref_mut() {
                    l[(b * shape.heads_q + h) * shape.len_q + i] =
                        if mx == f32::NEG_INFINITY { f32::NEG_INFINITY } else { mx + sum.ln() };
                }
            }
        }
    }
}
