//! Status codes returned by every exported kernel. JavaScript maps them to errors
//! (`ts/raw.ts`); nothing in an exported function panics on bad input.

#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// A pointer/length pair is not inside one live block allocated by `wa_alloc`.
    BadPointer = 1,
    /// Sizes are inconsistent (zero where not allowed, overflow, strides too small).
    BadShape = 2,
    /// The output overlaps an input where the kernel cannot work in place.
    Aliased = 3,
    /// Rust could not allocate the scratch memory the kernel needs.
    OutOfMemory = 4,
}

/// Runs a fallible body and returns its status as the i32 the ABI uses.
pub fn run(body: impl FnOnce() -> Result<(), Status>) -> i32 {
    match body() {
        Ok(()) => Status::Ok as i32,
        Err(s) => s as i32,
    }
}

/// Runs a kernel and turns a failed scratch allocation inside it into `OutOfMemory`
/// (the kernel then did no work).
pub fn kernel(call: impl FnOnce()) -> Result<(), Status> {
    kernels::scratch::take_alloc_failure();
    call();
    if kernels::scratch::take_alloc_failure() {
        return Err(Status::OutOfMemory);
    }
    Ok(())
}
