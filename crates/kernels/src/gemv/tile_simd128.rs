//! The SIMD128 gemv tile's shared pieces: which weight rows a tile takes, the lane sums
//! of its four accumulators, and the store of its four outputs.
//!
//! A tile is [`NR`] = 4 weight rows against one activation row: one f32x4 accumulator
//! per weight row (two for the float formats, to break the add chain), lanes summed at
//! the end by a 4×4 transpose-add that leaves the tile's four outputs in one vector,
//! bias added and stored at once. Rows past `n` in the last tile repeat the last row
//! (its outputs are computed and dropped), so every tile runs the same code.

use core::arch::wasm32::*;

use super::NR;

/// `[Σa, Σb, Σc, Σd]`: the lane sums of four vectors in one.
#[inline(always)]
pub(super) fn hsum4(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
    let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
    f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
}

/// Rows of tile `t` when the `n` rows are split into [`NR`] runs of `q = ⌈n/NR⌉`: rows
/// `t, t+q, t+2q, t+3q`, so the tile reads four streams far apart in memory. Side by
/// side, rows a few hundred bytes apart stream at a third of the rate of rows megabytes
/// apart on the machines measured (docs/performance.md). Rows past `n` repeat row
/// `n − 1` and are not stored.
#[inline(always)]
pub(super) fn spaced_rows(t: usize, q: usize, n: usize) -> [usize; NR] {
    let last = n - 1;
    [t.min(last), (t + q).min(last), (t + 2 * q).min(last), (t + 3 * q).min(last)]
}

/// Stores lane `r` of `v` (+ bias) at `y[t + r·q]` for the rows that exist.
#[inline(always)]
pub(super) unsafe fn store_spaced(v: v128, t: usize, q: usize, n: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    let mut out = [0.0f32; NR];
    v128_store(out.as_mut_ptr() as *mut v128, v);
    for (r, o) in out.iter().enumerate() {
        let row = t + r * q;
        if row < n {
            y[row] = o + bias.map_or(0.0, |b| b[row]);
        }
    }
}
