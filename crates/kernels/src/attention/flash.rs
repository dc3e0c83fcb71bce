//! Fused attention forward, FlashAttention-2 style.
//!
//! For each (batch, kv head) the keys are packed once (and shared by every query
//! head of the GQA group). Query rows are tiled BLOCK_Q at a time, per head; when
//! `len_q < BLOCK_Q` (decoding) one tile holds the rows of all the group's heads.
//! For each tile the queries are packed, then key blocks of BLOCK_K run through:
//!   1. `Sᵀ = K_blk·Q_tileᵀ` with the GEMM microkernel (scale·log2 e folded into α),
//!      plus causal/window masking on diagonal blocks or the general score function;
//!   2. online softmax: running max `m` and sum `l` per row, block weights `2^(t − m)`;
//!   3. `O ← c·O + P·V_blk`, the microkernel reading V rows in place.
//!
//! Key blocks that the tile's rows cannot see (causal or window) are skipped.
//! At the end `O / l` is written (one reciprocal per row) and `lse = (m + log2 l)·ln 2`.
//! Scratch: packed keys (len_k·head_dim) plus per-tile buffers, i.e. O(N·D).
//!
//! Where the time goes (perf, H=8, N=1024, D=64, non-causal): ~84 % in the microkernel
//! (95 % of that in its depth loop), most of the rest in the exp pass of the online
//! softmax; packing, masking and normalising are each under 1 %. The depth loop issues
//! about 26 instructions per 16 multiplies/adds: each broadcast's address is an
//! explicit `i32.add` in the wasm (one `lea` in V8's code), as LLVM does not fold these
//! offsets into the loads once loop strength reduction has rewritten the pointers.
//! Whether those instructions limit it is open: folding just the B vector's offset
//! (wasm-opt's `--optimize-added-constants-propagate` with `--low-memory-unused`, which
//! leaves the broadcasts alone) ran at 0.92–1.02× the speed.
//! Variants measured against this kernel (CPU time, interleaved in one process) and
//! not adopted: the O rescale fused into the P·V microkernel with fixed-stride copies
//! of the microkernel for both products, 0.82–0.94× (wasm-opt inlined them into the
//! large entry function); the same behind an indirect call, 1.00–1.02×; that plus V
//! packed into NR-wide panels, ~0.96×; the exp pass one vector at a time instead of
//! four interleaved, 1.00×.

use super::online;
use super::scores::{
    allowed, check_common, check_tensor, is_fast, pack_keys, pack_queries, HeadScores, TileRows, LOG2E,
};
use super::{Layout, Options, Shape, BLOCK_K, BLOCK_Q, S_STRIDE};
use crate::gemm::blocking::{MR, NR};
use crate::gemm::{microkernel, round_up};

