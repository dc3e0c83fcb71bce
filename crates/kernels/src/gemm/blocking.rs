//! Register-tile and cache-block sizes of the GEMM, in one place.

/// Rows of the register tile: 4 rows × 2 vectors = 8 accumulators, plus 2 B vectors
/// and 1 broadcast A value, stays within V8's ~15 allocatable v128 registers.
pub const MR: usize = 4;
/// Columns of the register tile: two f32x4 vectors per row.
pub const NR: usize = 8;
/// Depth of one packed panel pair: a 4×256 A sliver (4 KiB) and a 256×8 B sliver
/// (8 KiB) both stay in the 32 KiB L1 while the microkernel streams them.
pub const KC: usize = 256;
/// Rows of packed A per block: MC×KC = 128 KiB, resident in L2 while every B sliver
/// of the current column block passes through the microkernel.
pub const MC: usize = 128;
/// Columns of packed B per block: KC×NC = 2 MiB, the size of a shared L3 slice;
/// larger NC only grows the scratch buffer without improving reuse.
pub const NC: usize = 2048;
