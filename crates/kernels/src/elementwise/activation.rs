//! Activation functions in place over f32 rows, each optionally after a bias add, and
//! gated pairs `gate ← act(gate + b_g) ⊙ (up + b_u)` (SwiGLU with SiLU, GeGLU with GELU).
//!
//! * ReLU: `x < 0 ? 0 : x`; NaN passes through, `-0` gives `±0`.
//! * erf-GELU `x·Φ(x)` (PyTorch `GELU()`). With `z = |x|/√2`: for `z < 0.921875`
//!   (`|x| < 1.30`), and for `x > 0` up to `z < 1.25` (`x < 1.77`), `Φ = 1/2 ± erf(z)/2`
//!   with `erf(z) = z·P(z²)` (degree 7 in `z²`); beyond, from
//!   `erfc(z) = e^(−(z² + S(z − 2.5)))` (degree 9; the crate's `exp`), `0` past `z = 4`:
//!   `GELU = x·erfc/2` for `x < 0` and `x − x·erfc/2` for `x > 0`, so neither tail
//!   cancels (PyTorch's float32 `x/2·(1 + erf)` keeps only absolute accuracy for
//!   `x < 0`; for `x > 0`, `1 + erf` cannot cancel, hence the wider near range there).
//!   The coefficients are fits made for this crate (max fit error 6.8e-10 minimax, and
//!   1.3e-8 Chebyshev). Measured against float64 (tests/elementwise.rs, 2^21-point
//!   sweeps): `erf` max error 1.3e-7 absolute, 1.7e-7 relative on `[-5, 5]`; GELU max
//!   error 2.4e-7 absolute on `[-10, 10]`, 6.7e-7 relative on `[-2, 10]`, 2.9e-6
//!   relative on `[-5.6, -2]` (values ≥ 1e-7 there, the error grows with `z²·ε`);
//!   `GELU(x) = -0` for `x < -5.66` (true value below 5e-8 in magnitude). The SIMD128
//!   kernel evaluates the tail only for vectors with a lane there; the values are the
//!   scalar's, lane for lane.
//! * tanh-GELU (GPT-2 `gelu_new`, PyTorch `GELU(approximate='tanh')`):
//!   `x/2·(1 + tanh(u)) = x·σ(2u)`, `u = √(2/π)·(x + 0.044715·x³)`, computed as
//!   `x / (1 + e^(−2u))` with the crate's `exp` (no cancellation for negative `x`, where
//!   `1 + tanh(u)` would lose all its digits). Measured max error 5.2e-7 absolute on
//!   `[-10, 10]` (about one ulp of `x`), 8.7e-7 relative on `[-3, 10]`; in the far
//!   negative tail the relative error grows with `|2u|` (1.1e-5 at `x = -9`, value 1e-28).
//! * SiLU `x·σ(x) = x / (1 + e^(−x))` (LLaMA's gate). Measured max relative error
//!   1.7e-7 on `[-80, 80]`.
//!
//! Special values: NaN propagates; `+inf → +inf`; `-inf → ±0` (the limits: the input
//! is clamped to the lowest finite f32 first, so `-inf·0` never forms); `erf(±inf) = ±1`.
//! Tiny and subnormal `x` give `≈ x/2` (GELU, SiLU, tanh-GELU).

use crate::exp::exp;

/// Activation applied by [`bias_act_rows`] and [`gated_rows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `x` (a plain bias add).
    Identity,
    Relu,
    /// Exact GELU `x·Φ(x)` (erf).
    Gelu,
    /// Tanh-approximate GELU (GPT-2).
    GeluTanh,
    /// `x·σ(x)`.
    Silu,
}

impl Activation {
    /// The ABI code: 0 identity, 1 relu, 2 gelu, 3 gelu_tanh, 4 silu.
    pub fn from_code(code: u32) -> Option<Activation> {
        match code {
            0 => Some(Activation::Identity),
            1 => Some(Activation::Relu),
            2 => Some(Activation::Gelu),
            3 => Some(Activation::GeluTanh),
            4 => Some(Activation::Silu),
            _ => None,
        }
    }
}

