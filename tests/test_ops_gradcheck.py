"""Every differentiable op against central finite differences (mt.gradcheck, float64).

Shapes and values come from hypothesis (tests/strategies.py). Values are kept away from the points
where an op has no derivative (ReLU's kink, 1/x's pole, log/sqrt at 0): the behaviour exactly at a
kink is pinned in test_autograd.py, and finite differences cannot check it.

gradcheck's tolerances (atol 1e-5, rtol 1e-3 with eps 1e-6, in float64) allow the O(eps^2) truncation
error of central differences plus the O(1e-16 / eps) rounding error, for values of order 1.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from minitorch_relu.nn import functional as F
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

# Each example runs backward once and the forward 2 * numel times; 15 examples per op (times the
# parametrizations) keep the file fast on a shared 2-core machine.
FEW = settings(max_examples=15)


def leaf(array, backend):
    return mt.tensor(array, requires_grad=True, dtype=mt.float64, backend=backend)


# ----- arithmetic -------------------------------------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_ops_with_broadcasting(backend, name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes())
    a = data.draw(arrays(shape_a))
    # the divisor stays at least 0.5 away from 0, on either side
    b = data.draw(arrays(shape_b, floats(margin=0.5) if name == "div" else None))
    assert mt.gradcheck(BINARY[name], [leaf(a, backend), leaf(b, backend)])


SCALAR = {
    "x + 2": lambda x: x + 2.0,
    "2 - x": lambda x: 2.0 - x,
    "x * -1.5": lambda x: x * -1.5,
    "3 / x": lambda x: 3 / x,
    "x / 4": lambda x: x / 4,
    "-x": lambda x: -x,
}


@pytest.mark.parametrize("name", sorted(SCALAR))
@FEW
@given(data=st.data())
def test_ops_with_a_python_number(backend, name, data):
    x = data.draw(arrays(data.draw(shapes()), floats(margin=0.5)))
    assert mt.gradcheck(SCALAR[name], [leaf(x, backend)])


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, 0.5, 1.5, -2.5])
@FEW
@given(data=st.data())
def test_pow_number(backend, exponent, data):
    shape = data.draw(shapes())
    # fractional powers need x > 0; negative powers need x away from 0
    if isinstance(exponent, float):
        x = data.draw(arrays(shape, positive_floats()))
    else:
        x = data.draw(arrays(shape, floats(margin=0.5)))
    assert mt.gradcheck(lambda t: t**exponent, [leaf(x, backend)])


@FEW
@given(data=st.data())
def test_matmul_1d_2d_and_batched(backend, data):
    shape_a, shape_b = data.draw(matmul_shapes())
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    assert mt.gradcheck(lambda x, y: x @ y, [leaf(a, backend), leaf(b, backend)])
    assert mt.gradcheck(lambda x, y: x.matmul(y), [leaf(a, backend), leaf(b, backend)])


# ----- reductions -------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean"])
@FEW
@given(data=st.data())
def test_sum_and_mean(backend, op, data):
    x = data.draw(arrays(data.draw(shapes())))
    dim = data.draw(dims_for(x.ndim))
    keepdim = data.draw(st.booleans())
    assert mt.gradcheck(lambda t: getattr(t, op)(dim=dim, keepdim=keepdim), [leaf(x, backend)])


@FEW
@given(data=st.data())
def test_max_over_everything(backend, data):
    # well-spaced values: at a tie max has a kink, and finite differences cannot see through it
    x = data.draw(spaced_arrays(data.draw(shapes(min_dims=1))))
    assert mt.gradcheck(lambda t: t.max(), [leaf(x, backend)])


@FEW
@given(data=st.data())
def test_max_along_a_dim(backend, data):
    x = data.draw(spaced_arrays(data.draw(shapes())))
    n = max(x.ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in torch
    dim = data.draw(st.integers(-n, n - 1))
    keepdim = data.draw(st.booleans())
    assert mt.gradcheck(lambda t: t.max(dim, keepdim=keepdim).values, [leaf(x, backend)])


# ----- shape ops --------------------------------------------------------------------------------
@FEW
@given(data=st.data())
def test_reshape_view_transpose_permute(backend, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=2))))
    perm = data.draw(st.permutations(range(x.ndim)))
    d0, d1 = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    cases = [
        lambda t: t.reshape(-1),
        lambda t: t.reshape(*x.shape[::-1]) * mt.tensor(np.arange(x.size).reshape(x.shape[::-1]) + 1.0,
                                                       dtype=mt.float64, backend=backend),
        lambda t: t.view(x.shape[0], -1),
        lambda t: t.T,
        lambda t: t.transpose(d0, d1),
        lambda t: t.permute(*perm),
    ]
    for fn in cases:
        assert mt.gradcheck(fn, [leaf(x, backend)])


INDEXES = {
    "int": lambda t, be: t[1],
    "negative int": lambda t, be: t[-1, 0],
    "slices": lambda t, be: t[:, 1:, ::2],
    "ellipsis and None": lambda t, be: t[..., None, 0],
    "repeated indices": lambda t, be: t[mt.tensor([0, 1, 0, 0], backend=be)],
    "index per dim": lambda t, be: t[mt.tensor([1, 0, 1], backend=be), :, mt.tensor([0, 0, 1], backend=be)],
    "boolean mask": lambda t, be: t[t > 0],
}


@pytest.mark.parametrize("name", sorted(INDEXES))
@FEW
@given(data=st.data())
def test_indexing(backend, name, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=3, max_dims=3, min_side=2, max_side=3)), floats(margin=0.1)))
    assert mt.gradcheck(lambda t: INDEXES[name](t, backend), [leaf(x, backend)])


# ----- elementwise functions --------------------------------------------------------------------
UNARY = {
    # name: (function, values it is differentiable on)
    "exp": (lambda t: t.exp(), floats()),
    "log": (lambda t: t.log(), positive_floats()),
    "sqrt": (lambda t: t.sqrt(), positive_floats()),
    "relu": (lambda t: t.relu(), floats(margin=0.01)),
    "F.relu": (F.relu, floats(margin=0.01)),
    "leaky_relu default": (F.leaky_relu, floats(margin=0.01)),
    "leaky_relu 0.2": (lambda t: F.leaky_relu(t, 0.2), floats(margin=0.01)),
    "leaky_relu 1.5": (lambda t: F.leaky_relu(t, negative_slope=1.5), floats(margin=0.01)),
    "sigmoid": (lambda t: t.sigmoid(), floats(-12.0, 12.0)),
    "F.sigmoid": (F.sigmoid, floats(-12.0, 12.0)),
    "tanh": (lambda t: t.tanh(), floats()),
    "F.tanh": (F.tanh, floats()),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary(backend, name, data):
    fn, values = UNARY[name]
    x = data.draw(arrays(data.draw(shapes()), values))
    assert mt.gradcheck(fn, [leaf(x, backend)])


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
@FEW
@given(data=st.data())
def test_softmax_and_log_softmax_any_dim(backend, op, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1)), floats(-5.0, 5.0)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert mt.gradcheck(lambda t: op(t, dim), [leaf(x, backend)])


# ----- losses and linear ------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@FEW
@given(data=st.data())
def test_cross_entropy(backend, reduction, data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    logits = data.draw(arrays((n, c), floats(-5.0, 5.0)))
    target = mt.tensor(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), backend=backend)
    assert mt.gradcheck(lambda x, t: F.cross_entropy(x, t, reduction=reduction), [leaf(logits, backend), target])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@FEW
@given(data=st.data())
def test_mse_loss(backend, reduction, data):
    shape = data.draw(shapes())
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    assert mt.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [leaf(x, backend), leaf(y, backend)])


@pytest.mark.parametrize("bias", [True, False])
@FEW
@given(data=st.data())
def test_linear(backend, bias, data):
    batch = data.draw(st.sampled_from([(), (3,), (2, 3)]))  # 1-D, 2-D and 3-D input
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    inputs = [leaf(data.draw(arrays(batch + (n_in,))), backend), leaf(data.draw(arrays((n_out, n_in))), backend)]
    if bias:
        inputs.append(leaf(data.draw(arrays((n_out,))), backend))
    assert mt.gradcheck(F.linear, inputs)


# ----- the checker itself -----------------------------------------------------------------------
class _WrongSquare(mt.Function):
    """x * x with a deliberately wrong backward (x instead of 2x), for gradcheck to catch."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return (grad * self.x,)


def test_gradcheck_catches_a_wrong_backward_and_names_the_element(backend):
    x = leaf(np.array([[0.5, -1.0], [2.0, 3.0]]), backend)
    with pytest.raises(AssertionError, match=r"input 0 \(shape \(2, 2\)\), element \(1, 1\): analytic") as info:
        mt.gradcheck(_WrongSquare.apply, [x])
    message = str(info.value)
    # the worst element is x=3: backward says 3 * w, the truth is 6 * w for the check's weight w
    analytic, numeric = (float(s.split()[0]) for s in message.split("analytic ")[1].split(" vs numeric "))
    assert numeric == pytest.approx(2 * analytic, rel=1e-6)


def test_gradcheck_passes_a_correct_function_and_leaves_inputs_alone(backend):
    x = mt.tensor([0.5, -1.0, 2.0], requires_grad=True, backend=backend)  # float32 in: checked in float64
    assert mt.gradcheck(lambda t: (t * t).sum(), [x]) is True
    assert x.grad is None and x.dtype == mt.float32


def test_gradcheck_needs_an_input_that_requires_grad(backend):
    with pytest.raises(ValueError, match="no input requires grad"):
        mt.gradcheck(lambda t: t * 2, [mt.tensor([1.0], backend=backend)])
