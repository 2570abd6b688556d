"""The normal distribution's CDF, Phi(x) = (1 + erf(x / sqrt(2))) / 2, for GELU.

NumPy has no erf, so it is computed here from two classic expansions in float64, with array ops
alone (the same code runs on NumPy, CuPy and the strict device). Measured against math.erfc on
[-40, 40]: absolute error below 6e-16 everywhere, relative error below 6e-16 for x >= 0 and below
3e-12 for x < 0 (where Phi is small, 1 + erf(z) cancels a few digits for -2.5 < z < 0):

- |z| < 2.5: erf(z) = 2/sqrt(pi) * exp(-z^2) * sum_n (2 z^2)^n z / (1 * 3 * ... * (2n+1)), a series
  of positive terms (no cancellation); 45 terms reach float64's precision for |z| <= 2.5.
- |z| >= 2.5: erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))),
  Laplace's continued fraction, evaluated from 40 levels deep; it keeps full *relative* precision
  in the tail, where Phi(x) is tiny and 1 - erf would lose every digit.
"""

import math

SPLIT = 2.5
SERIES_TERMS = 45
FRACTION_DEPTH = 40


def erf_series(z, xp):
    """erf(z) for |z| <= SPLIT."""
    term = z
    total = z
    two_z2 = 2 * z * z
    for n in range(1, SERIES_TERMS):
        term = term * two_z2 / (2 * n + 1)
        total = total + term
    return (2 / math.sqrt(math.pi)) * xp.exp(-z * z) * total


def erfc_fraction(z, xp):
    """erfc(z) for z >= SPLIT."""
    tail = z
    for k in range(FRACTION_DEPTH, 0, -1):
        tail = z + (k / 2) / tail
    return xp.exp(-z * z) / (math.sqrt(math.pi) * tail)


def normal_cdf(x, xp):
    """Phi(x) for a float array x, computed in float64 and returned in x's dtype."""
    z = x.astype("float64") * (1 / math.sqrt(2))
    small = xp.abs(z) < SPLIT
    # Each expansion sees only the inputs it is accurate for (others are clipped into its range, so
    # nothing overflows), and where() picks the right one per element.
    erf_small = erf_series(xp.clip(z, -SPLIT, SPLIT), xp)
    erfc_far = erfc_fraction(xp.maximum(xp.abs(z), SPLIT), xp)  # erfc(|z|)
    far = xp.where(z > 0, 1 - 0.5 * erfc_far, 0.5 * erfc_far)  # Phi far right, Phi far left
    return xp.where(small, 0.5 * (1 + erf_small), far).astype(x.dtype)
