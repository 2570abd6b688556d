"""Every differentiable op of the op table (tests/op_table.py) against central finite differences
(mt.gradcheck, float64); the same table drives the torch parity tests (parity/test_ops_parity.py).

Inputs come from each op's ``smooth`` draw (hypothesis; tests/strategies.py): away from kinks, ties,
poles and bounds (ReLU's kink, 1/x's pole, log/sqrt at 0), where the derivative exists and finite
differences can see it. What an op does exactly at those points is a convention, checked against
torch in the parity tests (and with known numbers in test_autograd.py and test_ops_more.py).

gradcheck's tolerances (atol 1e-5, rtol 1e-3 with eps 1e-6, in float64) allow the O(eps^2) truncation
error of central differences plus the O(1e-16 / eps) rounding error, for values of order 1.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from tests.op_table import OPS

# Each example runs backward once and the forward 2 * numel times; 12 examples per op (~150 ops)
# keep the file fast on a shared 2-core machine.
FEW = settings(max_examples=12)


def make_inputs(arrays, backend):
    """Floating arrays become float64 leaves that require grad; integer/bool ones plain tensors."""
    out = []
    for a in arrays:
        if np.issubdtype(a.dtype, np.floating):
            out.append(mt.tensor(a, requires_grad=True, dtype=mt.float64, backend=backend))
        else:
            out.append(mt.tensor(a, backend=backend))
    return out


def first_output(out):
    return out[0] if isinstance(out, tuple) else out  # max(dim) gives (values, indices)


@pytest.mark.parametrize("name", sorted(OPS))
@FEW
@given(data=st.data())
def test_gradcheck(backend, name, data):
    op = OPS[name]
    if op.host_only and backend != "numpy":
        pytest.skip(op.host_only)
    case = op.smooth_case(data)
    inputs = make_inputs(case.arrays, backend)
    # finite differences of nan compare as "no error": a nan output must fail here, not pass there
    assert np.isfinite(first_output(op.fn(mt, *inputs, **case.params)).numpy()).all()
    assert mt.gradcheck(lambda *ts: first_output(op.fn(mt, *ts, **case.params)), inputs)


def test_the_table_covers_every_op():
    """An op with no entry would go untested: name them all here."""
    wanted = ["a + b", "a - b", "a * b", "a / b", "x + 2", "-x", "x ** 2", "x ** 0.5", "a @ b", "a.matmul(b)", "sum",
              "mean", "max over ties splits evenly", "max(dim)", "reshape(-1)", "view(n, -1)", ".T", "transpose",
              "permute", "x[1]", "x[:, 1:, ::2]", "x[..., None, 0]", "x[indices] repeated", "x[i, :, j]", "x[x > 0]",
              "exp", "log", "sqrt", "relu", "nn.ReLU", "leaky_relu", "nn.LeakyReLU 0.3", "sigmoid", "nn.Sigmoid",
              "tanh", "nn.Tanh", "softmax", "log_softmax", "cross_entropy mean", "nn.CrossEntropyLoss none",
              "mse_loss sum", "nn.MSELoss mean", "linear", "linear without bias",
              "unsqueeze", "squeeze", "expand", "flatten", "cat", "stack", "abs", "sign", "clamp(-0.5, 1)", "maximum",
              "minimum", "where", "x ** y", "2 ** x", "add alpha", "sub alpha", "mul", "div", "neg", "x.pow(y)", "min",
              "min(dim)", "prod", "prod(dim)", "var", "std", "logsumexp", "gelu", "gelu tanh", "silu", "elu", "softplus",
              "nn.GELU", "nn.SiLU", "nn.ELU 2", "nn.Softplus", "nn.LogSoftmax", "Tensor.softmax", "Tensor.log_softmax",
              "nll_loss", "nn.NLLLoss", "binary_cross_entropy", "nn.BCELoss", "binary_cross_entropy_with_logits",
              "nn.BCEWithLogitsLoss", "cross_entropy ignore_index", "cross_entropy label_smoothing",
              "nn.CrossEntropyLoss options"]
    assert not [w for w in wanted if w not in OPS]


# ----- the checker itself -----------------------------------------------------------------------
class _WrongSquare(mt.Function):
    """x * x with a deliberately wrong backward (x instead of 2x), for gradcheck to catch."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        return (grad * self.x,)


def test_gradcheck_catches_a_wrong_backward_and_names_the_element(backend):
    x = make_inputs([np.array([[0.5, -1.0], [2.0, 3.0]])], backend)[0]
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
