"""The one table of the differentiable ops, shared by the gradcheck tests (tests/test_ops_gradcheck.py)
and the torch parity tests (parity/test_ops_parity.py): a new op gets one entry here, and both test it.

Each entry is an ``Op``: a function ``fn(lib, *tensors, **params)`` written once for both engines
(``lib`` is ``minitorch_relu`` or ``torch``: the same names, ``lib.cat``, ``lib.nn.functional.gelu``,
``x.clamp(min=...)``, are the contract), and two ways to draw its inputs with hypothesis:

- ``draw(data)`` for the parity tests: values that reach the op's conventions (exact zeros at a
  kink, ties, bounds hit exactly, huge values), since there ours must equal torch's;
- ``smooth(data)`` for gradcheck: values away from every kink and tie, where finite differences
  see the derivative (default: ``draw``).

Both return a ``Case``: the input arrays (floating ones become leaves that require grad, integer and
bool ones plain tensors: targets, conditions) and the parameters passed to ``fn``. This module
imports NumPy and hypothesis only, never torch.
"""

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from tests.strategies import (
    arrays,
    broadcastable_shapes,
    dims_for,
    floats,
    matmul_shapes,
    positive_floats,
    shapes,
    spaced_arrays,
)


@dataclass
class Case:
    arrays: list
    params: dict = field(default_factory=dict)


@dataclass
class Op:
    fn: object  # fn(lib, *tensors, **params)
    draw: object  # draw(data) -> Case, for parity
    smooth: object = None  # draw(data) -> Case, for gradcheck; None: the same as draw
    host_only: str = None  # why the op matches torch only on the NumPy backend (tests skip it elsewhere)

    def smooth_case(self, data):
        return (self.smooth or self.draw)(data)


OPS = {}


def op(name, draw, smooth=None, host_only=None):
    """Register ``fn`` under ``name`` (a decorator)."""

    def register(fn):
        assert name not in OPS, name
        OPS[name] = Op(fn, draw, smooth, host_only)
        return fn

    return register


def one(values=None, shape=None, **params):
    """A draw function for a single input of a drawn shape (0-3 dims) with ``values``."""

    def draw(data):
        return Case([data.draw(arrays(shape or data.draw(shapes()), values))], dict(params))

    return draw


def fixed(draw, **params):
    """``draw`` with some parameters set (one table entry per reduction, say)."""

    def fixed_draw(data):
        case = draw(data)
        return Case(case.arrays, {**case.params, **params})

    return fixed_draw


# values ---------------------------------------------------------------------------------------
HUGE = st.one_of(floats(-20.0, 20.0), st.sampled_from([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4]))
FEW = st.sampled_from([-1.0, 0.0, 0.5, 2.0])  # few distinct values: ties are common
AWAY_FROM_ZERO = floats(margin=0.05)


def integers_and_halves(data, shape, half):
    """Values k (+ 0.5 if ``half``): two such arrays never tie, and differ by >= 0.5 everywhere."""
    return data.draw(arrays(shape, st.integers(-3, 3).map(lambda k: k + (0.5 if half else 0.0))))


# ----- shape -----------------------------------------------------------------------------------
def _unsqueeze(data):
    x = data.draw(arrays(data.draw(shapes())))
    return Case([x], dict(dim=data.draw(st.integers(-x.ndim - 1, x.ndim))))


op("unsqueeze", _unsqueeze)(lambda lib, x, dim: x.unsqueeze(dim))


def _squeeze(data):
    x = data.draw(arrays(data.draw(shapes(min_side=1, max_side=2))))
    n = max(x.ndim, 1)
    dim = data.draw(st.one_of(st.none(), st.integers(-n, n - 1),
                              st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(tuple)))
    if x.ndim == 0 and isinstance(dim, tuple):
        dim = 0
    return Case([x], dict(dim=dim))


op("squeeze", _squeeze)(lambda lib, x, dim: x.squeeze() if dim is None else x.squeeze(dim))


def _expand(data):
    x = data.draw(arrays(data.draw(shapes(min_side=1, max_side=3))))
    sizes = [data.draw(st.integers(1, 3)) if n == 1 else data.draw(st.sampled_from([n, -1])) for n in x.shape]
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2))
    return Case([x], dict(sizes=tuple(lead + sizes)))


