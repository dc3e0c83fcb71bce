//! Score tiles shared by the forward kernel and `attention_probs`.
//!
//! Scores are produced transposed, keys × queries (`Sᵀ`): a 4×8 microkernel tile
//! then holds 4 keys of 8 queries, so the online softmax later reduces over keys
//! with plain vertical SIMD operations (no horizontal reductions), and the
//! probabilities are already laid out as the column-major A operand of `P·V`.
//! All scores are in log2 units, `t = s·log2 e`, ready for `exp2`.

use super::{sat, Layout, Options, Shape, BLOCK_Q, S_STRIDE};
use crate::gemm::blocking::{MR, NR};
use crate::gemm::{microkernel, round_up};

pub(super) const LOG2E: f32 = core::f32::consts::LOG2_E;

/// Asserts that `data` holds every row `[b, h, i, 0..cols]` a kernel will read or write.
pub(super) fn check_tensor(what: &str, len: usize, l: Layout, batch: usize, heads: usize, rows: usize, cols: usize) {
    if batch == 0 || heads == 0 || rows == 0 || cols == 0 {
        return;
    }
    let last = l.offset(batch - 1, heads - 1, rows - 1) + cols;
    assert!(len >= last, "attention: {} too short ({} < {})", what, len, last);
}

/// The preconditions shared by both kernels: shape, q and k extents, per-head options.
pub(super) fn check_common(q: &[f32], ql: Layout, k: &[f32], kl: Layout, shape: &Shape, opts: &Options) {
    check_common_lens(q.len(), ql, k.len(), kl, shape, opts)
}

/// [`check_common`] on element counts (for operands of any storage dtype).
pub(super) fn check_common_lens(q_len: usize, ql: Layout, k_len: usize, kl: Layout, shape: &Shape, opts: &Options) {
    assert!(
        shape.heads_kv > 0 && shape.heads_q % shape.heads_kv == 0,
        "attention: heads_q must be a multiple of heads_kv"
    );
    check_tensor("q", q_len, ql, shape.batch, shape.heads_q, shape.len_q, shape.head_dim);
    check_tensor("k", k_len, kl, shape.batch, shape.heads_kv, shape.len_k, shape.head_dim);
    if let Some(s) = opts.alibi_slopes {
        assert!(s.len() >= shape.heads_q, "attention: one ALiBi slope per query head");
    }
    if let Some(s) = opts.sinks {
        assert!(s.len() >= shape.heads_q, "attention: one sink per query head");
    }
    if let Some(m) = &opts.mask {
        if shape.batch > 0 && shape.heads_q > 0 && shape.len_q > 0 && shape.len_k > 0 {
            let st = m.strides;
            let last = (shape.batch - 1) * st[0]
                + (shape.heads_q - 1) * st[1]
                + (shape.len_q - 1) * st[2]
                + (shape.len_k - 1) * st[3];
            assert!(m.data.len() > last, "attention: mask too short");
        }
    }
}

/// No softcap, ALiBi or mask: scores are `q·k · scale · log2 e` (scale folded into
/// the microkernel's α), and only causal/window diagonal tiles need per-element work.
#[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN softcap means "off", as in modified_score
pub(super) fn is_fast(opts: &Options) -> bool {
    !(opts.softcap > 0.0) && opts.alibi_slopes.is_none() && opts.mask.is_none()
}

/// Inclusive key interval `[lo, hi]` that query row `i` may attend to under
/// causal/window masking (the same decisions as `modified_score`).
#[inline]
pub(super) fn allowed(shape: &Shape, opts: &Options, i: usize) -> (isize, isize) {
    let p = opts.position(shape, i);
    let mut lo = isize::MIN;
    let mut hi = isize::MAX;
    if opts.causal {
        hi = p;
    }
    if let Some((left, right)) = opts.window {
        lo = p.saturating_sub(sat(left));
        hi = hi.min(p.saturating_add(sat(right)));
    }
    (lo, hi)
}

/// Keys a tile of query rows `[i0, i1)` can see: `[start, end)` (empty when
/// `start ≥ end`), and `[full_lo, full_hi)` which every row of the tile sees, so
/// key blocks inside it need no per-element masking. Both bounds of `allowed`
/// grow with `i`, which makes the tile's first and last rows the extremes.
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyRange {
    pub start: usize,
    pub end: usize,
    full_lo: usize,
    full_hi: usize,
}

