"""Hypothesis strategies shared by the unit tests and the parity tests.

Shapes are small (sides up to 4, up to 3 dimensions) so a finite-difference check over every element
stays fast. Values are float64 NumPy arrays of both signs; tests cast them to float32 where needed.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """A tuple of ``min_dims`` to ``max_dims`` sides, each in [min_side, max_side]."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw, min_dims=0, max_dims=3, max_side=4):
    """Two shapes that broadcast together.

    Both come from one full shape: each keeps a tail of it (so one may have fewer dimensions) and
    turns some of its sides into 1 (so a side may be stretched).
    """
    full = draw(shapes(min_dims, max_dims, 1, max_side))

    def derive():
        kept = draw(st.integers(0, len(full)))
        tail = full[len(full) - kept:]
        return tuple(1 if draw(st.booleans()) else side for side in tail)

    return derive(), derive()


@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) that matmul accepts: 1-D operands, plain matrices, broadcast batch dimensions."""
    m, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch_a, batch_b = draw(broadcastable_shapes(0, 2, 3))
    a = (k,) if draw(st.booleans()) else batch_a + (m, k)
    b = (k,) if draw(st.booleans()) else batch_b + (k, n)
    return a, b


def floats(low=-3.0, high=3.0, zeros=True, margin=0.0):
    """Finite floats in [low, high], both signs.

    ``zeros``: draw exact 0.0 often (where ReLU and LeakyReLU have their kink).
    ``margin``: keep every value at least ``margin`` away from 0, for finite differences near a
    kink or a pole (relu at 0, 1/x at 0). With a margin, ``low`` is ignored: the range is symmetric.
    """
    if margin:
        magnitude = st.floats(margin, high, allow_nan=False, allow_infinity=False)
        values = st.tuples(st.sampled_from([-1.0, 1.0]), magnitude).map(lambda sv: sv[0] * sv[1])
    else:
        values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(st.just(0.0), values) if zeros and not margin else values


def arrays(shape, elements=None, unique=False):
    """A float64 array of ``shape`` whose elements come from ``elements`` (default: ``floats()``).

    ``unique``: no two elements equal (max has no ties, so its gradient is well defined).
    """
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats(), unique=unique)


def positive_floats(low=0.5, high=3.0):
    """For log, sqrt and divisors: bounded away from 0 so the derivatives stay moderate."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def dims_for(draw, ndim):
    """A ``dim`` argument for a reduction over a tensor with ``ndim`` dimensions: None, an int
    (possibly negative), a tuple of distinct dims, or () (which torch reads as every dim)."""
    if ndim == 0:
        return draw(st.sampled_from([None, ()]))
    kind = draw(st.sampled_from(["none", "empty", "int", "tuple"]))
    if kind in ("none", "empty"):
        return None if kind == "none" else ()
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(picked)


@st.composite
def spaced_arrays(draw, shape, gap=0.1):
    """A float64 array whose elements differ pairwise by at least ``gap``, in random order and of both
    signs: max has no ties, and nudging one element by a finite-difference step cannot reorder them."""
    size = int(np.prod(shape, dtype=np.int64))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    step = draw(st.floats(gap, 1.0))
    shift = draw(st.floats(-2.0, 2.0))
    return ((order - size / 2) * step + shift).reshape(shape)