op("expand", _expand)(lambda lib, x, sizes: x.expand(sizes) * 1.0)  # * 1.0: a fresh tensor, not a view


def _flatten(data):
    x = data.draw(arrays(data.draw(shapes(max_dims=4))))
    n = max(x.ndim, 1)
    start = data.draw(st.integers(-n, n - 1))
    end = data.draw(st.integers(start % n, n - 1)) if x.ndim else data.draw(st.sampled_from([0, -1]))
    return Case([x], dict(start=start, end=end))


op("flatten", _flatten)(lambda lib, x, start, end: x.flatten(start, end))
op("lib.flatten default", one())(lambda lib, x: lib.flatten(x))


def _cat(data):
    base = list(data.draw(shapes(min_dims=1)))
    axis = data.draw(st.integers(0, len(base) - 1))
    pieces = []
    for _ in range(data.draw(st.integers(1, 3))):
        shape = list(base)
        shape[axis] = data.draw(st.integers(1, 3))
        pieces.append(data.draw(arrays(tuple(shape))))
    dim = axis - len(base) if data.draw(st.booleans()) else axis  # negative dims too
    return Case(pieces, dict(dim=dim))


op("cat", _cat)(lambda lib, *pieces, dim: lib.cat(list(pieces), dim=dim))


def _stack(data):
    shape = data.draw(shapes())
    pieces = [data.draw(arrays(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    return Case(pieces, dict(dim=data.draw(st.integers(-len(shape) - 1, len(shape)))))


op("stack", _stack)(lambda lib, *pieces, dim: lib.stack(pieces, dim=dim))


def _reshaped(data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1))))
    n = x.ndim
    return Case([x], dict(perm=tuple(data.draw(st.permutations(range(n)))),
                          dims=(data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1)))))


def _dims_reversed(lib, x):
    """``x.T``; torch deprecates .T beyond 2-D, so there it reverses the dims with permute."""
    if lib.__name__ == "torch" and x.ndim != 2:
        return x.permute(*reversed(range(x.ndim)))
    return x.T


op("reshape(-1)", _reshaped)(lambda lib, x, perm, dims: x.reshape(-1))
op("reshape reversed", _reshaped)(lambda lib, x, perm, dims: x.reshape(*x.shape[::-1]))
op("view(n, -1)", _reshaped)(lambda lib, x, perm, dims: x.view(x.shape[0], -1))
op(".T", _reshaped)(lambda lib, x, perm, dims: _dims_reversed(lib, x))
op("transpose", _reshaped)(lambda lib, x, perm, dims: x.transpose(*dims))
op("permute", _reshaped)(lambda lib, x, perm, dims: x.permute(*perm))


# ----- indexing --------------------------------------------------------------------------------
def _cube(index=None, values=None):
    """A (2-3, 2-3, 2-3) input and, with ``index``, int64 index arrays for its dims ``index``
    (one shared length, repeats allowed)."""

    def draw(data):
        x = data.draw(arrays(data.draw(shapes(min_dims=3, max_dims=3, min_side=2, max_side=3)), values))
        length = data.draw(st.integers(1, 4))
        picks = [np.array(data.draw(st.lists(st.integers(0, x.shape[d] - 1), min_size=length, max_size=length)),
                          dtype=np.int64) for d in index or ()]
        return Case([x, *picks])

    return draw


def _masked(values=None):
    def draw(data):
        return Case([data.draw(arrays(data.draw(shapes(min_dims=1)), values))])

    return draw


AWAY_FROM_THE_MASK = floats(margin=0.1)  # for gradcheck: a step must not move a value across x > 0
op("x[1]", _cube(), _cube(values=AWAY_FROM_THE_MASK))(lambda lib, x: x[1])
op("x[-1, 0]", _cube(), _cube(values=AWAY_FROM_THE_MASK))(lambda lib, x: x[-1, 0])
op("x[:, 1:, ::2]", _cube(), _cube(values=AWAY_FROM_THE_MASK))(lambda lib, x: x[:, 1:, ::2])
op("x[..., None, 0]", _cube(), _cube(values=AWAY_FROM_THE_MASK))(lambda lib, x: x[..., None, 0])
op("x[indices] repeated", _cube(index=[0]), _cube(index=[0], values=AWAY_FROM_THE_MASK))(lambda lib, x, i: x[i])
op("x[i, :, j]", _cube(index=[0, 2]), _cube(index=[0, 2], values=AWAY_FROM_THE_MASK))(lambda lib, x, i, j: x[i, :, j])
op("x[x > 0]", _masked(), _masked(AWAY_FROM_THE_MASK))(lambda lib, x: x[x > 0])