impl KeyRange {
    pub fn new(shape: &Shape, opts: &Options, i0: usize, i1: usize) -> KeyRange {
        let lk = shape.len_k as isize;
        let clamp = |x: isize| x.max(0).min(lk) as usize;
        let (lo_first, hi_first) = allowed(shape, opts, i0);
        let (lo_last, hi_last) = allowed(shape, opts, i1 - 1);
        KeyRange {
            start: clamp(lo_first),
            end: clamp(hi_last.saturating_add(1)),
            full_lo: clamp(lo_last),
            full_hi: clamp(hi_first.saturating_add(1)),
        }
    }

    /// Whether keys `[j0, j0 + bc)` include any that some row of the tile may not see.
    #[inline]
    pub fn needs_mask(&self, j0: usize, bc: usize) -> bool {
        j0 < self.full_lo || j0 + bc > self.full_hi
    }
}

/// The query rows of one tile: row `t < n` is query row `i[t]` of query head `h[t]`.
/// A tile normally holds consecutive rows of one head; with short queries (decoding)
/// it holds the rows of every query head of a GQA group, so that the group's heads
/// share one pass over the keys instead of each padding a tile of its own.
pub(super) struct TileRows {
    pub n: usize,
    pub h: [usize; BLOCK_Q],
    pub i: [usize; BLOCK_Q],
    /// Smallest and largest `i` (causal/window bounds are monotonic in `i`).
    pub i_min: usize,
    pub i_max: usize,
}

impl TileRows {
    /// Rows `at(0..n)`.
    pub fn new(n: usize, at: impl Fn(usize) -> (usize, usize)) -> TileRows {
        assert!(n > 0 && n <= BLOCK_Q);
        let mut t = TileRows { n, h: [0; BLOCK_Q], i: [0; BLOCK_Q], i_min: usize::MAX, i_max: 0 };
        for r in 0..n {
            let (h, i) = at(r);
            t.h[r] = h;
            t.i[r] = i;
            t.i_min = t.i_min.min(i);
            t.i_max = t.i_max.max(i);
        }
        t
    }

    /// The keys this tile's rows can see (see [`KeyRange`]).
    pub fn key_range(&self, shape: &Shape, opts: &Options) -> KeyRange {
        KeyRange::new(shape, opts, self.i_min, self.i_max + 1)
    }
}

/// Packs all keys of one (batch, kv head) into slivers of MR keys, depth-major:
/// key `j`, component `p` goes to `out[(j/MR)·MR·d + p·MR + j%MR]`; the last sliver
/// is zero padded. This is the A operand of `Sᵀ = K·Qᵀ`.
pub(super) fn pack_keys(k: &[f32], kl: Layout, b: usize, hk: usize, lk: usize, d: usize, out: &mut [f32]) {
    let slivers = (lk + MR - 1) / MR;
    assert!(out.len() >= slivers * MR * d);
    for s in 0..slivers {
        let dst = &mut out[s * MR * d..(s + 1) * MR * d];
        for r in 0..MR {
            let j = s * MR + r;
            if j < lk {
                let o = kl.offset(b, hk, j);
                for (p, &x) in k[o..o + d].iter().enumerate() {
                    dst[p * MR + r] = x;
                }
            } else {
                for p in 0..d {
                    dst[p * MR + r] = 0.0;
                }
            }
        }
    }
}

/// Packs the tile's query rows (batch `b`) into panels of NR queries, depth-major
/// (`out[(c/NR)·NR·d + p·NR + c%NR]`), zero padded to a multiple of NR rows: the
/// B operand of `Sᵀ = K·Qᵀ`.
pub(super) fn pack_queries(q: &[f32], ql: Layout, b: usize, tile: &TileRows, d: usize, out: &mut [f32]) {
    let rows = tile.n;
    let panels = (rows + NR - 1) / NR;
    assert!(out.len() >= panels * NR * d);
    for t in 0..panels {
        let dst = &mut out[t * NR * d..(t + 1) * NR * d];
        for c in 0..NR {
            let ii = t * NR + c;
            if ii < rows {
                let o = ql.offset(b, tile.h[ii], tile.i[ii]);
                for (p, &x) in q[o..o + d].iter().enumerate() {
                    dst[p * NR + c] = x;
                }
            } else {
                for p in 0..d {
                    dst[p * NR + c] = 0.0;
                }
            }
        }
    }
}

