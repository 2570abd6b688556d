"""Every op, forward and backward, against torch on hypothesis-drawn inputs (one shared helper:
parity/torch_compare.check_against_torch). Values have both signs and, where an op has a kink, exact
zeros: at a kink the derivative is a convention, and ours must be torch's."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from minitorch_relu.nn import functional as F
from parity.torch_compare import check_against_torch
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

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# The bounds (ops.float32, ops.float64) and their reasons are in parity/ledger.toml.
DTYPES = [np.float32, np.float64]
FEW = settings(max_examples=12)  # per op and dtype: ~130 parametrized tests keep the file fast




def check(backend, dtype, mt_fn, torch_fn, *inputs):
    return check_against_torch(mt_fn, torch_fn, list(inputs), dtype, backend=backend)


# ----- arithmetic -------------------------------------------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_ops_with_broadcasting(backend, dtype, name, data):
    shape_a, shape_b = data.draw(broadcastable_shapes())
    a = data.draw(arrays(shape_a))
    b = data.draw(arrays(shape_b, floats(margin=0.25) if name == "div" else None))
    check(backend, dtype, BINARY[name], BINARY[name], a, b)


NUMBER_OPS = {
    "x + 2.5": lambda x: x + 2.5,
    "3 - x": lambda x: 3 - x,
    "x * 0.1": lambda x: x * 0.1,
    "2 / x": lambda x: 2 / x,
    "x / 7": lambda x: x / 7,
    "-x": lambda x: -x,
    "x ** 2": lambda x: x**2,
    "x ** 3": lambda x: x**3,
    "x ** -1": lambda x: x**-1,
    "x ** 0": lambda x: x**0,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(NUMBER_OPS))
@FEW
@given(data=st.data())
def test_ops_with_a_number(backend, dtype, name, data):
    x = data.draw(arrays(data.draw(shapes()), floats(margin=0.25)))
    check(backend, dtype, NUMBER_OPS[name], NUMBER_OPS[name], x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", [0.5, 1.5, -0.5, 2.5])
@FEW
@given(data=st.data())
def test_fractional_powers_of_positive_numbers(backend, dtype, exponent, data):
    x = data.draw(arrays(data.draw(shapes()), positive_floats(0.25, 4.0)))
    check(backend, dtype, lambda t: t**exponent, lambda t: t**exponent, x)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_matmul(backend, dtype, data):
    shape_a, shape_b = data.draw(matmul_shapes())
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check(backend, dtype, lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check(backend, dtype, lambda x, y: x.matmul(y), torch.matmul, a, b)


# ----- reductions -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean"])
@FEW
@given(data=st.data())
def test_sum_and_mean(backend, dtype, op, data):
    x = data.draw(arrays(data.draw(shapes())))
    dim = data.draw(dims_for(x.ndim))
    keepdim = data.draw(st.booleans())
    # torch has no dim=None with keepdim: it spells "every dim" by leaving dim out, or as () or
    # the full tuple, which also keep the dims
    torch_dim = () if dim is None else dim

    def theirs(t):
        return getattr(t, op)(dim=torch_dim, keepdim=keepdim)

    check(backend, dtype, lambda t: getattr(t, op)(dim=dim, keepdim=keepdim), theirs, x)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_max_over_everything_splits_ties_evenly(backend, dtype, data):
    # few distinct values, so ties are common: torch shares the gradient evenly among them
    x = data.draw(arrays(data.draw(shapes(min_dims=1)), st.sampled_from([-1.0, 0.0, 0.5, 2.0])))
    check(backend, dtype, lambda t: t.max(), lambda t: t.max(), x)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_max_along_a_dim_returns_values_and_indices(backend, dtype, data):
    # no ties: with ties, which index max(dim) reports is not specified by torch
    x = data.draw(spaced_arrays(data.draw(shapes())))
    n = max(x.ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in torch
    dim = data.draw(st.integers(-n, n - 1))
    keepdim = data.draw(st.booleans())
    values, indices = check(backend, dtype, lambda t: t.max(dim, keepdim=keepdim),
                            lambda t: t.max(dim, keepdim=keepdim), x)
    result = mt.tensor(x.astype(dtype), backend=backend).max(dim, keepdim=keepdim)
    assert result._fields == ("values", "indices")  # a namedtuple, as torch's return_types.max
    np.testing.assert_array_equal(result.values.numpy(), values.numpy())
    np.testing.assert_array_equal(result.indices.numpy(), indices.numpy())


@pytest.mark.parametrize("keepdim", [False, True])
@FEW
@given(data=st.data())
def test_argmax(backend, keepdim, data):
    x = data.draw(spaced_arrays(data.draw(shapes())))
    n = max(x.ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in torch
    dim = data.draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    ours = mt.tensor(x, backend=backend).argmax(dim=dim, keepdim=keepdim).numpy()
    theirs = torch.tensor(x).argmax(dim=dim, keepdim=keepdim).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


# ----- shape ops and indexing -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_reshape_view_transpose_permute(backend, dtype, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1))))
    n = x.ndim
    perm = data.draw(st.permutations(range(n)))
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    backwards = tuple(reversed(range(n)))
    pairs = [
        (lambda t: t.reshape(-1), lambda t: t.reshape(-1)),
        (lambda t: t.reshape(*x.shape[::-1]), lambda t: t.reshape(*x.shape[::-1])),
        (lambda t: t.view(x.shape[0], -1), lambda t: t.view(x.shape[0], -1)),
        (lambda t: t.T, lambda t: t.permute(*backwards)),  # torch deprecates .T beyond 2-D
        (lambda t: t.transpose(d0, d1), lambda t: t.transpose(d0, d1)),
        (lambda t: t.permute(*perm), lambda t: t.permute(*perm)),
    ]
    for ours, theirs in pairs:
        check(backend, dtype, ours, theirs, x)


def _index_cases(backend):
    """(our index, torch's index) pairs for a (3, 3, 3) input."""
    ints = [1, 0, 1, 1]
    return {
        "int": (1, 1),
        "negative ints": ((-1, 0), (-1, 0)),
        "slices": ((slice(None), slice(1, None), slice(None, None, 2)),) * 2,
        "ellipsis and None": ((Ellipsis, None, 0),) * 2,
        "repeated indices": (mt.tensor(ints, backend=backend), torch.tensor(ints)),
        "index per dim": ((mt.tensor([2, 0], backend=backend), slice(None), mt.tensor([0, 1], backend=backend)),
                          (torch.tensor([2, 0]), slice(None), torch.tensor([0, 1]))),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_index_cases("numpy")))