# ----- elementwise -----------------------------------------------------------------------------
op("abs", one(), one(AWAY_FROM_ZERO))(lambda lib, x: x.abs())
op("lib.abs", one(), one(AWAY_FROM_ZERO))(lambda lib, x: lib.abs(x))
op("sign", one(), one(AWAY_FROM_ZERO))(lambda lib, x: x.sign())

AT_BOUNDS = st.one_of(floats(), st.sampled_from([-0.5, 1.0]))  # the bounds below, hit exactly
OFF_BOUNDS = floats().filter(lambda v: min(abs(v + 0.5), abs(v - 1.0), abs(v)) > 0.05)
op("clamp(-0.5, 1)", one(AT_BOUNDS), one(OFF_BOUNDS))(lambda lib, x: x.clamp(-0.5, 1.0))
op("clamp(min=0)", one(AT_BOUNDS), one(OFF_BOUNDS))(lambda lib, x: x.clamp(min=0.0))
op("clamp(max=1)", one(AT_BOUNDS), one(OFF_BOUNDS))(lambda lib, x: x.clamp(max=1.0))
op("clip(min=1, max=-0.5)", one(AT_BOUNDS), one(OFF_BOUNDS))(lambda lib, x: x.clip(min=1.0, max=-0.5))
op("lib.clamp", one(AT_BOUNDS), one(OFF_BOUNDS))(lambda lib, x: lib.clamp(x, min=-0.5, max=1.0))


def _two_broadcast(values_a=None, values_b=None):
    def draw(data):
        shape_a, shape_b = data.draw(broadcastable_shapes())
        return Case([data.draw(arrays(shape_a, values_a)), data.draw(arrays(shape_b, values_b))])

    return draw


def _untied(data):
    shape_a, shape_b = data.draw(broadcastable_shapes())
    return Case([integers_and_halves(data, shape_a, False), integers_and_halves(data, shape_b, True)])


op("maximum", _two_broadcast(FEW, FEW), _untied)(lambda lib, a, b: lib.maximum(a, b))
op("minimum", _two_broadcast(FEW, FEW), _untied)(lambda lib, a, b: lib.minimum(a, b))
op("Tensor.maximum", _two_broadcast(FEW, FEW), _untied)(lambda lib, a, b: a.maximum(b))
op("Tensor.minimum", _two_broadcast(FEW, FEW), _untied)(lambda lib, a, b: a.minimum(b))


def _where(data):
    shape_x, shape_y = data.draw(broadcastable_shapes())
    shape_c = data.draw(st.sampled_from([shape_x, shape_y]))
    condition = data.draw(arrays(shape_c, st.booleans()).map(lambda a: a.astype(bool)))
    return Case([condition, data.draw(arrays(shape_x)), data.draw(arrays(shape_y))])


op("where", _where)(lambda lib, c, x, y: lib.where(c, x, y))
op("Tensor.where", _where)(lambda lib, c, x, y: x.where(c, y))
op("where(c, x, 0.5)", _where)(lambda lib, c, x, y: lib.where(c, x, 0.5) * y)

# tensor exponents: positive bases (a negative base to a fractional power is nan)
op("x ** y", _two_broadcast(positive_floats(0.25, 3.0), floats(-2.0, 2.0)))(lambda lib, a, b: a**b)
op("x.pow(y)", _two_broadcast(positive_floats(0.25, 3.0), floats(-2.0, 2.0)))(lambda lib, a, b: a.pow(b))
op("x.pow(3)", one(floats(margin=0.25)))(lambda lib, x: x.pow(3))
op("2 ** x", one(floats(-4.0, 4.0)))(lambda lib, x: 2**x)
op("0.5 ** x", one(floats(-4.0, 4.0)))(lambda lib, x: 0.5**x)

