//! Kernels written in WebAssembly text (`*.wat` beside the Rust kernels that call them),
//! declared here as imports of the module `wa_kernels`. The SIMD128 build links them into
//! the module at build time (`scripts/link-wat.mjs`, binaryen's `wasm-merge`): the calls
//! become direct calls and no import is left. Only the SIMD128 builds have them; the scalar
//! build never names them. The `*_relaxedsimd.wat` kernels use relaxed-SIMD opcodes: only
//! the relaxed-SIMD build (the `relaxed` feature) declares and links them.
//!
//! A kernel goes here when the engine runs LLVM's output of the Rust loop measurably
//! slower than the same operations in another order: V8 keeps a loop body's order, and
//! LLVM issues its loads first, so a body with many loads and accumulators spills (each
//! `.wat` file says what it replaces and why; the figures are in docs/performance.md).
//! Each takes pointers into the module's memory that its Rust caller has checked, as the
//! Rust kernel would use them.

#[link(wasm_import_module = "wa_kernels")]
extern "C" {
    /// `dot4_f32_simd128.wat`: `steps` steps of eight columns of the float32 row-dot tile
    /// (`x` and the four rows `w0..w3` advance 32 bytes a step); writes the eight
    /// accumulators `a0 b0 a1 b1 a2 b2 a3 b3` (even and odd groups of four columns per
    /// row, started at zero) to `out`.
    pub fn dot4_f32(
        x: *const f32, w0: *const f32, w1: *const f32, w2: *const f32, w3: *const f32, steps: usize, out: *mut f32,
    );
    /// `dot4_16bit_simd128.wat`: [`dot4_f32`] over bfloat16 rows (each advancing 16 bytes a step).
    pub fn dot4_bf16(
        x: *const f32, w0: *const u16, w1: *const u16, w2: *const u16, w3: *const u16, steps: usize, out: *mut f32,
    );
    /// `dot4_16bit_simd128.wat`: [`dot4_f32`] over finite float16 rows as raw lanes (the
    /// values times 2^-112), the activations taken times `f` as loaded.
    pub fn dot4_f16_raw(
        x: *const f32, f: f32, w0: *const u16, w1: *const u16, w2: *const u16, w3: *const u16, steps: usize,
        out: *mut f32,
    );
    /// `gemm/kernel_f32_4x8_simd128.wat`: `k` steps of the 4×8 microkernel's depth loop,
    /// `a` and `b` advancing `a_step` and `b_step` bytes a step; writes the accumulators
    /// `c00 c01 c10 c11 c20 c21 c30 c31` (from zero) to `out`.
    pub fn gemm_f32_4x8_depth(k: usize, a: *const f32, a_step: usize, b: *const f32, b_step: usize, out: *mut f32);
    /// `gemm/kernel_q_4x8_simd128.wat`: the integer GEMM's 4×8 tile over `nb` blocks: the
    /// packed activation rows `a` ([`crate::gemm::quant::A_BLOCK_BYTES`] a block), the
    /// weight sliver `b` (256 bytes a block) and its scales `sw` (8 floats a block); sets
    /// the 4×8 float tile at `out` (rows `ldo` bytes apart) to `Σ isum · (d_x · d_w)` over
    /// the blocks, then adds the 8 floats at `bias` to every row unless `bias` is null.
    pub fn gemm_q_4x8(
        nb: usize, a: *const u8, b: *const i8, sw: *const f32, out: *mut f32, ldo: usize, bias: *const f32,
    );
    /// `gemm/kernel_q4_4x8_relaxedsimd.wat`: the 4-bit GEMM's 4×8 tile over `nb` blocks:
    /// the activation rows `a` ([`crate::gemm::relaxed::Tile::a_block_bytes`] a block), the
    /// panels' sliver `b` (128 bytes a block) and its scales `sw` (8 floats a block); sets
    /// the tile at `out` (rows `ldo` bytes apart) as [`gemm_q_4x8`] does, bias included.
    /// Relaxed-SIMD build only.
    #[cfg(feature = "relaxed")]
    pub fn gemm_q4_4x8(
        nb: usize, a: *const u8, b: *const u8, sw: *const f32, out: *mut f32, ldo: usize, bias: *const f32,
    );
    /// `gemm/kernel_q8_4x8_relaxedsimd.wat`: the integer GEMM's 4×8 tile for q8_0 panels
    /// on 7-bit activations (`a`, [`crate::gemm::relaxed::Tile::a_block_bytes`] a block);
    /// the panels' sliver `b` (256 bytes a block), its scales `sw` and code sums `sq` (8
    /// values a block each); `out`, `ldo`, `bias` as in [`gemm_q_4x8`]. Relaxed-SIMD build
    /// only.
    #[cfg(feature = "relaxed")]
    pub fn gemm_q8_4x8(
        nb: usize, a: *const u8, b: *const i8, sw: *const f32, sq: *const i32, out: *mut f32, ldo: usize,
        bias: *const f32,
    );
    /// `attention/qk_3x3_f32_simd128.wat`: `tiles` score tiles of three keys × three query
    /// rows over `steps` groups of four components. Query rows start at `q`, `qrow` bytes
    /// apart; a tile's keys start at `k`, `kx` bytes apart, and the next tile's `kt` bytes
    /// on; row r's score of key x goes to `s + r·srow + x·sx`, the next tile's `st` on.
    pub fn qk3x3_f32(
        q: *const f32, qrow: usize, k: *const f32, kx: usize, kt: usize, s: *mut f32, sx: usize, st: usize,
        srow: usize, tiles: usize, steps: usize,
    );
    /// `attention/pv_3x12_f32_simd128.wat`: `o_r[0..12] += Σ_j w_r[j] · v_j[0..12]` for three
    /// rows over `n` keys: weight rows from `w`, `wrow` bytes apart; value rows from `v`,
    /// `vstride` bytes apart; output rows from `o`, `orow` bytes apart.
    pub fn pv3x12_f32(w: *const f32, wrow: usize, v: *const f32, vstride: usize, n: usize, o: *mut f32, orow: usize);
    /// `gemv/q8_0_dot4_simd128.wat`: `blocks` q8_0 blocks of four weight rows (`w0..w3`,
    /// 32 bytes a block) against int16 activation codes `x` (64 bytes a block), the four
    /// rows' i32 dots times their scale products (`sp · xs`: the four rows' weight scales,
    /// four floats a block, times the activation scale, one float a block) added to `acc`
    /// (one f32x4, a row a lane, read and written).
    pub fn q8_0_dot4(
        x: *const i16, w0: *const u8, w1: *const u8, w2: *const u8, w3: *const u8, sp: *const f32, xs: *const f32,
        blocks: usize, acc: *mut f32,
    );
    /// `gemv/q4_0_dot4_simd128.wat`: [`q8_0_dot4`] over q4_0 blocks (16 bytes a block), the
    /// activations in `q4_0_prepare`'s order and scale with each block's `8·Σx` in `sums`.
    pub fn q4_0_dot4(
        x: *const i16, sums: *const i32, w0: *const u8, w1: *const u8, w2: *const u8, w3: *const u8, sp: *const f32,
        xs: *const f32, blocks: usize, acc: *mut f32,
    );
}
