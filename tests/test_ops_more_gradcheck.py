"""Every op of tests/ops_more_table.py against central finite differences (mt.gradcheck, float64).

Inputs come from each op's ``smooth`` draw: away from kinks, ties and bounds, where the derivative
exists and finite differences can see it. What an op does exactly at those points is a convention,
checked against torch in parity/test_ops_more_parity.py (and with known numbers in test_ops_more.py).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch_relu as mt
from tests.ops_more_table import OPS

FEW = settings(max_examples=10)  # ~80 ops: each example runs the forward 2 * numel times


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
    return out[0] if isinstance(out, tuple) else out  # min(dim) gives (values, indices)


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


def test_the_table_covers_every_new_op():
    """A new op of the issue with no entry would go untested: name them all here."""
    wanted = ["unsqueeze", "squeeze", "expand", "flatten", "cat", "stack", "abs", "sign", "clamp(-0.5, 1)", "maximum",
              "minimum", "where", "x ** y", "2 ** x", "add alpha", "sub alpha", "mul", "div", "neg", "x.pow(y)", "min",
              "min(dim)", "prod", "prod(dim)", "var", "std", "logsumexp", "gelu", "gelu tanh", "silu", "elu", "softplus",
              "nn.GELU", "nn.SiLU", "nn.ELU 2", "nn.Softplus", "nn.LogSoftmax", "Tensor.softmax", "Tensor.log_softmax",
              "nll_loss", "nn.NLLLoss", "binary_cross_entropy", "nn.BCELoss", "binary_cross_entropy_with_logits",
              "nn.BCEWithLogitsLoss", "cross_entropy ignore_index", "cross_entropy label_smoothing",
              "nn.CrossEntropyLoss options"]
    assert not [w for w in wanted if w not in OPS]