#[allow(clippy::excessive_precision)] // coefficients as printed by the fit
mod coef {
    /// `erf(z)/z ≈ P(z²)` on `z ∈ [0, Z1]` (minimax fit of `z·P(z²)` with `P0 = 2/√π`, max
    /// error 6.8e-10; `scripts/fit-erf.py` prints them), highest first.
    pub const P7: f32 = -7.451_485_999e-6;
    pub const P6: f32 = 1.032_486_616e-4;
    pub const P5: f32 = -8.324_101_218e-4;
    pub const P4: f32 = 5.207_292_270e-3;
    pub const P3: f32 = -2.685_926_668e-2;
    pub const P2: f32 = 1.128_364_950e-1;
    pub const P1: f32 = -3.761_262_894e-1;
    pub const P0: f32 = 1.128_379_226;
    /// `−ln erfc(z) − z² ≈ S(z − 2.5)` on `z ∈ [Z0, 4]` (Chebyshev fit, max error 1.3e-8),
    /// highest first. (Fitting `−ln erfc` itself needs a constant near 7.8, whose f32
    /// rounding alone costs 5e-7 relative; `z²` is added in f32 instead.)
    pub const S9: f32 = 5.211_840_123e-8;
    pub const S8: f32 = -1.596_675_065e-6;
    pub const S7: f32 = 1.303_387_453e-5;
    pub const S6: f32 = -7.746_556_838e-5;
    pub const S5: f32 = 4.206_314_638e-4;
    pub const S4: f32 = -2.165_071_604e-3;
    pub const S3: f32 = 1.085_819_745e-2;
    pub const S2: f32 = -5.610_639_386e-2;
    pub const S1: f32 = 3.526_807_378e-1;
    pub const S0: f32 = 1.556_815_279;
}
use coef::*;

/// Below this `|z|` erf is `z·P(z²)`; above, `1 − e^(−R)` (the split of ARM's optimized-routines `erff`).
const ERF_Z0: f32 = 0.921_875;
/// GELU keeps `z·P(z²)` below this `z` for `x > 0`, where `1 + erf` cannot cancel (wider needs more terms).
const ERF_Z1: f32 = 1.25;
/// Centre of R's variable (`z − 2.5 ∈ [−1.58, 1.5]`): smaller powers, less cancellation.
const ERF_MID: f32 = 2.5;
/// Beyond `|z| = 4`, `erfc(z) < 1.6e-8` (under half an ulp of 1): taken as 0.
const ERF_HI: f32 = 4.0;
/// `-inf` is clamped here so that `x·(something → 0)` gives 0, not NaN.
const LOWEST: f32 = f32::MIN;
#[allow(clippy::excessive_precision)]
/// `2·√(2/π)`: tanh-GELU's `2u = x·(C1 + C3·x²)`.
const GELU_TANH_C1: f32 = 1.595_769_121_605_730_7;
#[allow(clippy::excessive_precision)]
/// `2·√(2/π)·0.044715`: the cubic term's coefficient.
const GELU_TANH_C3: f32 = 0.071_354_816_272_919_5;

/// `erf(z)` for `0 ≤ z < Z1`.
#[inline]
fn erf_small(z: f32) -> f32 {
    let t = z * z;
    z * (((((((P7 * t + P6) * t + P5) * t + P4) * t + P3) * t + P2) * t + P1) * t + P0)
}

/// `erfc(z)` for `z ≥ Z0` (NaN propagates): `e^(−(z² + S(z − 2.5)))`, 0 beyond `z = 4`.
#[inline]
fn erfc_large(z: f32) -> f32 {
    let zc = if z > ERF_HI { ERF_HI } else { z };
    let u = zc - ERF_MID;
    let mut r = S9 * u + S8;
    r = r * u + S7;
    r = r * u + S6;
    r = r * u + S5;
    r = r * u + S4;
    r = r * u + S3;
    r = r * u + S2;
    r = r * u + S1;
    r = r * u + S0;
    let c = exp(-(zc * zc + r));
    if z > ERF_HI {
        0.0
    } else {
        c
    }
}

