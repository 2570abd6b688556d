"""Torch's conventions at kinks, ties and bounds, pinned on hand-picked inputs, and the ops with no
gradient (argmin, any, all, one_hot, the creation functions). Every op's forward and gradients on
drawn inputs: parity/test_ops_parity.py, from the one op table (tests/op_table.py).

Tolerances as in parity/test_ops_parity.py (float64 1e-12, float32 1e-5: the ledger's "ops" bounds),
linspace and arange with float steps have their own ledger entries (torch's kernels round those
differently).
"""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from parity.ledger import check
from parity.torch_compare import check_against_torch, op_error
from tests.strategies import arrays, dims_for, shapes


def compare(ours, theirs, inputs, dtype, backend):
    """Forward and every input's gradient against torch, within the ledger's ops.float32/64 bound."""
    return check_against_torch(ours, theirs, list(inputs), dtype, backend=backend)


DTYPES = [np.float32, np.float64]
FEW = settings(max_examples=12)
# Inputs on purpose reach log(0), 0/0 and overflow (BCE at x = 0, var with N <= correction, huge
# logits): NumPy warns where torch is silent; the values themselves are what the tests compare.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")]


# ----- conventions at the points where a derivative is a choice --------------------------------
CONVENTIONS = {
    # name: (function of lib and tensors, inputs)
    "abs'(0) = 0": (lambda lib, x: x.abs(), [np.array([-2.0, -0.0, 0.0, 3.0])]),
    "clamp's gradient is 0 at its bounds": (lambda lib, x: x.clamp(-1.0, 1.0), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])]),
    "clamp with min > max": (lambda lib, x: x.clamp(1.0, -1.0), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])]),
    "maximum's tie shares the gradient": (lambda lib, a, b: lib.maximum(a, b), [np.array([1.0, 2.0, 3.0]),
                                                                              np.array([1.0, 1.0, 4.0])]),
    "minimum's tie shares the gradient": (lambda lib, a, b: lib.minimum(a, b), [np.array([1.0, 2.0, 3.0]),
                                                                              np.array([1.0, 1.0, 4.0])]),
    "min() splits ties evenly": (lambda lib, x: x.min(), [np.array([[1.0, 0.0], [0.0, 2.0]])]),
    "min(dim) picks the first minimum": (lambda lib, x: x.min(1), [np.array([[1.0, 0.0, 0.0], [3.0, 3.0, 3.0]])]),
    "prod with one zero": (lambda lib, x: x.prod(1), [np.array([[2.0, 0.0, 3.0], [1.0, 2.0, 4.0]])]),
    "prod with two zeros": (lambda lib, x: x.prod(), [np.array([0.0, 5.0, 0.0])]),
    "std of equal values has gradient 0": (lambda lib, x: x.std(1), [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])]),
    "var of one element is nan": (lambda lib, x: x.var(0), [np.array([[2.0, 3.0]])]),
    "logsumexp with -inf and inf": (lambda lib, x: x.logsumexp(1), [np.array([[-np.inf, -np.inf], [0.0, -np.inf]])]),
    "x ** y at a zero base": (lambda lib, a, b: a**b, [np.array([0.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0])]),
    "2 ** x": (lambda lib, x: 2**x, [np.array([-1.0, 0.0, 0.5, 3.0])]),
    "elu at 0": (lambda lib, x: lib.nn.functional.elu(x, alpha=0.5), [np.array([-1.0, -0.0, 0.0, 1.0])]),
    "softplus at its threshold": (lambda lib, x: lib.nn.functional.softplus(x), [np.array([19.9, 20.0, 20.1, 1e4])]),
    "bce at probabilities 0 and 1": (lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t, reduction="none"),
                                     [np.array([0.0, 0.0, 1.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.0, 1.0, 0.3])]),
    "bce with logits at +-100": (lambda lib, x, t: lib.nn.functional.binary_cross_entropy_with_logits(x, t),
                                 [np.array([-100.0, 100.0, -100.0, 100.0]), np.array([0.0, 0.0, 1.0, 1.0])]),
    "nll_loss with every row ignored": (lambda lib, x, t: lib.nn.functional.nll_loss(x, t, ignore_index=1),
                                        [np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([1, 1])]),
    "cross_entropy smoothed, every row ignored": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, ignore_index=1, label_smoothing=0.2),
        [np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([1, 1])]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_conventions_match_torch(backend, dtype, name):
    fn, inputs = CONVENTIONS[name]
    compare(lambda *ts: fn(mt, *ts), lambda *ts: fn(torch, *ts), inputs, dtype, backend)


# ----- ops without a gradient ------------------------------------------------------------------
def assert_same(ours, theirs):
    ours, theirs = ours.numpy(), theirs.numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours, theirs)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("keepdim", [False, True])
@FEW
@given(data=st.data())
def test_argmin_and_min_indices_with_ties(backend, keepdim, data):
    x = data.draw(arrays(data.draw(shapes()), st.sampled_from([-1.0, 0.0, 2.0])))  # ties: torch gives the first
    n = max(x.ndim, 1)
    dim = data.draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    assert_same(mt.tensor(x, backend=backend).argmin(dim=dim, keepdim=keepdim),
                torch.tensor(x).argmin(dim=dim, keepdim=keepdim))