/// The tiled kernel behind [`attention_forward`](super::attention_forward) for f32
/// operands (prefill); same contract. Any number of query rows.
#[allow(clippy::too_many_arguments)]
pub fn attention_tiled(
    q: &[f32], ql: Layout, k: &[f32], kl: Layout, v: &[f32], vl: Layout, out: &mut [f32], ol: Layout,
    mut lse: Option<&mut [f32]>, shape: Shape, opts: &Options,
) {
    check_common(q, ql, k, kl, &shape, opts);
    check_tensor("v", v.len(), vl, shape.batch, shape.heads_kv, shape.len_k, shape.value_dim);
    check_tensor("out", out.len(), ol, shape.batch, shape.heads_q, shape.len_q, shape.value_dim);
    if let Some(l) = lse.as_deref() {
        assert!(l.len() >= shape.batch * shape.heads_q * shape.len_q, "attention: lse too short");
    }
    if shape.batch == 0 || shape.heads_q == 0 || shape.len_q == 0 {
        return;
    }
    let d = shape.head_dim;
    let dv = shape.value_dim;
    let dv_pad = round_up(dv, NR);
    let dv_full = dv / NR * NR;
    let tail = if dv_full < dv { shape.len_k * NR } else { 0 };
    let kpack_len = round_up(shape.len_k, MR) * d;
    let sizes = [kpack_len, tail, BLOCK_Q * d, BLOCK_K * S_STRIDE, BLOCK_Q * dv_pad, BLOCK_Q, BLOCK_Q, BLOCK_Q];
    let total: usize = sizes.iter().sum();
    let group = shape.heads_q / shape.heads_kv;
    let fast = is_fast(opts);

    crate::scratch::with_scratch(total, |buf| {
        let (kpack, rest) = buf.split_at_mut(sizes[0]);
        let (vtail, rest) = rest.split_at_mut(sizes[1]);
        let (qpack, rest) = rest.split_at_mut(sizes[2]);
        let (s, rest) = rest.split_at_mut(sizes[3]);
        let (o, rest) = rest.split_at_mut(sizes[4]);
        let (m, rest) = rest.split_at_mut(BLOCK_Q);
        let (l, corr) = rest.split_at_mut(BLOCK_Q);
        for b in 0..shape.batch {
            for hk in 0..shape.heads_kv {
                pack_keys(k, kl, b, hk, shape.len_k, d, kpack);
                if !vtail.is_empty() {
                    pack_value_tail(v, vl, b, hk, shape.len_k, dv_full, dv, vtail);
                }
                let head = HeadScores { shape: &shape, opts, b, fast, kpack: &*kpack };
                // Value rows of this kv head (empty when no full NR-wide panel is read).
                let vh: &[f32] = if dv_full > 0 && shape.len_k > 0 { &v[vl.offset(b, hk, 0)..] } else { &[] };
                // The group's query rows, head-major: virtual row r is row r % len_q of
                // head hk·group + r / len_q. Long queries tile each head separately; short
                // ones (shorter than a tile) pack several heads into one tile.
                let lq = shape.len_q;
                let total = group * lq;
                let mut r0 = 0;
                while r0 < total {
                    let n = if lq >= BLOCK_Q { BLOCK_Q.min(lq - r0 % lq) } else { BLOCK_Q.min(total - r0) };
                    let rows = TileRows::new(n, |t| (hk * group + (r0 + t) / lq, (r0 + t) % lq));
                    let mut t =
                        Tile { qpack: &mut *qpack, s: &mut *s, o: &mut *o, m: &mut *m, l: &mut *l, corr: &mut *corr };
                    t.run(&head, &rows, q, ql, vh, vl.row, &*vtail);
                    // Normalise and store the tile's rows.
                    for ii in 0..n {
                        let (h, i) = (rows.h[ii], rows.i[ii]);
                        let oo = ol.offset(b, h, i);
                        let orow = &mut out[oo..oo + dv];
                        // l = 0 exactly when no key (and no sink) was visible; NaN rows fall through.
                        let blocked = t.l[ii] == 0.0;
                        if blocked {
                            orow.iter_mut().for_each(|x| *x = 0.0);
                        } else {
                            let inv = 1.0 / t.l[ii];
                            for (x, &a) in orow.iter_mut().zip(&t.o[ii * dv_pad..ii * dv_pad + dv]) {
                                *x = a * inv;
                            }
                        }
                        if let Some(ls) = lse.as_deref_mut() {
                            ls[(b * shape.heads_q + h) * lq + i] = if blocked {
                                f32::NEG_INFINITY
                            } else {
                                (t.m[ii] + t.l[ii].log2()) * core::f32::consts::LN_2
                            };
                        }
                    }
                    r0 += n;
                }
            }
        }
    });
}

/// Per-tile working buffers.
struct Tile<'s> {
    qpack: &'s mut [f32],
    s: &'s mut [f32],
    o: &'s mut [f32],
    m: &'s mut [f32],
    l: &'s mut [f32],
    corr: &'s mut [f32],
}