/// `erf(x)` in f32 (see the module notes for accuracy).
#[inline]
pub fn erf(x: f32) -> f32 {
    let z = x.abs();
    let e = if z < ERF_Z0 { erf_small(z) } else { 1.0 - erfc_large(z) };
    e.copysign(x)
}

/// Exact GELU `x·Φ(x)` (PyTorch `GELU()`). Near 0 (`z < Z0`, or `z < Z1` for `x > 0`),
/// `Φ = 1/2 + erf(z)/2` with `z = |x|/√2`; in the tails from `c = erfc(z)/2`: `x·c` for
/// `x < 0` (relative accuracy kept where `1 + erf` would cancel) and `x − x·c` for `x > 0`
/// (no rounding of `1 − c`).
#[inline]
pub fn gelu(x: f32) -> f32 {
    let x = if x < LOWEST { LOWEST } else { x };
    let z = x.abs() * core::f32::consts::FRAC_1_SQRT_2;
    if z < ERF_Z0 || (x > 0.0 && z < ERF_Z1) {
        x * (0.5 * erf_small(z).copysign(x) + 0.5)
    } else {
        // min(x, MAX): +inf·0 (c = 0 beyond z = 4) would be NaN; inf − 0 stays inf.
        let xc = (if x > f32::MAX { f32::MAX } else { x }) * (0.5 * erfc_large(z));
        if x < 0.0 {
            xc
        } else {
            x - xc
        }
    }
}

/// Tanh-approximate GELU (GPT-2 `gelu_new`) as `x / (1 + e^(−2u))`.
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    let x = if x < LOWEST { LOWEST } else { x };
    let t = x * (x * x * GELU_TANH_C3 + GELU_TANH_C1);
    x / (exp(-t) + 1.0)
}

/// SiLU `x / (1 + e^(−x))`.
#[inline]
pub fn silu(x: f32) -> f32 {
    let x = if x < LOWEST { LOWEST } else { x };
    x / (exp(-x) + 1.0)
}

