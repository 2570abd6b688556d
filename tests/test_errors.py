"""Misuse gives a clear error that names the thing at fault, raised before any state changes."""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.nn import functional as F


def t(values, backend, requires_grad=True, dtype=None):
    return mt.tensor(values, requires_grad=requires_grad, dtype=dtype, backend=backend)


def zeros(shape, backend, requires_grad=True):
    return t(np.zeros(shape), backend, requires_grad=requires_grad, dtype=mt.float32)


# ----- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape_a, shape_b, words",
    [
        ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) are incompatible \(inner dimensions 3 != 4\)"),
        ((3,), (2,), r"matmul: shapes \(3,\) and \(2,\).*3 != 2"),
        ((2, 3), (2,), r"matmul: shapes \(2, 3\) and \(2,\)"),
        ((2, 2, 3), (3, 3, 4), r"matmul: batch dimensions of \(2, 2, 3\) and \(3, 3, 4\) do not broadcast"),
        ((), (3,), r"matmul: both operands need at least 1 dimension"),
    ],
)
def test_matmul_shape_mismatch(backend, shape_a, shape_b, words):
    a, b = zeros(shape_a, backend), zeros(shape_b, backend)
    with pytest.raises(ValueError, match=words):
        a @ b
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
])
def test_broadcast_shape_mismatch(backend, op, name):
    a, b = zeros((2, 3), backend), zeros((4,), backend)
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        op(a, b)


def test_linear_input_of_the_wrong_width(backend):
    layer = mt.nn.Linear(3, 2, backend=backend)
    with pytest.raises(ValueError, match=r"linear: input of shape \(5, 4\).*in_features=3.*weight shape \(2, 3\)"):
        layer(zeros((5, 4), backend))


def test_reshape_to_a_wrong_size(backend):
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) into \(4, 2\)"):
        zeros((2, 3), backend).reshape(4, 2)


def test_reduction_over_a_missing_dimension(backend):
    with pytest.raises(IndexError, match="dimension 2 is out of range for a tensor with 2 dimensions"):
        zeros((2, 3), backend).sum(dim=2)


def test_mse_loss_shapes_must_match(backend):
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(2, 3\) and target shape \(3,\) differ"):
        F.mse_loss(zeros((2, 3), backend), zeros((3,), backend))


def test_integer_tensors_cannot_require_grad(backend):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got dtype int64"):
        mt.tensor([1, 2], requires_grad=True, backend=backend)


# ----- backward() -------------------------------------------------------------------------------
def test_backward_on_a_multi_element_tensor_needs_a_gradient(backend):
    x = t([1.0, 2.0], backend)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"gradient can be omitted only for a one-element tensor.*shape \(2,\)"):
        y.backward()
    assert x.grad is None


def test_backward_with_a_gradient_of_the_wrong_shape(backend):
    x = t([[1.0, 2.0]], backend)
    (x * 2.0).sum().backward()  # a first, valid gradient
    y = x * 3.0
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\) but the tensor has shape \(1, 2\)"):
        y.backward(mt.tensor([1.0, 1.0], backend=backend))
    assert x.grad.numpy().tolist() == [[2.0, 2.0]]  # untouched by the failed call


def test_backward_on_a_tensor_outside_the_graph(backend):
    with pytest.raises(RuntimeError, match="does not require grad"):
        t([1.0], backend, requires_grad=False).backward()


# ----- cross_entropy ----------------------------------------------------------------------------
def test_cross_entropy_rejects_float_targets(backend):
    logits = zeros((2, 3), backend)
    with pytest.raises(TypeError, match="target must hold integer class indices.*got dtype float32"):
        F.cross_entropy(logits, mt.tensor([0.0, 1.0], backend=backend))


@pytest.mark.parametrize("target, bad", [([0, 3], "[3]"), ([-1, 2], "[-1]"), ([5, -2], "[5, -2]")])
def test_cross_entropy_rejects_targets_outside_the_classes(backend, target, bad):
    logits = zeros((2, 3), backend)
    if backend != "numpy":  # a device is not read back each step (it would stall): bad rows' losses are NaN
        losses = F.cross_entropy(logits, mt.tensor(target, backend=backend), reduction="none").numpy()
        np.testing.assert_array_equal(np.isnan(losses), [not 0 <= v < 3 for v in target])
        return
    with pytest.raises(IndexError, match=r"target values must lie in \[0, 3\), found " + bad.replace("[", r"\[")):
        F.cross_entropy(logits, mt.tensor(target, backend=backend))
    assert logits.grad is None


