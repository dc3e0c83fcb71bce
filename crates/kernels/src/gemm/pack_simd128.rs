//! SIMD128 packing of a transposed B (`B` stored `n × k`, e.g. a `Linear` weight):
//! each NR-column sliver is written depth-major by 4×4 transposes in registers.
//!
//! The scalar loop of [`super::pack::pack_b`] scatters one element at a time at stride
//! NR; here four elements of each of the sliver's eight rows are loaded (widened to
//! f32 for 16-bit dtypes by [`Elem::load4`]), transposed with eight shuffles per 4×4
//! block and stored as four whole depth rows of the sliver. Values are copied (or
//! widened exactly), so the packed panel is bit for bit the scalar one's.

use core::arch::wasm32::*;

use super::blocking::NR;
use crate::dtype::Elem;

// Checked at compile time; clippy 1.63 takes a constant assert for a runtime one.
#[allow(clippy::assertions_on_constants)]
const _: () = assert!(NR == 8, "the transposes are written for 8-column slivers");

/// Depth rows `p..p+4` of a full sliver: `dst[(p+x)·NR + j] = rows[j][p+x]`.
///
/// # Safety
/// Each `rows[j]` must be readable for `p + 4` elements; `dst` must hold `(p + 4)·NR` floats.
#[inline(always)]
unsafe fn transpose_8x4<E: Elem>(rows: &[*const E; NR], p: usize, dst: *mut f32) {
    for half in 0..2 {
        let r = |j: usize| E::load4(rows[4 * half + j].add(p));
        let out = crate::gemv::tile_simd128::transpose4(r(0), r(1), r(2), r(3));
        for (x, v) in out.iter().enumerate() {
            v128_store(dst.add((p + x) * NR + 4 * half) as *mut v128, *v);
        }
    }
}

/// One full sliver (NR rows of B, `kc` deep) of a transposed B: rows `b + j·ldb`.
/// Returns the first depth not packed (`kc` rounded down to 4); the caller packs the rest.
///
/// # Safety
/// Rows `j < NR` of `b` must hold `kc` elements at stride `ldb`; `dst` must hold `kc·NR` floats.
#[inline(never)]
pub unsafe fn pack_b_trans_sliver_simd128<E: Elem>(kc: usize, b: *const E, ldb: usize, dst: *mut f32) -> usize {
    let mut rows = [b; NR];
    for (j, r) in rows.iter_mut().enumerate() {
        *r = b.add(j * ldb);
    }
    let mut p = 0;
    while p + 4 <= kc {
        transpose_8x4(&rows, p, dst);
        p += 4;
    }
    p
}

/// One block of an integer GEMM sliver ([`super::quant::pack_b_q`]): the 32 codes of
/// each of 8 weight rows (q8_0: 32 bytes at `rows[c]`; q4_0: 16 bytes of nibbles,
/// widened to `nibble − 8`) written as 16 depth pairs × 8 rows × 2 codes, by two 8×8
/// transposes of 16-bit lanes (a lane is one row's code pair).
///
/// # Safety
/// Each `rows[c]` must hold the block's 32 (q8_0) or 16 (q4_0) bytes; `out` must hold 256 bytes.
#[inline(never)]
pub unsafe fn pack_q_block_simd128(rows: [*const u8; NR], q4: bool, out: *mut i8) {
    // Pairs 0–7 and 8–15 of each row as eight 16-bit lanes.
    let mut lo = [i16x8_splat(0); NR];
    let mut hi = [i16x8_splat(0); NR];
    for c in 0..NR {
        if q4 {
            let v = v128_load(rows[c] as *const v128);
            let eight = i8x16_splat(8);
            lo[c] = i8x16_sub(v128_and(v, i8x16_splat(0x0f)), eight);
            hi[c] = i8x16_sub(u8x16_shr(v, 4), eight);
        } else {
            lo[c] = v128_load(rows[c] as *const v128);
            hi[c] = v128_load(rows[c].add(16) as *const v128);
        }
    }
    let t = transpose_8x8_i16(&lo);
    for (p, v) in t.iter().enumerate() {
        v128_store(out.add(16 * p) as *mut v128, *v);
    }
    let t = transpose_8x8_i16(&hi);
    for (p, v) in t.iter().enumerate() {
        v128_store(out.add(16 * (8 + p)) as *mut v128, *v);
    }
}

/// `out[p]` lane `c` = `r[c]` lane `p` for 16-bit lanes: interleaves of 16, 32 and 64 bits.
#[inline(always)]
fn transpose_8x8_i16(r: &[v128; 8]) -> [v128; 8] {
    let a = [
        i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(r[0], r[1]),
        i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(r[0], r[1]),
        i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(r[2], r[3]),
        i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(r[2], r[3]),
        i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(r[4], r[5]),
        i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(r[4], r[5]),
        i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(r[6], r[7]),
        i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(r[6], r[7]),
    ];
    // b[2h + q] for rows 0–3 (h = 0) and 4–7 (h = 1): pairs 2q, 2q+1 of a[4h + (q / 2)·1 …].
    let b = [
        i32x4_shuffle::<0, 4, 1, 5>(a[0], a[2]),
        i32x4_shuffle::<2, 6, 3, 7>(a[0], a[2]),
        i32x4_shuffle::<0, 4, 1, 5>(a[1], a[3]),
        i32x4_shuffle::<2, 6, 3, 7>(a[1], a[3]),
        i32x4_shuffle::<0, 4, 1, 5>(a[4], a[6]),
        i32x4_shuffle::<2, 6, 3, 7>(a[4], a[6]),
        i32x4_shuffle::<0, 4, 1, 5>(a[5], a[7]),
        i32x4_shuffle::<2, 6, 3, 7>(a[5], a[7]),
    ];
    [
        i64x2_shuffle::<0, 2>(b[0], b[4]),
        i64x2_shuffle::<1, 3>(b[0], b[4]),
        i64x2_shuffle::<0, 2>(b[1], b[5]),
        i64x2_shuffle::<1, 3>(b[1], b[5]),
        i64x2_shuffle::<0, 2>(b[2], b[6]),
        i64x2_shuffle::<1, 3>(b[2], b[6]),
        i64x2_shuffle::<0, 2>(b[3], b[7]),
        i64x2_shuffle::<1, 3>(b[3], b[7]),
    ]
}