/// `x < 0 ? 0 : x` (NaN passes through).
#[inline]
pub fn relu(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// `act(x)` for one value.
#[inline]
pub fn apply(act: Activation, x: f32) -> f32 {
    match act {
        Activation::Identity => x,
        Activation::Relu => relu(x),
        Activation::Gelu => gelu(x),
        Activation::GeluTanh => gelu_tanh(x),
        Activation::Silu => silu(x),
    }
}

/// One activation as a scalar and (SIMD builds) a four-lane function performing the
/// same f32 operations.
trait Act {
    fn s(x: f32) -> f32;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn v(x: core::arch::wasm32::v128) -> core::arch::wasm32::v128;
}

struct Identity;
struct Relu;
struct Gelu;
struct GeluTanh;
struct Silu;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::*;
    use crate::exp::exp_f32x4;
    use core::arch::wasm32::*;

    #[repr(align(16))]
    struct Lanes([f32; 4]);
    static LOWEST_LANES: Lanes = Lanes([LOWEST; 4]);
    static HIGHEST_LANES: Lanes = Lanes([f32::MAX; 4]);
    static ZERO_LANES: Lanes = Lanes([0.0; 4]);

    /// A constant the optimiser cannot see, so `pmax(x, c)` stays one instruction
    /// (see `exp.rs`: a visible constant turns it into the NaN-fixing `f32x4.max`).
    #[inline(always)]
    fn opaque(c: &'static Lanes) -> v128 {
        // SAFETY: `Lanes` is 16 bytes, 16-byte aligned, and immutable.
        unsafe { core::ptr::read_volatile(c as *const Lanes as *const v128) }
    }

    /// Four-lane `erf_small` for `z ≥ 0`.
    #[inline(always)]
    fn erf_small_f32x4(z: v128) -> v128 {
        let t = f32x4_mul(z, z);
        let mut p = f32x4_add(f32x4_mul(f32x4_splat(P7), t), f32x4_splat(P6));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P5));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P4));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P3));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P2));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P1));
        p = f32x4_add(f32x4_mul(p, t), f32x4_splat(P0));
        f32x4_mul(z, p)
    }

    /// Four-lane `erfc_large`.
    #[inline(always)]
    fn erfc_large_f32x4(z: v128) -> v128 {
        let hi = f32x4_splat(ERF_HI);
        let zc = f32x4_pmin(z, hi);
        let u = f32x4_sub(zc, f32x4_splat(ERF_MID));
        let mut r = f32x4_add(f32x4_mul(f32x4_splat(S9), u), f32x4_splat(S8));
        for c in [S7, S6, S5, S4, S3, S2, S1, S0] {
            r = f32x4_add(f32x4_mul(r, u), f32x4_splat(c));
        }
        let c = exp_f32x4(f32x4_neg(f32x4_add(f32x4_mul(zc, zc), r)));
        v128_andnot(c, f32x4_gt(z, hi))
    }

    /// Four-lane [`gelu`](super::gelu) for near lanes (the scalar's first branch).
    #[inline(always)]
    fn gelu_near_f32x4(x: v128, z: v128) -> v128 {
        let e = v128_or(erf_small_f32x4(z), v128_and(x, f32x4_splat(-0.0)));
        f32x4_mul(x, f32x4_add(f32x4_mul(f32x4_splat(0.5), e), f32x4_splat(0.5)))
    }

    /// Four-lane [`gelu`](super::gelu) for tail lanes and NaN (the scalar's second branch).
    #[inline(always)]
    fn gelu_tail_f32x4(x: v128, z: v128) -> v128 {
        let xc = f32x4_mul(f32x4_pmin(x, opaque(&HIGHEST_LANES)), f32x4_mul(f32x4_splat(0.5), erfc_large_f32x4(z)));
        v128_bitselect(xc, f32x4_sub(x, xc), f32x4_lt(x, f32x4_splat(0.0)))
    }

    /// Four-lane [`gelu`](super::gelu) after the clamp, lane for lane the scalar's values.
    /// The branch is per vector, not per lane: the tail (a degree-9 polynomial and `exp`)
    /// is most of the cost of both branches, and MLP pre-activations mostly lie in the near
    /// range `-1.30 < x < 1.77`, so a vector whose four lanes are all near skips the tail.
    /// Any other vector (a lane in the tail, or NaN) evaluates both and selects per lane.
    /// Skipping the near polynomial for all-tail vectors too was measured slower on
    /// inputs uniform in [-10, 10]: it saves little, and the second branch mispredicts.
    #[inline(always)]
    fn gelu_f32x4(x: v128) -> v128 {
        let z = f32x4_mul(v128_andnot(x, f32x4_splat(-0.0)), f32x4_splat(core::f32::consts::FRAC_1_SQRT_2));
        // Near: z < Z0, or z < Z1 where x > 0 (NaN compares false: tail).
        let z_hi = v128_bitselect(f32x4_splat(ERF_Z1), f32x4_splat(ERF_Z0), f32x4_gt(x, f32x4_splat(0.0)));
        let near = f32x4_lt(z, z_hi);
        // One bit per lane, set where the lane is near.
        if i32x4_bitmask(near) == 0b1111 {
            gelu_near_f32x4(x, z)
        } else {
            v128_bitselect(gelu_near_f32x4(x, z), gelu_tail_f32x4(x, z), near)
        }
    }

    #[inline(always)]
    pub fn lowest(x: v128) -> v128 {
        f32x4_pmax(x, opaque(&LOWEST_LANES))
    }

    impl Act for Identity {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            x
        }
        #[inline(always)]
        fn v(x: v128) -> v128 {
            x
        }
    }
    impl Act for Relu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            relu(x)
        }
        #[inline(always)]
        fn v(x: v128) -> v128 {
            // pmax(x, 0) = x < 0 ? 0 : x, like the scalar (NaN kept); the zero is opaque,
            // else LLVM emits f32x4.max (several instructions in V8).
            f32x4_pmax(x, opaque(&ZERO_LANES))
        }
    }
    impl Act for Gelu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            gelu(x)
        }
        #[inline(always)]
        fn v(x: v128) -> v128 {
            gelu_f32x4(lowest(x))
        }
    }
    impl Act for GeluTanh {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            gelu_tanh(x)
        }
        #[inline(always)]
        fn v(x: v128) -> v128 {
            let x = lowest(x);
            let x2 = f32x4_mul(x, x);
            let t = f32x4_mul(x, f32x4_add(f32x4_mul(x2, f32x4_splat(GELU_TANH_C3)), f32x4_splat(GELU_TANH_C1)));
            f32x4_div(x, f32x4_add(exp_f32x4(f32x4_neg(t)), f32x4_splat(1.0)))
        }
    }
    impl Act for Silu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            silu(x)
        }
        #[inline(always)]
        fn v(x: v128) -> v128 {
            let x = lowest(x);
            f32x4_div(x, f32x4_add(exp_f32x4(f32x4_neg(x)), f32x4_splat(1.0)))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod scalar_impls {
    use super::*;
    impl Act for Identity {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            x
        }
    }
    impl Act for Relu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            relu(x)
        }
    }
    impl Act for Gelu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            gelu(x)
        }
    }
    impl Act for GeluTanh {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            gelu_tanh(x)
        }
    }
    impl Act for Silu {
        #[inline(always)]
        fn s(x: f32) -> f32 {
            silu(x)
        }
    }
}

