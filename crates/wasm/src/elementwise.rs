//! Exports of the element-wise kernels (`kernels::elementwise`).
//!
//! Matrices are `rows × cols` f32 blocks with a row stride (`ld`, in floats) at a byte
//! pointer; vectors (bias, γ, β, cos/sin tables) are `cols` (or table) floats. Every range
//! is checked against the live blocks (`memory.rs`) with checked arithmetic before a
//! slice is built; a written range must be exactly the in-place operand where the kernel
//! allows it, or disjoint from every input.

use wasm_bindgen::prelude::*;

use kernels::elementwise::activation::{bias_act_rows, gated_rows, Activation};
use kernels::elementwise::add::{add_rows, add_rows_in_place};
use kernels::elementwise::norm::{add_norm_rows, norm_rows, norm_rows_in_place, Norm};
use kernels::elementwise::rope::{rope_rows, RopeShape, RopeStyle};

use crate::extent;
use crate::memory::{self, disjoint};
use crate::status::{run, Status};

/// An optional vector of `n` floats at `ptr` (0 = none).
fn optional<'a>(ptr: usize, n: usize) -> Result<Option<&'a [f32]>, Status> {
    if ptr == 0 {
        Ok(None)
    } else {
        memory::floats(ptr, n).map(Some)
    }
}

/// `x[r, c] ← act(x[r, c] + bias[c])` in place over `rows × cols` with row stride `ld`;
/// `bias` 0 = none; `act`: 0 identity, 1 relu, 2 gelu (erf), 3 gelu_tanh, 4 silu.
#[wasm_bindgen]
pub fn wa_bias_act(x: usize, ld: usize, rows: usize, cols: usize, bias: usize, act: u32) -> i32 {
    run(|| {
        let act = Activation::from_code(act).ok_or(Status::BadShape)?;
        let len = extent::matrix(rows, cols, ld)?;
        let blen = if rows == 0 { 0 } else { cols };
        if bias != 0 {
            disjoint((x, len), &[(bias, blen)])?;
        }
        let b = optional(bias, blen)?;
        let x = memory::floats_mut(x, len)?;
        bias_act_rows(x, rows, cols, ld.max(cols), b, act);
        Ok(())
    })
}

/// `gate[r, c] ← act(gate[r, c] + gate_bias[c]) · (up[r, c] + up_bias[c])` (biases 0 =
/// none), rows `ldg`/`ldu` apart; `act` as [`wa_bias_act`]. `up` and the biases must not
/// overlap `gate`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_gated_act(
    gate: usize, ldg: usize, up: usize, ldu: usize, rows: usize, cols: usize, gate_bias: usize, up_bias: usize,
    act: u32,
) -> i32 {
    run(|| {
        let act = Activation::from_code(act).ok_or(Status::BadShape)?;
        let glen = extent::matrix(rows, cols, ldg)?;
        let ulen = extent::matrix(rows, cols, ldu)?;
        let blen = if rows == 0 { 0 } else { cols };
        let mut inputs = vec![(up, ulen)];
        for &b in &[gate_bias, up_bias] {
            if b != 0 {
                inputs.push((b, blen));
            }
        }
        disjoint((gate, glen), &inputs)?;
        let u = memory::floats(up, ulen)?;
        let bg = optional(gate_bias, blen)?;
        let bu = optional(up_bias, blen)?;
        let g = memory::floats_mut(gate, glen)?;
        gated_rows(g, ldg.max(cols), u, ldu.max(cols), rows, cols, bg, bu, act);
        Ok(())
    })
}

/// `out[r, c] ← a[r, c] + b[c]` over `rows × cols` (rows `lda`/`ldo` apart): a bias, or
/// with `rows = 1` an element-wise sum. `out` may be `a` (same stride) or, with
/// `rows = 1`, `b` (or both); otherwise it must not overlap either.
#[wasm_bindgen]
pub fn wa_add(a: usize, lda: usize, b: usize, out: usize, ldo: usize, rows: usize, cols: usize) -> i32 {
    run(|| {
        let alen = extent::matrix(rows, cols, lda)?;
        let olen = extent::matrix(rows, cols, ldo)?;
        let blen = if rows == 0 { 0 } else { cols };
        if olen == 0 {
            return Ok(());
        }
        if out == a && b == a && rows == 1 {
            // x ← x + x (one buffer: no shared and exclusive views of it at once).
            memory::floats_mut(out, olen)?.iter_mut().for_each(|v| *v += *v);
        } else if out == a && ldo == lda {
            disjoint((out, olen), &[(b, blen)])?;
            let bv = memory::floats(b, blen)?;
            add_rows_in_place(memory::floats_mut(out, olen)?, lda.max(cols), bv, rows, cols);
        } else if out == b && rows == 1 {
            // Addition commutes: b ← b + a.
            disjoint((out, olen), &[(a, alen)])?;
            let av = memory::floats(a, alen)?;
            add_rows_in_place(memory::floats_mut(out, olen)?, cols, av, 1, cols);
        } else {
            disjoint((out, olen), &[(a, alen), (b, blen)])?;
            let (av, bv) = (memory::floats(a, alen)?, memory::floats(b, blen)?);
            add_rows(av, lda.max(cols), bv, memory::floats_mut(out, olen)?, ldo.max(cols), rows, cols);
        }
        Ok(())
    })
}

