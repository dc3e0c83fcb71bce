//! Register-tile and cache-block sizes of the GEMM, in one place.

/// Rows of the register tile: 4 rows × 2 vectors = 8 accumulators, plus 2 B vectors,
/// 1 broadcast A value and 1 product, stays within V8's ~15 allocatable v128 registers.
pub const MR: usize = 4;
/// Columns of the register tile: two f32x4 vectors per row.
pub const NR: usize = 8;
/// Depth of one packed panel pair: a 4×512 A sliver (8 KiB) and a 512×8 B sliver
/// (16 KiB) fit the 32 KiB L1 together; deeper slices halve the read-modify-write
/// passes over C compared with 256 (measured 1–2% faster at 1024³, near the noise).
pub const KC: usize = 512;
/// Rows of packed A per block: MC×KC = 256 KiB, resident in L2 (≥ 512 KiB on current
/// x86 and ARM cores) while every B sliver of the column block streams past it.
pub const MC: usize = 128;
/// Columns of packed B per block: KC×NC = 4 MiB, within a shared L3; larger NC only
/// grows the scratch buffer without improving reuse.
pub const NC: usize = 2048;
