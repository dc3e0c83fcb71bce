//! `out ← a + b` with `b` repeated every row: a bias `[cols]` over `rows × cols`, or a
//! residual add of two equal-size tensors (one row of all their values).

use super::span;

/// `out[r, c] ← a[r, c] + b[c]`, rows of `a` and `out` `lda`/`ldo` apart.
pub fn add_rows(a: &[f32], lda: usize, b: &[f32], out: &mut [f32], ldo: usize, rows: usize, cols: usize) {
    assert!(rows <= 1 || (lda >= cols && ldo >= cols), "add_rows: row stride < cols");
    assert!(a.len() >= span(rows, cols, lda) && out.len() >= span(rows, cols, ldo), "add_rows: a or out too short");
    assert!(rows == 0 || b.len() >= cols, "add_rows: b too short");
    // SAFETY: ranges asserted above; `out` is exclusive, so it overlaps neither input.
    unsafe { rows_add(a.as_ptr(), lda, b.as_ptr(), out.as_mut_ptr(), ldo, rows, cols) }
}

/// `x[r, c] ← x[r, c] + b[c]` in place, rows `ld` apart.
pub fn add_rows_in_place(x: &mut [f32], ld: usize, b: &[f32], rows: usize, cols: usize) {
    assert!(rows <= 1 || ld >= cols, "add_rows_in_place: ld < cols");
    assert!(x.len() >= span(rows, cols, ld), "add_rows_in_place: x too short");
    assert!(rows == 0 || b.len() >= cols, "add_rows_in_place: b too short");
    let p = x.as_mut_ptr();
    // SAFETY: as above; reading and writing the same element is the in-place case.
    unsafe { rows_add(p, ld, b.as_ptr(), p, ld, rows, cols) }
}

/// # Safety
/// Rows of `a` readable and of `out` writable (`cols` values each); `out` may equal `a`
/// (same stride) but must not otherwise overlap `a` or `b`.
unsafe fn rows_add(a: *const f32, lda: usize, b: *const f32, out: *mut f32, ldo: usize, rows: usize, cols: usize) {
    for r in 0..rows {
        let (ar, or) = (a.add(r * lda), out.add(r * ldo));
        #[allow(unused_mut)]
        let mut c = 0;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use super::lanes::{ld, st};
            use core::arch::wasm32::f32x4_add;
            let n16 = cols / 16 * 16;
            // Four vectors per iteration: the loop is bound by loads and stores.
            while c < n16 {
                let v0 = f32x4_add(ld(ar.add(c)), ld(b.add(c)));
                let v1 = f32x4_add(ld(ar.add(c + 4)), ld(b.add(c + 4)));
                let v2 = f32x4_add(ld(ar.add(c + 8)), ld(b.add(c + 8)));
                let v3 = f32x4_add(ld(ar.add(c + 12)), ld(b.add(c + 12)));
                st(or.add(c), v0);
                st(or.add(c + 4), v1);
                st(or.add(c + 8), v2);
                st(or.add(c + 12), v3);
                c += 16;
            }
            let n4 = cols / 4 * 4;
            while c < n4 {
                st(or.add(c), f32x4_add(ld(ar.add(c)), ld(b.add(c))));
                c += 4;
            }
        }
        while c < cols {
            *or.add(c) = *ar.add(c) + *b.add(c);
            c += 1;
        }
    }
}
