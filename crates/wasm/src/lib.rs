//! wasm-bindgen exports of the kernels: the one seam between Rust and TypeScript.
//!
//! The ABI is pointers (byte offsets into this module's memory) and lengths. Each
//! export validates every range against the blocks it allocated (`memory.rs`)
//! before it builds a slice, and returns a [`status::Status`] code instead of
//! panicking, so a rejected call leaves the instance usable.

use wasm_bindgen::prelude::*;

mod attention;
mod dtype;
mod elementwise;
mod extent;
mod gather;
mod gemm;
mod linear;
mod memory;
mod softmax;
mod status;

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

/// Allocates `bytes` (16-byte aligned) for JavaScript; returns 0 when memory is exhausted.
#[wasm_bindgen]
pub fn wa_alloc(bytes: usize) -> usize {
    memory::alloc(bytes)
}

/// Frees a block from `wa_alloc`; returns a non-zero status for any other pointer.
#[wasm_bindgen]
pub fn wa_free(ptr: usize) -> i32 {
    memory::free(ptr) as i32
}

/// Bytes Rust holds right now (JS blocks and kernel scratch).
#[wasm_bindgen]
pub fn wa_live_bytes() -> f64 {
    memory::live_bytes() as f64
}

/// Highest live byte count since `wa_reset_peak`.
#[wasm_bindgen]
pub fn wa_peak_bytes() -> f64 {
    memory::peak_bytes() as f64
}

#[wasm_bindgen]
pub fn wa_reset_peak() {
    memory::reset_peak()
}

/// Blocks JavaScript holds right now.
#[wasm_bindgen]
pub fn wa_live_blocks() -> u32 {
    memory::live_blocks() as u32
}

/// 1 when this binary was compiled with SIMD128 kernels, 0 for the scalar build;
/// scripts/relaxed-fma.mjs makes it return 2 in the relaxed-SIMD binary it derives.
#[wasm_bindgen]
pub fn wa_simd() -> u32 {
    cfg!(target_feature = "simd128") as u32
}
