//! A reusable f32 scratch buffer, so kernels do not allocate on every call.
//!
//! wasm32 runs one thread, so a thread-local is simply a global here. The buffer is
//! taken out of its cell for the duration of the call: a nested call (none exists
//! today) would get a fresh allocation instead of aliasing.

use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a scratch slice of exactly `len` elements (contents unspecified).
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|s| {
        let mut cell = s.borrow_mut();
        if cell.capacity() < buf.capacity() {
            *cell = buf;
        }
    });
    r
}