# the methods: torch's alpha scales the second operand
op("add alpha", _two_broadcast())(lambda lib, a, b: a.add(b, alpha=2.5))
op("sub alpha", _two_broadcast())(lambda lib, a, b: a.sub(b, alpha=-1.5))
op("add", _two_broadcast())(lambda lib, a, b: a.add(b))
op("sub number", one())(lambda lib, x: x.sub(0.75, alpha=2))
op("mul", _two_broadcast())(lambda lib, a, b: a.mul(b))
op("div", _two_broadcast(None, floats(margin=0.25)))(lambda lib, a, b: a.div(b))
op("neg", one())(lambda lib, x: x.neg())

# the operators, with broadcasting; a divisor stays away from 0 (0.25 for parity, 0.5 for gradcheck)
op("a + b", _two_broadcast())(lambda lib, a, b: a + b)
op("a - b", _two_broadcast())(lambda lib, a, b: a - b)
op("a * b", _two_broadcast())(lambda lib, a, b: a * b)
op("a / b", _two_broadcast(None, floats(margin=0.25)), _two_broadcast(None, floats(margin=0.5)))(lambda lib, a, b: a / b)

# with a Python number, on either side; values away from 0 (the divisions and negative powers)
NUMBER_OPS = {
    "x + 2": lambda x: x + 2.0, "x + 2.5": lambda x: x + 2.5, "2 - x": lambda x: 2.0 - x, "3 - x": lambda x: 3 - x,
    "x * -1.5": lambda x: x * -1.5, "x * 0.1": lambda x: x * 0.1, "3 / x": lambda x: 3 / x, "2 / x": lambda x: 2 / x,
    "x / 4": lambda x: x / 4, "x / 7": lambda x: x / 7, "-x": lambda x: -x,
    "x ** 0": lambda x: x**0, "x ** 1": lambda x: x**1, "x ** 2": lambda x: x**2, "x ** 3": lambda x: x**3,
    "x ** -1": lambda x: x**-1,
}
for _name, _fn in NUMBER_OPS.items():
    op(_name, one(floats(margin=0.25)), one(floats(margin=0.5)))(lambda lib, x, fn=_fn: fn(x))
# fractional powers need x > 0
for _exponent in (0.5, 1.5, -0.5, 2.5, -2.5):
    op(f"x ** {_exponent}", one(positive_floats(0.25, 4.0)), one(positive_floats()))(
        lambda lib, x, exponent=_exponent: x**exponent)


def _matmul(data):
    shape_a, shape_b = data.draw(matmul_shapes())  # 1-D, 2-D and batched
    return Case([data.draw(arrays(shape_a)), data.draw(arrays(shape_b))])


op("a @ b", _matmul)(lambda lib, a, b: a @ b)
op("a.matmul(b)", _matmul)(lambda lib, a, b: a.matmul(b))


# ----- reductions ------------------------------------------------------------------------------
def _spaced(min_dims=0, **params):
    def draw(data):
        return Case([data.draw(spaced_arrays(data.draw(shapes(min_dims=min_dims))))], dict(params))

    return draw


def _sum_or_mean(data):
    x = data.draw(arrays(data.draw(shapes())))
    return Case([x], dict(dim=data.draw(dims_for(x.ndim)), keepdim=data.draw(st.booleans())))


op("sum", _sum_or_mean)(lambda lib, x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim))
op("mean", _sum_or_mean)(lambda lib, x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim))
op("min", one(FEW, shape=None), _spaced(min_dims=1))(lambda lib, x: x.min())


def _along_a_dim(values=None, spaced=False):
    def draw(data):
        shape = data.draw(shapes())
        x = data.draw(spaced_arrays(shape)) if spaced else data.draw(arrays(shape, values))
        n = max(x.ndim, 1)
        return Case([x], dict(dim=data.draw(st.integers(-n, n - 1)), keepdim=data.draw(st.booleans())))

    return draw


# ties included: torch (CPU) reports the first minimum, and its gradient goes there
op("min(dim)", _along_a_dim(FEW), _along_a_dim(spaced=True))(lambda lib, x, dim, keepdim: x.min(dim, keepdim=keepdim))


def _nonempty(data):
    return Case([data.draw(arrays(data.draw(shapes(min_dims=1)), FEW))])


