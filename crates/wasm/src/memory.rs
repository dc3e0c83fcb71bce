//! Ownership of WASM memory handed to JavaScript.
//!
//! JavaScript never gets memory it did not ask for: `alloc` records each block it
//! returns, and every exported kernel turns its (pointer, length) arguments into
//! slices only through [`floats`] / [`floats_mut`], which check that the whole
//! range lies inside one live block. A wrong pointer or length becomes an error
//! status, never an out-of-bounds access or a trap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::status::Status;

/// Alignment of every block handed to JavaScript (one v128).
pub const ALIGN: usize = 16;

/// Global allocator that counts live bytes, so tests can prove memory stays flat.
pub struct CountingAlloc;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            if live > PEAK_BYTES.load(Ordering::Relaxed) {
                PEAK_BYTES.store(live, Ordering::Relaxed);
            }
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// Bytes currently allocated by Rust (blocks given to JS and kernel scratch).
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Highest `live_bytes()` since the last `reset_peak()`.
pub fn peak_bytes() -> usize {
    PEAK_BYTES.load(Ordering::Relaxed)
}

pub fn reset_peak() {
    PEAK_BYTES.store(live_bytes(), Ordering::Relaxed);
}

thread_local! {
    /// Live blocks handed to JavaScript: start address → size in bytes.
    static BLOCKS: RefCell<BTreeMap<usize, usize>> = RefCell::new(BTreeMap::new());
}

/// Allocates `bytes` (at least 16) with 16-byte alignment; 0 when memory is exhausted.
pub fn alloc(bytes: usize) -> usize {
    let size = bytes.max(ALIGN);
    let layout = match Layout::from_size_align(size, ALIGN) {
        Ok(l) => l,
        Err(_) => return 0,
    };
    let p = unsafe { std::alloc::alloc(layout) } as usize;
    if p != 0 {
        BLOCKS.with(|b| b.borrow_mut().insert(p, size));
    }
    p
}

/// Frees a block returned by [`alloc`]; anything else is rejected.
pub fn free(ptr: usize) -> Status {
    let size = match BLOCKS.with(|b| b.borrow_mut().remove(&ptr)) {
        Some(s) => s,
        None => return Status::BadPointer,
    };
    unsafe { std::alloc::dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(size, ALIGN)) };
    Status::Ok
}

/// Number of blocks currently held by JavaScript.
pub fn live_blocks() -> usize {
    BLOCKS.with(|b| b.borrow().len())
}

/// Checks that `count` elements of `size` bytes at `ptr` lie inside one live block,
/// with `ptr` aligned to `size`.
pub fn check_elems(ptr: usize, count: usize, size: usize) -> Result<(), Status> {
    if count == 0 {
        return Ok(());
    }
    if ptr % size != 0 {
        return Err(Status::BadPointer);
    }
    let bytes = count.checked_mul(size).ok_or(Status::BadShape)?;
    let end = ptr.checked_add(bytes).ok_or(Status::BadPointer)?;
    BLOCKS.with(|b| match b.borrow().range(..=ptr).next_back() {
        Some((&start, &size)) if end <= start + size => Ok(()),
        _ => Err(Status::BadPointer),
    })
}

/// A checked shared view of `floats` f32 values at `ptr`.
pub fn floats<'a>(ptr: usize, floats: usize) -> Result<&'a [f32], Status> {
    elems(ptr, floats)
}

/// A checked exclusive view of `floats` f32 values at `ptr`. The caller must make
/// sure no other view passed to the same kernel overlaps it (see [`disjoint`]).
pub fn floats_mut<'a>(ptr: usize, floats: usize) -> Result<&'a mut [f32], Status> {
    elems_mut(ptr, floats)
}

/// A checked shared view of `count` plain-data elements (f32, u16, i8, …) at `ptr`.
pub fn elems<'a, T: Copy>(ptr: usize, count: usize) -> Result<&'a [T], Status> {
    check_elems(ptr, count, std::mem::size_of::<T>())?;
    if count == 0 {
        return Ok(&[]);
    }
    Ok(unsafe { std::slice::from_raw_parts(ptr as *const T, count) })
}

/// A checked exclusive view of `count` elements at `ptr` (see [`floats_mut`]).
pub fn elems_mut<'a, T: Copy>(ptr: usize, count: usize) -> Result<&'a mut [T], Status> {
    check_elems(ptr, count, std::mem::size_of::<T>())?;
    if count == 0 {
        return Ok(&mut []);
    }
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr as *mut T, count) })
}

/// Fails with `Aliased` when byte ranges `(ptr, bytes)` overlap.
pub fn disjoint_bytes(out: (usize, usize), inputs: &[(usize, usize)]) -> Result<(), Status> {
    for &(p, n) in inputs {
        if out.1 != 0 && n != 0 && out.0 < p + n && p < out.0 + out.1 {
            return Err(Status::Aliased);
        }
    }
    Ok(())
}

/// Fails with `Aliased` when the output range overlaps an input range.
pub fn disjoint(out: (usize, usize), inputs: &[(usize, usize)]) -> Result<(), Status> {
    let (o, on) = (out.0, out.1 * 4);
    for &(p, n) in inputs {
        let pn = n * 4;
        if on != 0 && pn != 0 && o < p + pn && p < o + on {
            return Err(Status::Aliased);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_must_lie_inside_one_live_block() {
        let a = alloc(64);
        let b = alloc(64);
        assert!(a != 0 && b != 0 && a % ALIGN == 0);
        assert_eq!(check_elems(a, 16, 4), Ok(()));
        assert_eq!(check_elems(a + 4, 15, 4), Ok(()));
        assert_eq!(check_elems(a, 17, 4), Err(Status::BadPointer));
        assert_eq!(check_elems(a + 2, 1, 4), Err(Status::BadPointer));
        assert_eq!(check_elems(a.wrapping_sub(4), 1, 4), Err(Status::BadPointer));
        assert_eq!(check_elems(usize::MAX - 3, 1, 4), Err(Status::BadPointer));
        assert_eq!(disjoint((a, 16), &[(b, 16)]), Ok(()));
        assert_eq!(disjoint((a, 16), &[(a + 60, 1)]), Err(Status::Aliased));
        assert_eq!(free(a), Status::Ok);
        assert_eq!(free(a), Status::BadPointer);
        assert_eq!(check_elems(a, 1, 4), Err(Status::BadPointer));
        assert_eq!(free(b), Status::Ok);
    }
}
