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
        let (a, b, c, d) = (r(0), r(1), r(2), r(3));
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
        let out = [
            i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
            i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
            i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
        ];
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
