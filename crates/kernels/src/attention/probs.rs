//! Exact attention weights for a range of query rows (for visualisation/export).
//!
//! Scores come from the same tile code as the forward kernel, so each weight is
//! bit-for-bit `2^(t_ij − lse_i·log2 e)` of the score the forward kernel used.
//! Without `lse`, each row is normalised directly (max, sum, one reciprocal).

use super::scores::{check_common, is_fast, pack_keys, pack_queries, HeadScores, TileRows, LOG2E};
use super::{Layout, Options, Shape, BLOCK_K, BLOCK_Q, S_STRIDE};
use crate::gemm::blocking::MR;
use crate::gemm::round_up;
use crate::rowops;

/// Attention weights `softmax_j(s_ij)` for query rows `row_start..row_start+row_count`
/// of every (batch, query head), written contiguous as `[batch, heads_q, row_count, len_k]`.
/// With `lse` (the `[batch, heads_q, len_q]` output of [`attention_forward`](super::attention_forward))
/// the weights are `exp(s_ij − lse_i)`; otherwise each row is normalised here (sinks
/// join the denominator as in the forward kernel). Fully blocked rows are zeros.
#[allow(clippy::too_many_arguments)]
pub fn attention_probs(
    q: &[f32], ql: Layout, k: &[f32], kl: Layout, lse: Option<&[f32]>, shape: Shape, opts: &Options, row_start: usize,
    row_count: usize, out: &mut [f32],
) {
    check_common(q, ql, k, kl, &shape, opts);
    assert!(row_start + row_count <= shape.len_q, "attention_probs: rows out of range");
    let lk = shape.len_k;
    let total_out = shape.batch * shape.heads_q * row_count * lk;
    assert!(out.len() >= total_out, "attention_probs: out too short");
    if let Some(l) = lse {
        assert!(l.len() >= shape.batch * shape.heads_q * shape.len_q, "attention_probs: lse too short");
    }
    if total_out == 0 {
        return;
    }
    let d = shape.head_dim;
    let sizes = [round_up(lk, MR) * d, BLOCK_Q * d, BLOCK_K * S_STRIDE];
    let group = shape.heads_q / shape.heads_kv;
    let fast = is_fast(opts);
    crate::scratch::with_scratch(sizes.iter().sum(), |buf| {
        let (kpack, rest) = buf.split_at_mut(sizes[0]);
        let (qpack, s) = rest.split_at_mut(sizes[1]);
        for b in 0..shape.batch {
            for hk in 0..shape.heads_kv {
                pack_keys(k, kl, b, hk, lk, d, kpack);
                let head = HeadScores { shape: &shape, opts, b, fast, kpack: &*kpack };
                for h in hk * group..(hk + 1) * group {
                    let base = (b * shape.heads_q + h) * row_count;
                    let rows = &mut out[base * lk..(base + row_count) * lk];
                    rows.iter_mut().for_each(|x| *x = f32::NEG_INFINITY);
                    // Scores t_ij (log2 units) into the output rows.
                    for i0 in (row_start..row_start + row_count).step_by(BLOCK_Q) {
                        let br = BLOCK_Q.min(row_start + row_count - i0);
                        let tile = TileRows::new(br, |t| (h, i0 + t));
                        pack_queries(q, ql, b, &tile, d, qpack);
                        let kr = tile.key_range(&shape, opts);
                        let mut j0 = kr.start / BLOCK_K * BLOCK_K;
                        while j0 < kr.end {
                            let bc = BLOCK_K.min(lk - j0);
                            head.block(qpack, &tile, j0, bc, kr.needs_mask(j0, bc), s);
                            for ii in 0..br {
                                let r = (i0 - row_start + ii) * lk;
                                for (jj, x) in rows[r + j0..r + j0 + bc].iter_mut().enumerate() {
                                    *x = s[jj * S_STRIDE + ii];
                                }
                            }
                            j0 += BLOCK_K;
                        }
                    }
                    // Normalise each row.
                    let sink = opts.sinks.map(|sk| sk[h] * LOG2E);
                    for (ii, row) in rows.chunks_exact_mut(lk).enumerate() {
                        normalise(row, lse.map(|l| l[(b * shape.heads_q + h) * shape.len_q + row_start + ii]), sink);
                    }
                }
            }
        }
    });
}

/// Turns a row of log2-unit scores into weights.
fn normalise(row: &mut [f32], lse: Option<f32>, sink: Option<f32>) {
    match lse {
        Some(lse) => {
            if lse == f32::NEG_INFINITY {
                row.iter_mut().for_each(|x| *x = 0.0);
            } else {
                rowops::exp2_sub_sum(row, lse * LOG2E);
            }
        }
        None => {
            let mut mx = rowops::max(row);
            if let Some(t) = sink {
                mx = rowops::max_nan(mx, t);
            }
            if mx == f32::NEG_INFINITY {
                row.iter_mut().for_each(|x| *x = 0.0);
                return;
            }
            let mut sum = rowops::exp2_sub_sum(row, mx);
            if let Some(t) = sink {
                sum += crate::exp::exp2_nonpos(t - mx);
            }
            rowops::scale(row, 1.0 / sum);
        }
    }
}