@FEW
@given(data=st.data())
def test_indexing(backend, dtype, name, data):
    ours_index, torch_index = _index_cases(backend)[name]
    x = data.draw(arrays((3, 3, 3)))
    check(backend, dtype, lambda t: t[ours_index], lambda t: t[torch_index], x)


@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_boolean_mask_indexing(backend, dtype, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1))))
    check(backend, dtype, lambda t: t[t > 0], lambda t: t[t > 0], x)


# ----- elementwise functions --------------------------------------------------------------------
# values with ReLU's kink included, and huge ones for sigmoid/tanh
KINKED = floats()
HUGE = st.one_of(floats(-20.0, 20.0), st.sampled_from([-1e4, -800.0, -100.0, -50.0, 50.0, 100.0, 800.0, 1e4]))

UNARY = {
    # name: (ours, torch's, values)
    "exp": (lambda t: t.exp(), torch.exp, floats(-5.0, 5.0)),
    "log": (lambda t: t.log(), torch.log, positive_floats(0.1, 10.0)),
    "sqrt": (lambda t: t.sqrt(), torch.sqrt, positive_floats(0.1, 10.0)),
    "relu": (lambda t: t.relu(), torch.relu, KINKED),
    "F.relu": (F.relu, torch.nn.functional.relu, KINKED),
    "nn.ReLU": (mt.nn.ReLU(), torch.nn.ReLU(), KINKED),
    "leaky_relu": (F.leaky_relu, torch.nn.functional.leaky_relu, KINKED),
    "leaky_relu 0.2": (lambda t: F.leaky_relu(t, 0.2), lambda t: torch.nn.functional.leaky_relu(t, 0.2), KINKED),
    "nn.LeakyReLU 0.3": (mt.nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3), KINKED),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid, HUGE),
    "nn.Sigmoid": (mt.nn.Sigmoid(), torch.nn.Sigmoid(), HUGE),
    "tanh": (lambda t: t.tanh(), torch.tanh, HUGE),
    "nn.Tanh": (mt.nn.Tanh(), torch.nn.Tanh(), HUGE),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
@FEW
@given(data=st.data())
def test_unary(backend, dtype, name, data):
    ours, theirs, values = UNARY[name]
    x = data.draw(arrays(data.draw(shapes()), values))
    check(backend, dtype, ours, theirs, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_leaky_relu_at_exact_zeros(backend, dtype):
    x = np.array([-1.0, -0.0, 0.0, 0.0, 2.0])
    check(backend, dtype, F.relu, torch.relu, x)
    check(backend, dtype, F.leaky_relu, torch.nn.functional.leaky_relu, x)
    check(backend, dtype, lambda t: F.leaky_relu(t, 0.5), lambda t: torch.nn.functional.leaky_relu(t, 0.5), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@FEW
@given(data=st.data())
def test_softmax_and_log_softmax_any_dim(backend, dtype, name, data):
    x = data.draw(arrays(data.draw(shapes(min_dims=1)), floats(-10.0, 10.0)))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    check(backend, dtype, lambda t: ours(t, dim), lambda t: theirs(t, dim=dim), x)


# ----- losses and linear ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@FEW
@given(data=st.data())
def test_cross_entropy(backend, dtype, reduction, data):
    n, c = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6))
    scale = data.draw(st.sampled_from([1.0, 1e4]))  # huge logits must stay finite
    logits = data.draw(arrays((n, c), floats(-5.0, 5.0))) * scale
    target = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    loss = check(backend, dtype, lambda x, y: F.cross_entropy(x, y, reduction=reduction),
                 lambda x, y: torch.nn.functional.cross_entropy(x, y, reduction=reduction), logits, target)[0]
    assert np.all(np.isfinite(loss.numpy()))
    check(backend, dtype, mt.nn.CrossEntropyLoss(reduction=reduction), torch.nn.CrossEntropyLoss(reduction=reduction),
          logits, target)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@FEW