@pytest.mark.parametrize("which", ["any", "all"])
@FEW
@given(data=st.data())
def test_any_and_all(backend, which, data):
    x = data.draw(arrays(data.draw(shapes()), st.sampled_from([0.0, 1.0, -2.0])))
    dim = data.draw(dims_for(x.ndim).filter(lambda d: d != ()))
    keepdim = data.draw(st.booleans())
    ours = getattr(mt.tensor(x, backend=backend), which)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.tensor(x), which)(**({} if dim is None and not keepdim else dict(dim=dim, keepdim=keepdim)))
    assert_same(ours, theirs)
    assert_same(getattr(mt.tensor(x > 0, backend=backend), which)(), getattr(torch.tensor(x > 0), which)())


@FEW
@given(data=st.data())
def test_one_hot(backend, data):
    values = np.array(data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=6)), dtype=np.int64)
    shape = data.draw(st.sampled_from([(values.size,), (1, values.size)]))
    values = values.reshape(shape)
    for classes in (-1, 5, 7):
        assert_same(mt.nn.functional.one_hot(mt.tensor(values, backend=backend), classes),
                    torch.nn.functional.one_hot(torch.tensor(values), classes))


CREATION = {
    # name: calls (lib, backend) -> tensor; torch's has no backend
    "zeros(2, 3)": lambda lib, **be: lib.zeros(2, 3, **be),
    "zeros((2, 3)) float64": lambda lib, **be: lib.zeros((2, 3), dtype=lib.float64, **be),
    "zeros()": lambda lib, **be: lib.zeros((), **be),
    "ones(4)": lambda lib, **be: lib.ones(4, **be),
    "ones([1, 2]) int64": lambda lib, **be: lib.ones([1, 2], dtype=lib.int64, **be),
    "full((2,), 7)": lambda lib, **be: lib.full((2,), 7, **be),
    "full((2, 2), 1.5)": lambda lib, **be: lib.full((2, 2), 1.5, **be),
    "full((3,), True)": lambda lib, **be: lib.full((3,), True, **be),
    "full((2,), 3, dtype=float64)": lambda lib, **be: lib.full((2,), 3, dtype=lib.float64, **be),
    "empty shape": lambda lib, **be: lib.empty(2, 5, **be) * 0,
    "arange(5)": lambda lib, **be: lib.arange(5, **be),
    "arange(2, 11, 3)": lambda lib, **be: lib.arange(2, 11, 3, **be),
    "arange(10, 0, -3)": lambda lib, **be: lib.arange(10, 0, -3, **be),
    "arange(3, dtype=float64)": lambda lib, **be: lib.arange(3, dtype=lib.float64, **be),
    "arange(0.5, 3.25, 0.25) float64": lambda lib, **be: lib.arange(0.5, 3.25, 0.25, dtype=lib.float64, **be),
    "arange(5, 1)": lambda lib, **be: lib.arange(5, 1, -1, **be),
    "linspace(0, 10, 6) int64": lambda lib, **be: lib.linspace(0, 10, 6, dtype=lib.int64, **be),
    "linspace(0, 1, 1)": lambda lib, **be: lib.linspace(0, 1, 1, **be),
    "linspace(0, 1, 0)": lambda lib, **be: lib.linspace(0, 1, 0, **be),
    "eye(3)": lambda lib, **be: lib.eye(3, **be),
    "eye(2, 4) int64": lambda lib, **be: lib.eye(2, 4, dtype=lib.int64, **be),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_matches_torch_exactly(backend, name):
    make = CREATION[name]
    assert_same(make(mt, backend=backend), make(torch))


def _like_cases(lib, x):
    return [lib.zeros_like(x), lib.ones_like(x), lib.full_like(x, 2.5), lib.zeros_like(x, dtype=lib.int64),
            lib.full_like(x, 3, dtype=lib.float64), lib.empty_like(x).zero_()]  # (empty: any bits, even NaN)


def test_like_functions_match_torch(backend):
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for ours, theirs in zip(_like_cases(mt, mt.tensor(x, backend=backend)), _like_cases(torch, torch.tensor(x))):
        assert ours.backend == backend
        assert_same(ours, theirs)


# torch's vectorized linspace (AVX2, AVX-512) rounds each start + i * step once, a fused multiply-add, as
# the engine does; its scalar kernel (ATEN_CPU_CAPABILITY=default, a CPU without AVX2) rounds twice.
TORCH_FUSES = torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


def assert_linspace_matches(ours, theirs, key, backend):
    if TORCH_FUSES:
        assert_same(ours, theirs)
    else:
        assert ours.shape == theirs.shape
        check(key, op_error(ours.numpy(), theirs.numpy()), backend, "torch's scalar linspace")


@FEW
@given(start=st.floats(-10, 10), end=st.floats(-10, 10), steps=st.integers(0, 40))
@example(start=3.0, end=1.072796046990215e-38, steps=21)  # a float32 tie only double rounding lands on
def test_linspace_float32_is_torch_bit_for_bit(backend, start, end, steps):
    assert_linspace_matches(mt.linspace(start, end, steps, backend=backend), torch.linspace(start, end, steps),
                            "ops.float32", backend)


@FEW
@given(start=st.floats(-10, 10), end=st.floats(-10, 10), steps=st.integers(0, 40))
def test_linspace_float64_and_int64_are_torch_bit_for_bit(backend, start, end, steps):
    assert_linspace_matches(mt.linspace(start, end, steps, dtype=mt.float64, backend=backend),
                            torch.linspace(start, end, steps, dtype=torch.float64), "ops.linspace.float64", backend)
    if TORCH_FUSES:  # (torch's scalar kernel truncates its twice-rounded values: one apart at times)
        assert_same(mt.linspace(10 * start, 10 * end, steps, dtype=mt.int64, backend=backend),
                    torch.linspace(10 * start, 10 * end, steps, dtype=torch.int64))


@FEW
@given(start=st.floats(-10, 10), length=st.floats(0.0, 10), step=st.sampled_from([0.1, 0.25, 0.3, 1.0, -0.7]))
def test_arange_float(backend, start, length, step):
    end = start + length * np.sign(step)
    ours = mt.arange(start, end, step, backend=backend).numpy()
    theirs = torch.arange(start, end, step).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    # torch's vectorized CPU kernel adds step to a float32 base within each SIMD chunk; this engine
    # computes start + i * step in float64 once: the values differ by a float32 rounding or two
    check("ops.arange.float32", op_error(ours, theirs), backend)



@pytest.mark.filterwarnings("ignore:var\\(\\)|std\\(\\)")  # torch warns when N <= correction
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_and_std_of_subnormals_sum_in_float64_like_torch(backend, correction):
    # Squares of float32 deviations this small are 0 in float32; torch's CPU kernel sums in double, so
    # its var is a tiny positive number (0 once cast back) and, with no degrees of freedom left, inf.
    values = np.array([0.0, 1.4e-45, 2.8e-45], dtype=np.float32)[: 2 + (correction == 0)]
    for method in ("var", "std"):
        ours = getattr(mt.tensor(values, backend=backend), method)(correction=correction)
        theirs = getattr(torch.tensor(values), method)(correction=correction)
        assert_same(ours, theirs)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1)])
