"""Every op of the op table (tests/op_table.py, shared with the gradcheck tests), forward and every
input's gradient, against torch on hypothesis-drawn inputs (one shared helper:
parity/torch_compare.check_against_torch). Values have both signs and, where an op has a kink, exact
zeros: at a kink the derivative is a convention, and ours must be torch's. Then what the table does
not hold: argmax, max(dim)'s named tuple, comparisons, the lesson's sigmoid chain. The ops'
conventions on hand-picked inputs, and the ops with no gradient: parity/test_ops_more_parity.py; the
optimizers' errors against torch's: tests/test_optim_errors.py."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from minitorch_relu.nn import functional as F
from parity.torch_compare import check_against_torch
from tests.op_table import OPS
from tests.strategies import arrays, broadcastable_shapes, shapes, spaced_arrays

# The bounds (ops.float32, ops.float64) and their reasons are in parity/ledger.toml.
DTYPES = [np.float32, np.float64]
FEW = settings(max_examples=12)  # per op and dtype
# Inputs on purpose reach log(0), 0/0 and overflow (BCE at x = 0, var with N <= correction, huge
# logits): NumPy warns where torch is silent; the values themselves are what the tests compare.
pytestmark = [pytest.mark.usefixtures("one_torch_thread"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")]


def _op_for(backend, name):
    """The table's op, or a skip where it matches torch on the host only."""
    op = OPS[name]
    if op.host_only and backend != "numpy":
        pytest.skip(op.host_only)
    return op


def check(backend, dtype, mt_fn, torch_fn, *inputs):
    """Forward and every input's gradient against torch, within the ledger's ops.float32/64 bound."""
    return check_against_torch(mt_fn, torch_fn, list(inputs), dtype, backend=backend)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
@FEW
@given(data=st.data())
def test_forward_and_gradients_match_torch(backend, dtype, name, data):
    op = _op_for(backend, name)
    case = op.draw(data)
    check(backend, dtype, lambda *ts: op.fn(mt, *ts, **case.params), lambda *ts: op.fn(torch, *ts, **case.params),
          *case.arrays)


# ----- off the path: NaN and infinities ---------------------------------------------------------
SPECIAL_VALUES = [np.nan, np.inf, -np.inf]
# torch disagrees with itself on these: its vector loop and the scalar loop of a tensor's last few
# elements give different answers (ELU's gradient at NaN: NaN or 1; float32 GELU at +inf: NaN or inf),
# so no one answer is torch's (functions/elu.py, functions/gelu.py say which one the engine gives)
TORCH_SPLIT = {"elu": "gradient at NaN", "elu alpha 0.5": "gradient at NaN", "nn.ELU 2": "gradient at NaN",
               "gelu": "float32 at +inf", "nn.GELU": "float32 at +inf", "nn.GELU tanh": "float32 at +inf"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
@FEW
@given(data=st.data())
def test_nan_and_infinities_match_torch(backend, dtype, name, data):
    op = _op_for(backend, name)
    if name in TORCH_SPLIT:
        pytest.skip(f"torch's kernels disagree with each other: {TORCH_SPLIT[name]}")
    case = op.draw(data)
    arrays = []
    for array in case.arrays:  # up to three elements of each float input become NaN, inf or -inf
        array = np.array(array, dtype=dtype if np.issubdtype(np.asarray(array).dtype, np.floating) else None)
        if array.dtype.kind == "f" and array.size:
            for _ in range(data.draw(st.integers(1, 3))):
                array.flat[data.draw(st.integers(0, array.size - 1))] = data.draw(st.sampled_from(SPECIAL_VALUES))
        arrays.append(array)
    try:
        op.fn(torch, *[torch.tensor(a) for a in arrays], **case.params)
    except RuntimeError:  # torch refuses the input (BCE's probabilities outside [0, 1]): so must we
        if backend != "numpy":
            pytest.skip("input checks run on the host only (on a device each would wait for the GPU)")
        with pytest.raises(RuntimeError):
            op.fn(mt, *[mt.tensor(a, backend=backend) for a in arrays], **case.params)
        return
    check(backend, dtype, lambda *ts: op.fn(mt, *ts, **case.params), lambda *ts: op.fn(torch, *ts, **case.params),
          *arrays)


# ----- saved tensors: an input changed in place before backward ----------------------------------
def _backward_after_changing_input(lib, op, case, position, backend):
    """Run the op on copies of its inputs (non-leaves), change input ``position`` in place (by a
    no-op: multiply by 1), then backward: torch refuses where it saved that input. Returns "ok" or
    "refused"."""
    inputs = []
    for array in case.arrays:
        array = np.asarray(array)
        floating = array.dtype.kind == "f"
        leaf = (torch.tensor(array, requires_grad=floating) if lib is torch
                else mt.tensor(array, requires_grad=floating, backend=backend))
        inputs.append(leaf * 1 if floating else leaf.clone())
    out = op.fn(lib, *inputs, **case.params)
    out = out[0] if isinstance(out, tuple) else out
    if not out.requires_grad:
        return "no graph"
    with lib.no_grad():
        changed = inputs[position]
        changed.mul_(1) if changed.dtype in (torch.float32, torch.float64, mt.float32, mt.float64) else changed.add_(0)
    try:
        out.sum().backward()
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error), error
        return "refused"
    return "ok"


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=4)
@given(data=st.data())
def test_changing_a_saved_input_in_place_is_refused_as_in_torch(backend, name, data):
    op = _op_for(backend, name)
    case = op.draw(data)
    for position, array in enumerate(case.arrays):
        if np.asarray(array).dtype == bool:
            continue  # a bool tensor has no in-place no-op here
        theirs = _backward_after_changing_input(torch, op, case, position, backend)
        ours = _backward_after_changing_input(mt, op, case, position, backend)
        assert ours == theirs, f"input {position} changed in place: torch {theirs}, here {ours}"


# ----- what the table does not hold ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@FEW
@given(data=st.data())
def test_max_along_a_dim_returns_values_and_indices(backend, dtype, data):
    x = data.draw(spaced_arrays(data.draw(shapes())))  # no ties (see the table's max(dim))
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


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_leaky_relu_at_exact_zeros(backend, dtype):
    x = np.array([-1.0, -0.0, 0.0, 0.0, 2.0])
    check(backend, dtype, F.relu, torch.relu, x)
    check(backend, dtype, F.leaky_relu, torch.nn.functional.leaky_relu, x)
    check(backend, dtype, lambda t: F.leaky_relu(t, 0.5), lambda t: torch.nn.functional.leaky_relu(t, 0.5), x)


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


# ----- the lesson's chain ----------------------------------------------------------------------
def test_sigmoid_of_the_lesson_chain_matches_torch(backend):
    # the lesson's x=1 -> W1=0.1 -> sigmoid -> W2=0.2 -> sigmoid -> W3=0.3 -> sigmoid, in both engines
    def chain(w1, w2, w3, lib_sigmoid):
        return lib_sigmoid(lib_sigmoid(lib_sigmoid(w1 * 1.0) * w2) * w3)

    ws = [np.array(0.1), np.array(0.2), np.array(0.3)]
    out = check(backend, np.float64, lambda a, b, c: chain(a, b, c, lambda t: t.sigmoid()),
                lambda a, b, c: chain(a, b, c, torch.sigmoid), *ws)[0]
    assert out.item() == pytest.approx(0.539, abs=5e-4)
    assert math.isfinite(out.item())
