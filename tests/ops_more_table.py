"""The one table of the ops added in issue 13 part 2, shared by their gradcheck tests
(tests/test_ops_more_gradcheck.py) and their torch parity tests (parity/test_ops_more_parity.py).

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

from tests.strategies import arrays, broadcastable_shapes, dims_for, floats, positive_floats, shapes, spaced_arrays


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


# ----- reductions ------------------------------------------------------------------------------
def _spaced(min_dims=0, **params):
    def draw(data):
        return Case([data.draw(spaced_arrays(data.draw(shapes(min_dims=min_dims))))], dict(params))

    return draw


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

PROBABILITIES = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]))  # the clamp at log 0 = -100
INNER_PROBABILITIES = st.floats(0.05, 0.95)


def _binary(x_values, weighted=False, pos_weighted=False):
    def draw(data):
        shape = data.draw(shapes())
        x = data.draw(arrays(shape, x_values))
        target = data.draw(arrays(shape, st.floats(0.0, 1.0)))
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


op("binary_cross_entropy", _binary(PROBABILITIES), _binary(INNER_PROBABILITIES))(
    lambda lib, x, t, reduction: F(lib).binary_cross_entropy(x, t, reduction=reduction))
op("binary_cross_entropy weight", _binary(INNER_PROBABILITIES, weighted=True))(
    lambda lib, x, t, reduction, weight: F(lib).binary_cross_entropy(
        x, t, weight=_constant(lib, weight, x), reduction=reduction))
op("nn.BCELoss", _binary(PROBABILITIES), _binary(INNER_PROBABILITIES))(
    lambda lib, x, t, reduction: lib.nn.BCELoss(reduction=reduction)(x, t))
op("nn.Sigmoid + nn.BCELoss", _binary(floats(-5.0, 5.0)))(
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