/// `x[r, c] ← act(x[r, c] + bias[c])` for `r < rows`, `c < cols`, rows `ld` apart
/// (`bias` None: no add). In place.
pub fn bias_act_rows(x: &mut [f32], rows: usize, cols: usize, ld: usize, bias: Option<&[f32]>, act: Activation) {
    assert!(rows <= 1 || ld >= cols, "bias_act_rows: ld < cols");
    assert!(x.len() >= super::span(rows, cols, ld), "bias_act_rows: x too short");
    if let Some(b) = bias {
        assert!(b.len() >= cols, "bias_act_rows: bias too short");
    }
    if rows == 0 || cols == 0 {
        return;
    }
    let b = bias.map(|b| b.as_ptr());
    // SAFETY: every row r < rows spans [r·ld, r·ld + cols) ⊆ x (asserted above), the
    // bias holds cols values, and the bias is a shared slice distinct from `x`.
    unsafe {
        let p = x.as_mut_ptr();
        match act {
            Activation::Identity => map_rows::<Identity>(p, rows, cols, ld, b),
            Activation::Relu => map_rows::<Relu>(p, rows, cols, ld, b),
            Activation::Gelu => map_rows::<Gelu>(p, rows, cols, ld, b),
            Activation::GeluTanh => map_rows::<GeluTanh>(p, rows, cols, ld, b),
            Activation::Silu => map_rows::<Silu>(p, rows, cols, ld, b),
        }
    }
}

