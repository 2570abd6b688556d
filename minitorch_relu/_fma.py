"""a * b + c rounded once, as a CPU's fused multiply-add: NumPy has none, and torch's vectorized
kernels use it (the generator's transforms in random.py, linspace in creation.py). Host arrays only.
"""

import numpy as np


def _round_to_odd(s, err):
    """s rounded to odd instead of to nearest, given the exact error err of s: the step that makes
    a later rounding to a shorter format (or of a sum) correct (Boldo and Melquiond)."""
    inexact = err != 0
    bits = s.view(np.int64)  # for a float of either sign, bits - 1 is its neighbour toward zero
    bits = bits - (inexact & ((err < 0) != (s < 0)))  # truncate: step back if s was rounded away from 0
    return (bits | inexact).view(np.float64)  # then set the last bit when anything was cut off


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fma(a, b, c):
    """a * b + c with one rounding, like the CPU's fused multiply-add (NumPy has no fma).

    float32: the product is exact in float64; the sum rounded to odd in float64, then to float32.
    float64: Dekker's exact product, then Boldo and Melquiond's round-to-odd sum.
    """
    dtype = np.result_type(a, b, c)
    a, b, c = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, c)))
    if dtype == np.float32:
        s = a * b + c  # the product is exact; only the sum rounds
        # Rounding s again to float32 can only go wrong where s landed exactly halfway between two
        # float32 values (its 29 extra bits are 100...0), or below float32's normal range; those
        # few get the sum rounded to odd from its exact error.
        risky = ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < np.finfo(np.float32).tiny)
        if risky.any():
            s[risky] = _round_to_odd(*_two_sum(c[risky], a[risky] * b[risky]))
        return s.astype(np.float32)

    def split(x):  # x = hi + lo with 26-bit halves, so hi * hi etc. are exact
        t = 134217729.0 * x
        hi = t - (t - x)
        return hi, x - hi

    p = a * b
    (ah, al), (bh, bl) = split(a), split(b)
    p_err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s, s_err = _two_sum(c, p)
    v, v_err = _two_sum(s_err, p_err)
    return s + _round_to_odd(v, v_err)