/// What the score function needs to know about the current (batch, kv head).
pub(super) struct HeadScores<'a> {
    pub shape: &'a Shape,
    pub opts: &'a Options<'a>,
    pub b: usize,
    pub fast: bool,
    /// Keys of the head's kv head, packed by [`pack_keys`].
    pub kpack: &'a [f32],
}

impl<'a> HeadScores<'a> {
    /// Writes `t = score(row ii of the tile, key j0 + jj) · log2 e` to `s[jj·S_STRIDE + ii]`
    /// for `jj < bc`, `ii < tile.n` (`qpack` holds the tile packed by [`pack_queries`]).
    /// Columns `br..round_up(br, NR)` receive finite filler; rows up to
    /// `round_up(bc, MR)` are written. `j0` must be a multiple of MR.
    #[allow(clippy::too_many_arguments)]
    pub fn block(&self, qpack: &[f32], tile: &TileRows, j0: usize, bc: usize, needs_mask: bool, s: &mut [f32]) {
        let br = tile.n;
        let d = self.shape.head_dim;
        let bq_pad = round_up(br, NR);
        let bc_pad = round_up(bc, MR);
        assert!(j0 % MR == 0 && br <= BLOCK_Q && s.len() >= bc_pad * S_STRIDE);
        assert!(qpack.len() >= bq_pad * d && self.kpack.len() >= (j0 + bc_pad) * d);
        let alpha = if self.fast { self.opts.scale * LOG2E } else { self.opts.scale };
        let panels = bq_pad / NR;
        // On a diagonal block, each query panel only needs the key slivers its rows
        // can see: the visible interval of a panel is the hull of its rows' intervals.
        let mut vis = [(isize::MIN, isize::MAX); BLOCK_Q / NR];
        if needs_mask {
            for (t, v) in vis.iter_mut().enumerate().take(panels) {
                let mut hull = (isize::MAX, isize::MIN);
                for ii in t * NR..(t * NR + NR).min(br) {
                    let (lo, hi) = allowed(self.shape, self.opts, tile.i[ii]);
                    hull = (hull.0.min(lo), hull.1.max(hi));
                }
                *v = hull;
            }
        }
        for js in (0..bc_pad).step_by(MR) {
            // Panels [ta, tb) may see keys j0+js..j0+js+MR; the others are blocked.
            let (klo, khi) = ((j0 + js) as isize, (j0 + js + MR - 1) as isize);
            let sees = |t: usize| vis[t].1 >= klo && vis[t].0 <= khi;
            let ta = (0..panels).find(|&t| sees(t)).unwrap_or(panels);
            let tb = (ta..panels).rev().find(|&t| sees(t)).map_or(ta, |t| t + 1);
            for r in js..js + MR {
                let row = &mut s[r * S_STRIDE..r * S_STRIDE + bq_pad];
                row[..ta * NR].iter_mut().for_each(|x| *x = f32::NEG_INFINITY);
                row[tb * NR..].iter_mut().for_each(|x| *x = f32::NEG_INFINITY);
            }
            if ta == tb {
                continue;
            }
            let a = self.kpack[(j0 + js) * d..].as_ptr();
            // SAFETY: the key sliver holds MR·d values and query panels ta..tb hold NR·d
            // each (asserted above); tile t writes rows js..js+MR < bc_pad and columns
            // t·NR..t·NR+NR ≤ BLOCK_Q of s.
            unsafe {
                microkernel(
                    tb - ta,
                    d,
                    a,
                    0,
                    MR,
                    qpack[ta * NR * d..].as_ptr(),
                    NR * d,
                    NR,
                    s[js * S_STRIDE + ta * NR..].as_mut_ptr(),
                    NR,
                    S_STRIDE,
                    alpha,
                    0.0,
                )
            };
        }
        if !self.fast {
            self.modify(tile, j0, bc, needs_mask, s);
            return;
        }
        if needs_mask {
            // Causal/window diagonal block: per query column, blank the keys before its
            // window and after its last visible key (two contiguous runs of rows).
            for ii in 0..br {
                let (lo, hi) = allowed(self.shape, self.opts, tile.i[ii]);
                let first = lo.saturating_sub(j0 as isize).max(0).min(bc as isize) as usize;
                let end =
                    hi.saturating_add(1).saturating_sub(j0 as isize).max(first as isize).min(bc as isize) as usize;
                for jj in (0..first).chain(end..bc) {
                    s[jj * S_STRIDE + ii] = f32::NEG_INFINITY;
                }
            }
        }
    }

