"""Optimizers across backends: their state moves with Optimizer.to (Adam's moments, SGD's momentum,
L-BFGS's history), state left behind is an error, and on a GPU Adam's fused kernel computes the
readable update.

The moves are tested numpy <-> strict (the stand-in device), so they run on every CI machine; a GPU
run (``pytest --backend cupy``) repeats them on CuPy through the ``backend`` fixture.
"""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.backend import backend_of
from tests.devices import batch, cupy_or_skip, other_backend, small_mlp, train_steps


# ----- Optimizer.to ------------------------------------------------------------------------------
def test_training_continues_after_moving_model_and_optimizer(backend):
    """3 steps here, move model + Adam state, 3 steps there == 6 steps without moving."""
    reference = small_mlp(backend)
    ref_opt = mt.optim.Adam(reference.parameters(), lr=0.05)
    train_steps(reference, ref_opt, *batch(backend), steps=6)

    model = small_mlp(backend)
    opt = mt.optim.Adam(model.parameters(), lr=0.05)
    train_steps(model, opt, *batch(backend), steps=3)
    target = other_backend(backend)
    model.to(target)
    assert opt.to(target) is opt
    for state in opt.state.values():
        assert state["step"] == 3
        assert backend_of(state["exp_avg"]).name == target and backend_of(state["exp_avg_sq"]).name == target
    train_steps(model, opt, *batch(target), steps=3)

    # The same float32 arithmetic on both sides (a GPU's may round differently: 1e-5 covers that).
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_optimizer_state_left_behind_is_a_clear_error(backend):
    model = small_mlp(backend)
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, opt, *batch(backend), steps=1)
    model.to(other_backend(backend))  # but not the optimizer
    x, y = batch(other_backend(backend))
    loss = mt.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    # The device refuses to mix its arrays with the host's (a TypeError, as CuPy raises): no silent copy.
    with pytest.raises(TypeError):
        opt.step()


def test_sgd_momentum_state_moves(backend):
    model = small_mlp(backend)
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_steps(model, opt, *batch(backend), steps=2)
    target = other_backend(backend)
    opt.to(target)
    for state in opt.state.values():
        assert backend_of(state["momentum_buffer"]).name == target



def test_lbfgs_history_moves_with_the_optimizer(backend):
    """L-BFGS keeps arrays in lists (its curvature history): those must move too."""
    def fit(move_after_first_step):
        mt.manual_seed(0)
        layer = mt.nn.Linear(3, 1).to(backend)
        rng = np.random.default_rng(0)
        data = [rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 1)).astype(np.float32)]
        x, y = (mt.tensor(a, backend=backend) for a in data)
        opt = mt.optim.LBFGS(layer.parameters(), lr=0.5, max_iter=3)

        def closure():
            opt.zero_grad()
            loss = mt.nn.functional.mse_loss(layer(x), y)
            loss.backward()
            return loss

        opt.step(closure)
        if move_after_first_step:
            target = other_backend(backend)
            layer.to(target)
            assert opt.to(target) is opt
            history = opt.state[layer.weight]["old_dirs"]
            assert history and all(backend_of(a).name == target for a in history)
            x, y = x.to(target), y.to(target)
        opt.step(closure)
        return [p.numpy() for p in layer.parameters()]

    for moved, stayed in zip(fit(True), fit(False)):
        np.testing.assert_allclose(moved, stayed, rtol=1e-5, atol=1e-6)



# ----- the fused Adam kernel (GPU only) ----------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("options", [
    dict(weight_decay=0.0, maximize=False, decoupled_weight_decay=False),
    dict(weight_decay=0.1, maximize=False, decoupled_weight_decay=False),
    dict(weight_decay=0.1, maximize=True, decoupled_weight_decay=True),
])
def test_fused_cupy_adam_matches_the_readable_adam_update(options):
    cupy = cupy_or_skip()
    from minitorch_relu.optim._cupy_kernels import fused_adam_update
    from minitorch_relu.optim.adam import adam_update

    rng = np.random.default_rng(3)
    param, grad = (cupy.asarray(rng.normal(size=(64, 33)).astype(np.float32)) for _ in range(2))
    spec = [param.copy(), cupy.zeros_like(param), cupy.zeros_like(param)]
    fused = [param.copy(), cupy.zeros_like(param), cupy.zeros_like(param)]
    hyper = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, **options)
    for step in range(1, 51):
        g = grad * (1 + 0.01 * step)
        adam_update(spec[0], g, spec[1], spec[2], None, step, amsgrad=False, **hyper)
        fused_adam_update(fused[0], g, fused[1], fused[2], step, **hyper)
    # float32; the kernel may fuse a multiply-add where NumPy-style ops round twice: a few ulps drift.
    for name, a, b in zip(("param", "exp_avg", "exp_avg_sq"), fused, spec):
        np.testing.assert_allclose(cupy.asnumpy(a), cupy.asnumpy(b), rtol=2e-5, atol=1e-6, err_msg=name)


@pytest.mark.gpu
def test_adam_on_cupy_takes_the_fused_path_and_matches_numpy():
    cupy_or_skip()
    cpu = small_mlp("numpy")
    gpu = small_mlp("cupy")
    train_steps(cpu, mt.optim.Adam(cpu.parameters(), lr=0.01), *batch("numpy"), steps=20)
    train_steps(gpu, mt.optim.Adam(gpu.parameters(), lr=0.01), *batch("cupy"), steps=20)
    for name, value in cpu.state_dict().items():
        np.testing.assert_allclose(gpu.state_dict()[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
