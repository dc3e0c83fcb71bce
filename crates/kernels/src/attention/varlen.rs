//! Packed variable-length batches (FlashAttention's `cu_seqlens`).
//!
//! `B` sequences lie back to back along the row axis of one tensor, `T` rows in all;
//! sequence `s` owns rows `offsets[s] .. offsets[s + 1]`. Each sequence attends only to
//! its own rows, so padding never exists and the work is `Σ_s n_s²` instead of
//! `B · max(n_s)²`. Every sequence runs as a batch of one through
//! [`attention_forward_elems`](super::attention_forward_elems) on sub-slices of the
//! packed operands (no copies): the tiled kernel or, for a short sequence, the decode
//! kernel. Positions (causal, window, ALiBi) restart at 0 in every sequence.

use super::{attention_forward_elems, Elems, Layout, Options, RowScales, Shape};

/// Whether `offsets` is a valid partition of `total` rows: non-empty, starts at 0,
/// never decreases, ends at `total`.
pub fn valid_offsets(offsets: &[u32], total: usize) -> bool {
    !offsets.is_empty()
        && offsets[0] == 0
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets[offsets.len() - 1] as usize == total
}

/// Attention of a packed batch: `q [T, Hq, D]`, `k [T, Hkv, D]`, `v [T, Hkv, Dv]` in any
/// row/head strides (`Layout::row` steps a token, `Layout::head` a head; `Layout::batch`
/// is unused), `out [T, Hq, Dv]` likewise; `lse`, when given, is `[Hq, T]`. `shape` is
/// that of the whole packed tensor: `batch` 1, `len_q = len_k = T`. Row `i` of sequence
/// `s` sees keys `offsets[s] .. offsets[s + 1]` under `opts` with positions counted from
/// the sequence's start. `opts.mask` must be `None` (a dense mask has no packed form).
#[allow(clippy::too_many_arguments)]
pub fn attention_varlen_elems(
    q: Elems, ql: Layout, k: Elems, kl: Layout, v: Elems, vl: Layout, out: &mut [f32], ol: Layout,
    mut lse: Option<&mut [f32]>, shape: Shape, offsets: &[u32], opts: &Options,
) {
    let t = shape.len_q;
    assert!(shape.batch == 1 && shape.len_k == t, "attention_varlen: a packed batch is one [T, H, D] tensor");
    assert!(valid_offsets(offsets, t), "attention_varlen: offsets must rise from 0 to T = {}", t);
    assert!(opts.mask.is_none(), "attention_varlen: masks are not supported");
    if let Some(l) = lse.as_deref() {
        assert!(l.len() >= shape.heads_q * t, "attention_varlen: lse too short");
    }
    let mut seq_lse = Vec::new();
    for w in offsets.windows(2) {
        let (a, n) = (w[0] as usize, (w[1] - w[0]) as usize);
        if n == 0 {
            continue;
        }
        let sub = Shape { batch: 1, len_q: n, len_k: n, ..shape };
        let (qo, ko, vo, oo) = (ql.offset(0, 0, a), kl.offset(0, 0, a), vl.offset(0, 0, a), ol.offset(0, 0, a));
        let l = match lse {
            Some(_) => {
                seq_lse.clear();
                seq_lse.resize(shape.heads_q * n, 0.0);
                Some(&mut seq_lse[..])
            }
            None => None,
        };
        // A fresh `Options` per sequence: its bottom-right default offset (len_k − len_q)
        // is 0 here, as with `causal_offset` left unset.
        attention_forward_elems(
            from(q, qo, a),
            ql,
            from(k, ko, a),
            kl,
            from(v, vo, a),
            vl,
            &mut out[oo..],
            ol,
            l,
            sub,
            opts,
        );
        if let Some(dst) = lse.as_deref_mut() {
            for h in 0..shape.heads_q {
                dst[h * t + a..h * t + a + n].copy_from_slice(&seq_lse[h * n..(h + 1) * n]);
            }
        }
    }
}

/// The operand from element `at` (row `row` of the packed tensor) on; int8 row scales
/// move to the same row.
fn from(e: Elems<'_>, at: usize, row: usize) -> Elems<'_> {
    match e {
        Elems::F32(x) => Elems::F32(&x[at..]),
        Elems::F16(x) => Elems::F16(&x[at..]),
        Elems::F16Finite(x) => Elems::F16Finite(&x[at..]),
        Elems::BF16(x) => Elems::BF16(&x[at..]),
        Elems::I8(x, sc) => {
            let s = sc.layout.offset(0, 0, row);
            Elems::I8(&x[at..], RowScales { data: &sc.data[s..], layout: sc.layout })
        }
    }
}
