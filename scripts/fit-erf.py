#!/usr/bin/env python3
"""Fits the polynomial of erf-GELU's near range in crates/kernels/src/elementwise/activation.rs.

Not part of `npm test` (the coefficients are committed). Needs numpy and mpmath:

    python3 -m venv /path/to/venv && /path/to/venv/bin/pip install numpy mpmath
    /path/to/venv/bin/python scripts/fit-erf.py            # Z1 = 1.25, degree 7: the committed P0..P7
    /path/to/venv/bin/python scripts/fit-erf.py 1.25 6     # another range or degree, to compare

erf(z)/z is fitted as P(z²) on [0, Z1], P0 fixed to 2/sqrt(pi) (so erf keeps its slope at 0): a
least-squares fit of the absolute error of z·P(z²), reweighted (Lawson's iteration) toward the
minimax fit. It prints the fit's largest error in float64, the largest error of the float32
Horner evaluation the kernel performs (against erf in 40-digit arithmetic), and the coefficients
as Rust constants, highest first.
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(z1: float, degree: int, points: int = 4000, rounds: int = 60):
    z = np.linspace(1e-4, z1, points)
    t = z * z
    erf = np.array([float(mp.erf(mp.mpf(v))) for v in z])
    p0 = float(2 / mp.sqrt(mp.pi))
    # erf(z) − P0·z = Σ_k P_k · z · t^k for k = 1 … degree
    basis = np.stack([z * t ** k for k in range(1, degree + 1)], 1)
    rhs = erf - p0 * z
    w = np.ones(points)
    for _ in range(rounds):
        s = np.sqrt(w)
        c, *_ = np.linalg.lstsq(basis * s[:, None], rhs * s, rcond=None)
        w *= np.abs(basis @ c - rhs)
        w /= w.sum()
    return [p0, *c], float(np.max(np.abs(basis @ c - rhs)))


def float32_error(coefs, z1: float) -> float:
    c = [np.float32(v) for v in coefs]
    z = np.linspace(0, z1, 10001).astype(np.float32)
    t = z * z
    p = np.full_like(z, c[-1])
    for k in reversed(c[:-1]):
        p = p * t + k
    got = (z * p).astype(np.float64)
    want = np.array([float(mp.erf(mp.mpf(float(v)))) for v in z])
    return float(np.max(np.abs(got - want)))


if __name__ == '__main__':
    z1 = float(sys.argv[1]) if len(sys.argv) > 1 else 1.25
    degree = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    coefs, err = fit(z1, degree)
    print(f'// Z1 = {z1}, degree {degree} in z²: fit error {err:.2e}, float32 Horner error {float32_error(coefs, z1):.2e}')
    for k in reversed(range(len(coefs))):
        print(f'pub const P{k}: f32 = {np.float32(coefs[k]).item():.9e};')
