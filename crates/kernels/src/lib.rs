//! f32 kernels for attention: blocked GEMM, row-wise softmax and fused attention.
//!
//! * [`gemm`]: `sgemm`, Goto/BLIS blocking around a 4×8 register-tile microkernel;
//! * [`exp`]: polynomial `exp`/`exp2` with range reduction (accuracy documented there);
//! * [`softmax`]: numerically stable row softmax with an optional additive [`Mask`];
//! * [`elementwise`]: activations (erf/tanh-GELU, SiLU, gated pairs) with bias, adds,
//!   LayerNorm/RMSNorm and RoPE over f32 rows;
//! * [`dtype`]: storage dtypes (float16, bfloat16, int8) and exact conversions to/from f32;
//! * [`format`]: the registry of matrix storage formats (the dtypes plus block-quantised
//!   q8_0 and q4_0), their quantisers and dequantisers;
//! * [`gemv`]: small-m products `X·Wᵀ` that stream each weight row once, every format;
//! * [`attention`]: FlashAttention-2 style fused forward pass (online softmax, causal
//!   and window block skipping, GQA, strided layouts, softcap/ALiBi/sinks/mask) and
//!   `attention_probs` for exact attention weights of selected rows.
//!
//! Every kernel has a SIMD128 variant (compiled when `target_feature = "simd128"`)
//! and a scalar variant; both are tested against the same references. A few SIMD128
//! inner loops are written in WebAssembly text (`*.wat`, see `wat_simd128.rs`): a
//! SIMD128 build of this crate must be linked with them (`scripts/link-wat.mjs`).
//! The crate knows nothing about JavaScript: callers hand it slices whose lengths
//! they have checked, and every kernel asserts its preconditions at the top.

pub mod attention;
pub mod dtype;
pub mod elementwise;
pub mod exp;
pub mod format;
pub mod gemm;
pub mod gemv;
pub mod linear;
pub mod softmax;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod quantize_simd128;
mod rowops;
pub mod scratch;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wat_simd128;

/// An additive f32 mask read by logical index `[b, h, i, j]` at
/// `data[b·strides[0] + h·strides[1] + i·strides[2] + j·strides[3]]`.
/// A stride of 0 broadcasts that dimension. `-inf` blocks a position.
#[derive(Clone, Copy, Debug)]
pub struct Mask<'a> {
    pub data: &'a [f32],
    pub strides: [usize; 4],
}

impl<'a> Mask<'a> {
    #[inline]
    pub fn at(&self, b: usize, h: usize, i: usize, j: usize) -> f32 {
        self.data[b * self.strides[0] + h * self.strides[1] + i * self.strides[2] + j * self.strides[3]]
    }
}
