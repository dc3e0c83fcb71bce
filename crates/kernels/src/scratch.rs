//! A reusable f32 scratch buffer, so kernels do not allocate on every call.
//!
//! wasm32 runs one thread, so a thread-local is simply a global here. The buffer is
//! taken out of its cell for the duration of the call: a nested call (none exists
//! today) would get a fresh allocation instead of aliasing.
//!
//! Growing the buffer is the only allocation a kernel makes. It is fallible: when
//! memory cannot grow, the kernel does no work and [`take_alloc_failure`] reports it,
//! so a caller can return an error instead of aborting (on wasm32 an abort is a
//! trap that leaves the instance unusable).

use std::cell::{Cell, RefCell};

// A `const { }` initialiser is not a shared constant; clippy 1.63 flags it as one.
thread_local! {
    #[allow(clippy::declare_interior_mutable_const)]
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    #[allow(clippy::declare_interior_mutable_const)]
    static FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with a scratch slice of exactly `len` elements (contents unspecified),
/// or skips `f` and records a failure when the buffer cannot grow to `len`.
pub(crate) fn with_scratch(len: usize, f: impl FnOnce(&mut [f32])) {
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if buf.len() < len {
        if buf.try_reserve_exact(len - buf.len()).is_err() {
            FAILED.with(|c| c.set(true));
            SCRATCH.with(|s| *s.borrow_mut() = buf);
            return;
        }
        buf.resize(len, 0.0);
    }
    f(&mut buf[..len]);
    SCRATCH.with(|s| {
        let mut cell = s.borrow_mut();
        if cell.capacity() < buf.capacity() {
            *cell = buf;
        }
    });
}

/// Whether a kernel skipped its work because its scratch memory could not be
/// allocated since the last call of this function (which clears the flag).
pub fn take_alloc_failure() -> bool {
    FAILED.with(|c| c.replace(false))
}

/// A zeroed vector of `len` floats, or `None` (recording a failure as [`with_scratch`]
/// does) when memory cannot grow to it.
pub(crate) fn try_vec(len: usize) -> Option<Vec<f32>> {
    let mut v = Vec::new();
    if v.try_reserve_exact(len).is_err() {
        FAILED.with(|c| c.set(true));
        return None;
    }
    v.resize(len, 0.0);
    Some(v)
}
