"""nn and optim basics against known numbers, and dtypes kept through layers, losses and optimizers."""

import math

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.nn import functional as F


def mlp(backend, dtype=None):
    mt.manual_seed(7)
    return mt.nn.Sequential(
        mt.nn.Linear(4, 5, dtype=dtype, backend=backend), mt.nn.ReLU(),
        mt.nn.Linear(5, 5, dtype=dtype, backend=backend), mt.nn.LeakyReLU(),
        mt.nn.Linear(5, 3, dtype=dtype, backend=backend),
    )


# ----- Linear -----------------------------------------------------------------------------------
def test_linear_shapes_init_and_forward(backend):
    mt.manual_seed(0)
    layer = mt.nn.Linear(3, 2, backend=backend)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    assert layer.weight.dtype == mt.float32 and layer.weight.requires_grad
    bound = 1 / math.sqrt(3)  # torch's default init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    assert np.all(np.abs(layer.weight.numpy()) <= bound) and np.all(np.abs(layer.bias.numpy()) <= bound)
    x = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=np.float32)
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(mt.tensor(x, backend=backend)).numpy(), expected, rtol=1e-6)


def test_linear_is_reproducible_from_the_seed(backend):
    first, second = mlp(backend).state_dict(), mlp(backend).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    mt.manual_seed(8)
    other = mt.nn.Linear(4, 5, backend=backend)
    assert not np.array_equal(other.weight.numpy(), first["0.weight"])


def test_linear_without_bias_and_its_gradients(backend):
    layer = mt.nn.Linear(2, 2, bias=False, backend=backend)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    mt.nn.init.constant_(layer.weight, 0.5)
    x = mt.tensor([[1.0, 2.0], [3.0, 4.0]], backend=backend)
    y = layer(x)
    assert y.numpy().tolist() == [[1.5, 1.5], [3.5, 3.5]]
    y.sum().backward()
    assert layer.weight.grad.numpy().tolist() == [[4.0, 6.0], [4.0, 6.0]]  # column sums of x


# ----- containers, names, repr ------------------------------------------------------------------
def test_sequential_names_and_repr_follow_torch(backend):
    model = mlp(backend)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [p.shape for p in model.parameters()] == [(5, 4), (5,), (5, 5), (5,), (3, 5), (3,)]
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=5, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=5, out_features=5, bias=True)\n"
        "  (3): LeakyReLU(negative_slope=0.01)\n"
        "  (4): Linear(in_features=5, out_features=3, bias=True)\n"
        ")"
    )


def test_state_dict_round_trip_and_copies(backend):
    source, target = mlp(backend), mt.nn.Sequential(
        mt.nn.Linear(4, 5, backend=backend), mt.nn.ReLU(), mt.nn.Linear(5, 5, backend=backend),
        mt.nn.LeakyReLU(), mt.nn.Linear(5, 3, backend=backend))
    state = source.state_dict()
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = mt.tensor(np.linspace(-2, 2, 8).reshape(2, 4), backend=backend, dtype=mt.float32)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    state["0.weight"][...] = 0  # the state dict is a copy: changing it changes no model
    assert np.any(source.state_dict()["0.weight"] != 0) and np.any(target.state_dict()["0.weight"] != 0)


def test_train_eval_and_zero_grad(backend):
    model = mlp(backend)
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model(mt.tensor(np.ones((2, 4)), dtype=mt.float32, backend=backend)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not np.any(p.grad.numpy()) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ----- losses against known numbers ---------------------------------------------------------------
def test_cross_entropy_known_values(backend):
    # equal logits: every class has probability 1/C, so the loss is log C and the gradient (1/C - onehot)/N
    logits = mt.tensor(np.zeros((2, 4)), requires_grad=True, dtype=mt.float64, backend=backend)
    target = mt.tensor([1, 3], backend=backend)
    loss = mt.nn.CrossEntropyLoss()(logits, target)
    assert loss.item() == pytest.approx(math.log(4), rel=1e-15)
    loss.backward()
    expected = (np.full((2, 4), 0.25) - np.eye(4)[[1, 3]]) / 2
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-15)
    per_sample = F.cross_entropy(logits, target, reduction="none")
    np.testing.assert_allclose(per_sample.numpy(), [math.log(4)] * 2, rtol=1e-15)
    assert F.cross_entropy(logits, target, reduction="sum").item() == pytest.approx(2 * math.log(4), rel=1e-15)