@given(data=st.data())
def test_mse_loss(backend, dtype, reduction, data):
    shape = data.draw(shapes())
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape))
    check(backend, dtype, lambda a, b: F.mse_loss(a, b, reduction=reduction),
          lambda a, b: torch.nn.functional.mse_loss(a, b, reduction=reduction), x, y)
    check(backend, dtype, mt.nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), x, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@FEW
@given(data=st.data())
def test_linear(backend, dtype, bias, data):
    batch = data.draw(st.sampled_from([(), (3,), (4,), (2, 3)]))  # 1-D, 2-D and 3-D input
    n_in, n_out = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    inputs = [data.draw(arrays(batch + (n_in,))), data.draw(arrays((n_out, n_in)))]
    if bias:
        inputs.append(data.draw(arrays((n_out,))))
    check(backend, dtype, F.linear, torch.nn.functional.linear, *inputs)


# ----- comparisons: no gradient, bool results ---------------------------------------------------
COMPARISONS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@FEW
@given(data=st.data())
def test_comparisons(backend, name, data):
    op = COMPARISONS[name]
    shape_a, shape_b = data.draw(broadcastable_shapes())
    few = st.sampled_from([-1.0, 0.0, 0.5, 2.0])  # few values, so equality happens
    a, b = data.draw(arrays(shape_a, few)), data.draw(arrays(shape_b, few))
    number = data.draw(few)
    ta = mt.tensor(a, requires_grad=True, backend=backend)
    for ours, theirs in ((op(ta, mt.tensor(b, backend=backend)), op(torch.tensor(a), torch.tensor(b))),
                         (op(ta, number), op(torch.tensor(a), number))):
        assert not ours.requires_grad
        assert ours.dtype == np.bool_ and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ----- error types match torch's ----------------------------------------------------------------
OPTIMIZER_INVALID = [
    ("SGD", dict(lr=-0.1)),
    ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4)),
    ("SGD", dict(lr=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1e-3)),
    ("Adam", dict(eps=-1e-8)),
    ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(-0.1, 0.999))),
    ("Adam", dict(betas=(0.9, 1.0))),
    ("Adam", dict(weight_decay=-0.1)),
    ("SGD", dict(params=[])),
    ("Adam", dict(params=[])),
    ("SGD", dict(params=["not a tensor"])),
]


@pytest.mark.parametrize("name, kwargs", OPTIMIZER_INVALID)
def test_optimizer_errors_have_torch_types(backend, name, kwargs):
    kwargs = dict(kwargs)
    params = kwargs.pop("params", None)
    ours_params = [mt.tensor([1.0], requires_grad=True, backend=backend)] if params is None else params
    theirs_params = [torch.tensor([1.0], requires_grad=True)] if params is None else params
    with pytest.raises(Exception) as theirs:
        getattr(torch.optim, name)(theirs_params, **kwargs)
    with pytest.raises(Exception) as ours:
        getattr(mt.optim, name)(ours_params, **kwargs)
    assert type(ours.value) is type(theirs.value), f"ours: {ours.value!r}; torch: {theirs.value!r}"
    if str(theirs.value).startswith("Invalid"):  # torch's "Invalid learning rate: -0.1" and the like
        assert str(ours.value) == str(theirs.value)


def test_sigmoid_of_the_lesson_chain_matches_torch(backend):
    # the lesson's x=1 -> W1=0.1 -> sigmoid -> W2=0.2 -> sigmoid -> W3=0.3 -> sigmoid, in both engines
    def chain(w1, w2, w3, lib_sigmoid):
        return lib_sigmoid(lib_sigmoid(lib_sigmoid(w1 * 1.0) * w2) * w3)

    ws = [np.array(0.1), np.array(0.2), np.array(0.3)]
    out = check(backend, np.float64, lambda a, b, c: chain(a, b, c, lambda t: t.sigmoid()),
                lambda a, b, c: chain(a, b, c, torch.sigmoid), *ws)[0]
    assert out.item() == pytest.approx(0.539, abs=5e-4)
    assert math.isfinite(out.item())