op("min over ties splits evenly", _nonempty, _spaced(min_dims=1))(lambda lib, x: x.min())
op("max over ties splits evenly", _nonempty, _spaced(min_dims=1))(lambda lib, x: x.max())
# no ties: with ties, which index max(dim) reports is not specified by torch
op("max(dim)", _along_a_dim(spaced=True))(lambda lib, x, dim, keepdim: x.max(dim, keepdim=keepdim))

WITH_ZEROS = st.sampled_from([-1.5, -1.0, 0.0, 0.0, 0.5, 2.0])  # one zero, two zeros, none
op("prod", one(WITH_ZEROS), one(floats(margin=0.25)))(lambda lib, x: x.prod())
op("prod(dim)", _along_a_dim(WITH_ZEROS), _along_a_dim(floats(margin=0.25)))(
    lambda lib, x, dim, keepdim: x.prod(dim, keepdim=keepdim))


def _variance(min_side=1, corrections=(0, 1, 2)):
    def draw(data):
        x = data.draw(arrays(data.draw(shapes(min_side=min_side)), floats(-5.0, 5.0)))
        # not dim=(): torch's var/std backward reads () as "no dim" (N = 1) while its forward reads
        # it as every dim; this engine reads it as every dim both ways (gradcheck confirms it)
        dim = data.draw(dims_for(x.ndim).filter(lambda d: d != ()))
        return Case([x], dict(dim=dim, keepdim=data.draw(st.booleans()),
                              correction=data.draw(st.sampled_from(corrections))))

    return draw


def _spread(data):
    """For gradcheck: no dim of size 1 and spaced values, so N > correction and std > 0."""
    x = data.draw(spaced_arrays(data.draw(shapes(min_dims=1, min_side=2))))
    return Case([x], dict(dim=data.draw(dims_for(x.ndim)), keepdim=data.draw(st.booleans()),
                          correction=data.draw(st.sampled_from([0, 1]))))


op("var", _variance(), _spread)(lambda lib, x, dim, keepdim, correction: x.var(dim=dim, correction=correction,
                                                                                keepdim=keepdim))
op("std", _variance(), _spread)(lambda lib, x, dim, keepdim, correction: x.std(dim=dim, correction=correction,
                                                                                keepdim=keepdim))
op("var unbiased=False", _variance(corrections=(0,)), _spread)(
    lambda lib, x, dim, keepdim, correction: x.var(dim, False, keepdim))


def _logsumexp(values):
    def draw(data):
        x = data.draw(arrays(data.draw(shapes(min_dims=1)), values))
        dim = data.draw(dims_for(x.ndim).filter(lambda d: d not in (None, ())))  # torch needs a dim
        return Case([x], dict(dim=dim, keepdim=data.draw(st.booleans())))

    return draw


op("logsumexp", _logsumexp(HUGE), _logsumexp(floats(-5.0, 5.0)))(
    lambda lib, x, dim, keepdim: x.logsumexp(dim, keepdim=keepdim))
op("lib.logsumexp", _logsumexp(floats(-5.0, 5.0)))(lambda lib, x, dim, keepdim: lib.logsumexp(x, dim, keepdim))


# ----- activations -----------------------------------------------------------------------------
def F(lib):
    return lib.nn.functional