def test_max_pool_sends_a_nan_gradient_to_the_winner_only(backend, kernel, stride):
    # torch scatters each output's gradient to its argmax: the other pixels of the window get 0, not NaN * 0
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4)).astype(np.float32)
    grad = np.random.default_rng(1).normal(size=(2, 3, 4 // kernel if stride == kernel else 2, 2)).astype(np.float32)
    grad[0, 0, 0, 0] = np.nan
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    mt.nn.functional.max_pool2d(ours, kernel, stride).backward(mt.tensor(grad, backend=backend))
    theirs = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(theirs, kernel, stride).backward(torch.tensor(grad))
    assert_same(ours.grad, theirs.grad)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool_sends_a_nan_windows_gradient_to_its_last_nan(backend, kernel, stride, padding):
    # torch's loop takes a value when it is larger or NaN: a NaN window's argmax is its last NaN
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=(2, 3, 6, 6)), 0).astype(np.float32)  # rounded: ties too
    x[rng.random(x.shape) < 0.2] = np.nan
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    out = mt.nn.functional.max_pool2d(ours, kernel, stride, padding)
    grad = rng.normal(size=out.shape).astype(np.float32)
    out.backward(mt.tensor(grad, backend=backend))
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.max_pool2d(theirs, kernel, stride, padding)
    expected.backward(torch.tensor(grad))
    assert_same(out.detach(), expected.detach())
    # overlapping windows add their gradients in another order than torch's scatter: equal to rounding
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert np.array_equal(ours.grad.numpy() != 0, theirs.grad.numpy() != 0)


def test_relu_passes_the_gradient_at_nan_like_torch(backend):
    x = np.array([np.nan, -1.0, 0.0, -0.0, 2.0, np.inf, -np.inf], np.float32)
    grad = np.array([5.0, np.nan, np.nan, 3.0, np.nan, 1.0, 1.0], np.float32)
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    mt.nn.functional.relu(ours).backward(mt.tensor(grad, backend=backend))
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.tensor(grad))
    assert_same(ours.grad, theirs.grad)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_std_of_equal_values_follows_torchs_two_paths(backend, dim):
    # torch reduces every dim with the mean in x's dtype (so equal float32 values give a tiny std and a
    # finite gradient), and part of the dims with Welford in float64 (std exactly 0, gradient 0)
    x = np.full((1, 3), 0.79417362, np.float32)
    ours = mt.tensor(x, backend=backend, requires_grad=True)
    out = ours.std(dim=dim)
    out.sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected = theirs.std(dim=dim)
    expected.sum().backward()
    assert_same(out.detach(), expected.detach())
    assert_same(ours.grad, theirs.grad)