def test_mse_known_values(backend):
    x = mt.tensor([1.0, 2.0, 4.0], requires_grad=True, backend=backend)
    y = mt.tensor([1.0, 0.0, 1.0], backend=backend)
    loss = mt.nn.MSELoss()(x, y)
    assert loss.item() == pytest.approx(13 / 3, rel=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4 / 3, 2.0], rtol=1e-6)
    assert mt.nn.MSELoss(reduction="sum")(x, y).item() == 13.0


# ----- optimizers against hand-computed steps (parity with torch lives in parity/) ---------------
def test_sgd_steps_by_hand(backend):
    p = mt.tensor([1.0, -1.0], requires_grad=True, backend=backend)
    opt = mt.optim.SGD([p], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (p * mt.tensor([2.0, 4.0], backend=backend)).sum().backward()  # gradient (2, 4) each time
        opt.step()
    # buf1 = g, p1 = p0 - 0.1 g; buf2 = 0.5 g + g, p2 = p1 - 0.1 * 1.5 g: p0 - 0.25 g
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.5, -1.0 - 1.0], rtol=1e-6)


def test_adam_first_step_moves_each_parameter_by_lr(backend):
    # after one step m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps), about lr * sign(g)
    p = mt.tensor([1.0, -1.0, 0.5], requires_grad=True, dtype=mt.float64, backend=backend)
    g = np.array([3.0, -0.2, 1e-3])
    opt = mt.optim.Adam([p], lr=0.01)
    (p * mt.tensor(g, backend=backend)).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.numpy(), [1.0, -1.0, 0.5] - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-13)
    np.testing.assert_allclose(p.numpy(), [0.99, -0.99, 0.49], rtol=1e-6)


# ----- dtypes kept through a whole training step ------------------------------------------------
@pytest.mark.parametrize("dtype", [mt.float32, mt.float64])
@pytest.mark.parametrize("make_opt", [
    lambda ps: mt.optim.SGD(ps, lr=0.1),
    lambda ps: mt.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda ps: mt.optim.Adam(ps, lr=1e-3),
    lambda ps: mt.optim.Adam(ps, lr=1e-3, weight_decay=1e-2, amsgrad=True),
], ids=["sgd", "sgd-nesterov", "adam", "adam-amsgrad"])
@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse"])
def test_dtype_survives_linear_loss_and_optimizer(backend, dtype, make_opt, loss_name):
    model = mlp(backend, dtype=dtype)
    opt = make_opt(model.parameters())
    x = mt.tensor(np.linspace(-1, 1, 12).reshape(3, 4), dtype=dtype, backend=backend)
    for _ in range(2):
        opt.zero_grad()
        out = model(x)
        if loss_name == "cross_entropy":
            loss = F.cross_entropy(out, mt.tensor([0, 2, 1], backend=backend))
        else:
            loss = F.mse_loss(out, mt.tensor(np.ones((3, 3)), dtype=dtype, backend=backend))
        assert out.dtype == dtype and loss.dtype == dtype
        loss.backward()
        opt.step()
    for name, p in model.named_parameters():
        assert p.dtype == dtype and p.grad.dtype == dtype, name
        for key, value in opt.state[p].items():
            if hasattr(value, "dtype") and np.issubdtype(value.dtype, np.floating):
                assert value.dtype == dtype, f"{name}: optimizer state {key!r} is {value.dtype}"
    for entry in opt.state_dict()["state"].values():  # saved state keeps the dtype too
        for key, value in entry.items():
            if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
                assert value.dtype == dtype, f"saved optimizer state {key!r} is {value.dtype}"


def test_optimizer_load_state_dict_copies_the_saved_arrays():
    """Stepping after a load must not write into the dict that was loaded (torch deep-copies it too)."""
    p = mt.nn.Parameter(mt.tensor([1.0, 2.0]))
    opt = mt.optim.Adam([p], lr=0.1)
    p.grad = mt.tensor([0.5, -0.5])
    opt.step()
    saved = opt.state_dict()
    exp_avg_before = saved["state"][0]["exp_avg"].copy()
    fresh = mt.optim.Adam([p], lr=0.1)
    fresh.load_state_dict(saved)
    p.grad = mt.tensor([1.0, 1.0])
    fresh.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], exp_avg_before)
    assert fresh.state[p]["step"] == 2
    assert not np.array_equal(fresh.state[p]["exp_avg"], exp_avg_before)