# ReLU's kink: exact zeros for parity, values away from it for gradcheck
KINKED, OFF_THE_KINK = floats(), floats(margin=0.01)
SATURATED = st.one_of(floats(-20.0, 20.0), st.sampled_from([-1e4, -800.0, -100.0, -50.0, 50.0, 100.0, 800.0, 1e4]))
op("exp", one(floats(-5.0, 5.0)), one(floats()))(lambda lib, x: x.exp())
op("log", one(positive_floats(0.1, 10.0)), one(positive_floats()))(lambda lib, x: x.log())
op("sqrt", one(positive_floats(0.1, 10.0)), one(positive_floats()))(lambda lib, x: x.sqrt())
op("relu", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: x.relu())
op("F.relu", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: F(lib).relu(x))
op("nn.ReLU", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: lib.nn.ReLU()(x))
op("leaky_relu", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: F(lib).leaky_relu(x))
op("leaky_relu 0.2", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: F(lib).leaky_relu(x, 0.2))
op("leaky_relu 1.5", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: F(lib).leaky_relu(x, negative_slope=1.5))
op("nn.LeakyReLU 0.3", one(KINKED), one(OFF_THE_KINK))(lambda lib, x: lib.nn.LeakyReLU(0.3)(x))
op("sigmoid", one(SATURATED), one(floats(-12.0, 12.0)))(lambda lib, x: x.sigmoid())
op("F.sigmoid", one(SATURATED), one(floats(-12.0, 12.0)))(lambda lib, x: F(lib).sigmoid(x))
op("nn.Sigmoid", one(SATURATED), one(floats(-12.0, 12.0)))(lambda lib, x: lib.nn.Sigmoid()(x))
op("tanh", one(SATURATED), one(floats()))(lambda lib, x: x.tanh())
op("F.tanh", one(SATURATED), one(floats()))(lambda lib, x: F(lib).tanh(x))
op("nn.Tanh", one(SATURATED), one(floats()))(lambda lib, x: lib.nn.Tanh()(x))

op("gelu", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: F(lib).gelu(x))
op("gelu tanh", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: F(lib).gelu(x, approximate="tanh"))
op("nn.GELU", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: lib.nn.GELU()(x))
op("nn.GELU tanh", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: lib.nn.GELU(approximate="tanh")(x))
op("silu", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: F(lib).silu(x))
op("nn.SiLU", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: lib.nn.SiLU()(x))
op("elu", one(HUGE), one(floats(margin=0.01)))(lambda lib, x: F(lib).elu(x))
op("elu alpha 0.5", one(HUGE), one(floats(margin=0.01)))(lambda lib, x: F(lib).elu(x, alpha=0.5))
op("nn.ELU 2", one(HUGE), one(floats(margin=0.01)))(lambda lib, x: lib.nn.ELU(alpha=2.0)(x))
op("softplus", one(HUGE), one(floats(-6.0, 6.0)))(lambda lib, x: F(lib).softplus(x))
# beta * x crosses the threshold at x = 2.5: values on both sides, and exactly there
AT_THRESHOLD = st.one_of(floats(-6.0, 6.0), st.just(2.5))
OFF_THRESHOLD = floats(-6.0, 6.0).filter(lambda v: abs(v - 2.5) > 0.05)
op("softplus beta 2 threshold 5", one(AT_THRESHOLD), one(OFF_THRESHOLD))(
    lambda lib, x: F(lib).softplus(x, beta=2.0, threshold=5.0))
op("nn.Softplus", one(AT_THRESHOLD), one(OFF_THRESHOLD))(lambda lib, x: lib.nn.Softplus(beta=2.0, threshold=5.0)(x))


def _with_dim(values):
    def draw(data):
        x = data.draw(arrays(data.draw(shapes(min_dims=1)), values))
        return Case([x], dict(dim=data.draw(st.integers(-x.ndim, x.ndim - 1))))

    return draw


op("Tensor.softmax", _with_dim(floats(-10.0, 10.0)))(lambda lib, x, dim: x.softmax(dim))
op("Tensor.log_softmax", _with_dim(floats(-10.0, 10.0)))(lambda lib, x, dim: x.log_softmax(dim))
op("softmax", _with_dim(floats(-10.0, 10.0)), _with_dim(floats(-5.0, 5.0)))(lambda lib, x, dim: F(lib).softmax(x, dim))
op("log_softmax", _with_dim(floats(-10.0, 10.0)), _with_dim(floats(-5.0, 5.0)))(
    lambda lib, x, dim: F(lib).log_softmax(x, dim))
op("nn.LogSoftmax", _with_dim(floats(-10.0, 10.0)))(lambda lib, x, dim: lib.nn.LogSoftmax(dim=dim)(x))


# ----- losses ----------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


def _classes(ignore=None, values=None):
    """(N, C) inputs and N int64 targets in [0, C), some of them ``ignore`` (an ignore_index)."""

    def draw(data):
        n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
        x = data.draw(arrays((n, c), values if values is not None else floats(-5.0, 5.0)))
        choices = st.integers(0, c - 1) if ignore is None else st.one_of(st.integers(0, c - 1), st.just(ignore))
        target = np.array(data.draw(st.lists(choices, min_size=n, max_size=n)), dtype=np.int64)
        if ignore is not None and (target == ignore).all() and data.draw(st.booleans()):
            target[0] = 0  # every row ignored: 'mean' is nan, as in torch; half the time keep a row
        return Case([x, target], dict(reduction=data.draw(st.sampled_from(REDUCTIONS))))

    return draw