/// LayerNorm (`beta` ≠ 0) or RMSNorm (`beta` = 0) of contiguous `rows × cols` rows:
/// `out ← norm(x)`. With `residual` ≠ 0, first `x ← x + residual` (x is written). `out`
/// may be `x`; otherwise no written range may overlap another range. `eps` ≥ 0, finite.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_norm(
    x: usize, residual: usize, out: usize, rows: usize, cols: usize, gamma: usize, beta: usize, eps: f32,
) -> i32 {
    run(|| {
        if !(eps >= 0.0 && eps.is_finite()) {
            return Err(Status::BadShape);
        }
        let len = rows.checked_mul(cols).ok_or(Status::BadShape)?;
        let plen = if len == 0 { 0 } else { cols };
        let mut params = vec![(gamma, plen)];
        if beta != 0 {
            params.push((beta, plen));
        }
        // Written: out, and x when a residual is added.
        disjoint((out, len), &params)?;
        if residual != 0 {
            disjoint((x, len), &params)?;
            disjoint((x, len), &[(residual, len)])?;
            if out != x {
                disjoint((out, len), &[(x, len), (residual, len)])?;
            }
        } else if out != x {
            disjoint((out, len), &[(x, len)])?;
        }
        let g = memory::floats(gamma, plen)?;
        let norm = if beta != 0 {
            Norm::Layer { gamma: g, beta: memory::floats(beta, plen)? }
        } else {
            Norm::Rms { gamma: g }
        };
        if len == 0 {
            return Ok(());
        }
        match (residual != 0, out == x) {
            (false, true) => norm_rows_in_place(memory::floats_mut(x, len)?, rows, cols, norm, eps),
            (false, false) => {
                let src = memory::floats(x, len)?;
                norm_rows(src, memory::floats_mut(out, len)?, rows, cols, norm, eps)
            }
            (true, same) => {
                let r = memory::floats(residual, len)?;
                let h = memory::floats_mut(x, len)?;
                let dst = if same { None } else { Some(memory::floats_mut(out, len)?) };
                add_norm_rows(h, r, dst, rows, cols, norm, eps)
            }
        }
        Ok(())
    })
}

/// RoPE in place (`kernels::elementwise::rope`): `rows` rows `ld` floats apart, each
/// `heads` heads of `head_dim`, the first `rot` (even) values of each head rotated with
/// table row `r mod table_rows` of `cos`/`sin` (`[table_rows, rot/2]`); `style` 0 half,
/// 1 interleaved.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn wa_rope(
    x: usize, rows: usize, ld: usize, heads: usize, head_dim: usize, rot: usize, cos: usize, sin: usize,
    table_rows: usize, style: u32,
) -> i32 {
    run(|| {
        let style = RopeStyle::from_code(style).ok_or(Status::BadShape)?;
        if rot % 2 != 0 || rot > head_dim {
            return Err(Status::BadShape);
        }
        let width = heads.checked_mul(head_dim).ok_or(Status::BadShape)?;
        let len = extent::matrix(rows, width, ld)?;
        let half = rot / 2;
        if len == 0 || half == 0 {
            return Ok(());
        }
        if table_rows == 0 {
            return Err(Status::BadShape);
        }
        let tlen = table_rows.checked_mul(half).ok_or(Status::BadShape)?;
        disjoint((x, len), &[(cos, tlen), (sin, tlen)])?;
        let (c, s) = (memory::floats(cos, tlen)?, memory::floats(sin, tlen)?);
        let xs = memory::floats_mut(x, len)?;
        let shape = RopeShape { rows, ld: ld.max(width), heads, head_dim, rot, table_rows };
        rope_rows(xs, &shape, c, s, style);
        Ok(())
    })
}
