"""The graph and backward(): kinks, shared nodes, accumulation, deep chains, dtypes, stability,
and the lesson's worked example."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from minitorch_relu.nn import functional as F
from tests.strategies import arrays, shapes


def t(values, backend, requires_grad=True, dtype=None):
    return mt.tensor(values, requires_grad=requires_grad, dtype=dtype, backend=backend)


# ----- kinks: the value of the derivative exactly at 0 is a convention; we follow torch's -------
def test_relu_gradient_at_exactly_zero_is_zero(backend):
    x = t([-2.0, -0.0, 0.0, 1e-30, 3.0], backend)
    y = x.relu()
    y.backward(mt.tensor([1.0, 1.0, 1.0, 1.0, 1.0], backend=backend))
    np.testing.assert_array_equal(y.numpy(), np.array([0.0, 0.0, 0.0, 1e-30, 3.0], dtype=np.float32))
    assert x.grad.numpy().tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("slope", [None, 0.2, 1.5])
def test_leaky_relu_gradient_at_exactly_zero_is_the_slope(backend, slope):
    x = t([-2.0, 0.0, -0.0, 3.0], backend, dtype=mt.float64)
    y = F.leaky_relu(x) if slope is None else F.leaky_relu(x, negative_slope=slope)
    s = 0.01 if slope is None else slope
    y.sum().backward()
    assert y.numpy().tolist() == [-2.0 * s, 0.0, 0.0, 3.0]
    assert x.grad.numpy().tolist() == [s, s, s, 1.0]


def test_leaky_relu_module_uses_its_slope(backend):
    x = t([[-1.0, 0.0, 2.0]], backend, dtype=mt.float64)
    mt.nn.LeakyReLU(0.1)(x).sum().backward()
    assert x.grad.numpy().tolist() == [[0.1, 0.1, 1.0]]


def test_a_dead_relu_unit_gets_no_gradient(backend):
    # the "dying ReLU": an input that stays negative passes no gradient to its weight
    w = t([[0.5], [-0.5]], backend)  # unit 1 sees +x, unit 2 sees -x
    x = t([[1.0], [2.0], [3.0]], backend, requires_grad=False)
    F.linear(x, w).relu().sum().backward()
    assert w.grad.numpy().tolist() == [[6.0], [0.0]]


# ----- shared nodes -----------------------------------------------------------------------------
def test_x_used_twice(backend):
    x = t([3.0], backend)
    (x * x).backward(mt.tensor([1.0], backend=backend))
    assert x.grad.numpy().tolist() == [6.0]


def test_diamond_where_both_branches_derive_from_x(backend):
    # a = 2x, b = x^2, z = a * b = 2x^3: dz/dx = 6x^2
    x = t([1.5, -2.0], backend, dtype=mt.float64)
    a = x * 2
    b = x * x
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.5, -2.0]) ** 2, rtol=1e-15)


def test_diamond_whose_one_branch_feeds_the_other(backend):
    # a = exp(x), b = 2a, z = a + b = 3 exp(x): a's gradient must be complete (from z and from b)
    # before it is passed to x, whatever order the graph is walked in.
    x = t([0.5, -1.0], backend, dtype=mt.float64)
    a = x.exp()
    b = a * 2
    (a + b).sum().backward(retain_graph=True)  # the second backward below reuses exp's saved output
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.5, -1.0]), rtol=1e-15)
    x.grad = None
    (b + a).sum().backward()  # operands swapped: same answer
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.5, -1.0]), rtol=1e-15)


def test_a_node_reused_many_times(backend):
    # y = x + x + ... (10 times) through one intermediate h = x * 1: dy/dx = 10
    x = t([1.0, 2.0], backend)
    h = x * 1.0
    y = h
    for _ in range(9):
        y = y + h
    y.sum().backward()
    assert x.grad.numpy().tolist() == [10.0, 10.0]


def test_leaf_gradient_is_a_fresh_array(backend):
    # z = x + y passes the same incoming gradient to both leaves: each must get its own array
    x, y = t([1.0, 2.0], backend), t([3.0, 4.0], backend)
    (x + y).sum().backward()
    x.grad.data[...] = 7.0
    assert y.grad.numpy().tolist() == [1.0, 1.0]


# ----- accumulation -----------------------------------------------------------------------------
def test_gradients_accumulate_over_two_backward_calls(backend):
    x = t([1.0, -2.0, 3.0], backend)
    (x * x).sum().backward()
    first = x.grad.numpy().copy()
    (x * 3.0).sum().backward()
    assert first.tolist() == [2.0, -4.0, 6.0]
    assert x.grad.numpy().tolist() == [5.0, -1.0, 9.0]


def test_backward_twice_on_the_same_graph_accumulates(backend):
    x = t([2.0], backend)
    y = (x * x).sum()
    y.backward(retain_graph=True)  # as in torch: without it the second backward raises (test_semantics)
    y.backward()
    assert x.grad.numpy().tolist() == [8.0]


def test_backward_of_a_leaf_accumulates_its_gradient(backend):
    x = t([1.0, 2.0], backend)
    x.backward(mt.tensor([0.5, 0.25], backend=backend))
    x.backward(mt.tensor([0.5, 0.25], backend=backend))
    assert x.grad.numpy().tolist() == [1.0, 0.5]


def test_zero_grad_then_backward_starts_over(backend):
    model = mt.nn.Linear(2, 1, backend=backend)
    x = mt.tensor([[1.0, 2.0]], backend=backend)
    model(x).sum().backward()
    model(x).sum().backward()
    assert model.weight.grad.numpy().tolist() == [[2.0, 4.0]]
    model.zero_grad()
    assert model.weight.grad is None
    model(x).sum().backward()
    assert model.weight.grad.numpy().tolist() == [[1.0, 2.0]]


def test_non_leaf_gradients_are_not_kept(backend):
    x = t([1.0, 2.0], backend)
    h = x * 2.0
    h.sum().backward()
    assert h.grad is None and x.grad.numpy().tolist() == [2.0, 2.0]
    assert not h.is_leaf and x.is_leaf


def test_no_grad_records_nothing_and_detach_cuts(backend):
    x = t([1.0, 2.0], backend)
    with mt.no_grad():
        y = x * 2.0
    assert not y.requires_grad and mt.is_grad_enabled()
    z = (x.detach() * 3.0 + x).sum()
    z.backward()
    assert x.grad.numpy().tolist() == [1.0, 1.0]


def test_only_inputs_that_require_grad_get_one(backend):
    x, c = t([1.0, 2.0], backend), t([3.0, 4.0], backend, requires_grad=False)
    (x * c).sum().backward()
    assert x.grad.numpy().tolist() == [3.0, 4.0] and c.grad is None


# ----- deep chains ------------------------------------------------------------------------------
def test_ten_thousand_ops_backprop_without_recursion_error(backend):
    x = t([1.0], backend, dtype=mt.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000], rtol=1e-10)


# ----- dtypes: float32 in, float32 out (forward and gradients), float64 stays float64 ------------
def _dtype_cases(backend):
    """Ops as functions of two (2, 3) tensors (the second may be ignored); a few need other shapes."""
    tgt = mt.tensor([0, 2], backend=backend)
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "number ops": lambda a, b: (2.5 * a + 1) / 3 - 0.5,
        "neg": lambda a, b: -a,
        "pow": lambda a, b: a**2 + a**0.5 + a**-1,
        "matmul": lambda a, b: a @ b.T,
        "sum": lambda a, b: a.sum(dim=1),
        "mean": lambda a, b: a.mean(dim=(0, 1), keepdim=True),
        "max": lambda a, b: a.max() + a.max(dim=1).values.sum(),
        "shape": lambda a, b: a.reshape(3, 2).T.transpose(0, 1).permute(1, 0)[1:, ::2],
        "exp log sqrt": lambda a, b: a.exp() + a.log() + a.sqrt(),
        "activations": lambda a, b: a.relu() + F.leaky_relu(a) + a.sigmoid() + a.tanh(),
        "softmax": lambda a, b: F.softmax(a, dim=1) + F.log_softmax(a, dim=0),
        "cross_entropy": lambda a, b: F.cross_entropy(a, tgt),
        "mse": lambda a, b: F.mse_loss(a, b),
        "linear": lambda a, b: F.linear(a, b, b[0, :2]),
    }


@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
@pytest.mark.parametrize("name", sorted(_dtype_cases("numpy")))
def test_dtype_is_preserved_forward_and_backward(backend, dtype, name):
    fn = _dtype_cases(backend)[name]
    a = t([[0.5, 1.0, 2.0], [1.5, 2.5, 3.0]], backend, dtype=dtype)
    b = t([[1.0, 2.0, 0.5], [3.0, 0.25, 1.0]], backend, dtype=dtype)
    out = fn(a, b)
    assert out.dtype == dtype
    out.sum().backward()
    for x in (a, b):
        if x.grad is not None:
            assert x.grad.dtype == dtype, f"{name}: gradient is {x.grad.dtype}, input {dtype}"


def test_a_float64_partner_does_not_make_a_float32_gradient_float64(backend):
    # like torch: the result is promoted, but each gradient has its own input's dtype
    x = t([1.0, 2.0], backend, dtype=mt.float32)
    y = t([3.0, 4.0], backend, dtype=mt.float64)
    z = x * y
    assert z.dtype == mt.float64
    z.sum().backward()
    assert x.grad.dtype == mt.float32 and y.grad.dtype == mt.float64
    assert x.grad.numpy().tolist() == [3.0, 4.0]


def test_python_numbers_take_the_tensor_dtype(backend):
    x = t([1.0], backend, dtype=mt.float32)
    for y in (x + 1.5, 1.5 * x, x / 3, 2 - x, x**2.0, x * np.float64(2.0)):
        assert y.dtype == mt.float32
    assert (mt.tensor([1, 2], backend=backend) + 1).dtype == mt.int64


def test_cast_backward_returns_the_input_dtype(backend):
    x = t([1.0, 2.0], backend, dtype=mt.float32)
    y = x.double()
    assert y.dtype == mt.float64
    (y * y).sum().backward()
    assert x.grad.dtype == mt.float32 and x.grad.numpy().tolist() == [2.0, 4.0]


# ----- numerical stability ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
def test_sigmoid_is_stable_for_huge_inputs_without_warnings(backend, dtype):
    values = [-1e4, -1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0, 1e4]
    x = t(values, backend, dtype=dtype)
    # Every floating-point problem raises, except underflow: exp(-1e4) rounding to 0 is the right
    # answer (torch gives exactly 0 too), and NumPy ignores underflow by default.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.sum().backward()
    s = y.numpy()
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert np.all(np.isfinite(s)) and np.all(np.diff(s) >= 0)
    np.testing.assert_allclose(s[3], 1 / (1 + math.exp(30.0)), rtol=1e-6)  # small, but not flushed to 0
    g = x.grad.numpy()
    assert np.all(np.isfinite(g)) and g[0] == 0.0 and g[-1] == 0.0 and g[4] == 0.25


def test_cross_entropy_and_softmax_stay_finite_for_huge_logits(backend):
    logits = t([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], backend)
    target = mt.tensor([0, 2], backend=backend)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, target)
        loss.backward()
        p = F.softmax(logits, dim=1)
    # row 0: the target wins by 1e4, loss 0; row 1: a tie between classes 1 and 2, loss log 2
    np.testing.assert_allclose(loss.item(), math.log(2) / 2, rtol=1e-6)
    np.testing.assert_allclose(logits.grad.numpy(), [[0, 0, 0], [0, 0.25, -0.25]], atol=1e-7)
    np.testing.assert_allclose(p.numpy(), [[1, 0, 0], [0, 0.5, 0.5]], atol=1e-7)


# ----- the lesson's worked example: sigmoid makes gradients vanish -------------------------------
def test_lesson_chain_of_three_sigmoids(backend):
    f64 = mt.float64
    x = t(1.0, backend, requires_grad=False, dtype=f64)
    w1, w2, w3 = (t(w, backend, dtype=f64) for w in (0.1, 0.2, 0.3))
    a1 = (x * w1).sigmoid()
    a2 = (a1 * w2).sigmoid()
    a3 = (a2 * w3).sigmoid()
    assert a1.item() == pytest.approx(0.525, abs=5e-4)
    assert a2.item() == pytest.approx(0.526, abs=5e-4)
    assert a3.item() == pytest.approx(0.539, abs=5e-4)

    # sigma'(z) of each layer, computed by the engine: backward through one sigmoid each
    factors = []
    for z_value in (0.1 * 1.0, 0.2 * a1.item(), 0.3 * a2.item()):
        z = t(z_value, backend, dtype=f64)
        z.sigmoid().backward()
        factors.append(z.grad.item())
    assert factors == pytest.approx([0.249, 0.249, 0.248], abs=5e-4)  # the lesson lists them output first
    assert all(f <= 0.25 for f in factors)
    product = factors[0] * factors[1] * factors[2]
    assert product == pytest.approx(0.015, abs=5e-4)  # the lesson's simplified product

    # the real gradient reaching W1 also carries the weights: x * W2 * W3 times the same product
    a3.backward()
    assert w1.grad.item() == pytest.approx(product * 1.0 * 0.2 * 0.3, rel=1e-12)
    assert w1.grad.item() == pytest.approx(9.27e-4, abs=5e-6)
    assert w1.grad.item() < w2.grad.item() < w3.grad.item()  # vanishing: smaller the further back


# ----- property: backward of sum(f(x)) is the elementwise derivative, on any shape ---------------
@settings(max_examples=30)
@given(data=st.data())
def test_backward_of_sum_matches_known_derivatives(backend, data):
    x_np = data.draw(arrays(data.draw(shapes()), st.floats(-4.0, 4.0)))
    for fn, deriv in (
        (lambda v: v.tanh(), lambda v: 1 - np.tanh(v) ** 2),
        (lambda v: v.exp(), np.exp),
        (lambda v: v * v * v, lambda v: 3 * v * v),
        (lambda v: v.sigmoid(), lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2),
    ):
        x = t(x_np, backend, dtype=mt.float64)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), deriv(x_np), rtol=1e-12, atol=1e-15)