def _kept_rows(ignore):
    """For gradcheck: at least one row kept, so 'mean' divides by a positive count."""

    def draw(data):
        case = _classes(ignore)(data)
        x, target = case.arrays
        if x.shape[1] == 1 and ignore == 0:  # one class, and it is ignored: give the rows two
            case.arrays[0] = x = np.concatenate([x, x], axis=1)
        target[0] = (ignore + 1) % x.shape[1] if ignore >= 0 else 0
        return case

    return draw


op("nll_loss", _classes())(lambda lib, x, t, reduction: F(lib).nll_loss(x, t, reduction=reduction))
op("nll_loss ignore_index", _classes(ignore=1), _kept_rows(1))(
    lambda lib, x, t, reduction: F(lib).nll_loss(x, t, ignore_index=1, reduction=reduction))
op("nll_loss ignore -100", _classes(ignore=-100), _kept_rows(-100))(
    lambda lib, x, t, reduction: F(lib).nll_loss(x, t, reduction=reduction))
op("nn.NLLLoss", _classes(ignore=2), _kept_rows(2))(
    lambda lib, x, t, reduction: lib.nn.NLLLoss(ignore_index=2, reduction=reduction)(x, t))
op("log_softmax + nll_loss", _classes())(
    lambda lib, x, t, reduction: F(lib).nll_loss(F(lib).log_softmax(x, 1), t, reduction=reduction))

op("cross_entropy ignore_index", _classes(ignore=0), _kept_rows(0))(
    lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, ignore_index=0, reduction=reduction))
DEVICE_IGNORE = ("on a device the default cross_entropy runs the fused kernel, which does not read the targets "
                 "back: a target of -100 gives NaN there, like any target outside [0, C) (README, GPU)")
op("cross_entropy ignore -100", _classes(ignore=-100), _kept_rows(-100), host_only=DEVICE_IGNORE)(
    lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, reduction=reduction))
op("cross_entropy label_smoothing", _classes())(
    lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, label_smoothing=0.1, reduction=reduction))
op("cross_entropy both", _classes(ignore=-100), _kept_rows(-100))(
    lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, label_smoothing=0.3, reduction=reduction))
op("cross_entropy huge logits smoothed", _classes(values=st.sampled_from([-1e4, -50.0, 0.0, 3.0, 1e4])),
   _classes())(lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, label_smoothing=0.2, reduction=reduction))
op("nn.CrossEntropyLoss options", _classes(ignore=1), _kept_rows(1))(
    lambda lib, x, t, reduction: lib.nn.CrossEntropyLoss(reduction=reduction, ignore_index=1, label_smoothing=0.25)(x, t))


def _logits(data):
    case = _classes()(data)
    case.arrays[0] = case.arrays[0] * data.draw(st.sampled_from([1.0, 1e4]))  # huge logits must stay finite
    return case


def _pair(data):
    shape = data.draw(shapes())
    return Case([data.draw(arrays(shape)), data.draw(arrays(shape))])


for _reduction in REDUCTIONS:
    op(f"cross_entropy {_reduction}", fixed(_logits, reduction=_reduction), fixed(_classes(), reduction=_reduction))(
        lambda lib, x, t, reduction: F(lib).cross_entropy(x, t, reduction=reduction))
    op(f"nn.CrossEntropyLoss {_reduction}", fixed(_logits, reduction=_reduction),
       fixed(_classes(), reduction=_reduction))(lambda lib, x, t, reduction: lib.nn.CrossEntropyLoss(reduction=reduction)(x, t))
    op(f"mse_loss {_reduction}", fixed(_pair, reduction=_reduction))(
        lambda lib, x, y, reduction: F(lib).mse_loss(x, y, reduction=reduction))
    op(f"nn.MSELoss {_reduction}", fixed(_pair, reduction=_reduction))(
        lambda lib, x, y, reduction: lib.nn.MSELoss(reduction=reduction)(x, y))