    /// The general score function on a block holding `scale·q·k`: the same operations,
    /// in the same order, as [`modified_score`] (softcap, ALiBi, mask, then blocking),
    /// applied one key row at a time so each modifier is a simple loop; then `· log2 e`.
    #[allow(clippy::too_many_arguments)]
    fn modify(&self, tile: &TileRows, j0: usize, bc: usize, needs_mask: bool, s: &mut [f32]) {
        let br = tile.n;
        let (opts, shape) = (self.opts, self.shape);
        let offset = opts.position(shape, 0);
        for jj in 0..bc {
            let j = j0 + jj;
            let row = &mut s[jj * S_STRIDE..jj * S_STRIDE + br];
            if opts.softcap > 0.0 {
                let cap = opts.softcap;
                row.iter_mut().for_each(|x| *x = cap * (*x / cap).tanh());
            }
            if let Some(sl) = opts.alibi_slopes {
                for (ii, x) in row.iter_mut().enumerate() {
                    let slope = sl[tile.h[ii]];
                    let p = tile.i[ii] as isize + offset;
                    *x -= slope * (p - j as isize).unsigned_abs() as f32;
                }
            }
            if let Some(m) = &opts.mask {
                let base = self.b * m.strides[0] + j * m.strides[3];
                for (ii, x) in row.iter_mut().enumerate() {
                    *x += m.data[base + tile.h[ii] * m.strides[1] + tile.i[ii] * m.strides[2]];
                }
            }
            if needs_mask {
                for (ii, x) in row.iter_mut().enumerate() {
                    let (lo, hi) = allowed(shape, opts, tile.i[ii]);
                    if (j as isize) < lo || (j as isize) > hi {
                        *x = f32::NEG_INFINITY;
                    }
                }
            }
            row.iter_mut().for_each(|x| *x *= LOG2E);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block skipping and mask elision agree with the element-wise rule.
    #[test]
    fn key_range_is_consistent_with_allowed() {
        let windows = [None, Some((0, 0)), Some((5, 2)), Some((40, 0)), Some((0, usize::MAX)), Some((usize::MAX, 3))];
        for &(lq, lk) in &[(1usize, 1usize), (17, 17), (100, 37), (37, 100), (130, 130)] {
            for &causal in &[false, true] {
                for (&window, &offset) in
                    windows.iter().flat_map(|w| [None, Some(0), Some(-9), Some(50)].iter().map(move |o| (w, o)))
                {
                    let shape =
                        Shape { batch: 1, heads_q: 1, heads_kv: 1, len_q: lq, len_k: lk, head_dim: 1, value_dim: 1 };
                    let mut opts = Options::new(1.0);
                    opts.causal = causal;
                    opts.window = window;
                    opts.causal_offset = offset;
                    for i0 in (0..lq).step_by(16) {
                        let i1 = (i0 + 16).min(lq);
                        let kr = KeyRange::new(&shape, &opts, i0, i1);
                        for j0 in (0..lk).step_by(8) {
                            let bc = 8.min(lk - j0);
                            let elide = !kr.needs_mask(j0, bc);
                            for i in i0..i1 {
                                let (lo, hi) = allowed(&shape, &opts, i);
                                for j in j0..j0 + bc {
                                    let ok = (j as isize) >= lo && (j as isize) <= hi;
                                    let ctx = (lq, lk, causal, window, offset, i, j);
                                    assert!(!elide || ok, "mask elided for a blocked key {:?}", ctx);
                                    assert!(!ok || (j >= kr.start && j < kr.end), "visible key skipped {:?}", ctx);
                                    let s = crate::attention::modified_score(&opts, &shape, 0, 0, i, j, 0.0);
                                    assert_eq!(ok, s != f32::NEG_INFINITY, "disagrees with modified_score {:?}", ctx);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