/// `gate[r, c] ← act(gate[r, c] + gate_bias[c]) · (up[r, c] + up_bias[c])`, rows `ldg`
/// and `ldu` apart (biases optional). SwiGLU is `Silu`, GeGLU `Gelu`/`GeluTanh`.
#[allow(clippy::too_many_arguments)]
pub fn gated_rows(
    gate: &mut [f32], ldg: usize, up: &[f32], ldu: usize, rows: usize, cols: usize, gate_bias: Option<&[f32]>,
    up_bias: Option<&[f32]>, act: Activation,
) {
    assert!(rows <= 1 || (ldg >= cols && ldu >= cols), "gated_rows: row stride < cols");
    assert!(gate.len() >= super::span(rows, cols, ldg), "gated_rows: gate too short");
    assert!(up.len() >= super::span(rows, cols, ldu), "gated_rows: up too short");
    for b in [gate_bias, up_bias].iter().flatten() {
        assert!(b.len() >= cols, "gated_rows: bias too short");
    }
    if rows == 0 || cols == 0 {
        return;
    }
    let bg = gate_bias.map(|b| b.as_ptr());
    let bu = up_bias.map(|b| b.as_ptr());
    // SAFETY: as in `bias_act_rows`; `up` and the biases are shared slices, so they do
    // not overlap the exclusive `gate`.
    unsafe {
        let (g, u) = (gate.as_mut_ptr(), up.as_ptr());
        match act {
            Activation::Identity => gate_rows::<Identity>(g, ldg, u, ldu, rows, cols, bg, bu),
            Activation::Relu => gate_rows::<Relu>(g, ldg, u, ldu, rows, cols, bg, bu),
            Activation::Gelu => gate_rows::<Gelu>(g, ldg, u, ldu, rows, cols, bg, bu),
            Activation::GeluTanh => gate_rows::<GeluTanh>(g, ldg, u, ldu, rows, cols, bg, bu),
            Activation::Silu => gate_rows::<Silu>(g, ldg, u, ldu, rows, cols, bg, bu),
        }
    }
}

/// Adds `b[c]` (when given) to `v`, for the value at column `c`.
///
/// # Safety
/// `b`, when given, readable at `c`.
#[inline(always)]
unsafe fn biased(v: f32, b: Option<*const f32>, c: usize) -> f32 {
    match b {
        Some(b) => v + *b.add(c),
        None => v,
    }
}

/// # Safety
/// Rows `r < rows` of `cols` values at `x + r·ld` writable; `b` readable for `cols`.
#[inline(always)]
unsafe fn map_rows<A: Act>(x: *mut f32, rows: usize, cols: usize, ld: usize, b: Option<*const f32>) {
    for r in 0..rows {
        let row = x.add(r * ld);
        #[allow(unused_mut)]
        let mut c = 0;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use super::lanes::{ld as load, st};
            use core::arch::wasm32::f32x4_add;
            let n4 = cols / 4 * 4;
            match b {
                Some(b) => {
                    while c < n4 {
                        st(row.add(c), A::v(f32x4_add(load(row.add(c)), load(b.add(c)))));
                        c += 4;
                    }
                }
                None => {
                    while c < n4 {
                        st(row.add(c), A::v(load(row.add(c))));
                        c += 4;
                    }
                }
            }
        }
        while c < cols {
            *row.add(c) = A::s(biased(*row.add(c), b, c));
            c += 1;
        }
    }
}

/// # Safety
/// As [`map_rows`] for `g` (written) and `u` (read, not overlapping `g`); biases
/// readable for `cols`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn gate_rows<A: Act>(
    g: *mut f32, ldg: usize, u: *const f32, ldu: usize, rows: usize, cols: usize, bg: Option<*const f32>,
    bu: Option<*const f32>,
) {
    for r in 0..rows {
        let (gr, ur) = (g.add(r * ldg), u.add(r * ldu));
        #[allow(unused_mut)]
        let mut c = 0;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            use super::lanes::{ld as load, st};
            use core::arch::wasm32::{f32x4_add, f32x4_mul};
            let n4 = cols / 4 * 4;
            while c < n4 {
                let mut a = load(gr.add(c));
                if let Some(b) = bg {
                    a = f32x4_add(a, load(b.add(c)));
                }
                let mut v = load(ur.add(c));
                if let Some(b) = bu {
                    v = f32x4_add(v, load(b.add(c)));
                }
                st(gr.add(c), f32x4_mul(A::v(a), v));
                c += 4;
            }
        }
        while c < cols {
            *gr.add(c) = A::s(biased(*gr.add(c), bg, c)) * biased(*ur.add(c), bu, c);
            c += 1;
        }
    }
}