@pytest.mark.parametrize("target_shape", [(3,), (2, 1), ()])
def test_cross_entropy_rejects_a_wrong_target_shape(backend, target_shape):
    logits = zeros((2, 3), backend)
    target = mt.tensor(np.zeros(target_shape, dtype=np.int64), backend=backend)
    with pytest.raises(ValueError, match=r"target must have shape \(2,\) for input of shape \(2, 3\)"):
        F.cross_entropy(logits, target)


def test_cross_entropy_needs_2d_logits_and_a_known_reduction(backend):
    with pytest.raises(ValueError, match=r"input must be \(N, C\) logits, got shape \(3,\)"):
        F.cross_entropy(zeros((3,), backend), mt.tensor([0], backend=backend))
    with pytest.raises(ValueError, match="reduction must be one of"):
        mt.nn.CrossEntropyLoss(reduction="avg")


# ----- optimizers -------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [mt.optim.SGD, mt.optim.Adam])
def test_optimizer_with_an_empty_parameter_list(make):
    with pytest.raises(ValueError, match="empty parameter list"):
        make([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        make(mt.nn.ReLU().parameters(), lr=0.1)  # a model without parameters


@pytest.mark.parametrize("make", [mt.optim.SGD, mt.optim.Adam])
def test_optimizer_with_a_non_tensor(backend, make):
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is ndarray"):
        make([zeros((2,), backend), np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors"):
        make(zeros((2,), backend), lr=0.1)  # a bare tensor, not a list


# The same cases are checked against torch's exceptions (type and message) in tests/test_optim_errors.py.
SGD_INVALID = [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (dict(lr=0.1, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
]
ADAM_INVALID = [
    (dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
]


@pytest.mark.parametrize("kwargs, message", SGD_INVALID)
def test_sgd_invalid_hyperparameters(backend, kwargs, message):
    p = zeros((2,), backend)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        mt.optim.SGD([p], **kwargs)


@pytest.mark.parametrize("kwargs, message", ADAM_INVALID)
def test_adam_invalid_hyperparameters(backend, kwargs, message):
    p = zeros((2,), backend)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        mt.optim.Adam([p], **kwargs)


def test_valid_edge_hyperparameters_are_accepted(backend):
    p = zeros((2,), backend)
    mt.optim.SGD([p], lr=0.0, momentum=0.0, weight_decay=0.0)
    mt.optim.Adam([p], lr=0.0, eps=0.0, betas=(0.0, 0.0), weight_decay=0.0)


# ----- load_state_dict --------------------------------------------------------------------------
def _model(backend):
    mt.manual_seed(0)
    return mt.nn.Sequential(mt.nn.Linear(3, 4, backend=backend), mt.nn.ReLU(), mt.nn.Linear(4, 2, backend=backend))


def test_load_state_dict_lists_every_problem_and_changes_nothing(backend):
    model = _model(backend)
    before = model.state_dict()
    bad = {
        "0.weight": np.ones((4, 3), dtype=np.float32),  # fine on its own: must still not be applied
        "0.bias": np.ones((5,), dtype=np.float32),      # wrong shape
        # "2.weight" missing
        "2.bias": np.ones((2,), dtype=np.float32),
        "3.weight": np.ones((2, 2), dtype=np.float32),  # unexpected
    }
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "size mismatch for 0.bias: got shape (5,), the model has (4,)" in message
    assert "missing keys: '2.weight'" in message
    assert "unexpected keys: '3.weight'" in message
    after = model.state_dict()
    assert list(after) == list(before)
    for name in before:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape"])
def test_load_state_dict_each_problem_alone(backend, change):
    model = _model(backend)
    before = model.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    if change == "missing":
        del state["2.bias"]
        words = "missing keys: '2.bias'"
    elif change == "unexpected":
        state["extra"] = np.zeros(1)
        words = "unexpected keys: 'extra'"
    else:
        state["2.weight"] = np.zeros((4, 2))
        words = r"size mismatch for 2.weight: got shape (4, 2), the model has (2, 4)"
    with pytest.raises(RuntimeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_load_state_dict_not_strict_skips_missing_and_unexpected_keys_only(backend):
    model = _model(backend)
    before = model.state_dict()
    state = {"0.bias": np.full((4,), 7.0), "extra": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert "2.weight" in result.missing_keys and result.unexpected_keys == ["extra"]
    after = model.state_dict()
    assert after["0.bias"].tolist() == [7.0] * 4 and after["0.bias"].dtype == np.float32
    np.testing.assert_array_equal(after["0.weight"], before["0.weight"])
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):  # shapes are checked even then
        model.load_state_dict({"0.bias": np.zeros(3)}, strict=False)