PROBABILITIES = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]))  # the clamp at log 0 = -100
INNER_PROBABILITIES = st.floats(0.05, 0.95)


def _binary(x_values, weighted=False, pos_weighted=False, target_values=st.floats(0.0, 1.0)):
    def draw(data):
        shape = data.draw(shapes())
        x = data.draw(arrays(shape, x_values))
        target = data.draw(arrays(shape, target_values))
        params = dict(reduction=data.draw(st.sampled_from(REDUCTIONS)))
        # weights are constants (no gradient), broadcast from the trailing dims
        tail = shape[len(shape) - data.draw(st.integers(0, len(shape))):]
        if weighted:
            params["weight"] = data.draw(arrays(tail, st.floats(0.0, 2.0)))
        if pos_weighted:
            params["pos_weight"] = data.draw(arrays(tail, st.floats(0.1, 3.0)))
        return Case([x, target], params)

    return draw


def _constant(lib, array, like):
    """``array`` as a constant tensor with the dtype (and, here, the backend) of the tensor ``like``."""
    if lib.__name__ == "torch":
        return lib.tensor(array, dtype=like.dtype)
    return lib.tensor(array, dtype=like.dtype, backend=like.backend)


# for gradcheck the targets stay inside (0, 1) too: a finite-difference step past 0 or 1 is refused
# (BCE checks its target as torch does)
INNER = dict(target_values=INNER_PROBABILITIES)
op("binary_cross_entropy", _binary(PROBABILITIES), _binary(INNER_PROBABILITIES, **INNER))(
    lambda lib, x, t, reduction: F(lib).binary_cross_entropy(x, t, reduction=reduction))
op("binary_cross_entropy weight", _binary(INNER_PROBABILITIES, weighted=True),
   _binary(INNER_PROBABILITIES, weighted=True, **INNER))(
    lambda lib, x, t, reduction, weight: F(lib).binary_cross_entropy(
        x, t, weight=_constant(lib, weight, x), reduction=reduction))
op("nn.BCELoss", _binary(PROBABILITIES), _binary(INNER_PROBABILITIES, **INNER))(
    lambda lib, x, t, reduction: lib.nn.BCELoss(reduction=reduction)(x, t))
op("nn.Sigmoid + nn.BCELoss", _binary(floats(-5.0, 5.0)), _binary(floats(-5.0, 5.0), **INNER))(
    lambda lib, x, t, reduction: lib.nn.BCELoss(reduction=reduction)(lib.nn.Sigmoid()(x), t))

LOGITS = st.one_of(floats(-8.0, 8.0), st.sampled_from([-100.0, 100.0]))  # finite at +-100
op("binary_cross_entropy_with_logits", _binary(LOGITS), _binary(floats(-6.0, 6.0)))(
    lambda lib, x, t, reduction: F(lib).binary_cross_entropy_with_logits(x, t, reduction=reduction))
op("bce_with_logits weight pos_weight", _binary(LOGITS, weighted=True, pos_weighted=True),
   _binary(floats(-6.0, 6.0), weighted=True, pos_weighted=True))(
    lambda lib, x, t, reduction, weight, pos_weight: F(lib).binary_cross_entropy_with_logits(
        x, t, weight=_constant(lib, weight, x), pos_weight=_constant(lib, pos_weight, x),
        reduction=reduction))
op("nn.BCEWithLogitsLoss", _binary(LOGITS), _binary(floats(-6.0, 6.0)))(
    lambda lib, x, t, reduction: lib.nn.BCEWithLogitsLoss(reduction=reduction)(x, t))



# ----- linear ----------------------------------------------------------------------------------
def _linear(bias):
    def draw(data):
        batch = data.draw(st.sampled_from([(), (3,), (4,), (2, 3)]))  # 1-D, 2-D and 3-D input
        n_in, n_out = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
        inputs = [data.draw(arrays(batch + (n_in,))), data.draw(arrays((n_out, n_in)))]
        if bias:
            inputs.append(data.draw(arrays((n_out,))))
        return Case(inputs)

    return draw


op("linear", _linear(bias=True))(lambda lib, x, w, b: F(lib).linear(x, w, b))
op("linear without bias", _linear(bias=False))(lambda lib, x, w: F(lib).linear(x, w))