impl<'s> Tile<'s> {
    /// Runs every visible key block for the tile's rows, leaving the unnormalised
    /// output in `o` (stride round_up(dv, NR)) and the row statistics in `m`, `l`.
    /// `v` starts at row 0 of the kv head, rows `vrow` apart.
    // Not inlined by LLVM; wasm-opt -O3 still inlines it into its only caller,
    // `attention_tiled` (seen in the optimised wasm: that function calls the
    // microkernel itself), so V8 cannot tier it up apart from that call.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self, head: &HeadScores, rows: &TileRows, q: &[f32], ql: Layout, v: &[f32], vrow: usize, vtail: &[f32],
    ) {
        let br = rows.n;
        let shape = head.shape;
        let d = shape.head_dim;
        let dv = shape.value_dim;
        let dv_pad = round_up(dv, NR);
        let dv_full = dv / NR * NR;
        let cols = round_up(br, NR);
        let rows4 = round_up(br, MR);
        pack_queries(q, ql, head.b, rows, d, self.qpack);
        // A sink is a virtual key with no value: it starts the running max and sum.
        for c in 0..cols {
            let (m0, l0) = match head.opts.sinks {
                Some(sk) if c < br => (sk[rows.h[c]] * LOG2E, 1.0),
                _ => (f32::NEG_INFINITY, 0.0),
            };
            self.m[c] = m0;
            self.l[c] = l0;
        }
        self.o[..rows4 * dv_pad].iter_mut().for_each(|x| *x = 0.0);

        let kr = rows.key_range(shape, head.opts);
        let mut j0 = kr.start / BLOCK_K * BLOCK_K;
        while j0 < kr.end {
            let bc = BLOCK_K.min(shape.len_k - j0);
            head.block(self.qpack, rows, j0, bc, kr.needs_mask(j0, bc), self.s);
            online::update(self.s, cols, bc, self.m, self.l, self.corr);
            online::rescale_rows(self.o, dv_pad, dv_pad, rows4, self.corr);
            // O += P·V: A = weights (column-major, stride S_STRIDE), B = V rows in place.
            if dv_full > 0 {
                assert!(v.len() >= (j0 + bc - 1) * vrow + dv_full);
            }
            let full = dv_full / NR;
            let masked = kr.needs_mask(j0, bc);
            for r in (0..rows4).step_by(MR) {
                // On a diagonal block, keys past the group's last visible key have weight 0.
                let keys = if masked {
                    let last =
                        (r..(r + MR).min(br)).map(|ii| allowed(shape, head.opts, rows.i[ii]).1).max().unwrap_or(-1);
                    (last.saturating_add(1).saturating_sub(j0 as isize)).max(0).min(bc as isize) as usize
                } else {
                    bc
                };
                if keys == 0 {
                    continue;
                }
                let a = self.s[r..].as_ptr();
                let c = self.o[r * dv_pad..].as_mut_ptr();
                // SAFETY: weights rows 0..keys of columns r..r+MR lie in s (stride S_STRIDE);
                // V rows j0..j0+keys hold ≥ dv_full readable values each (asserted above)
                // and the tail panel len_k·NR values; output tiles lie in row r..r+MR of o.
                unsafe {
                    if full > 0 {
                        microkernel(
                            full,
                            keys,
                            a,
                            0,
                            S_STRIDE,
                            v[j0 * vrow..].as_ptr(),
                            NR,
                            vrow,
                            c,
                            NR,
                            dv_pad,
                            1.0,
                            1.0,
                        );
                    }
                    if dv_full < dv {
                        microkernel(
                            1,
                            keys,
                            a,
                            0,
                            S_STRIDE,
                            vtail[j0 * NR..].as_ptr(),
                            0,
                            NR,
                            c.add(dv_full),
                            0,
                            dv_pad,
                            1.0,
                            1.0,
                        );
                    }
                }
            }
            j0 += BLOCK_K;
        }
    }
}

/// Copies value columns `from..dv` of every key row of (b, hk) into an NR-wide,
/// zero-padded panel (`out[j·NR + c]`), for the ragged last column panel of P·V.
#[allow(clippy::too_many_arguments)]
fn pack_value_tail(v: &[f32], vl: Layout, b: usize, hk: usize, lk: usize, from: usize, dv: usize, out: &mut [f32]) {
    let w = dv - from;
    for j in 0..lk {
        let o = vl.offset(b, hk, j);
        let dst = &mut out[j * NR..(j + 1) * NR];
        dst[..w].copy_from_slice(&v[o + from..o + dv]);
        dst[w..].iter_mut().for_each(|x| *x = 0.0);
    }
}
